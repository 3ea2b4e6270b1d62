/** The seed's snake_case record (seed socket and HTTP batch) → the canonical camelCase record. */
import { RECORD_FIELDS, TOOL_FIELDS } from '@ai-monitor/schema';
import { recordRenamer } from './rename.js';

export const snakeToCanonical = recordRenamer(RECORD_FIELDS, TOOL_FIELDS);
