/**
 * Wire types of the seed protocol and of HTTP batch ingest: the seed's snake_case field names.
 * GraphQL exposes the same fields in camelCase; the server maps between them in one place.
 */

/** One tool call made while handling an interaction. `params` is any JSON object. */
export interface ToolUseWire {
  tool: string;
  params?: Record<string, unknown>;
  duration_ms?: number | null;
  success?: boolean | null;
  error?: string | null;
}

/** The scale of `feedback_score`: a user's rating of an answer, from 1 (poor) to 5 (excellent). */
export const FEEDBACK_SCALE = { min: 1, max: 5 } as const;

/** One interaction as an assistant reports it (the seed's `data` object). */
export interface InteractionWire {
  /** Optional idempotency key: a repeated id is stored once. Generated (ULID) when absent. */
  id?: string;
  session_id: string;
  /**
   * ISO-8601. A timestamp without a zone is read in the server's AI_MONITOR_NAIVE_TIMEZONE (default:
   * the server's zone). Defaults to the server's receive time.
   */
  timestamp?: string | number;
  user_input: string;
  intent: string;
  tools_used?: ToolUseWire[];
  response_time_ms: number;
  success: boolean;
  error_type?: string | null;
  assistant?: string | null;
  version?: string | null;
  model?: string | null;
  user_id?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cost_usd?: number | null;
  /** The user's rating of the answer on the FEEDBACK_SCALE (1-5). */
  feedback_score?: number | null;
  metadata?: Record<string, unknown> | null;
}

/** Messages a client sends on the seed WebSocket (any path but /graphql). */
export type SeedClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'metrics'; data: InteractionWire; request_id?: string | number }
  | { type: 'metrics_batch'; data: InteractionWire[]; request_id?: string | number }
  | { type: 'ping'; request_id?: string | number };

/** A record of a batch that was not stored, with the reason naming the field. */
export interface RejectedRecord {
  index: number;
  error: string;
}

/** The server's reply to a record message, sent after the records are committed. */
export interface SeedAck {
  type: 'ack';
  request_id?: string | number;
  /** Number of records stored by this message (duplicates of a known id count as accepted). */
  accepted: number;
  /** Ids of the accepted records, in the order they were sent. */
  ids: string[];
  /** Records of a batch that were refused; absent when all were accepted. */
  rejected?: RejectedRecord[];
}

export interface SeedError {
  type: 'error';
  request_id?: string | number;
  error: string;
  rejected?: RejectedRecord[];
}

export interface SeedPong {
  type: 'pong';
  request_id?: string | number;
}

export type SeedServerMessage = SeedAck | SeedError | SeedPong | { type: 'auth_ok' };

/** Reply of `POST /api/interactions` (HTTP batch ingest). */
export interface HttpIngestReply {
  accepted: number;
  ids: string[];
  rejected: RejectedRecord[];
}

export const DEFAULT_PORT = 8765;
export const GRAPHQL_PATH = '/graphql';
export const HTTP_INGEST_PATH = '/api/interactions';
