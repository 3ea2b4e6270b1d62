/**
 * The reads both stores share. Each dialect's store extends this class and supplies its
 * `reader` (how it runs a SELECT); the dialect files keep only writes, partitions, retention
 * and locks.
 */
import type { Interaction, InteractionFilter, Page, PageRequest, SessionSummary, TimeRange } from '../../model/interaction.js';
import type { AlertFilter, AlertRecord } from '../../model/alert.js';
import type { ErrorTypeRow, IntentRow, ModelRow, TimeBucket, ToolRow, Totals, UnpricedModelRow } from '../types.js';
import * as interactions from './interactions.js';
import { interactionMatcher } from './filter.js';
import * as rollups from './rollups.js';
import * as alerts from './alerts.js';
import * as spans from './spans.js';
import type { Span } from '../../model/span.js';
import type { SqlReader } from './sql.js';

export abstract class SqlReads {
  protected abstract readonly reader: SqlReader;

  listInteractions(filter: InteractionFilter, page: PageRequest): Promise<Page<Interaction>> {
    return interactions.listInteractions(this.reader, filter, page);
  }

  matcher(filter: InteractionFilter): (record: Interaction) => boolean {
    return interactionMatcher(filter);
  }

  getSession(id: string): Promise<SessionSummary | null> {
    return interactions.getSession(this.reader, id);
  }

  listSessions(range: Partial<TimeRange>, page: PageRequest): Promise<Page<SessionSummary>> {
    return interactions.listSessions(this.reader, range, page);
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
}
