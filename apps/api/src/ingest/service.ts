/**
 * Ingest: validate each record with the shared validator, hand the valid ones to the group
 * committer, and report per record what was accepted and what was rejected.
 */
import type { RejectedRecord } from '@ai-monitor/schema';
import type { BatchWriter } from '../store/writer.js';
import type { Interaction } from '../model/interaction.js';
import { validateCanonical, type ClockSkew } from './validate.js';
import type { ClockSkewTracker } from './clock-skew.js';
import type { IngestAdapter, Transport } from './adapters/index.js';
import type { PriceTable } from '../pricing/table.js';
import { applyComputedCost } from '../pricing/enrich.js';

export type { IngestAdapter, Transport } from './adapters/index.js';

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
  /** IANA zone of timestamps without a zone. */
  naiveTimezone: string;
  /** How far ahead of the receive time a timestamp may be before it counts as clock skew. */
  clockSkewToleranceMs: number;
}

/** Running counts per transport, read by the Prometheus exposition. */
export type IngestStats = Record<Transport, { accepted: number; rejected: number }>;

export class IngestService {
  readonly stats: IngestStats = {
    seed: { accepted: 0, rejected: 0 },
    http: { accepted: 0, rejected: 0 },
    graphql: { accepted: 0, rejected: 0 },
    otlp: { accepted: 0, rejected: 0 },
  };

  constructor(
    private readonly writer: BatchWriter,
    private readonly opts: IngestOptions,
    private readonly skew: ClockSkewTracker,
    /** Computes the cost of records that give a model and tokens but no cost (pricing/enrich.ts). */
    private readonly prices: PriceTable | null = null,
  ) {}

  /**
   * Never rejects for invalid records (they are reported); rejects when the store fails.
   * `adapter` is the protocol's: it turns each native record into the canonical record that is
   * validated once. `address` is the sender's network address, naming it in clock-skew reports.
   */
  async ingest(inputs: readonly unknown[], adapter: IngestAdapter, address: string | null = null): Promise<IngestOutcome> {
    const { transport, naming } = adapter;
    if (inputs.length > this.opts.maxBatchSize) {
      throw new BatchTooLargeError(`batch of ${inputs.length} records exceeds the limit of ${this.opts.maxBatchSize}; split it`);
    }
    const now = Date.now();
    const valid: { index: number; record: Interaction }[] = [];
    const rejected: RejectedRecord[] = [];
    const { userInputMaxLength, naiveTimezone, clockSkewToleranceMs } = this.opts;
    const options = { userInputMaxLength, naming, now, naiveTimezone, clockSkewToleranceMs };
    const skewed: { skew: ClockSkew; assistant: string | null }[] = [];
    const prices = this.prices;
    inputs.forEach((input, index) => {
      const result = validateCanonical(adapter.toCanonical(input), options);
      if (!result.ok) return void rejected.push({ index, error: result.error });
      if (prices) applyComputedCost(result.record, prices);
      valid.push({ index, record: result.record });
      if (result.clockSkew) skewed.push({ skew: result.clockSkew, assistant: result.record.assistant });
    });
    this.stats[transport].rejected += rejected.length;
    const stored = await this.writer.write(valid.map((v) => v.record));
    for (const s of skewed) this.skew.note(s.skew, { assistant: s.assistant, address }, now);
    this.stats[transport].accepted += valid.length;
    return {
      accepted: valid.map((v, i) => ({ index: v.index, id: v.record.id, duplicate: !stored[i], record: v.record })),
      rejected,
    };
  }
}
