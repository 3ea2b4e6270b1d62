/**
 * The compiled record readers (model/field-access.ts) behave like the loops they replace:
 * quoted names (any string is safe), absent fields as null, shapes kept, values untouched.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileNullsInPlace, compileRenamer, compileValuesReader } from '../../apps/api/src/model/field-access.js';

const names = ['a', 'snake_case', 'with "quotes"', "it's", 'back\\slash', '__proto__x', '1digit'];

describe('compiled field access', () => {
  it('reads values in name order, absent and undefined as null', () => {
    const read = compileValuesReader<Record<string, unknown>>(names);
    expect(read({ a: 1, 'with "quotes"': 'q', "it's": undefined, extra: 9 })).toEqual([1, null, 'q', null, null, null, null]);
  });

  it('fills absent fields with null in place and keeps present values (also falsy ones)', () => {
    const fill = compileNullsInPlace<Record<string, unknown>>(names);
    const o: Record<string, unknown> = { a: 0, snake_case: '', "it's": false, other: 'kept' };
    expect(fill(o)).toBe(o);
    expect(o).toEqual({ a: 0, snake_case: '', "it's": false, other: 'kept', 'with "quotes"': null, 'back\\slash': null, '__proto__x': null, '1digit': null });
  });

  it('renames what the map lists and leaves the rest behind', () => {
    const rename = compileRenamer({ session_id: 'sessionId', 'odd "name"': 'odd' });
    expect(rename({ session_id: 's', 'odd "name"': 1, unknown: true })).toEqual({ sessionId: 's', odd: 1 });
    expect(rename({})).toEqual({ sessionId: undefined, odd: undefined });
  });

  it('refuses names every object inherits', () => {
    expect(() => compileValuesReader(['valueOf'])).toThrow(/inherited by every object/);
    expect(() => compileRenamer({ constructor: 'x' })).toThrow(/inherited by every object/);
  });

  it('agrees with a plain loop over names for generated objects', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string().filter((k) => !(k in Object.prototype)), { minLength: 1, maxLength: 8 }), fc.dictionary(fc.string(), fc.jsonValue()), (keys, o) => {
        const read = compileValuesReader<Record<string, unknown>>(keys);
        expect(read(o)).toEqual(keys.map((k) => (Object.hasOwn(o, k) ? (o[k] ?? null) : null)));
      }),
      { seed: 12, numRuns: 200 },
    );
  });
});
