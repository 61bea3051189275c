/**
 * Who was busy while a figure was measured: CPU time of processes (kportd, kubectl) and of single
 * threads (the simulator's worker, the load generator) from /proc, how busy event loops were, and the
 * whole machine, with the part of it that none of ours used. On a shared 2-core box that tells a
 * slow forwarder from a saturated simulator or a starved machine.
 */
import { readFileSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';

const TICKS_PER_SECOND = 100;

/** user + system time from a /proc stat line, in seconds (fields 14 and 15, after the command name). */
function statSeconds(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** A process's CPU time so far (every thread), in seconds. */
export function cpuSeconds(pid: number): number {
  return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** The calling thread's CPU time so far, in seconds (a worker's, or the main thread's). */
export function threadCpuSeconds(): number {
  return statSeconds(readFileSync('/proc/thread-self/stat', 'utf8'));
}

/** A process's resident memory now, in MB. */
export function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Busy and total CPU time of the whole machine so far, in ticks (every core). */
function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = fields.slice(0, 8).map(Number);
  return { busy: n.reduce((a, b) => a + b, 0) - n[3]! - n[4]!, total: n.reduce((a, b) => a + b, 0) };
}

/** What to watch. */
export interface Watched {
  /** CPU seconds so far of each process or thread watched, by name. */
  cpu: Record<string, () => number | Promise<number>>;
  /** Every process of ours (the rest of the machine's busy time is "others"). */
  ours: number[];
  /** Event loops, by a reader of their utilization. */
  loops: Record<string, (since?: EventLoopUtilization) => EventLoopUtilization>;
}

/** One interval's figures. */
export interface Usage {
  seconds: number;
  /** CPU seconds each watched process or thread used. */
  cpu: Record<string, number>;
  /** The fraction of the time each event loop was busy (preempted time counts as busy). */
  loops: Record<string, number>;
  /** The fraction of every core's time that was busy, and busy with none of ours. */
  machine: number;
  others: number;
}

const readAll = async (cpu: Watched['cpu']) => Object.fromEntries(await Promise.all(Object.entries(cpu).map(async ([k, read]) => [k, await read()] as const)));
const oursSeconds = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** Starts measuring; the returned function ends the interval and gives its figures. */
export async function measureUsage(w: Watched): Promise<() => Promise<Usage>> {
  const cpu = await readAll(w.cpu);
  const loops = Object.fromEntries(Object.entries(w.loops).map(([k, read]) => [k, read()]));
  const ours = oursSeconds(w.ours);
  const machine = machineTicks();
  const start = performance.now();
  return async () => {
    const seconds = (performance.now() - start) / 1000;
    const nowCpu = await readAll(w.cpu);
    const now = machineTicks();
    const total = Math.max(1, now.total - machine.total);
    const busy = now.busy - machine.busy;
    return {
      seconds,
      cpu: Object.fromEntries(Object.keys(w.cpu).map((k) => [k, nowCpu[k]! - cpu[k]!])),
      loops: Object.fromEntries(Object.entries(w.loops).map(([k, read]) => [k, read(loops[k]).utilization])),
      machine: busy / total,
      others: Math.max(0, busy - (oursSeconds(w.ours) - ours) * TICKS_PER_SECOND) / total,
    };
  };
}
