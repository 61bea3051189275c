/** A kportd without `metrics:` must not pay for prom-client: nothing it imports statically reaches it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../..', import.meta.url));

// Static forms only: `import x from '…'`, `export … from '…'`, `import '…'`; `await import('…')` is not matched.
const STATIC_IMPORT = /(?:^|\n)\s*(?:(?:import|export)\s[^;]*?from\s*|import\s*)['"]([^'"]+)['"]/g;

/** Every compiled file reachable by static imports from `entry`, and every package they name. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!));
      else packages.add(spec!);
    }
  };
  visit(entry);
  return { files, packages };
}

test("kportd's static imports never reach prom-client; the metrics registry is loaded on demand", () => {
  // main.js loads the daemon (daemon.js) on demand itself: the daemon's graph is what a running kportd holds.
  const { files, packages } = staticGraph(join(dist, 'daemon', 'daemon.js'));
  const reached = [...files].map((f) => relative(dist, f));
  assert.ok(reached.includes('daemon/metrics/endpoint.js'), 'the walk follows imports');
  assert.ok(packages.has('pino'), 'the walk records packages');
  assert.ok(!reached.includes('daemon/metrics/registry.js'), 'registry.js is imported statically');
  assert.ok(!packages.has('prom-client'), `prom-client is imported statically by one of: ${reached.join(', ')}`);
});
