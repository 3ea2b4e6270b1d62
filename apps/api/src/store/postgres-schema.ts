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
  // v3: the environment column only (added from the column list, store/core/columns.ts).
  '',
  // v4: cost roll-ups (see sqlite-schema.ts). Per-model rows are keyed by writer, as the minute
  // rows are, so each replica merges its own latency histograms. The counts of interactions
  // already stored go into rows of the writer 'migrated' (sums are unaffected).
  `
  ALTER TABLE {s}.rollup_minute ADD COLUMN costed bigint NOT NULL DEFAULT 0;
  ALTER TABLE {s}.rollup_minute ADD COLUMN unpriced bigint NOT NULL DEFAULT 0;
  INSERT INTO {s}.rollup_minute (minute, writer, count, errors, rt_sum, rt_max, hist, input_tokens, output_tokens, cost_usd, costed, unpriced)
    SELECT (ts / 60000) * 60000, 'migrated', 0, 0, 0, 0, '\\x0000'::bytea, 0, 0, 0,
      count(cost_usd), count(*) FILTER (WHERE model IS NOT NULL AND cost_usd IS NULL)
    FROM {s}.interactions GROUP BY 1;
  CREATE TABLE {s}.rollup_model (
    minute bigint NOT NULL, model text COLLATE "C" NOT NULL, writer text COLLATE "C" NOT NULL,
    count bigint NOT NULL, errors bigint NOT NULL, rt_sum double precision NOT NULL, hist bytea NOT NULL,
    input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, cost_usd double precision NOT NULL,
    costed bigint NOT NULL, unpriced bigint NOT NULL,
    PRIMARY KEY (minute, model, writer)
  );
  INSERT INTO {s}.rollup_model
    SELECT (ts / 60000) * 60000, model, 'migrated', count(*), count(*) FILTER (WHERE NOT success), sum(response_time_ms), '\\x0000'::bytea,
      coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0),
      count(cost_usd), count(*) FILTER (WHERE cost_usd IS NULL)
    FROM {s}.interactions WHERE model IS NOT NULL GROUP BY 1, 2;
  `,
  // v5: OpenTelemetry spans, unique per (trace_id, span_id), linked to their interaction.
  `
  CREATE TABLE {s}.spans (
    trace_id text COLLATE "C" NOT NULL,
    span_id text COLLATE "C" NOT NULL,
    parent_span_id text,
    interaction_id text COLLATE "C",
    name text NOT NULL,
    kind text NOT NULL,
    start_ms double precision NOT NULL,
    end_ms double precision NOT NULL,
    status_code text NOT NULL,
    status_message text,
    attributes text NOT NULL,
    events text NOT NULL,
    links text NOT NULL,
    resource text NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (trace_id, span_id)
  );
  CREATE INDEX spans_interaction ON {s}.spans (interaction_id) WHERE interaction_id IS NOT NULL;
  CREATE INDEX spans_waiting ON {s}.spans (received_at) WHERE interaction_id IS NULL;
  CREATE INDEX spans_received ON {s}.spans (received_at);
  `,
  // v6: release roll-ups (store/release-rollup.ts) and the improvement tracker. Release
  // roll-up rows are per writer, like rollup_minute: each replica merges its own histograms.
  `
  CREATE TABLE {s}.rollup_release (
    assistant text COLLATE "C" NOT NULL, version text COLLATE "C" NOT NULL, hour bigint NOT NULL,
    dimension text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, writer text COLLATE "C" NOT NULL,
    count bigint NOT NULL, errors bigint NOT NULL, rt_sum double precision NOT NULL, rt_max double precision NOT NULL, hist bytea NOT NULL,
    input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, cost_usd double precision NOT NULL,
    first_ts bigint NOT NULL, last_ts bigint NOT NULL,
    PRIMARY KEY (assistant, version, hour, dimension, key, writer)
  );
  CREATE INDEX rollup_release_hour ON {s}.rollup_release (hour);
  CREATE TABLE {s}.release_session (
    assistant text COLLATE "C" NOT NULL, version text COLLATE "C" NOT NULL, day bigint NOT NULL, session_id text COLLATE "C" NOT NULL,
    count bigint NOT NULL, errors bigint NOT NULL,
    PRIMARY KEY (assistant, version, day, session_id)
  );
  CREATE INDEX release_session_day ON {s}.release_session (day);
  CREATE TABLE {s}.release_moments (
    assistant text COLLATE "C" NOT NULL, version text COLLATE "C" NOT NULL, day bigint NOT NULL,
    sessions bigint NOT NULL, n bigint NOT NULL, y bigint NOT NULL, nn double precision NOT NULL, yy double precision NOT NULL, ny double precision NOT NULL,
    PRIMARY KEY (assistant, version, day)
  );
  CREATE TABLE {s}.improvements (
    id text COLLATE "C" PRIMARY KEY,
    title text NOT NULL,
    problem_kind text NOT NULL,
    problem_key text NOT NULL,
    assistant text NOT NULL,
    baseline text NOT NULL,
    fix text,
    status text NOT NULL,
    verdict text,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    judged_at bigint,
    detail text NOT NULL,
    delivery text
  );
  `,
  // v7: indexed text search, a pg_trgm GIN index on the lower-cased user input (every partition
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
