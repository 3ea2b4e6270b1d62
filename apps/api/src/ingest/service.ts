/**
 * Ingest: validate each record with the shared validator, hand the valid ones to the group
 * committer, and report per record what was accepted and what was rejected.
 */
import type { RejectedRecord } from '@ai-monitor/schema';
import type { BatchWriter } from '../store/writer.js';
import type { Interaction } from '../model/interaction.js';
import { validateRecord } from './validate.js';
import type { Naming } from './fields.js';

export interface IngestOutcome {
  /** Accepted records in input order; `duplicate` when the id was already stored. */
  accepted: { index: number; id: string; duplicate: boolean; record: Interaction }[];
  rejected: RejectedRecord[];
}

export class BatchTooLargeError extends Error {
  override name = 'BatchTooLargeError';
}

export interface IngestOptions {
  userInputMaxLength: number;
  maxBatchSize: number;
}

export type Transport = 'seed' | 'http' | 'graphql';

/** Running counts per transport, read by the Prometheus exposition. */
export type IngestStats = Record<Transport, { accepted: number; rejected: number }>;

export class IngestService {
  readonly stats: IngestStats = {
    seed: { accepted: 0, rejected: 0 },
    http: { accepted: 0, rejected: 0 },
    graphql: { accepted: 0, rejected: 0 },
  };

  constructor(
    private readonly writer: BatchWriter,
    private readonly opts: IngestOptions,
  ) {}

  /** Never rejects for invalid records (they are reported); rejects when the store fails. */
  async ingest(inputs: readonly unknown[], transport: Transport): Promise<IngestOutcome> {
    // GraphQL speaks camelCase; the seed socket and HTTP batch the seed's snake_case.
    const naming: Naming = transport === 'graphql' ? 'camel' : 'snake';
    if (inputs.length > this.opts.maxBatchSize) {
      throw new BatchTooLargeError(`batch of ${inputs.length} records exceeds the limit of ${this.opts.maxBatchSize}; split it`);
    }
    const now = Date.now();
    const valid: { index: number; record: Interaction }[] = [];
    const rejected: RejectedRecord[] = [];
    inputs.forEach((input, index) => {
      const result = validateRecord(input, { userInputMaxLength: this.opts.userInputMaxLength, naming, now });
      if (result.ok) valid.push({ index, record: result.record });
      else rejected.push({ index, error: result.error });
    });
    this.stats[transport].rejected += rejected.length;
    const stored = await this.writer.write(valid.map((v) => v.record));
    this.stats[transport].accepted += valid.length;
    return {
      accepted: valid.map((v, i) => ({ index: v.index, id: v.record.id, duplicate: !stored[i], record: v.record })),
      rejected,
    };
  }
}
