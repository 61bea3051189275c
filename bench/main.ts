#!/usr/bin/env node
/**
 * `npm run bench`: every benchmark in one run, figures printed (never asserted). Forwards through a
 * real kportd process, a gateway against a forward, then proxies (kport vs kubectl proxy vs the API server directly).
 */
import { availableParallelism, cpus } from 'node:os';
import { benchForward, formatForward } from './forward.js';
import { benchGateway, formatGateway } from './gateway.js';
import { benchProxy, formatBench } from './proxy.js';

console.log(`kport benchmarks — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'})\n`);
console.log('== forwards (kportd process; simulated cluster in a worker thread)');
console.log(formatForward(await benchForward()));
console.log('\n== gateway vs forward to the same pod (one kportd process)');
console.log(formatGateway(await benchGateway()));
console.log('\n== proxies: GET /api/v1/namespaces/default/pods/db-0, 16 keep-alive clients');
const proxy = await benchProxy();
console.log(formatBench(proxy));
const [kport, kubectl] = ['kport proxy', 'kubectl proxy'].map((n) => proxy.find((r) => r.name === n));
if (kport && kubectl) console.log(`kport proxy / kubectl proxy: ${(kport.rps / kubectl.rps).toFixed(2)}× the request rate`);
