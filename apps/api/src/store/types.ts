/**
 * The storage interface. SQLite (embedded default) and PostgreSQL (scale-out) implement it;
 * services above depend only on this file.
 */
import type {
  FacetName,
  Interaction,
  InteractionCount,
  InteractionFacets,
  InteractionFilter,
  InteractionSort,
  MatchBucket,
  Page,
  PageRequest,
  SessionQuery,
  SessionSummary,
  TimeRange,
} from '../model/interaction.js';
import type { AlertFilter, AlertRecord } from '../model/alert.js';
import type { Histogram } from '../model/histogram.js';
import type { SettingsStore } from './settings.js';
import type { Span } from '../model/span.js';
import type { InteractionAmendment, TraceLink } from './core/spans.js';
import type { ReleaseBucket, ReleaseCellRow, ReleaseSummary } from './core/releases.js';
import type { ClusterMoments } from '../stats/proportions.js';
import type { Improvement, ImprovementStatus } from '../model/improvement.js';

/** Sums over a time range, read from per-minute roll-ups. */
export interface Totals {
  count: number;
  errors: number;
  responseTimeSum: number;
  responseTimeMax: number;
  histogram: Histogram;
  inputTokens: number;
  outputTokens: number;
  /** Sum of the costs present (sent, or computed from the price table). */
  costUsd: number;
  /** Interactions with a cost. */
  costed: number;
  /** Interactions with a model but no cost. */
  unpriced: number;
}

/** One model's interactions over a range, from the per-model roll-up. */
export interface ModelRow {
  model: string;
  count: number;
  errors: number;
  responseTimeSum: number;
  histogram: Histogram;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  costed: number;
  unpriced: number;
}

export interface UnpricedModelRow {
  model: string;
  /** Interactions of the model without a cost. */
  interactions: number;
}

export interface TimeBucket extends Totals {
  /** Epoch ms of the bucket's start. */
  start: number;
}

export interface IntentRow {
  intent: string;
  count: number;
  errors: number;
  responseTimeSum: number;
}

export interface ToolRow {
  tool: string;
  calls: number;
  errors: number;
  durationSum: number;
  durationCount: number;
}

export interface ErrorTypeRow {
  errorType: string;
  count: number;
}

/** Storing and reading interactions and the sessions they make up. */
export interface InteractionStore {
  /**
   * Stores records in one transaction and maintains the roll-ups. Resolves after commit with,
   * per record, true when stored now or false when its id was already stored.
   */
  insertInteractions(records: readonly Interaction[]): Promise<boolean[]>;
  getInteraction(id: string): Promise<Interaction | null>;
  /** Newest first unless `sort` says otherwise; ties by insertion order. */
  listInteractions(filter: InteractionFilter, page: PageRequest, sort?: InteractionSort): Promise<Page<Interaction>>;
  /** How many interactions match (marked estimated when only part was counted). */
  countInteractions(filter: InteractionFilter): Promise<InteractionCount>;
  /** The `limit` most frequent values of each facet among the matches. */
  interactionFacets(filter: InteractionFilter, limit: number, names?: readonly FacetName[]): Promise<Partial<InteractionFacets>>;
  /** Matches per time bucket. */
  interactionHistogram(filter: InteractionFilter, bucketMs: number): Promise<MatchBucket[]>;
  /** Every match in order, in batches read one after another (for export). */
  scanInteractions(filter: InteractionFilter, sort: InteractionSort, batch: number): AsyncGenerator<Interaction[]>;
  getSession(id: string): Promise<SessionSummary | null>;
  /** Most recently active first unless `query.sort` says otherwise; `query.filter` keeps sessions with a matching interaction. */
  listSessions(range: Partial<TimeRange>, page: PageRequest, query?: SessionQuery): Promise<Page<SessionSummary>>;
  /** Sessions with activity at or after `since`. */
  activeSessions(since: number): Promise<number>;
  /** The rules of `listInteractions`' filter, in memory: for records the live feed delivers. */
  matcher(filter: InteractionFilter): (record: Interaction) => boolean;
}

/** Reads of the per-minute roll-ups maintained at write time. */
export interface RollupStore {
  totals(range: TimeRange): Promise<Totals>;
  timeseries(range: TimeRange, bucketMs: number): Promise<TimeBucket[]>;
  intentBreakdown(range: TimeRange, limit: number): Promise<IntentRow[]>;
  toolBreakdown(range: TimeRange, limit: number): Promise<ToolRow[]>;
  errorBreakdown(range: TimeRange, limit: number): Promise<ErrorTypeRow[]>;
  modelBreakdown(range: TimeRange, limit: number): Promise<ModelRow[]>;
  unpricedModels(range: TimeRange, limit: number): Promise<UnpricedModelRow[]>;
}

