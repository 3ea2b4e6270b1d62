/**
 * The ingest validator (ingest/validate.ts) as a pure function: a fixed `now`, no server. What
 * it accepts and how it normalises, the messages naming the field in the caller's naming, the
 * timestamp forms, the clock-skew rule and the nesting bound.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '@ai-monitor/schema';
import { parseTimestamp, validateRecord, type ValidateOptions } from '../../apps/api/src/ingest/validate.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const OPTS: ValidateOptions = { userInputMaxLength: 10, naming: 'snake', now: NOW, naiveTimezone: 'UTC', clockSkewToleranceMs: 60_000 };
const BASE = { session_id: 's1', user_input: 'hello', intent: 'greet', response_time_ms: 12, success: true };
/** The same record as GraphQL input (camelCase naming reads camelCase fields). */
const CAMEL_BASE = { sessionId: 's1', userInput: 'hello', intent: 'greet', responseTimeMs: 12, success: true };

function ok(input: unknown, opts: Partial<ValidateOptions> = {}) {
  const r = validateRecord(input, { ...OPTS, ...opts });
  if (!r.ok) throw new Error(`expected a valid record, got: ${r.error}`);
  return r;
}

function error(input: unknown, opts: Partial<ValidateOptions> = {}): string {
  const r = validateRecord(input, { ...OPTS, ...opts });
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
}

describe('validateRecord', () => {
  it('normalises a minimal record to camelCase with defaults', () => {
    const { record, clockSkew } = ok(BASE);
    expect(clockSkew).toBeNull();
    expect(record).toMatchObject({
      sessionId: 's1',
      timestamp: NOW,
      receivedAt: NOW,
      userInput: 'hello',
      intent: 'greet',
      toolsUsed: [],
      responseTimeMs: 12,
      success: true,
      errorType: null,
      assistant: null,
      version: null,
      model: null,
      userId: null,
      inputTokens: null,
      outputTokens: null,
      costUsd: null,
      feedbackScore: null,
      metadata: null,
    });
    expect(record.id).toMatch(/\S/);
  });

  it('keeps a given id and maps tool calls with their defaults', () => {
    const { record } = ok({ ...BASE, id: 'given', tools_used: [{ tool: 'read' }, { tool: 'write', params: { a: 1 }, duration_ms: 5, success: false, error: 'denied' }] });
    expect(record.id).toBe('given');
    expect(record.toolsUsed).toEqual([
      { tool: 'read', params: {}, durationMs: null, success: null, error: null },
      { tool: 'write', params: { a: 1 }, durationMs: 5, success: false, error: 'denied' },
    ]);
  });

  it('truncates user_input without splitting a surrogate pair', () => {
    expect(ok({ ...BASE, user_input: 'abcdefghijklmnop' }).record.userInput).toBe('abcdefghij');
    // The 10th unit is the first half of an emoji: the cut moves before it.
    expect(ok({ ...BASE, user_input: `${'a'.repeat(9)}😀tail` }).record.userInput).toBe('a'.repeat(9));
  });

  it('names the missing or wrong field in the caller\'s naming', () => {
    expect(error({ ...BASE, session_id: undefined })).toBe('session_id: is required');
    expect(error({ ...CAMEL_BASE, sessionId: undefined }, { naming: 'camel' })).toBe('sessionId: is required');
    expect(error({ ...BASE, response_time_ms: 'fast' })).toBe('response_time_ms: expected number, got string');
    expect(error({ ...CAMEL_BASE, responseTimeMs: -1 }, { naming: 'camel' })).toBe('responseTimeMs: must be 0 or more');
    // Names the field; the wording comes from zod (today "expected int, got number").
    expect(error({ ...BASE, input_tokens: 1.5 })).toMatch(/^input_tokens: /);
    expect(error({ ...BASE, timestamp: true })).toMatch(/^timestamp: expected an ISO-8601 string or a number, got boolean$/);
  });

  it('refuses what is not an object', () => {
    for (const [input, kind] of [[null, 'null'], [[BASE], 'array'], ['text', 'string'], [3, 'number']] as const) {
      expect(error(input)).toBe(`record: expected an object, got ${kind}`);
    }
  });

  it('refuses a feedback score outside the scale and metadata nested too deep', () => {
    expect(error({ ...BASE, feedback_score: 99 })).toMatch(/^feedback_score: must be between .* \(the feedback scale\)$/);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) deep = { d: deep };
    expect(error({ ...BASE, metadata: deep })).toMatch(/^metadata: must not nest objects or arrays deeper than 64 levels$/);
  });

  it('stores a timestamp too far ahead at the receive time, keeping what was sent', () => {
    const ahead = new Date(NOW + 3_600_000).toISOString();
    const r = ok({ ...BASE, timestamp: ahead, metadata: { k: 'v' } });
    expect(r.record.timestamp).toBe(NOW);
    expect(r.clockSkew).toEqual({ skewMs: 3_600_000, naive: false });
    expect(r.record.metadata).toEqual({ k: 'v', client_timestamp: ahead, clock_skew_ms: 3_600_000 });
    // Within the tolerance, the sent time stands.
    expect(ok({ ...BASE, timestamp: NOW + 30_000 }).record.timestamp).toBe(NOW + 30_000);
    expect(ok({ ...BASE, timestamp: NOW + 30_000 }).clockSkew).toBeNull();
  });

  it('refuses a timestamp that is not a date', () => {
    expect(error({ ...BASE, timestamp: 'yesterday' })).toBe('timestamp: not a valid ISO-8601 date-time: "yesterday"');
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.record({ ...Object.fromEntries(Object.keys(BASE).map((k) => [k, fc.anything()])) }, { requiredKeys: [] }), (any, partial) => {
        for (const input of [any, { ...BASE, ...partial }]) {
          const r = validateRecord(input, OPTS);
          expect(typeof r.ok).toBe('boolean');
        }
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});

describe('parseTimestamp', () => {
  it('reads zoned text exactly, naive text in the naive zone, and numbers as ms or seconds', () => {
    expect(parseTimestamp('2026-01-15T12:00:00Z', 'UTC')).toEqual({ ms: NOW, naive: false });
    expect(parseTimestamp('2026-01-15T20:00:00+08:00', 'UTC')).toEqual({ ms: NOW, naive: false });
    expect(parseTimestamp('2026-01-15T20:00:00+08', 'UTC')).toEqual({ ms: NOW, naive: false });
    expect(parseTimestamp('2026-01-15T20:00:00', 'Asia/Shanghai')).toEqual({ ms: NOW, naive: true });
    expect(parseTimestamp('2026-01-15 12:00:00', 'UTC')).toEqual({ ms: NOW, naive: true });
    expect(parseTimestamp('2026-01-15', 'UTC')).toEqual({ ms: Date.UTC(2026, 0, 15), naive: true });
    expect(parseTimestamp(NOW, 'UTC')).toEqual({ ms: NOW, naive: false });
    expect(parseTimestamp(NOW / 1000, 'UTC')).toEqual({ ms: NOW, naive: false });
  });

  it('refuses text that is not a date and instants outside 1970..9999', () => {
    for (const bad of ['', 'now', '15/01/2026', Number.NaN, Number.POSITIVE_INFINITY, -5, '1969-12-31T23:59:59Z']) {
      expect(parseTimestamp(bad, 'UTC'), String(bad)).toBeNull();
    }
  });
});

describe('nestedDeeperThan', () => {
  it('counts object and array levels without recursion', () => {
    expect(nestedDeeperThan({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [1, { b: {} }] }, 3)).toBe(true);
    expect(nestedDeeperThan('text', 0)).toBe(false);
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestedDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
  });
});
