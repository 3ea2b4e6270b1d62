/**
 * Shapes of the answers the dashboard asks for, derived from the operation types generated
 * from documents.ts and the printed schema (generated.ts; `npm run codegen -w apps/web`).
 * The printed schema marks most fields nullable (the server's default); here the values the
 * server always sets are typed as present, and the ones that can be missing (percentiles of an
 * empty range, optional record fields) are named as nullable. Field names and scalar types come
 * from the generated file only, so a schema or document change that breaks the dashboard fails
 * its type check.
 */
import type * as G from './generated';

export type { AlertKind, AlertStatus, AlertConfigInput, AlertRuleInput, SilenceInput, AlertMetric, AlertChannelType, AlertComparison } from './generated';

type NonNull<T> = Exclude<T, null | undefined>;
/** Every field present and non-null, except those in `Nullable` (which stay `T | null`). */
type Sure<T, Nullable extends keyof T = never> = { [K in keyof T]-?: K extends Nullable ? NonNull<T[K]> | null : NonNull<T[K]> };
/** Every field optional and, when set, non-null: the dashboard's variables. */
type Optional<T> = { [K in keyof T]?: NonNull<T[K]> };
type Item<T> = NonNull<T> extends readonly (infer E)[] ? E : never;

type RowNode = NonNull<G.InteractionRecordedSubscription['interactionRecorded']>;
type FullNode = NonNull<G.InteractionQuery['interaction']>;

export type ToolUse = Sure<Item<FullNode['toolsUsed']>, 'params' | 'durationMs' | 'success' | 'error'>;

/** The columns lists and the live feed show. */
export type InteractionRow = Sure<Omit<RowNode, 'toolsUsed'>, 'errorType' | 'assistant' | 'model' | 'inputTokens' | 'outputTokens' | 'costUsd'> & {
  toolsUsed: Sure<Item<RowNode['toolsUsed']>>[];
};

/** The explorer's facets, in display order. */
export const FACET_NAMES = ['intent', 'tool', 'errorType', 'assistant', 'model', 'version', 'environment'] as const;
export type FacetName = (typeof FACET_NAMES)[number];
type FacetsNode = NonNull<G.ExplorerFacetsQuery['interactionFacets']>;
export type FacetValue = Sure<Item<FacetsNode['intent']>, 'value'>;
export type Facets = Record<FacetName, FacetValue[]>;
export type MatchBucket = Sure<Item<G.ExplorerHistogramQuery['interactionHistogram']>>;
export type InteractionSort = G.InteractionSort;

/** The full record, for the detail view. */
export type InteractionFull = Sure<
  Omit<FullNode, 'toolsUsed'>,
  | 'errorType'
  | 'receivedAt'
  | 'assistant'
  | 'version'
  | 'environment'
  | 'model'
  | 'userId'
  | 'inputTokens'
  | 'outputTokens'
  | 'costUsd'
  | 'feedbackScore'
  | 'metadata'
> & { toolsUsed: ToolUse[] };

export type PageInfo = NonNull<G.InteractionsQuery['interactions']>['pageInfo'];

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

export type Metrics = Sure<NonNull<G.MetricsQuery['metrics']>, 'p50' | 'p95' | 'p99'>;

export type TimeseriesPoint = Sure<Item<G.TimeseriesQuery['timeseries']>, 'p50' | 'p95' | 'p99'>;

export type IntentStat = Sure<Item<G.BreakdownsQuery['intentBreakdown']>, 'meanResponseTimeMs'>;

export type ToolStat = Sure<Item<G.BreakdownsQuery['toolBreakdown']>, 'meanDurationMs'>;

export type ErrorTypeStat = Sure<Item<G.BreakdownsQuery['errorBreakdown']>>;

export type CostTotals = Sure<NonNull<G.CostQuery['metrics']>, 'totalCostUsd' | 'costPerInteraction'>;

export type CostPoint = Sure<Item<G.CostQuery['timeseries']>, 'totalCostUsd'>;

export type ModelStat = Sure<Item<G.CostQuery['modelBreakdown']>, 'p95' | 'totalCostUsd' | 'costPerInteraction'>;

export type UnpricedModel = Sure<Item<G.CostQuery['unpricedModels']>>;

