/**
 * Unit tests of the one validator and the protocol adapters: the seed's snake_case record and
 * GraphQL's camelCase record become the same canonical record, and a bad field is named in the
 * caller's naming. Property-based (seeded, bounded) over records of the fuzz suite's generator.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RECORD_FIELDS, TOOL_FIELDS, interactionFields } from '@ai-monitor/schema';
import { validateCanonical, validateRecord, type ValidateOptions, type ValidationResult } from '../../apps/api/src/ingest/validate.js';
import { graphqlAdapter, httpAdapter, seedAdapter, type IngestAdapter } from '../../apps/api/src/ingest/adapters/index.js';
import { seedRecord } from '../fuzz/arbitraries.js';

const SEED = 1207;
const RUNS = 300;
const now = Date.UTC(2026, 1, 17, 6, 30, 0);
const options = (adapter: IngestAdapter): ValidateOptions => ({
  userInputMaxLength: 200,
  naming: adapter.naming,
  now,
  naiveTimezone: 'UTC',
  clockSkewToleranceMs: 300_000,
});

/** What the ingest service does: the protocol's adapter, then the one validation. */
const through = (adapter: IngestAdapter, input: unknown): ValidationResult => validateCanonical(adapter.toCanonical(input), options(adapter));

/** A generated id (ULID, random) is replaced by a marker so that two validations compare equal. */
const fixedId = (r: ValidationResult, sent: unknown): ValidationResult => (r.ok && sent === undefined ? { ...r, record: { ...r.record, id: 'generated' } } : r);

/** The seed record in GraphQL's camelCase names (tool calls too), written out by hand from the seed's names. */
function toCamel(snake: Record<string, unknown>): Record<string, unknown> {
  const camelOf = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snake)) {
    out[camelOf(k)] = k === 'tools_used' && Array.isArray(v) ? v.map((t: Record<string, unknown>) => toCamel(t)) : v;
  }
  return out;
}

/** The error's field path in camelCase: what GraphQL callers read for the seed's `tools_used[0].duration_ms`. */
function camelError(error: string): string {
  const colon = error.indexOf(':');
  const names: Record<string, string> = { ...RECORD_FIELDS, ...TOOL_FIELDS };
  const path = error.slice(0, colon).replace(/[a-z_]+/g, (name) => names[name] ?? name);
  return path + error.slice(colon);
}

describe('the canonical record', () => {
  it('maps every field to its seed name', () => {
    expect(RECORD_FIELDS).toEqual({
      id: 'id',
      session_id: 'sessionId',
      timestamp: 'timestamp',
      user_input: 'userInput',
      intent: 'intent',
      tools_used: 'toolsUsed',
      response_time_ms: 'responseTimeMs',
      success: 'success',
      error_type: 'errorType',
      assistant: 'assistant',
      version: 'version',
      environment: 'environment',
      model: 'model',
      user_id: 'userId',
      input_tokens: 'inputTokens',
      output_tokens: 'outputTokens',
      cost_usd: 'costUsd',
      feedback_score: 'feedbackScore',
      metadata: 'metadata',
    });
    expect(TOOL_FIELDS).toEqual({ tool: 'tool', params: 'params', duration_ms: 'durationMs', success: 'success', error: 'error' });
  });
});

