/** Every GraphQL operation of the dashboard, typed, in one place. */
import { gql } from '@urql/core';
import type {
  Alert,
  AlertConfig,
  AlertConfigInput,
  AlertKind,
  AlertRule,
  AlertRuleInput,
  AlertStatus,
  Silence,
  SilenceInput,
  AlertSummary,
  ClockSkewSummary,
  CompareVars,
  Connection,
  CostPoint,
  CostTotals,
  CreateImprovementInput,
  Improvement,
  ErrorTypeStat,
  Facets,
  InteractionFilter,
  InteractionSort,
  MatchBucket,
  InteractionFull,
  InteractionRow,
  IntentStat,
  Metrics,
  ModelStat,
  RangeVars,
  Release,
  ReleaseComparison,
  ReleasePoint,
  SessionSummary,
  TimeseriesPoint,
  ToolStat,
  UnpricedModel,
  Trace,
  UpdateImprovementInput,
} from './types';
import { FACET_NAMES } from './types';

const ROW_FIELDS = `id sessionId timestamp userInput intent responseTimeMs success errorType assistant model inputTokens outputTokens costUsd toolsUsed { tool }`;
const METRIC_FIELDS = `from to count errors errorRate p50 p95 p99 throughputPerMinute activeSessions`;
const ALERT_FIELDS = `id kind status message value threshold raisedAt resolvedAt acknowledged acknowledgedAt acknowledgedBy
  delivery { channel event ok attempts at detail } details ruleId severity state unit currentValue peakValue durationSeconds
  windowMinutes silencedBy scope { assistant version environment intent tool errorType model } series { at value }`;
const SCOPE = `scope { assistant version environment intent tool errorType model }`;
const RULE_FIELDS = `id name source metric unit ${SCOPE} comparison warning critical windowMinutes minSampleSize pendingSeconds
  cooldownMinutes renotifyMinutes notifyResolved enabled channels { type url hasSecret to } state currentValue pendingSince
  firingAlertId firingSeverity createdAt updatedAt createdBy`;
const SILENCE_FIELDS = `id ruleId ${SCOPE} startsAt endsAt expiredAt active reason createdBy`;
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

/** Tokens and cost over the picked range: totals, the cost series, the model breakdown and the unpriced models. */
export const CostQuery = gql<
  { metrics: CostTotals; timeseries: CostPoint[]; modelBreakdown: ModelStat[]; unpricedModels: UnpricedModel[] },
  RangeVars & { bucket: string; limit: number }
>(`
  query Cost($window: String, $from: DateTime, $to: DateTime, $bucket: String!, $limit: Int!) {
    metrics(window: $window, from: $from, to: $to) {
      count totalInputTokens totalOutputTokens totalCostUsd costPerInteraction costedInteractions unpricedInteractions
    }
    timeseries(window: $window, from: $from, to: $to, bucket: $bucket) { start count totalCostUsd totalInputTokens totalOutputTokens }
    modelBreakdown(window: $window, from: $from, to: $to, limit: $limit) {
      model count errorRate p95 inputTokens outputTokens totalCostUsd costPerInteraction unpricedInteractions priced
    }
    unpricedModels(window: $window, from: $from, to: $to, limit: $limit) { model interactions priced }
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
      assistant version environment model userId inputTokens outputTokens costUsd feedbackScore metadata
    }
  }
`);

