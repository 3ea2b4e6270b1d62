/** Carrying a protocol's record over to the canonical names, values untouched. */

/** From a protocol's field name to the canonical one. */
export type NameMap = Readonly<Record<string, string>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each map's entries, listed once: this runs for every record on the ingest path. */
const entriesOf = new WeakMap<NameMap, readonly (readonly [string, string])[]>();
function entries(names: NameMap): readonly (readonly [string, string])[] {
  let list = entriesOf.get(names);
  if (!list) entriesOf.set(names, (list = Object.entries(names)));
  return list;
}

/** Copies the keys `names` knows under their canonical names; anything that is not an object passes as is. */
function rename(input: unknown, names: NameMap): unknown {
  if (!isObject(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [from, to] of entries(names)) if (Object.hasOwn(input, from)) out[to] = input[from];
  return out;
}

/** A record and its tool calls (`toolsUsed`, when it is a list) renamed to the canonical names. */
export function renameRecord(input: unknown, recordNames: NameMap, toolNames: NameMap): unknown {
  const record = rename(input, recordNames);
  if (isObject(record) && Array.isArray(record.toolsUsed)) record.toolsUsed = record.toolsUsed.map((t) => rename(t, toolNames));
  return record;
}
