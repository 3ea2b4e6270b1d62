/** The stored interaction record, as the services and the GraphQL layer see it (camelCase). */
export interface ToolUse {
  tool: string;
  params: Record<string, unknown>;
  durationMs: number | null;
  success: boolean | null;
  error: string | null;
}

export interface Interaction {
  id: string;
  sessionId: string;
  /** Epoch milliseconds (UTC) of when the interaction happened. */
  timestamp: number;
  /** Epoch milliseconds of when the server received it. */
  receivedAt: number;
  userInput: string;
  intent: string;
  toolsUsed: ToolUse[];
  responseTimeMs: number;
  success: boolean;
  errorType: string | null;
  assistant: string | null;
  version: string | null;
  model: string | null;
  userId: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  feedbackScore: number | null;
  metadata: Record<string, unknown> | null;
}

/** Filters of the interactions explorer; every field narrows the result. */
export interface InteractionFilter {
  from?: number | undefined;
  to?: number | undefined;
  sessionId?: string | undefined;
  intent?: string | undefined;
  tool?: string | undefined;
  success?: boolean | undefined;
  errorType?: string | undefined;
  assistant?: string | undefined;
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
