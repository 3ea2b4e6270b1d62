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
import type { ErrorTypeRow, IntentRow, TimeBucket, ToolRow, Totals } from '../types.js';
import * as interactions from './interactions.js';
import * as explore from './explore.js';
import { interactionMatcher } from './filter.js';
import * as rollups from './rollups.js';
import * as alerts from './alerts.js';
import type { SqlReader } from './sql.js';

export abstract class SqlReads {
  protected abstract readonly reader: SqlReader;

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

  getAlert(id: string): Promise<AlertRecord | null> {
    return alerts.getAlert(this.reader, id);
  }

  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRecord>> {
    return alerts.listAlerts(this.reader, filter, page);
  }

  countAlerts(filter: AlertFilter): Promise<number> {
    return alerts.countAlerts(this.reader, filter);
  }
}
