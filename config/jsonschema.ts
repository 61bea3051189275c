/** The JSON Schema of kport.yaml for editors (yaml-language-server), generated from the zod definition. */
import * as z from 'zod';
import { fileSchema } from './schema.js';

/** Where the committed copy lives, relative to the package root. */
export const SCHEMA_FILE = 'config/kport.schema.json';

/** The schema as committed: draft-07, which every YAML language server version reads; describes the input. */
export function kportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(fileSchema, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
}

/** The committed file's exact text: stable key order from the definition, two-space indent, final newline. */
export function kportJsonSchemaText(): string {
  return `${JSON.stringify(kportJsonSchema(), null, 2)}\n`;
}
