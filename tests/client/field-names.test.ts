/**
 * The SDKs use the canonical record's seed names: the TypeScript client's wire record has
 * exactly the fields of RECORD_FIELDS, and record-fields.json (what the Python SDK's tests read)
 * is up to date with the canonical record.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_FIELDS, TOOL_FIELDS } from '@ai-monitor/schema';
import { toWireRecord, type InteractionRecord } from '@ai-monitor/client';
import { REPO_ROOT } from '../helpers/server.js';

/** A record setting every field the canonical record has, in the SDK's camelCase. */
const full: Required<InteractionRecord> = {
  id: 'r1',
  sessionId: 's',
  timestamp: '2026-02-17T14:30:00Z',
  userInput: 'hi',
  intent: 'greet',
  toolsUsed: [{ tool: 'search', params: { q: 1 }, durationMs: 3, success: true, error: 'e' }],
  responseTimeMs: 12,
  success: false,
  errorType: 'Timeout',
  assistant: 'a',
  version: '1',
  environment: 'staging',
  model: 'm',
  userId: 'u',
  inputTokens: 1,
  outputTokens: 2,
  costUsd: 0.5,
  feedbackScore: 4,
  metadata: { k: 'v' },
};

describe('canonical field names in the SDKs', () => {
  it('the TypeScript client sends exactly the canonical fields, under their seed names', () => {
    const wire = toWireRecord(full) as unknown as Record<string, unknown>;
    expect(Object.keys(wire).sort()).toEqual(Object.keys(RECORD_FIELDS).sort());
    expect(Object.keys(full).sort()).toEqual(Object.values(RECORD_FIELDS).sort());
    const tool = (wire.tools_used as Record<string, unknown>[])[0]!;
    expect(Object.keys(tool).sort()).toEqual(Object.keys(TOOL_FIELDS).sort());
  });

  it('packages/schema/record-fields.json matches the canonical record', () => {
    const committed: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/schema/record-fields.json'), 'utf8'));
    expect(committed, 'record-fields.json is out of date: run npm run print-fields -w packages/schema').toEqual({
      record: Object.keys(RECORD_FIELDS),
      tool: Object.keys(TOOL_FIELDS),
    });
  });
});
