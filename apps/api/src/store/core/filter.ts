/**
 * The interaction filter, defined once: the SQL it compiles to (through dialect hooks) and the
 * in-memory matcher the live feed uses. The two must agree; a property-based conformance test
 * checks them against both stores.
 */
import type { Interaction, InteractionFilter } from '../../model/interaction.js';
import { FILTER_COLUMNS, encodeValue } from './columns.js';
import type { Dialect, SqlBuilder } from './sql.js';

/**
 * A search of 1–2 characters (a two-character Chinese word, say) has no trigram to look up; it
 * scans the newest this-many interactions instead, so it stays bounded at any database size.
 */
export const SHORT_SEARCH_WINDOW = 200_000;

/** The part of a needle the trigram index looks up: its longest run without NUL (FTS5's query syntax ends at NUL). */
export function indexedPart(needle: string): string {
  return needle.split('\u0000').reduce((best, part) => (part.length > best.length ? part : best), '');
}

/** Fewer than 3 characters (code points, as the trigram tokenizers count them) to look up. */
export function isShortSearch(needle: string): boolean {
  let n = 0;
  for (const _ of indexedPart(needle)) if (++n >= 3) return false;
  return true;
}

/** Longest search accepted (stored input is 200 characters by default, see userInputMaxLength). */
export const MAX_SEARCH_LENGTH = 1000;

type FilterValues = Readonly<Record<string, unknown>>;

/** Adds the filter's conditions to `w`; an absent field (or an empty search) does not narrow. */
export function compileInteractionFilter(filter: InteractionFilter, w: SqlBuilder, d: Dialect, opts: { scanSearch?: boolean } = {}): void {
  if (filter.from !== undefined) w.add('ts >= ?', filter.from);
  if (filter.to !== undefined) w.add('ts < ?', filter.to);
  const values = filter as FilterValues;
  for (const c of FILTER_COLUMNS) {
    const value = values[c.field];
    if (value !== undefined) w.add(`${c.column} = ?`, encodeValue(c, value, d));
  }
  if (filter.tool !== undefined) w.addCondition(d.toolCalled(d.text(filter.tool)));
  if (filter.search) {
    const needle = d.text(filter.search.toLowerCase());
    if (isShortSearch(needle)) w.addCondition(d.recentInputContains(needle, SHORT_SEARCH_WINDOW));
    else if (opts.scanSearch && d.inputScan) w.addCondition(d.inputScan(needle));
    else w.addCondition(d.inputContains(needle, indexedPart(needle)));
  }
}

/** The same rules in memory, for records that are not read from the database. */
export function interactionMatcher(filter: InteractionFilter): (r: Interaction) => boolean {
  const values = filter as FilterValues;
  const equal = FILTER_COLUMNS.filter((c) => values[c.field] !== undefined);
  const search = filter.search ? filter.search.toLowerCase() : null;
  return (r) =>
    (filter.from === undefined || r.timestamp >= filter.from) &&
    (filter.to === undefined || r.timestamp < filter.to) &&
    equal.every((c) => r[c.field] === values[c.field]) &&
    (filter.tool === undefined || r.toolsUsed.some((t) => t.tool === filter.tool)) &&
    (search === null || r.userInput.toLowerCase().includes(search));
}
