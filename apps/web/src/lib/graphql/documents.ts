/** Every GraphQL operation of the dashboard, typed, in one place. */
import { gql } from '@urql/core';
import type {
  Alert,
  AlertConfig,
  AlertConfigInput,
  AlertKind,
  AlertStatus,
  AlertSummary,
  ClockSkewSummary,
  Connection,
  ErrorTypeStat,
  Facets,
  InteractionFilter,
  InteractionSort,
  MatchBucket,
  InteractionFull,
  InteractionRow,
  IntentStat,
  Metrics,
  RangeVars,
  SessionSummary,
  TimeseriesPoint,
  ToolStat,
} from './types';
import { FACET_NAMES } from './types';

const ROW_FIELDS = `id sessionId timestamp userInput intent responseTimeMs success errorType assistant model inputTokens outputTokens costUsd toolsUsed { tool }`;
const METRIC_FIELDS = `from to count errors errorRate p50 p95 p99 throughputPerMinute activeSessions`;
const ALERT_FIELDS = `id kind status message value threshold raisedAt resolvedAt acknowledged acknowledgedAt acknowledgedBy
  delivery { channel ok attempts at detail } details`;
const CONFIG_FIELDS = `errorRateThreshold responseTimeThreshold consecutiveErrorsThreshold alertCooldownMinutes enabled
  webhookUrl emailNotifications windowMinutes minSampleSize emailTo emailFrom smtpConfigured`;

export const MetricsQuery = gql<{ metrics: Metrics }, { window: string }>(`
  query Metrics($window: String!) { metrics(window: $window) { ${METRIC_FIELDS} } }
`);

export const MetricsUpdated = gql<{ metricsUpdated: Metrics }, { window: string }>(`
  subscription MetricsUpdated($window: String!) { metricsUpdated(window: $window) { ${METRIC_FIELDS} } }
`);

export const TimeseriesQuery = gql<{ timeseries: TimeseriesPoint[] }, RangeVars & { bucket: string }>(`
  query Timeseries($window: String, $from: DateTime, $to: DateTime, $bucket: String!) {
    timeseries(window: $window, from: $from, to: $to, bucket: $bucket) {
      start count errorRate p50 p95 p99 throughputPerMinute
    }
  }
`);

export const BreakdownsQuery = gql<
  { intentBreakdown: IntentStat[]; toolBreakdown: ToolStat[]; errorBreakdown: ErrorTypeStat[] },
  RangeVars & { limit: number }
>(`
  query Breakdowns($window: String, $from: DateTime, $to: DateTime, $limit: Int!) {
    intentBreakdown(window: $window, from: $from, to: $to, limit: $limit) { intent count errors errorRate meanResponseTimeMs }
    toolBreakdown(window: $window, from: $from, to: $to, limit: $limit) { tool calls errors errorRate meanDurationMs }
    errorBreakdown(window: $window, from: $from, to: $to, limit: $limit) { errorType count share }
  }
`);

/** Names seen lately, to suggest in the explorer's filter inputs. */
export const FilterSuggestionsQuery = gql<
  { intentBreakdown: { intent: string }[]; toolBreakdown: { tool: string }[]; errorBreakdown: { errorType: string }[] },
  Record<string, never>
>(`
  query FilterSuggestions {
    intentBreakdown(window: "7d", limit: 100) { intent }
    toolBreakdown(window: "7d", limit: 100) { tool }
    errorBreakdown(window: "7d", limit: 100) { errorType }
  }
`);

export const InteractionsQuery = gql<
  { interactions: Connection<InteractionRow> & { totalCount: number; totalCountEstimated: boolean } },
  { filter: InteractionFilter; first: number; after?: string | null; sort?: InteractionSort | null }
