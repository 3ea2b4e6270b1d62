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
  // v3: the environment column only (added from the column list, store/core/columns.ts).
  '',
  // v4: cost roll-ups. Interactions with a cost and those with a model but no cost per minute,
  // and the per-model roll-up, filled from the stored interactions. Latency histograms cannot
  // be rebuilt in SQL: minutes stored before v4 have empty per-model histograms (no model p95).
  `
  ALTER TABLE rollup_minute ADD COLUMN costed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rollup_minute ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0;
  UPDATE rollup_minute SET costed = b.costed, unpriced = b.unpriced
    FROM (SELECT (ts / 60000) * 60000 AS minute, count(cost_usd) AS costed,
            sum(CASE WHEN model IS NOT NULL AND cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced
          FROM interactions GROUP BY 1) AS b
    WHERE b.minute = rollup_minute.minute;
  CREATE TABLE rollup_model (
    minute INTEGER NOT NULL, model TEXT NOT NULL,
    count INTEGER NOT NULL, errors INTEGER NOT NULL, rt_sum REAL NOT NULL, hist BLOB NOT NULL,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
    costed INTEGER NOT NULL, unpriced INTEGER NOT NULL,
    PRIMARY KEY (minute, model)
  ) WITHOUT ROWID;
  INSERT INTO rollup_model
    SELECT (ts / 60000) * 60000, model, count(*), sum(1 - success), sum(response_time_ms), X'0000',
      coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0),
      count(cost_usd), sum(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END)
    FROM interactions WHERE model IS NOT NULL GROUP BY 1, 2;
  `,
  // v5: OpenTelemetry spans, unique per (trace_id, span_id), linked to their interaction.
  `
  CREATE TABLE spans (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    interaction_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ms REAL NOT NULL,
    end_ms REAL NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT,
    attributes TEXT NOT NULL,
    events TEXT NOT NULL,
    links TEXT NOT NULL,
    resource TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (trace_id, span_id)
  );
  CREATE INDEX spans_interaction ON spans (interaction_id) WHERE interaction_id IS NOT NULL;
  CREATE INDEX spans_waiting ON spans (received_at) WHERE interaction_id IS NULL;
  `,
  // v6: release roll-ups (store/release-rollup.ts) and the improvement tracker.
  `
  CREATE TABLE rollup_release (
    assistant TEXT NOT NULL, version TEXT NOT NULL, hour INTEGER NOT NULL, dimension TEXT NOT NULL, key TEXT NOT NULL,
    count INTEGER NOT NULL, errors INTEGER NOT NULL, rt_sum REAL NOT NULL, rt_max REAL NOT NULL, hist BLOB NOT NULL,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    PRIMARY KEY (assistant, version, hour, dimension, key)
  ) WITHOUT ROWID;
  CREATE INDEX rollup_release_hour ON rollup_release (hour);
  CREATE TABLE release_session (
    assistant TEXT NOT NULL, version TEXT NOT NULL, day INTEGER NOT NULL, session_id TEXT NOT NULL,
    count INTEGER NOT NULL, errors INTEGER NOT NULL,
    PRIMARY KEY (assistant, version, day, session_id)
  ) WITHOUT ROWID;
  CREATE INDEX release_session_day ON release_session (day);
  CREATE TABLE release_moments (
    assistant TEXT NOT NULL, version TEXT NOT NULL, day INTEGER NOT NULL,
    sessions INTEGER NOT NULL, n INTEGER NOT NULL, y INTEGER NOT NULL, nn INTEGER NOT NULL, yy INTEGER NOT NULL, ny INTEGER NOT NULL,
    PRIMARY KEY (assistant, version, day)
  ) WITHOUT ROWID;
  CREATE TABLE improvements (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    problem_kind TEXT NOT NULL,
    problem_key TEXT NOT NULL,
    assistant TEXT NOT NULL,
    baseline TEXT NOT NULL,
    fix TEXT,
    status TEXT NOT NULL,
    verdict TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    judged_at INTEGER,
    detail TEXT NOT NULL,
    delivery TEXT
  );
  `,
  // v7: indexed text search. A contentless FTS5 table of trigrams over the lower-cased user input
  // (unicode_lower: JavaScript's toLowerCase, as the live matcher folds). New rows are indexed
  // shortly after their commit, in batches (store/sqlite.ts, indexTextBatch): indexing each
  // small commit on its own would cost several times the insert. `interactions_fts_state.upto`
  // is the last seq indexed; searches also scan the few rows after it. Deletes (retention)
  // remove indexed rows from the index by trigger. Existing rows are indexed here.
  `
  CREATE VIRTUAL TABLE interactions_fts USING fts5(
    user_input, content='', contentless_delete=1, tokenize='trigram case_sensitive 1', detail=none
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