describe('the validator through each adapter', () => {
  it('turns any record, in either naming, into the same canonical record or the same error named in that naming', () => {
    fc.assert(
      fc.property(seedRecord, (snake) => {
        const camel = toCamel(snake);
        const fixed = (r: ValidationResult): ValidationResult => fixedId(r, snake.id);
        const seed = fixed(through(seedAdapter, snake));
        const http = fixed(through(httpAdapter, snake));
        const graphql = fixed(through(graphqlAdapter, camel));
        expect(http).toEqual(seed);
        expect(fixed(validateRecord(snake, options(seedAdapter)))).toEqual(seed);
        expect(fixed(validateRecord(camel, options(graphqlAdapter)))).toEqual(graphql);
        if (seed.ok) {
          expect(graphql).toEqual(seed);
          // Every canonical field is present in the stored form: absent optional ones are null.
          for (const name of Object.keys(interactionFields)) expect(seed.record).toHaveProperty(name);
          expect(seed.record.receivedAt).toBe(now);
        } else {
          expect(graphql.ok).toBe(false);
          if (!graphql.ok) expect(graphql.error).toBe(camelError(seed.error));
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('names a wrongly typed or out-of-range field in the caller\'s naming', () => {
    const base = { session_id: 's', user_input: 'hi', intent: 'greet', response_time_ms: 5, success: true };
    const cases: [Record<string, unknown>, string][] = [
      [{ response_time_ms: 'slow' }, 'response_time_ms: expected number, got string'],
      [{ response_time_ms: -1 }, 'response_time_ms: must be 0 or more'],
      [{ session_id: undefined }, 'session_id: is required'],
      [{ input_tokens: 1.5 }, 'input_tokens: expected int, got number'],
      [{ feedback_score: 6 }, 'feedback_score: must be between 1 and 5 (the feedback scale)'],
      [{ tools_used: [{ tool: 'search', duration_ms: -3 }] }, 'tools_used[0].duration_ms: must be 0 or more'],
      [{ tools_used: 'search' }, 'tools_used: expected array, got string'],
      [{ timestamp: 'yesterday' }, 'timestamp: not a valid ISO-8601 date-time: "yesterday"'],
    ];
    for (const [change, error] of cases) {
      const snake = { ...base, ...change };
      expect(through(seedAdapter, snake), error).toEqual({ ok: false, error });
      expect(through(httpAdapter, snake), error).toEqual({ ok: false, error });
      expect(through(graphqlAdapter, toCamel(snake)), error).toEqual({ ok: false, error: camelError(error) });
    }
    expect(camelError('tools_used[0].duration_ms: must be 0 or more')).toBe('toolsUsed[0].durationMs: must be 0 or more');
  });

  it('reads each protocol in its own naming only: a camelCase key on the seed socket is not a seed field', () => {
    const seed = through(seedAdapter, { sessionId: 's', session_id: undefined, user_input: 'hi', intent: 'i', response_time_ms: 1, success: true });
    expect(seed).toEqual({ ok: false, error: 'session_id: is required' });
    const graphql = through(graphqlAdapter, { session_id: 's', userInput: 'hi', intent: 'i', responseTimeMs: 1, success: true });
    expect(graphql).toEqual({ ok: false, error: 'sessionId: is required' });
  });

  it('stores absent optional fields as null, a tool call without params with {}, and drops unknown keys', () => {
    const r = through(seedAdapter, {
      id: 'r1',
      session_id: 's',
      user_input: 'hi',
      intent: 'greet',
      response_time_ms: 5,
      success: true,
      tools_used: [{ tool: 'search' }],
      surprise: 1,
    });
    expect(r).toEqual({
      ok: true,
      clockSkew: null,
      record: {
        id: 'r1',
        sessionId: 's',
        timestamp: now,
        receivedAt: now,
        userInput: 'hi',
        intent: 'greet',
        toolsUsed: [{ tool: 'search', params: {}, durationMs: null, success: null, error: null }],
        responseTimeMs: 5,
        success: true,
        errorType: null,
        assistant: null,
        version: null,
        environment: null,
        model: null,
        userId: null,
        inputTokens: null,
        outputTokens: null,
        costUsd: null,
        feedbackScore: null,
        metadata: null,
      },
    });
  });

  it('passes anything that is not an object to the validator, which names it', () => {
    for (const adapter of [seedAdapter, httpAdapter, graphqlAdapter]) {
      expect(through(adapter, [1])).toEqual({ ok: false, error: 'record: expected an object, got array' });
      expect(through(adapter, null)).toEqual({ ok: false, error: 'record: expected an object, got null' });
      expect(through(adapter, 'x')).toEqual({ ok: false, error: 'record: expected an object, got string' });
    }
  });
});
