/** The seed's snake_case record (seed socket and HTTP batch) → the canonical camelCase record. */
import { RECORD_FIELDS, TOOL_FIELDS } from '@ai-monitor/schema';
import { renameRecord } from './rename.js';

export const snakeToCanonical = (input: unknown): unknown => renameRecord(input, RECORD_FIELDS, TOOL_FIELDS);