/** Reads of the release roll-ups (store/release-rollup.ts). */
export interface ReleaseStore {
  /** Releases with traffic in the range, of one assistant ('' for records without one) or of all (null). */
  listReleases(assistant: string | null, range: TimeRange): Promise<ReleaseSummary[]>;
  /** One release's sums per (dimension, key) over the range (hours: `from` rounds down to its hour). */
  releaseCells(assistant: string, version: string, range: TimeRange): Promise<ReleaseCellRow[]>;
  /** Session moments of a release over the UTC days the range overlaps (cluster-robust variance). */
  releaseMoments(assistant: string, version: string, range: TimeRange): Promise<ClusterMoments>;
  releaseTimeseries(assistant: string, versions: readonly string[], range: TimeRange, bucketMs: number): Promise<ReleaseBucket[]>;
}

/** The improvement tracker (model/improvement.ts). */
export interface ImprovementStore {
  insertImprovement(i: Improvement): Promise<Improvement>;
  /** Replaces it; with `expected`, only while its status is that (compare-and-set). */
  replaceImprovement(next: Improvement, expected: ImprovementStatus | null): Promise<Improvement | null>;
  getImprovement(id: string): Promise<Improvement | null>;
  /** Oldest first. */
  listImprovements(status: ImprovementStatus | null): Promise<Improvement[]>;
}

/** Raised alerts and their lifecycle. */
export interface AlertStore {
  insertAlert(alert: AlertRecord): Promise<void>;
  updateAlert(id: string, patch: Partial<Omit<AlertRecord, 'id'>>): Promise<AlertRecord | null>;
  getAlert(id: string): Promise<AlertRecord | null>;
  /** Newest first. */
  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>>;
  /** How many alerts match (for the open / unacknowledged badges). */
  countAlerts(filter: AlertFilter): Promise<number>;
}

/** OpenTelemetry spans, linked to the interaction their trace became. */
export interface SpanStore {
  /** Stores spans in one transaction; per span, true when new (false: its (trace id, span id) was stored). */
  insertSpans(spans: readonly Span[]): Promise<boolean[]>;
  /** A trace's spans, earliest first. */
  traceSpans(traceId: string): Promise<Span[]>;
  /** The spans linked to an interaction, earliest first. */
  interactionSpans(interactionId: string): Promise<Span[]>;
  /** The spans of several traces, in no particular order. */
  spansOfTraces(traceIds: readonly string[]): Promise<Span[]>;
  /** Links each trace's spans that are not linked yet to its interaction, in one transaction. */
  linkSpans(links: readonly TraceLink[]): Promise<void>;
  /** Traces with unlinked spans whose newest span arrived before `quietSince`, oldest first. */
  waitingTraces(quietSince: number, limit: number): Promise<string[]>;
  /**
   * Adds late spans' tool calls and tokens to a stored interaction and its roll-ups, without
   * counting the interaction again. False when the interaction is not stored.
   */
  amendInteraction(id: string, amendment: InteractionAmendment): Promise<boolean>;
}

/** Schema, retention and connection: what concerns the database as a whole. */
export interface StoreLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; refuses a database written by a newer version. */
  migrate(): Promise<void>;
  /**
   * Deletes at most `chunk` of the oldest interactions (and their roll-ups, sessions and
   * alerts) older than `cutoff`; returns how many rows went, 0 when done.
   */
  deleteOlderThan(cutoff: number, chunk: number): Promise<number>;
  /** Settings shared through the database (the alert settings); set by createStore. */
  settings?: SettingsStore;

  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The storage interface, one concern per part; a further concern (alert settings, say) is one
 * more interface in this list.
 */
export interface Store extends StoreLifecycle, InteractionStore, RollupStore, AlertStore, SpanStore, ReleaseStore, ImprovementStore {}

export class StoreError extends Error {
  override name = 'StoreError';
}

/** A pagination cursor (`after`) this server did not hand out: the caller's input is wrong. */
export class InvalidCursorError extends StoreError {
  override name = 'InvalidCursorError';
}

export const MINUTE_MS = 60_000;