>(`
  query Interactions($filter: InteractionFilter, $first: Int!, $after: String, $sort: InteractionSort) {
    interactions(filter: $filter, first: $first, after: $after, sort: $sort) {
      totalCount totalCountEstimated
      edges { cursor node { ${ROW_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const ExplorerFacetsQuery = gql<{ interactionFacets: Facets }, { filter: InteractionFilter; limit: number }>(`
  query ExplorerFacets($filter: InteractionFilter, $limit: Int) {
    interactionFacets(filter: $filter, limit: $limit) {
      ${FACET_NAMES.map((f) => `${f} { value count }`).join(' ')}
    }
  }
`);

export const ExplorerHistogramQuery = gql<{ interactionHistogram: MatchBucket[] }, { filter: InteractionFilter }>(`
  query ExplorerHistogram($filter: InteractionFilter) {
    interactionHistogram(filter: $filter) { start count errors }
  }
`);

export const InteractionRecorded = gql<{ interactionRecorded: InteractionRow }, { filter?: InteractionFilter | null }>(`
  subscription InteractionRecorded($filter: InteractionFilter) { interactionRecorded(filter: $filter) { ${ROW_FIELDS} } }
`);

export const InteractionQuery = gql<{ interaction: InteractionFull | null }, { id: string }>(`
  query Interaction($id: ID!) {
    interaction(id: $id) {
      id sessionId timestamp receivedAt userInput intent responseTimeMs success errorType
      toolsUsed { tool params durationMs success error }
      assistant version model userId inputTokens outputTokens costUsd feedbackScore metadata
    }
  }
`);

export const SessionQuery = gql<
  { session: (SessionSummary & { interactions: Connection<InteractionRow> }) | null },
  { id: string; first: number; after?: string | null }
>(`
  query Session($id: ID!, $first: Int!, $after: String) {
    session(id: $id) {
      id firstSeen lastSeen interactionCount errorCount errorRate meanResponseTimeMs
      interactions(first: $first, after: $after) {
        edges { cursor node { ${ROW_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const SessionsQuery = gql<{ sessions: Connection<SessionSummary> }, { first: number; after?: string | null }>(`
  query Sessions($first: Int!, $after: String) {
    sessions(first: $first, after: $after) {
      edges { cursor node { id firstSeen lastSeen interactionCount errorCount errorRate meanResponseTimeMs } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const AlertSummaryQuery = gql<{ alertSummary: AlertSummary }, Record<string, never>>(`
  query AlertSummary { alertSummary { open unacknowledged } }
`);

export const ClockSkewQuery = gql<{ clockSkew: ClockSkewSummary }, Record<string, never>>(`
  query ClockSkew {
    clockSkew { records toleranceMs naiveTimezone clients { client assistant address records naiveRecords likelyOffset suggestedTimezone } }
  }
`);

export const AlertsQuery = gql<
  { alerts: Connection<Alert> },
  { status?: AlertStatus | null; kind?: AlertKind | null; acknowledged?: boolean | null; first: number; after?: string | null }
>(`
  query Alerts($status: AlertStatus, $kind: AlertKind, $acknowledged: Boolean, $first: Int, $after: String) {
    alerts(status: $status, kind: $kind, acknowledged: $acknowledged, first: $first, after: $after) {
      edges { cursor node { ${ALERT_FIELDS} } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const AlertRaised = gql<{ alertRaised: Alert }, Record<string, never>>(`
  subscription AlertRaised { alertRaised { ${ALERT_FIELDS} } }
`);

export const AlertUpdated = gql<{ alertUpdated: Alert }, Record<string, never>>(`
  subscription AlertUpdated { alertUpdated { ${ALERT_FIELDS} } }
`);

export const AcknowledgeAlert = gql<{ acknowledgeAlert: Alert }, { id: string }>(`
  mutation AcknowledgeAlert($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }
`);

export const AlertConfigQuery = gql<{ alertConfig: AlertConfig }, Record<string, never>>(`
  query AlertConfig { alertConfig { ${CONFIG_FIELDS} } }
`);

export const UpdateAlertConfig = gql<{ updateAlertConfig: AlertConfig }, { input: AlertConfigInput }>(`
  mutation UpdateAlertConfig($input: AlertConfigInput!) { updateAlertConfig(input: $input) { ${CONFIG_FIELDS} } }
`);
