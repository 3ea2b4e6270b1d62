/** Prints the schema SDL: `node dist/schema/print.js [file]` (stdout when no file). */
import { writeFileSync } from 'node:fs';
import { printSchema, lexicographicSortSchema } from 'graphql';
import { schema } from './index.js';

export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (out) writeFileSync(out, printSdl());
  else process.stdout.write(printSdl());
}
