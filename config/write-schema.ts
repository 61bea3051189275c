/** `npm run schema`: writes config/kport.schema.json from the definition (a test fails when they differ). */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { kportJsonSchemaText, SCHEMA_FILE } from './jsonschema.js';

// Compiled to dist/config/write-schema.js: the package root is two folders up.
const target = fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url));
await writeFile(target, kportJsonSchemaText());
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
