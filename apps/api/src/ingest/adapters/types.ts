import type { Naming } from '../fields.js';

export type Transport = 'seed' | 'http' | 'graphql' | 'otlp';

/**
 * Turns a protocol's native record into the canonical (camelCase) record, unvalidated: values
 * pass through as sent so that the one validator names the bad field. Only known fields are
 * carried over; anything else is dropped, as the validator would ignore it.
 */
export interface IngestAdapter {
  readonly transport: Transport;
  /** The naming of the protocol, used for field names in error messages. */
  readonly naming: Naming;
  toCanonical(input: unknown): unknown;
}
