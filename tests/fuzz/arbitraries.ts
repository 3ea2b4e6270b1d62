/** fast-check generators shared by the fuzz files: records, their mutations, hostile values. */
import fc from 'fast-check';

/** Values that break naive code: extremes, lone surrogates, odd types. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, '', ' ', '\u0000', '\ud800', '\udfff', '💥', [], {}, [[[]]]),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const isoOrNumberTimestamp = fc.oneof(
  fc.date({ min: new Date(0), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '')),
  fc.integer({ min: 0, max: 253_402_000_000_000 }),
  fc.string({ maxLength: 30 }),
);

/** A record the validator may accept: the seed's fields, with hostile but typed contents. */
export const seedRecord: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 40 }),
    session_id: fc.string({ minLength: 1, maxLength: 40 }),
    timestamp: isoOrNumberTimestamp,
    user_input: fc.string({ unit: 'binary', maxLength: 400 }),
    intent: fc.string({ unit: 'grapheme', maxLength: 30 }),
    tools_used: fc.array(
      fc.record({ tool: fc.string({ minLength: 1, maxLength: 20 }), params: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) }),
      { maxLength: 4 },
    ),
    response_time_ms: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e9, noNaN: true })),
    success: fc.boolean(),
    error_type: fc.option(fc.string({ maxLength: 30 })),
    environment: fc.option(fc.string({ maxLength: 30 })),
    metadata: fc.option(fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })),
    cost_usd: fc.double({ min: 0, max: 1e6, noNaN: true }),
  },
  { requiredKeys: ['session_id', 'user_input', 'intent', 'response_time_ms', 'success'] },
);

const FIELDS = ['id', 'session_id', 'timestamp', 'user_input', 'intent', 'tools_used', 'response_time_ms', 'success', 'error_type', 'environment', 'metadata', 'input_tokens', 'feedback_score', '__proto__', 'constructor'];

/** A record with one field dropped, retyped, or added. */
export const mutatedRecord: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(seedRecord, fc.constantFrom(...FIELDS), hostileValue, fc.constantFrom('drop', 'set', 'keep'))
  .map(([record, field, value, op]) => {
    const r: Record<string, unknown> = { ...record };
    if (op === 'drop') delete r[field];
    else if (op === 'set') Object.defineProperty(r, field, { value, enumerable: true, writable: true, configurable: true });
    return r;
  });

/** JSON text nested `depth` levels deep, as arrays or objects. */
export const deepJson: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 150_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));
