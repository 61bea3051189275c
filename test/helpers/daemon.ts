/** A real kportd (a child process with its own temp state folder) and the real kportctl, for end-to-end tests. */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type RpcClient } from '../../client/rpc.js';
import { exited, startAndWait, stop as stopChild } from './process.js';

import { KPORTCTL, KPORTD } from './bin.js';

/** The shipped kportd and kportctl entry points (the bundles). */
export { KPORTCTL, KPORTD };

/** What a kportctl run printed. */
export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One kportd's folder, config file and process. */
export class KportdHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'kport-e2e-'));
  readonly stateDir = join(this.dir, 'state');
  readonly socket = join(this.stateDir, 'kportd.sock');
  readonly config = join(this.dir, 'kport.yaml');
  child: ChildProcess | null = null;
  output = '';

  /** The environment that points kportd and kportctl at this harness. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, KPORT_STATE_DIR: this.stateDir, KPORT_SOCKET: this.socket, KPORT_CONFIG: this.config, NO_COLOR: '1' };
  }

  /** Writes kport.yaml. */
  writeConfig(yaml: string): void {
    writeFileSync(this.config, yaml);
  }

  /** Starts `kportd --foreground` (under node with `nodeArgs`) and resolves once it logs that it is ready. */
  async start(extra: string[] = [], nodeArgs: string[] = []): Promise<ChildProcess> {
    const started = await startAndWait(process.execPath, [...nodeArgs, KPORTD, '--foreground', ...extra], /"msg":"kportd ready"/, { env: this.env() });
    this.child = started.child;
    this.output = started.output();
    for (const s of [started.child.stdout, started.child.stderr]) s?.on('data', (d: Buffer) => (this.output += d.toString()));
    return started.child;
  }

  /** Runs kportctl with this harness's environment. */
  ctl(...args: string[]): Promise<CtlResult> {
    return this.ctlWith({}, ...args);
  }

  /** Runs kportctl with this harness's environment and `extra` over it (a user's own $KUBECONFIG). */
  ctlWith(extra: Record<string, string>, ...args: string[]): Promise<CtlResult> {
    return new Promise((resolve) => {
      execFile(process.execPath, [KPORTCTL, ...args], { env: { ...this.env(), ...extra }, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** Runs kportctl, failing the test unless it exits 0. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.ctl(...args);
    if (r.code !== 0) throw new Error(`kportctl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** A JSON-RPC connection to the daemon. */
  rpc(): Promise<RpcClient> {
    return connect(this.socket);
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(): Promise<number | string> {
    if (!this.child) return 0;
    const code = await stopChild(this.child, 'SIGTERM');
    this.child = null;
    return code;
  }

  /** Resolves with the exit code once the daemon has exited on its own. */
  async exited(): Promise<number | string> {
    const code = await exited(this.child!);
    this.child = null;
    return code;
  }

  /** Stops the daemon if running and removes the folder. */
  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
