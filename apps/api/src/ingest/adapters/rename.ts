/** Carrying a protocol's record over to the canonical names, values untouched. */
import { compileRenamer } from '../../model/field-access.js';

/** From a protocol's field name to the canonical one. */
export type NameMap = Readonly<Record<string, string>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A record and its tool calls (`toolsUsed`, when it is a list) → the canonical names, for one
 * protocol's name maps. Anything that is not an object passes as is, for the validator to name.
 */
export function recordRenamer(recordNames: NameMap, toolNames: NameMap): (input: unknown) => unknown {
  const renameRecord = compileRenamer(recordNames);
  const renameTool = compileRenamer(toolNames);
  const tool = (t: unknown): unknown => (isObject(t) ? renameTool(t) : t);
  return (input) => {
    if (!isObject(input)) return input;
    const record = renameRecord(input);
    if (Array.isArray(record.toolsUsed)) record.toolsUsed = record.toolsUsed.map(tool);
    return record;
  };
}
