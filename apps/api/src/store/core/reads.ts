/**
 * The reads both stores share. Each dialect's store extends this class and supplies its
 * `reader` (how it runs a SELECT); the dialect files keep only writes, partitions, retention
 * and locks.
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
} from '../../model/interaction.js';
import type { AlertFilter, AlertRecord } from '../../model/alert.js';
import type { ErrorTypeRow, IntentRow, ModelRow, TimeBucket, ToolRow, Totals, UnpricedModelRow } from '../types.js';
import * as interactions from './interactions.js';
import * as explore from './explore.js';
import { interactionMatcher } from './filter.js';
import * as rollups from './rollups.js';
import * as alerts from './alerts.js';
import * as spans from './spans.js';
import type { Span } from '../../model/span.js';
import type { SqlReader } from './sql.js';
import * as releases from './releases.js';
import * as improvements from './improvements.js';
import type { Improvement, ImprovementStatus } from '../../model/improvement.js';
import type { ReleaseBucket, ReleaseCellRow, ReleaseSummary } from './releases.js';
import type { ClusterMoments } from '../../stats/proportions.js';

export abstract class SqlReads {
  protected abstract readonly reader: SqlReader;
  /** Runs statements on the write connection (improvements are written and read back there). */
  protected abstract readonly executor: SqlReader;

  listInteractions(filter: InteractionFilter, page: PageRequest, sort?: InteractionSort): Promise<Page<Interaction>> {
    return explore.listInteractions(this.reader, filter, page, sort);
  }

  countInteractions(filter: InteractionFilter): Promise<InteractionCount> {
    return explore.countInteractions(this.reader, filter);
  }

  interactionFacets(filter: InteractionFilter, limit: number, names?: readonly FacetName[]): Promise<Partial<InteractionFacets>> {
    return explore.facets(this.reader, filter, limit, names);
  }

  interactionHistogram(filter: InteractionFilter, bucketMs: number): Promise<MatchBucket[]> {
    return explore.histogram(this.reader, filter, bucketMs);
  }

  scanInteractions(filter: InteractionFilter, sort: InteractionSort, batch: number): AsyncGenerator<Interaction[]> {
    return explore.scanInteractions(this.reader, filter, sort, batch);
  }

  matcher(filter: InteractionFilter): (record: Interaction) => boolean {
    return interactionMatcher(filter);
  }

  getSession(id: string): Promise<SessionSummary | null> {
    return interactions.getSession(this.reader, id);
  }

  listSessions(range: Partial<TimeRange>, page: PageRequest, query?: SessionQuery): Promise<Page<SessionSummary>> {
    return interactions.listSessions(this.reader, range, page, query);
  }

  activeSessions(since: number): Promise<number> {
    return interactions.activeSessions(this.reader, since);
  }

  totals(range: TimeRange): Promise<Totals> {
    return rollups.totals(this.reader, range);
  }

  timeseries(range: TimeRange, bucketMs: number): Promise<TimeBucket[]> {
    return rollups.timeseries(this.reader, range, bucketMs);
  }

  intentBreakdown(range: TimeRange, limit: number): Promise<IntentRow[]> {
    return rollups.intentBreakdown(this.reader, range, limit);
  }

  toolBreakdown(range: TimeRange, limit: number): Promise<ToolRow[]> {
    return rollups.toolBreakdown(this.reader, range, limit);
  }

  errorBreakdown(range: TimeRange, limit: number): Promise<ErrorTypeRow[]> {
    return rollups.errorBreakdown(this.reader, range, limit);
  }

  modelBreakdown(range: TimeRange, limit: number): Promise<ModelRow[]> {
    return rollups.modelBreakdown(this.reader, range, limit);
  }

  unpricedModels(range: TimeRange, limit: number): Promise<UnpricedModelRow[]> {
    return rollups.unpricedModels(this.reader, range, limit);
  }

  getAlert(id: string): Promise<AlertRecord | null> {
    return alerts.getAlert(this.reader, id);
  }

  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
    return alerts.listAlerts(this.reader, filter, page);
  }

  countAlerts(filter: AlertFilter): Promise<number> {
    return alerts.countAlerts(this.reader, filter);
  }

  traceSpans(traceId: string): Promise<Span[]> {
    return spans.traceSpans(this.reader, traceId);
  }

  spansOfTraces(traceIds: readonly string[]): Promise<Span[]> {
    return spans.spansOfTraces(this.reader, traceIds);
  }

  interactionSpans(interactionId: string): Promise<Span[]> {
    return spans.interactionSpans(this.reader, interactionId);
  }

  waitingTraces(quietSince: number, limit: number): Promise<string[]> {
    return spans.waitingTraces(this.reader, quietSince, limit);
  }

  listReleases(assistant: string | null, range: TimeRange): Promise<ReleaseSummary[]> {
    return releases.listReleases(this.reader, assistant, range);
  }

  releaseCells(assistant: string, version: string, range: TimeRange): Promise<ReleaseCellRow[]> {
    return releases.releaseCells(this.reader, assistant, version, range);
  }

  releaseMoments(assistant: string, version: string, range: TimeRange): Promise<ClusterMoments> {
    return releases.releaseMoments(this.reader, assistant, version, range);
  }

  releaseTimeseries(assistant: string, versions: readonly string[], range: TimeRange, bucketMs: number): Promise<ReleaseBucket[]> {
    return releases.releaseTimeseries(this.reader, assistant, versions, range, bucketMs);
  }

  insertImprovement(i: Improvement): Promise<Improvement> {
    return improvements.insertImprovement(this.executor, i);
  }

  replaceImprovement(next: Improvement, expected: ImprovementStatus | null): Promise<Improvement | null> {
    return improvements.replaceImprovement(this.executor, next, expected);
  }

  getImprovement(id: string): Promise<Improvement | null> {
    return improvements.getImprovement(this.executor, id);
  }

  listImprovements(status: ImprovementStatus | null): Promise<Improvement[]> {
    return improvements.listImprovements(this.executor, status);
  }
}
