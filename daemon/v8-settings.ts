/**
 * The V8 settings kportd gives itself as it starts, whichever way it was started: `kportctl start`, the
 * service, `kportd --foreground` by hand, or the single executable, whose NODE_OPTIONS take no V8 flags.
 * What V8 reads only as it makes the heap (the semi-space size) is on node's command line instead
 * (api/launch.ts). A setting the user's own flags choose, on the command line or in NODE_OPTIONS, is
 * left as they chose. Both were chosen from measurements of throughput and RSS together (bench/lean.ts,
 * bench/compare.ts; the figures are in the commits that set them).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';

/** Each setting kportd makes, and the flags by which a user makes it instead. */
const CHOICES = {
  sweeping: /^--(no-)?concurrent-sweeping$/,
  compiler: /^--(no-)?(opt|turbofan|jitless|always-opt|always-turbofan|max-opt)(=|$)/,
} as const;

/** Whether `flags` (node's command line and NODE_OPTIONS) choose `setting` (V8 takes `_` for `-`). */
export function chosen(setting: keyof typeof CHOICES, flags: readonly string[]): boolean {
  return flags.some((flag) => CHOICES[setting].test(flag.replaceAll('_', '-')));
}

/** Makes kportd's V8 settings, except those `flags` choose. */
export function applyV8Settings(flags: readonly string[]): void {
  if (!chosen('sweeping', flags)) sweepOnMainThread();
  if (!chosen('compiler', flags)) holdCompilerUntilRelaying();
}

/**
 * With V8's background sweeper, a kportd relaying at full speed on a 2-core machine spent, in about half of
 * its lives, twice the CPU per MiB (echo 4.3-5.7 ms/MiB instead of 2.4-2.8); sweeping on the main thread it
 * did not once in 5 runs (2.2-2.5), and 2 GB through a forward cost 3.5 CPU s instead of 5.2-6.2, for ~5 MB
 * more RSS after it. --single-threaded-gc did as well for CPU but cost ~25 MB of RSS after traffic;
 * --no-concurrent-marking, --no-parallel-scavenge and --v8-pool-size=1 did not help. V8 reads the flag each
 * time it starts sweeping.
 */
function sweepOnMainThread(): void {
  setFlagsFromString('--no-concurrent-sweeping');
}

/** Published by node for each connection a server accepts, on a TCP port or a local socket alike. */
const ACCEPTED = 'net.server.socket';

/**
 * The optimizing compiler (TurboFan) is off until one of kportd's TCP listeners (a forward's, a proxy's, a
 * gateway's, the metrics endpoint's) first accepts a connection. The code that runs before then (start-up,
 * config loads, RPC, watch events) runs a few times per event, yet with 100 forwards V8 optimized ~70 of its
 * functions: the YAML parser, the config checks, each session's first steps and the RPC answers. The
 * compiler's own pages and that code then stayed resident for the daemon's life: 100 idle forwards held
 * 62-65 MB 20 s after ready, 56.5 without. Relaying is what needs the compiler, and it gets it from its
 * first connection: CPU per MiB relayed came out the same.
 */
function holdCompilerUntilRelaying(): void {
  const onAccepted = (message: unknown) => {
    // A local socket's peer has no address: kportctl's calls are not relaying.
    if ((message as { socket: Socket }).socket.remoteAddress === undefined) return;
    unsubscribe(ACCEPTED, onAccepted);
    setFlagsFromString('--turbofan');
  };
  setFlagsFromString('--no-turbofan');
  subscribe(ACCEPTED, onAccepted);
}
