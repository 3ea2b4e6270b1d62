/**
 * What the shared read core needs from a database: a dialect (placeholders, table names and
 * the few conditions that are spelled differently) and a way to run a read.
 */
import type { Page } from '../../model/interaction.js';
import { InvalidCursorError } from '../types.js';

export type Row = Record<string, unknown>;
export type Condition = readonly [sql: string, values: readonly unknown[]];

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** The n-th (1-based) parameter placeholder. */
  placeholder(n: number): string;
  /** A table's name as written in SQL (schema-qualified on PostgreSQL). */
  table(name: string): string;
  /** Appended to text sort keys so both stores order by bytes. */
  readonly collate: string;
  /** A boolean as a parameter. */
  bool(value: boolean): unknown;
  /** A text as the store keeps it (PostgreSQL cannot hold NUL or lone surrogates). */
  text(value: string): string;
  /** Interactions that called `tool`. */
  toolCalled(tool: string): Condition;
  /**
   * Interactions whose lower-cased user input contains `needle` (already lower-cased, at least
   * 3 characters), answered by the text index (SQLite FTS5 trigram, PostgreSQL pg_trgm);
   * `lookup` is the part of it (at least 3 characters) the index can be asked for.
   */
  inputContains(needle: string, lookup: string): Condition;
  /**
   * The same for a 1–2 character needle, which a trigram index cannot answer: a scan bounded
   * to the newest `window` interactions stored.
   */
  recentInputContains(needle: string, window: number): Condition;
  /**
   * A scan condition for a search (no index), for a newest-first page of a term so common that
   * walking the time index and checking each row finds a page sooner than collecting every
   * indexed match. SQLite only: PostgreSQL's planner makes this choice itself.
   */
  inputScan?(needle: string): Condition;
  /** Tool names of the matches `m` for the tool facet: the column `m` selects, the join and the name. */
  readonly toolFacet: { column: string; from: string; value: string };
  /** Interactions before the (ts, seq) keyset position, in list order. */
  beforeSeq(ts: number, seq: number): Condition;
}

/** Runs one read; both stores hand the core one of these. */
export interface SqlReader {
  readonly dialect: Dialect;
  all(sql: string, args: readonly unknown[]): Promise<Row[]>;
}

/** Builds a WHERE clause from conditions written with `?`, numbered as the dialect wants. */
export class SqlBuilder {
  readonly args: unknown[] = [];
  private readonly parts: string[] = [];

  constructor(private readonly dialect: Dialect) {}

  add(cond: string, ...values: readonly unknown[]): void {
    let i = 0;
    this.parts.push(cond.replace(/\?/g, () => this.param(values[i++])));
  }

  addCondition([cond, values]: Condition): void {
    this.add(cond, ...values);
  }

  /** A condition already written with this builder's placeholders. */
  addSql(cond: string): void {
    this.parts.push(cond);
  }

  /** The WHERE clause so far, leaving the builder empty but keeping its parameters (for a subquery). */
  takeWhere(): string {
    const where = this.where();
    this.parts.length = 0;
    return where;
  }

  param(value: unknown): string {
    this.args.push(value);
    return this.dialect.placeholder(this.args.length);
  }

  where(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** Cursor over (number, text) sort keys, opaque to clients. */
export function encodeCursor(a: number, b: string | number): string {
  return Buffer.from(`${a}:${b}`).toString('base64url');
}

export function decodeCursor(cursor: string): { a: number; b: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  const i = text.indexOf(':');
  if (i <= 0) return null;
  const a = Number(text.slice(0, i));
  return Number.isFinite(a) ? { a, b: text.slice(i + 1) } : null;
}

/** The position `after` names, null for the first page; a cursor that is not ours is refused. */
export function readCursor(after: string | null | undefined): { a: number; b: string } | null {
  if (!after) return null;
  const cursor = decodeCursor(after);
  if (!cursor) throw new InvalidCursorError('invalid cursor in "after"');
  return cursor;
}

export function toPage<T>(items: T[], cursors: string[], hasNextPage: boolean): Page<T> {
  return { items, cursors, hasNextPage, endCursor: cursors[cursors.length - 1] ?? null };
}

/** A JSON column's value, or null when the column is NULL. */
export function parseJson<T>(text: unknown, fallback: T): T {
  return typeof text === 'string' ? (JSON.parse(text) as T) : fallback;
}
