import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { kportJsonSchemaText, SCHEMA_FILE } from '../../config/jsonschema.js';

// Compiled to dist/test/config/: the package root is three folders up.
const committed = new URL(`../../../${SCHEMA_FILE}`, import.meta.url);

test('the committed JSON Schema matches the definition (run `npm run schema` after changing config/schema.ts)', async () => {
  assert.equal(await readFile(committed, 'utf8'), kportJsonSchemaText());
});

test('the JSON Schema tells editors the keys, the required ones and the defaults', async () => {
  const schema = JSON.parse(await readFile(committed, 'utf8'));
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.additionalProperties, false);
  const forward = schema.properties.forwards.anyOf[0].items;
  assert.deepEqual(forward.required, ['name', 'ports']);
  assert.equal(forward.additionalProperties, false);
  const proxy = schema.properties.proxies.anyOf[0].items.properties;
  assert.equal(proxy.port.default, 8001);
  assert.deepEqual(proxy.rejectPaths.default, ['^/api/.*/pods/.*/exec', '^/api/.*/pods/.*/attach']);
  // Patterns are the checker's own regexes, so they are valid ECMAScript.
  for (const p of [forward.properties.name.pattern, forward.properties.target.pattern, forward.properties.ports.items.anyOf[0].pattern]) {
    assert.doesNotThrow(() => new RegExp(p));
  }
});
