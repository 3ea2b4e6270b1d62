/**
 * The interaction's columns, listed once: camelCase field, snake_case column and kind. INSERT
 * column lists, parameter encoding, row mapping and equality filters all derive from this
 * list, so a new scalar field is one line here: a column with `since` is added by that
 * schema version's migration (see `withAddedColumns`).
 */
import type { Interaction } from '../../model/interaction.js';
import type { Dialect, Row } from './sql.js';
import { compileValuesReader } from '../../model/field-access.js';

export type ColumnKind = 'text' | 'int' | 'real' | 'bool' | 'json';

export interface Column {
  readonly field: keyof Interaction;
  readonly column: string;
  readonly kind: ColumnKind;
  /** The explorer filter narrows by equality on this field (filter key = field name). */
  readonly filter?: boolean;
  /** Schema version that added the column (nullable, by `ALTER TABLE … ADD COLUMN`); absent: in the v1 table. */
  readonly since?: number;
}

export const INTERACTION_COLUMNS = [
  { field: 'id', column: 'id', kind: 'text' },
  { field: 'sessionId', column: 'session_id', kind: 'text', filter: true },
  { field: 'timestamp', column: 'ts', kind: 'int' },
  { field: 'receivedAt', column: 'received_at', kind: 'int' },
  { field: 'userInput', column: 'user_input', kind: 'text' },
  { field: 'intent', column: 'intent', kind: 'text', filter: true },
  { field: 'toolsUsed', column: 'tools_used', kind: 'json' },
  { field: 'responseTimeMs', column: 'response_time_ms', kind: 'real' },
  { field: 'success', column: 'success', kind: 'bool', filter: true },
  { field: 'errorType', column: 'error_type', kind: 'text', filter: true },
  { field: 'assistant', column: 'assistant', kind: 'text', filter: true },
  { field: 'version', column: 'version', kind: 'text', filter: true },
  { field: 'model', column: 'model', kind: 'text', filter: true },
  { field: 'userId', column: 'user_id', kind: 'text' },
  { field: 'inputTokens', column: 'input_tokens', kind: 'int' },
  { field: 'outputTokens', column: 'output_tokens', kind: 'int' },
  { field: 'costUsd', column: 'cost_usd', kind: 'real' },
  { field: 'feedbackScore', column: 'feedback_score', kind: 'real' },
  { field: 'metadata', column: 'metadata', kind: 'json' },
  { field: 'environment', column: 'environment', kind: 'text', filter: true, since: 3 },
] as const satisfies readonly Column[];

// Compile-time check: every field of the record has a column.
type Listed = (typeof INTERACTION_COLUMNS)[number]['field'];
const everyFieldListed: Record<Exclude<keyof Interaction, Listed>, never> = {};
void everyFieldListed;

const COLUMNS: readonly Column[] = INTERACTION_COLUMNS;

/** Column names in list order, for INSERT column lists. */
export const INTERACTION_COLUMN_NAMES: readonly string[] = COLUMNS.map((c) => c.column);

/** Fields the explorer filter compares by equality (`filter: true`). */
export type FilterField = Extract<(typeof INTERACTION_COLUMNS)[number], { filter: true }>['field'];

/** Columns the explorer filter compares by equality. */
export const FILTER_COLUMNS: readonly Column[] = COLUMNS.filter((c) => c.filter === true);

/**
 * The migrations with each added column's `ALTER TABLE … ADD COLUMN` appended to the version
 * named by its `since`; a `since` beyond the hand-written list is a version of its own.
 */
export function withAddedColumns(migrations: readonly string[], addColumn: (c: Column) => string): string[] {
  const added = COLUMNS.filter((c) => c.since !== undefined && c.since > 1);
  const last = Math.max(migrations.length, ...added.map((c) => c.since!));
  return Array.from({ length: last }, (_, i) =>
    [migrations[i] ?? '', ...added.filter((c) => c.since === i + 1).map(addColumn)].join('\n'),
  );
}

/** Text fields, which PostgreSQL cleans before storing. */
export const TEXT_FIELDS: readonly (keyof Interaction)[] = COLUMNS.filter((c) => c.kind === 'text').map((c) => c.field);

/** One field's value as a query parameter. */
export function encodeValue(c: Column, value: unknown, d: Dialect): unknown {
  if (value === null || value === undefined) return null;
  switch (c.kind) {
    case 'bool':
      return d.bool(value as boolean);
    case 'json':
      return JSON.stringify(value);
    case 'text':
      return d.text(value as string);
    default:
      return value;
  }
}

/** Columns whose values need encoding: numbers pass as they are. */
const ENCODED: readonly [number, Column][] = COLUMNS.flatMap((c, i): [number, Column][] => (c.kind === 'int' || c.kind === 'real' ? [] : [[i, c]]));

const readColumns = compileValuesReader<Interaction>(COLUMNS.map((c) => c.field));

/** The record's values in column order. */
export function interactionValues(r: Interaction, d: Dialect): unknown[] {
  const values = readColumns(r);
  for (const [i, c] of ENCODED) values[i] = encodeValue(c, values[i], d);
  return values;
}

function decodeValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'int':
    case 'real':
      return Number(value);
    case 'bool':
      return Boolean(value);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return value;
  }
}

export function rowToInteraction(row: Row): Interaction {
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) out[c.field] = decodeValue(c.kind, row[c.column]);
  return out as unknown as Interaction;
}
