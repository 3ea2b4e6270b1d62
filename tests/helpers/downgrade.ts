/**
 * Turns a migrated database back into an earlier schema version, keeping its interactions:
 * the starting point of the upgrade tests. What each version added is undone here, once, so
 * a new migration is one more line (and every upgrade test starts from the right shape).
 */
import type Database from 'better-sqlite3';
import { pgQuery } from './services.js';

/** SQLite: what version N added, undone. */
const SQLITE_UNDO: Readonly<Record<number, string>> = {
  2: 'DROP TABLE settings;',
  3: 'ALTER TABLE interactions DROP COLUMN environment;',
  4: 'DROP TABLE rollup_model; ALTER TABLE rollup_minute DROP COLUMN costed; ALTER TABLE rollup_minute DROP COLUMN unpriced;',
  5: 'DROP TABLE spans;',
  6: 'DROP TABLE rollup_release; DROP TABLE release_session; DROP TABLE release_moments; DROP TABLE improvements;',
  7: 'DROP TRIGGER interactions_fts_delete; DROP TRIGGER interactions_fts_update; DROP TABLE interactions_fts; DROP TABLE interactions_fts_state;',
};

/** PostgreSQL: the same, `{s}` standing for the quoted schema. */
const POSTGRES_UNDO: Readonly<Record<number, string[]>> = {
  2: ['DROP TABLE {s}.settings'],
  3: ['ALTER TABLE {s}.interactions DROP COLUMN environment'],
  4: ['DROP TABLE {s}.rollup_model', 'ALTER TABLE {s}.rollup_minute DROP COLUMN costed, DROP COLUMN unpriced'],
  5: ['DROP TABLE {s}.spans'],
  6: ['DROP TABLE {s}.rollup_release', 'DROP TABLE {s}.release_session', 'DROP TABLE {s}.release_moments', 'DROP TABLE {s}.improvements'],
  7: ['DROP INDEX {s}.interactions_input_trgm'],
};

function undoOf<T>(undo: Readonly<Record<number, T>>, v: number): T {
  const step = undo[v];
  if (step === undefined) throw new Error(`no downgrade step for schema version ${v}: add it to tests/helpers/downgrade.ts`);
  return step;
}

export function sqliteBackTo(db: Database.Database, version: number): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v > version; v--) db.exec(undoOf(SQLITE_UNDO, v));
  db.pragma(`user_version = ${version}`);
}

export async function postgresBackTo(schema: string, version: number): Promise<void> {
  const s = `"${schema}"`;
  const [row] = await pgQuery<{ v: number }>(`SELECT max(version)::int AS v FROM ${s}.ai_monitor_schema_version`);
  for (let v = row!.v; v > version; v--) for (const sql of undoOf(POSTGRES_UNDO, v)) await pgQuery(sql.replaceAll('{s}', s));
  await pgQuery(`DELETE FROM ${s}.ai_monitor_schema_version WHERE version > $1`, [version]);
}
