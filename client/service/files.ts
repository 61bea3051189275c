/**
 * The files that make kportd start at login: a systemd user unit on Linux, a launchd agent on macOS. Pure: what
 * runs and with which environment in, the file's path and text out. kportd runs attached (`--foreground`) under
 * either manager, which restarts it when it fails; it logs to its own file as ever (`kportctl logs`).
 */
import { join } from 'node:path';

/** The platforms kportctl can install a login service on. */
export type ServicePlatform = 'linux' | 'darwin';

/** What the service runs. */
export interface ServiceSpec {
  /** The program and its arguments: this node, kportd's entry point, --foreground. */
  argv: readonly string[];
  /** Variables kportd needs that a login session's service manager would not pass (PATH, KUBECONFIG, KPORT_*…). */
  env: Readonly<Record<string, string>>;
  version: string;
}

/** A file to write. */
export interface ServiceFile {
  path: string;
  text: string;
}

/** The launchd label, also the plist's name. */
export const LAUNCHD_LABEL = 'dev.kport.kportd';
/** The systemd unit's name. */
export const SYSTEMD_UNIT = 'kportd.service';

/** Variables passed on to the service from the installing shell, when set there. */
export const PASSED_ENV = ['PATH', 'KUBECONFIG', 'KPORT_CONFIG', 'KPORT_STATE_DIR', 'KPORT_SOCKET', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME'] as const;

/** Where the file goes for `home` (and $XDG_CONFIG_HOME, for systemd). */
export function servicePath(platform: ServicePlatform, home: string, xdgConfigHome: string | undefined): string {
  if (platform === 'darwin') return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const config = xdgConfigHome && xdgConfigHome.startsWith('/') ? xdgConfigHome : join(home, '.config');
  return join(config, 'systemd', 'user', SYSTEMD_UNIT);
}

/**
 * One word of a unit file's ExecStart= (`command`) or Environment=: double-quoted, `\\` and `"` escaped C-style,
 * `%` (a specifier everywhere) doubled, and `$` (a variable in a command line only) doubled there.
 */
function unitWord(word: string, command: boolean): string {
  const escaped = word.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%');
  return `"${command ? escaped.replace(/\$/g, '$$$$') : escaped}"`;
}

/** The systemd user unit. */
export function systemdUnit(spec: ServiceSpec, path: string): ServiceFile {
  const env = Object.entries(spec.env).map(([k, v]) => `Environment=${unitWord(`${k}=${v}`, false)}`);
  const text = `# kportd, started at login: written by "kportctl service install" (kport ${spec.version}).
# "kportctl service uninstall" removes it; "kportctl service status" says how it is.
[Unit]
Description=kportd: kubectl port-forwards and proxies kept alive
# Five failed starts within a minute (another kportd already on the socket, say) stop the restarts.
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
ExecStart=${spec.argv.map((w) => unitWord(w, true)).join(' ')}
Restart=on-failure
RestartSec=5
TimeoutStopSec=10
${env.join('\n')}

[Install]
WantedBy=default.target
`;
  return { path, text };
}

/** Text for an XML element's content. */
function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The launchd agent. */
export function launchdPlist(spec: ServiceSpec, path: string): ServiceFile {
  const strings = (list: readonly string[], indent: string) => list.map((s) => `${indent}<string>${xml(s)}</string>`).join('\n');
  const env = Object.entries(spec.env).map(([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>`).join('\n');
  const text = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- kportd, started at login: written by "kportctl service install" (kport ${xml(spec.version)}); "kportctl service uninstall" removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${strings(spec.argv, '    ')}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
${env}
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <!-- Restarted when it fails, not when it is stopped (kportctl stop). -->
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <!-- kportd logs to its own file (kportctl logs): the copy it writes on stderr is not kept twice. -->
  <key>StandardErrorPath</key>
  <string>/dev/null</string>
</dict>
</plist>
`;
  return { path, text };
}

/** The file for `platform`. */
export function serviceFile(platform: ServicePlatform, spec: ServiceSpec, path: string): ServiceFile {
  return platform === 'darwin' ? launchdPlist(spec, path) : systemdUnit(spec, path);
}
