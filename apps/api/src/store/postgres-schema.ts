import { withAddedColumns, type ColumnKind } from './core/columns.js';

/**
 * PostgreSQL schema, versioned in `ai_monitor_schema_version` (one row per applied version).
 * Every object lives in the configured schema; `{s}` is replaced by its quoted name.
 *
 * Layout decisions (see store/postgres.ts for how they are used):
 * - `interactions` is partitioned by day (RANGE on `ts`, epoch ms). Partitions are created on
 *   demand when a batch holds a new day and dropped whole by retention.
 * - A partitioned table cannot have a unique index without the partition key, so idempotency
 *   keys live in the narrow `interaction_ids` registry (primary key `id`); an id is stored once
 *   whatever its timestamp, as on SQLite.
 * - `rollup_minute` rows are keyed by (minute, writer): each store instance (replica) owns its
 *   rows and merges its latency histograms without racing another replica; reads sum them.
 *   The other roll-ups only add numbers, which `ON CONFLICT DO UPDATE` does atomically.
 * - Keys compare with the "C" collation (byte order), as SQLite's BINARY does, so ordering,
 *   ties and cursors match the embedded store whatever the database's default collation.
 */
const HAND_WRITTEN: readonly string[] = [
  // v1
  `
  CREATE SEQUENCE {s}.interactions_seq;
  CREATE TABLE {s}.interactions (
    seq bigint NOT NULL,
    id text COLLATE "C" NOT NULL,
    session_id text COLLATE "C" NOT NULL,
    ts bigint NOT NULL,
    received_at bigint NOT NULL,
    user_input text NOT NULL,
    intent text COLLATE "C" NOT NULL,
    tools_used text NOT NULL,
    tool_names text[] NOT NULL,
    response_time_ms double precision NOT NULL,
    success boolean NOT NULL,
    error_type text COLLATE "C",
    assistant text COLLATE "C",
    version text,
    model text,
    user_id text,
    input_tokens bigint,
    output_tokens bigint,
    cost_usd double precision,
    feedback_score double precision,
    metadata text
  ) PARTITION BY RANGE (ts);
  CREATE INDEX interactions_ts ON {s}.interactions (ts, seq);
  CREATE INDEX interactions_session ON {s}.interactions (session_id, ts);

  CREATE TABLE {s}.interaction_ids (
    id text COLLATE "C" PRIMARY KEY,
    ts bigint NOT NULL
  );
  CREATE INDEX interaction_ids_ts ON {s}.interaction_ids (ts);

  CREATE TABLE {s}.sessions (
    session_id text COLLATE "C" PRIMARY KEY,
    first_ts bigint NOT NULL,
    last_ts bigint NOT NULL,
    interactions bigint NOT NULL,
    errors bigint NOT NULL,
    rt_sum double precision NOT NULL
  );
  CREATE INDEX sessions_last_ts ON {s}.sessions (last_ts);

  CREATE TABLE {s}.rollup_minute (
    minute bigint NOT NULL,
    writer text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    errors bigint NOT NULL,
    rt_sum double precision NOT NULL,
    rt_max double precision NOT NULL,
    hist bytea NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cost_usd double precision NOT NULL,
    PRIMARY KEY (minute, writer)
  );
  CREATE TABLE {s}.rollup_intent (
    minute bigint NOT NULL, intent text COLLATE "C" NOT NULL,
    count bigint NOT NULL, errors bigint NOT NULL, rt_sum double precision NOT NULL,
    PRIMARY KEY (minute, intent)
  );
  CREATE TABLE {s}.rollup_tool (
    minute bigint NOT NULL, tool text COLLATE "C" NOT NULL,
    calls bigint NOT NULL, errors bigint NOT NULL, duration_sum double precision NOT NULL, duration_n bigint NOT NULL,
    PRIMARY KEY (minute, tool)
  );
  CREATE TABLE {s}.rollup_error (
    minute bigint NOT NULL, error_type text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (minute, error_type)
  );

  CREATE TABLE {s}.alerts (
    id text COLLATE "C" PRIMARY KEY,
    kind text COLLATE "C" NOT NULL,
    status text NOT NULL,
    message text NOT NULL,
    value double precision NOT NULL,
    threshold double precision NOT NULL,
    raised_at bigint NOT NULL,
    resolved_at bigint,
    acknowledged_at bigint,
    acknowledged_by text,
    delivery text NOT NULL,
    details text NOT NULL
  );
  CREATE INDEX alerts_raised_at ON {s}.alerts (raised_at);
  `,
  // v2: the settings table (schemas of v1 may have it already, created on first use).
  `
  CREATE TABLE IF NOT EXISTS {s}.settings (
    key text PRIMARY KEY,
    value text NOT NULL,
    version bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  `,
  // v3: the environment column (added from the column list).
  '',
  // v4: indexed text search, a pg_trgm GIN index on the lower-cased user input (every partition
  // gets it, attached ones too). The extension is database-wide: schemas migrating at once take turns.
  `
  SELECT pg_advisory_xact_lock(hashtext('ai-monitor:pg_trgm'));
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX interactions_input_trgm ON {s}.interactions USING gin (lower(user_input) gin_trgm_ops);
  `,
];

const POSTGRES_TYPES: Record<ColumnKind, string> = { text: 'text', int: 'bigint', real: 'double precision', bool: 'boolean', json: 'text' };

/**
 * The hand-written migrations plus the columns added since (`since` in the column list).
 * Filtered text compares with the "C" collation, as the v1 filter columns do. Adding a column
 * to the partitioned table adds it to every partition.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = withAddedColumns(
  HAND_WRITTEN,
  (c) => `ALTER TABLE {s}.interactions ADD COLUMN ${c.column} ${POSTGRES_TYPES[c.kind]}${c.kind === 'text' && c.filter ? ' COLLATE "C"' : ''};`,
);

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** Quotes an SQL identifier (the configured schema is validated, but quoting keeps case). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
