// Writes record-fields.json: the canonical record's seed (snake_case) field names, for the
// clients in other languages (the Python SDK's tests compare their record with it).
import { writeFileSync } from 'node:fs';
import { RECORD_FIELDS, TOOL_FIELDS } from '../dist/index.js';

const text = `${JSON.stringify({ record: Object.keys(RECORD_FIELDS), tool: Object.keys(TOOL_FIELDS) }, null, 2)}\n`;
const out = process.argv[2];
if (out) writeFileSync(out, text);
else process.stdout.write(text);
