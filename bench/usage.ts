/**
 * Who was busy while a figure was measured: CPU time of processes (kportd, kubectl) from /proc, how
 * busy event loops were (the simulator's worker, the load generator), and the whole machine. On a
 * 2-core box that tells a slow tool from a saturated simulator or a starved machine.
 */
import { readFileSync } from 'node:fs';
import type { EventLoopUtilization } from 'node:perf_hooks';

const TICKS_PER_SECOND = 100;

/** A process's CPU time so far (user + system, every thread), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces and parentheses); utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** A process's resident memory now, in MB. */
export function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Busy and total CPU time of the whole machine so far, in ticks (every core). */
function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = fields.slice(0, 8).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

/** What to watch: processes by pid, event loops by a reader of their utilization. */
export interface Watched {
  processes: Record<string, number>;
  loops: Record<string, (since?: EventLoopUtilization) => EventLoopUtilization>;
}

/**
 * Percentages over one interval: processes in % of one core, loops in % of their time, `machine` in %
 * of every core, `others` the machine's busy time that none of the watched processes used, in % of
 * every core (other work sharing the box).
 */
export type UsageFigures = Record<string, number>;

/** Starts measuring; the returned function ends the interval and gives its figures. */
export function measureUsage(w: Watched): () => UsageFigures {
  const start = performance.now();
  const cpu = Object.fromEntries(Object.entries(w.processes).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const loops = Object.fromEntries(Object.entries(w.loops).map(([k, read]) => [k, read()]));
  const machine = machineTicks();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const out: UsageFigures = {};
    for (const [k, pid] of Object.entries(w.processes)) out[k] = Math.round(((cpuSeconds(pid) - cpu[k]!) / seconds) * 100);
    for (const [k, read] of Object.entries(w.loops)) out[k] = Math.round(read(loops[k]).utilization * 100);
    const now = machineTicks();
    const total = Math.max(1, now.total - machine.total);
    const ours = Object.entries(w.processes).reduce((sum, [k, pid]) => sum + (cpuSeconds(pid) - cpu[k]!) * TICKS_PER_SECOND, 0);
    out.machine = Math.round(((now.busy - machine.busy) / total) * 100);
    out.others = Math.max(0, Math.round(((now.busy - machine.busy - ours) / total) * 100));
    return out;
  };
}
