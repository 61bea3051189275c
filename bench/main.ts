#!/usr/bin/env node
/**
 * `npm run bench`: every benchmark in one run, figures printed (never asserted). kport against the
 * real `kubectl port-forward` on one simulated pod; forwards through a real kportd process (failover,
 * memory); a gateway against a forward; then proxies (kport vs kubectl proxy vs the API server
 * directly). KPORT_BENCH_ONLY picks some of them (`compare,forward,gateway,lean,proxy`); KPORT_BENCH_PROF=1
 * profiles every kportd (bench/kportd.ts).
 */
import { availableParallelism, cpus } from 'node:os';
import { benchCompare } from './compare.js';
import { formatCompare } from './compare-format.js';
import { benchForward, formatForward } from './forward.js';
import { benchGateway, formatGateway } from './gateway.js';
import { printLean } from './lean.js';
import { benchProxy, formatBench } from './proxy.js';

// Interrupted: exit through 'exit', whose handlers kill the kportd and kubectl processes still running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const only = new Set((process.env.KPORT_BENCH_ONLY ?? 'compare,forward,gateway,lean,proxy').split(',').map((s) => s.trim()));
console.log(`kport benchmarks — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
if (only.has('compare')) {
  console.log('== kport vs kubectl port-forward, same simulated pod, same run (kportd and kubectl processes; simulated cluster in a worker thread)');
  console.log(formatCompare(await benchCompare()));
}
if (only.has('forward')) {
  console.log('\n== forwards (kportd process; simulated cluster in a worker thread)');
  console.log(formatForward(await benchForward()));
}
if (only.has('gateway')) {
  console.log('\n== gateway vs forward to the same pod (one kportd process)');
  console.log(formatGateway(await benchGateway()));
}
if (only.has('lean')) await printLean();
if (only.has('proxy')) {
  console.log('\n== proxies: GET /api/v1/namespaces/default/pods/db-0, 16 keep-alive clients');
  const proxy = await benchProxy();
  console.log(formatBench(proxy));
  const [kport, kubectl] = ['kport proxy', 'kubectl proxy'].map((n) => proxy.find((r) => r.name === n));
  if (kport && kubectl) console.log(`kport proxy / kubectl proxy: ${(kport.rps / kubectl.rps).toFixed(2)}× the request rate`);
}
