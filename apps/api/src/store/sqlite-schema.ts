import { withAddedColumns, type ColumnKind } from './core/columns.js';

/**
 * SQLite schema, versioned with `PRAGMA user_version`. Each migration runs once, in order,
 * inside a transaction; a database from a newer version is refused, never altered.
 */
const HAND_WRITTEN: readonly string[] = [
  // v1
  `
  CREATE TABLE interactions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    user_input TEXT NOT NULL,
    intent TEXT NOT NULL,
    tools_used TEXT NOT NULL,
    tool_names TEXT NOT NULL,
    response_time_ms REAL NOT NULL,
    success INTEGER NOT NULL,
    error_type TEXT,
    assistant TEXT,
    version TEXT,
    model TEXT,
    user_id TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    feedback_score REAL,
    metadata TEXT
  );
  CREATE INDEX interactions_ts ON interactions (ts);
  CREATE INDEX interactions_session ON interactions (session_id, ts);

  CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    interactions INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    rt_sum REAL NOT NULL
  );
  CREATE INDEX sessions_last_ts ON sessions (last_ts);

  CREATE TABLE rollup_minute (
    minute INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    rt_sum REAL NOT NULL,
    rt_max REAL NOT NULL,
    hist BLOB NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL
  );
  CREATE TABLE rollup_intent (
    minute INTEGER NOT NULL, intent TEXT NOT NULL,
    count INTEGER NOT NULL, errors INTEGER NOT NULL, rt_sum REAL NOT NULL,
    PRIMARY KEY (minute, intent)
  ) WITHOUT ROWID;
  CREATE TABLE rollup_tool (
    minute INTEGER NOT NULL, tool TEXT NOT NULL,
    calls INTEGER NOT NULL, errors INTEGER NOT NULL, duration_sum REAL NOT NULL, duration_n INTEGER NOT NULL,
    PRIMARY KEY (minute, tool)
  ) WITHOUT ROWID;
  CREATE TABLE rollup_error (
    minute INTEGER NOT NULL, error_type TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute, error_type)
  ) WITHOUT ROWID;

  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    value REAL NOT NULL,
    threshold REAL NOT NULL,
    raised_at INTEGER NOT NULL,
    resolved_at INTEGER,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    delivery TEXT NOT NULL,
    details TEXT NOT NULL
  );
  CREATE INDEX alerts_raised_at ON alerts (raised_at);
  `,
  // v2: the settings table (databases of v1 may have it already, created on first use).
  `
  CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // v3: the environment column (added from the column list).
  '',
  // v4: indexed text search. A contentless FTS5 table of trigrams over the lower-cased user input
  // (unicode_lower: JavaScript's toLowerCase, as the live matcher folds). New rows are indexed
  // shortly after their commit, in batches (store/sqlite.ts, indexTextBatch): indexing each
  // small commit on its own would cost several times the insert. `interactions_fts_state.upto`
  // is the last seq indexed; searches also scan the few rows after it. Deletes (retention)
  // remove indexed rows from the index by trigger. Existing rows are indexed here.
  `
  CREATE VIRTUAL TABLE interactions_fts USING fts5(
    user_input, content='', contentless_delete=1, tokenize='trigram case_sensitive 1'
  );
  CREATE TABLE interactions_fts_state (id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL);
  INSERT INTO interactions_fts (rowid, user_input) SELECT seq, unicode_lower(user_input) FROM interactions;
  INSERT INTO interactions_fts_state VALUES (1, coalesce((SELECT max(seq) FROM interactions), 0));
  CREATE TRIGGER interactions_fts_delete AFTER DELETE ON interactions
    WHEN old.seq <= (SELECT upto FROM interactions_fts_state) BEGIN
    DELETE FROM interactions_fts WHERE rowid = old.seq;
  END;
  CREATE TRIGGER interactions_fts_update AFTER UPDATE OF user_input ON interactions
    WHEN old.seq <= (SELECT upto FROM interactions_fts_state) BEGIN
    DELETE FROM interactions_fts WHERE rowid = old.seq;
    INSERT INTO interactions_fts (rowid, user_input) VALUES (new.seq, unicode_lower(new.user_input));
  END;
  `,
];

const SQLITE_TYPES: Record<ColumnKind, string> = { text: 'TEXT', int: 'INTEGER', real: 'REAL', bool: 'INTEGER', json: 'TEXT' };

/** The hand-written migrations plus the columns added since (`since` in the column list). */
export const SQLITE_MIGRATIONS: readonly string[] = withAddedColumns(
  HAND_WRITTEN,
  (c) => `ALTER TABLE interactions ADD COLUMN ${c.column} ${SQLITE_TYPES[c.kind]};`,
);

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;
