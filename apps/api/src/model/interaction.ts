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
