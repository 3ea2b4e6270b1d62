/**
 * Wire types of the seed protocol and of HTTP batch ingest: the seed's snake_case field names.
 * The record types derive from the canonical record (record.ts); GraphQL exposes its camelCase names.
 */
import type { InteractionWire } from './record.js';

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
