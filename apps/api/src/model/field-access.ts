/**
 * Record readers over fixed lists of field names, compiled once into plain property reads.
 *
 * Every record is read field by field three times on the ingest path (renamed from its
 * protocol's names, filled in after validation, turned into query parameters). Written as a
 * loop over names, each `record[name]` is a keyed access that sees ~20 names and goes
 * megamorphic; measured, those loops cost more per record than its INSERT. Compiled, each
 * access has a constant key, which V8 treats as an ordinary `o.name`.
 */

/**
 * A field name as a quoted key: any string is safe to compile. A name every object inherits
 * (`valueOf`, `__proto__`…) would read or set the inherited property where a loop with
 * `Object.hasOwn` sees nothing, so it is refused; record fields are never such names.
 */
function key(name: string): string {
  if (name in Object.prototype) throw new Error(`field name ${JSON.stringify(name)} is inherited by every object; choose another`);
  return JSON.stringify(name);
}
const read = (name: string): string => `o[${key(name)}]`;

/** `o` → `[o.a ?? null, o.b ?? null, …]` in `names` order. */
export function compileValuesReader<T extends object>(names: readonly string[]): (o: T) => unknown[] {
  return new Function('o', `return [${names.map((name) => `${read(name)} ?? null`).join(', ')}];`) as (o: T) => unknown[];
}

/**
 * Sets each field of `names` that is absent or `undefined` on `o` to `null`, in place, and
 * returns `o`. Objects that arrive with the same keys leave with the same shape.
 */
export function compileNullsInPlace<T extends object>(names: readonly string[]): (o: object) => T {
  const sets = names.map((name) => `if (${read(name)} === undefined) ${read(name)} = null;`);
  return new Function('o', `${sets.join('\n')}\nreturn o;`) as (o: object) => T;
}

/**
 * `o` → `{ to: o.from, … }` for each `from → to` of `names`; keys `o` lacks come out
 * `undefined` (as absent, to a validator) and keys `names` does not list are left behind.
 */
export function compileRenamer(names: Readonly<Record<string, string>>): (o: object) => Record<string, unknown> {
  const entries = Object.entries(names).map(([from, to]) => `${key(to)}: ${read(from)}`);
  return new Function('o', `return { ${entries.join(', ')} };`) as (o: object) => Record<string, unknown>;
}
