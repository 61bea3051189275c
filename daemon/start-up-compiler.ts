/**
 * kportd runs without V8's optimizing compiler (TurboFan) until it first relays: until one of its TCP
 * listeners (a forward's, a proxy's, a gateway's) accepts a connection. The code that runs before then
 * (start-up, config loads, RPC, watch events) runs a few times per event, yet with 100 forwards V8
 * optimizes ~70 of its functions: the YAML parser, the config checks, each session's first steps and the
 * RPC answers. The compiler's own pages and that code then stay resident for the daemon's life: 100 idle
 * forwards held 62-65 MB 20 s after ready, 56.5 without (bench/lean.ts). Relaying is what needs the
 * compiler, and it gets it from its first connection: CPU per MiB relayed came out the same.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';

/** Node and V8 flags by which a user settles the optimizing compiler: kportd leaves it as they chose. */
const COMPILER_CHOICE = /^--(no-)?(opt|turbofan|jitless|always-opt|always-turbofan|max-opt)(=|$)/;

/** Published by node for each connection a server accepts, on a TCP port or a local socket alike. */
const ACCEPTED = 'net.server.socket';

/** Whether the process's own flags (its command line and NODE_OPTIONS) choose for the optimizing compiler. */
export function compilerChosen(flags: readonly string[]): boolean {
  return flags.some((flag) => COMPILER_CHOICE.test(flag.replaceAll('_', '-')));
}

/** Holds the optimizing compiler off until this process first accepts a TCP connection (not the control socket's). */
export function holdOptimizingCompiler(flags: readonly string[]): void {
  if (compilerChosen(flags)) return;
  const onAccepted = (message: unknown) => {
    // A local socket's peer has no address: kportctl's calls are not relaying.
    if ((message as { socket: Socket }).socket.remoteAddress === undefined) return;
    unsubscribe(ACCEPTED, onAccepted);
    setFlagsFromString('--turbofan');
  };
  setFlagsFromString('--no-turbofan');
  subscribe(ACCEPTED, onAccepted);
}
