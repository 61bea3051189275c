#!/usr/bin/env node
/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. KPORT_BENCH_PROF=1 npm run bench): self
 * time aggregated by function and source location, highest first, with each one's share of the
 * profile. `node dist/bench/top-frames.js FILE.cpuprofile [N=10]`.
 */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: its file, or its name for V8's own entries ((garbage collector), natives). */
const fileOf = (frame: string) => /\((\S+):\d+\)$/.exec(frame)?.[1] ?? frame;

/** One aggregated frame: microseconds of self time. */
export interface FrameTime {
  frame: string;
  selfUs: number;
}

/** Self time by `function (file:line)`, highest first; time is attributed from timeDeltas, as DevTools does. */
export function topFrames(p: CpuProfile): FrameTime[] {
  const name = new Map<number, string>();
  for (const n of p.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
    name.set(n.id, url ? `${functionName || '(anonymous)'} (${file}:${lineNumber + 1})` : functionName);
  }
  const self = new Map<string, number>();
  // Sample i lasted until sample i+1: its delta is the next one's.
  for (let i = 0; i < p.samples.length; i++) {
    const frame = name.get(p.samples[i]!) ?? '?';
    self.set(frame, (self.get(frame) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  return [...self].map(([frame, selfUs]) => ({ frame, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}

if (process.argv[1]?.endsWith('top-frames.js')) {
  const [file, count = '10'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/top-frames.js FILE.cpuprofile [N]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = topFrames(profile);
  const total = frames.reduce((a, f) => a + f.selfUs, 0);
  const busy = frames.filter((f) => f.frame !== '(idle)').reduce((a, f) => a + f.selfUs, 0);
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s not idle (${((busy / total) * 100).toFixed(0)}%)`);
  console.log('  self %  of busy   self ms  frame');
  for (const f of frames.slice(0, Number(count))) {
    const busyShare = f.frame === '(idle)' ? '' : `${((f.selfUs / busy) * 100).toFixed(1)}%`;
    console.log(`  ${`${((f.selfUs / total) * 100).toFixed(1)}%`.padStart(6)}  ${busyShare.padStart(7)}  ${(f.selfUs / 1000).toFixed(0).padStart(8)}  ${f.frame}`);
  }
  // The same time by file: natives (writeBuffer, writev: a socket write, TLS encryption included) stand alone.
  const byFile = new Map<string, number>();
  for (const f of frames) if (f.frame !== '(idle)') byFile.set(fileOf(f.frame), (byFile.get(fileOf(f.frame)) ?? 0) + f.selfUs);
  console.log('  of busy   self ms  file');
  for (const [file, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
    console.log(`  ${`${((us / busy) * 100).toFixed(1)}%`.padStart(7)}  ${(us / 1000).toFixed(0).padStart(8)}  ${file}`);
  }
}