export type SessionSummary = Sure<Item<NonNull<G.SessionsQuery['sessions']>['edges']>['node'], 'meanResponseTimeMs'>;

export type Alert = NonNull<G.AlertRaisedSubscription['alertRaised']>;

export type AlertDelivery = Item<Alert['delivery']>;

export type AlertSummary = G.AlertSummaryQuery['alertSummary'];

export type AlertConfig = G.AlertConfigQuery['alertConfig'];

export type AlertRule = Item<G.AlertRulesQuery['alertRules']>;

export type Silence = Item<G.SilencesQuery['silences']>;

/** The explorer's filter; also the feed subscription's. */
export type InteractionFilter = Optional<G.InteractionFilter>;

/** Arguments shared by the range-bound metric fields. */
export type RangeVars = Optional<Omit<G.TimeseriesQueryVariables, 'bucket'>>;

/**
 * A sender whose timestamps arrived ahead of the server clock (see `clockSkew`); `likelyOffset`
 * is `+8 h`, `+5 h 30 min`: the skew rounded to the nearest 15 minutes.
 */
export type ClockSkewClient = Sure<Item<NonNull<G.ClockSkewQuery['clockSkew']>['clients']>, 'assistant' | 'address' | 'suggestedTimezone'>;

export type ClockSkewSummary = Sure<Omit<NonNull<G.ClockSkewQuery['clockSkew']>, 'clients'>> & { clients: ClockSkewClient[] };

type TraceNode = NonNull<NonNull<G.InteractionTraceQuery['interaction']>['trace']>;

/** One span of a trace, as the waterfall shows it. */
export type TraceSpan = Sure<Omit<Item<TraceNode['spans']>, 'status' | 'events'>, 'parentSpanId'> & {
  status: Sure<NonNull<Item<TraceNode['spans']>['status']>, 'message'>;
  events: Sure<Item<Item<TraceNode['spans']>['events']>>[];
};

/** An interaction's OpenTelemetry trace. */
export type Trace = Sure<Omit<TraceNode, 'spans'>> & { spans: TraceSpan[] };

export type { CreateImprovementInput, UpdateImprovementInput, ImprovementStatus, ProblemKind, ComparisonVerdict } from './generated';

/** A release in the picker, with its headline figures. */
export type Release = Sure<Item<G.ReleasesQuery['releases']>, 'assistant' | 'successRate' | 'p50' | 'p95' | 'costPerInteraction'>;

type RowNodeOf = Item<NonNull<G.CompareReleasesQuery['compareReleases']>['rows']>;
type StatsNode = NonNull<RowNodeOf['baseline']>;

export type ReleaseStats = Sure<StatsNode, 'successRate' | 'successLow' | 'successHigh' | 'p50' | 'p95' | 'p95Low' | 'p95High' | 'tokensPerInteraction' | 'costPerInteraction'>;

export type ComparisonRow = Sure<
  Omit<RowNodeOf, 'baseline' | 'candidate'>,
  'successDiff' | 'successDiffLow' | 'successDiffHigh' | 'p95Diff' | 'p95DiffLow' | 'p95DiffHigh' | 'pValue' | 'qValue' | 'sequentialLow' | 'sequentialHigh'
> & { baseline: ReleaseStats; candidate: ReleaseStats };

export type ReleaseComparison = Sure<Omit<NonNull<G.CompareReleasesQuery['compareReleases']>, 'overall' | 'rows'>, 'assistant'> & {
  overall: ComparisonRow;
  rows: ComparisonRow[];
};

export type ReleasePoint = Sure<Item<G.ReleaseTimeseriesQuery['releaseTimeseries']>, 'p95'>;

/** Variables of the comparison query and its live subscription. */
export type CompareVars = { assistant?: string | null; baseline: string; candidate: string; window: string };

type ImprovementNode = Item<G.ImprovementsQuery['improvements']>;
export type ImprovementEvidence = Sure<NonNull<ImprovementNode['evidence']>, 'diff' | 'low' | 'high'>;
export type Improvement = Sure<Omit<ImprovementNode, 'evidence' | 'delivery'>, 'assistant' | 'fix' | 'judgedAt'> & {
  evidence: ImprovementEvidence | null;
  delivery: AlertDelivery | null;
};