export const InteractionTraceQuery = gql<{ interaction: { id: string; trace: Trace | null } | null }, { id: string }>(`
  query InteractionTrace($id: ID!) {
    interaction(id: $id) {
      id
      trace {
        id spanCount durationMs startTime
        spans { spanId parentSpanId name kind startTime endTime durationMs status { code message } attributes events { name time attributes } resource }
      }
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
  query AlertSummary { alertSummary { open firing unacknowledged } }
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

const RELEASE_STATS = `count successRate successLow successHigh p50 p95 p95Low p95High tokensPerInteraction costPerInteraction designEffect`;
const COMPARISON_ROW = `dimension key successDiff successDiffLow successDiffHigh p95Diff p95DiffLow p95DiffHigh pValue qValue verdict
  sequentialLow sequentialHigh sequentialVerdict sampleNeeded baseline { ${RELEASE_STATS} } candidate { ${RELEASE_STATS} }`;
const COMPARISON_FIELDS = `assistant baseline candidate from to minSample effect note overall { ${COMPARISON_ROW} } rows { ${COMPARISON_ROW} }`;
const IMPROVEMENT_FIELDS = `id title problemKind problem assistant baseline fix status createdAt updatedAt judgedAt
  evidence { dimension key metric diff low high baselineCount fixCount sampleNeeded } delivery { channel ok attempts at detail }`;

export const ReleasesQuery = gql<{ releases: Release[] }, { window: string }>(`
  query Releases($window: String) {
    releases(window: $window) { assistant version firstSeen lastSeen count successRate p50 p95 costPerInteraction }
  }
`);

export const CompareReleasesQuery = gql<{ compareReleases: ReleaseComparison }, CompareVars>(`
  query CompareReleases($assistant: String, $baseline: String!, $candidate: String!, $window: String) {
    compareReleases(assistant: $assistant, baseline: $baseline, candidate: $candidate, window: $window) { ${COMPARISON_FIELDS} }
  }
`);

export const ReleaseComparisonUpdated = gql<{ releaseComparisonUpdated: ReleaseComparison }, CompareVars>(`
  subscription ReleaseComparisonUpdated($assistant: String, $baseline: String!, $candidate: String!, $window: String) {
    releaseComparisonUpdated(assistant: $assistant, baseline: $baseline, candidate: $candidate, window: $window) { ${COMPARISON_FIELDS} }
  }
`);

export const ReleaseTimeseriesQuery = gql<{ releaseTimeseries: ReleasePoint[] }, { assistant?: string | null; versions: string[]; window: string }>(`
  query ReleaseTimeseries($assistant: String, $versions: [String!]!, $window: String) {
    releaseTimeseries(assistant: $assistant, versions: $versions, window: $window) { version start count successRate p95 }
  }
`);

export const ImprovementsQuery = gql<{ improvements: Improvement[]; improvementsMarkdown: string }, Record<string, never>>(`
  query Improvements { improvements { ${IMPROVEMENT_FIELDS} } improvementsMarkdown }
`);

export const CreateImprovement = gql<{ createImprovement: Improvement }, { input: CreateImprovementInput }>(`
  mutation CreateImprovement($input: CreateImprovementInput!) { createImprovement(input: $input) { ${IMPROVEMENT_FIELDS} } }
`);

export const UpdateImprovement = gql<{ updateImprovement: Improvement | null }, { id: string; input: UpdateImprovementInput }>(`
  mutation UpdateImprovement($id: ID!, $input: UpdateImprovementInput!) { updateImprovement(id: $id, input: $input) { ${IMPROVEMENT_FIELDS} } }
`);

export const AlertRulesQuery = gql<{ alertRules: AlertRule[] }, Record<string, never>>(`
  query AlertRules { alertRules { ${RULE_FIELDS} } }
`);

export const CreateAlertRule = gql<{ createAlertRule: AlertRule }, { input: AlertRuleInput }>(`
  mutation CreateAlertRule($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE_FIELDS} } }
`);

export const UpdateAlertRule = gql<{ updateAlertRule: AlertRule }, { id: string; input: AlertRuleInput }>(`
  mutation UpdateAlertRule($id: ID!, $input: AlertRuleInput!) { updateAlertRule(id: $id, input: $input) { ${RULE_FIELDS} } }
`);

export const DeleteAlertRule = gql<{ deleteAlertRule: boolean }, { id: string }>(`
  mutation DeleteAlertRule($id: ID!) { deleteAlertRule(id: $id) }
`);

export const SilencesQuery = gql<{ silences: Silence[] }, { active?: boolean | null }>(`
  query Silences($active: Boolean) { silences(active: $active) { ${SILENCE_FIELDS} } }
`);

export const CreateSilence = gql<{ createSilence: Silence }, { input: SilenceInput }>(`
  mutation CreateSilence($input: SilenceInput!) { createSilence(input: $input) { ${SILENCE_FIELDS} } }
`);

export const ExpireSilence = gql<{ expireSilence: Silence }, { id: string }>(`
  mutation ExpireSilence($id: ID!) { expireSilence(id: $id) { ${SILENCE_FIELDS} } }
`);
