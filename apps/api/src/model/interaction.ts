/**
 * The stored interaction record (camelCase) is the canonical record of the shared schema
 * package; the services, the stores and the GraphQL layer use it from here.
 */
import type { Interaction } from '@ai-monitor/schema';
import type { FilterField } from '../store/core/columns.js';

export type { Interaction, ToolUse } from '@ai-monitor/schema';

/** Equality filters: one per column marked `filter` in the column list (store/core/columns.ts). */
export type EqualityFilter = { [F in FilterField]?: Exclude<Interaction[F], null> | undefined };

/** Filters of the interactions explorer; every field narrows the result. */
export interface InteractionFilter extends EqualityFilter {
  from?: number | undefined;
  to?: number | undefined;
  tool?: string | undefined;
  /** Case-insensitive substring of user_input. */
  search?: string | undefined;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor of each item, aligned with `items`. */
  cursors: string[];
  /** Opaque cursor of the last item, for `after`. */
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface PageRequest {
  first: number;
  after?: string | null | undefined;
}

export interface SessionSummary {
  id: string;
  firstSeen: number;
  lastSeen: number;
  interactionCount: number;
  errorCount: number;
  totalResponseTimeMs: number;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** Orders of the explorer; ties by insertion order, in the same direction. */
export type InteractionSortKey = 'time' | 'responseTime' | 'tokens' | 'cost';
export interface InteractionSort {
  by: InteractionSortKey;
  direction: 'asc' | 'desc';
}
export const DEFAULT_SORT: InteractionSort = { by: 'time', direction: 'desc' };

/** How many interactions match; `estimated` when the count covers only part of them (a 1–2 character search). */
export interface InteractionCount {
  count: number;
  estimated: boolean;
}

export const FACET_NAMES = ['intent', 'tool', 'errorType', 'assistant', 'model', 'version', 'environment'] as const;
export type FacetName = (typeof FACET_NAMES)[number];
/** One value of a facet; `value` null counts the interactions without one. */
export interface FacetValue {
  value: string | null;
  count: number;
}
export type InteractionFacets = Record<FacetName, FacetValue[]>;

export interface MatchBucket {
  /** Epoch ms of the bucket's start (a multiple of the bucket size). */
  start: number;
  count: number;
  errors: number;
}

/** Orders of the session list; ties by session id. */
export type SessionSortKey = 'lastSeen' | 'errorRate' | 'interactions' | 'duration';
export interface SessionSort {
  by: SessionSortKey;
  direction: 'asc' | 'desc';
}

export interface SessionQuery {
  /** Sessions with at least one interaction matching this filter (search, assistant, …). */
  filter?: InteractionFilter | undefined;
  sort?: SessionSort | undefined;
}
