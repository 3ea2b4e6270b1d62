/** Time-range arguments shared by the metric fields: `window` or `from`/`to`. */
import { builder } from './builder.js';
import { chooseBucket, InvalidRangeError, resolveRange, type RangeArgs } from '../metrics/window.js';
import type { TimeRange } from '../model/interaction.js';
import { userInputError } from './errors.js';

/** `window`, `from`, `to` arguments, spread into a field's `args`. */
export function windowArgs(defaultWindow: string) {
  return builder.args((t) => ({
    window: t.string({ required: false, defaultValue: defaultWindow, description: 'Duration ending now (or at `to`): 30s, 5m, 1h, 24h, 7d.' }),
    from: t.field({ type: 'DateTime', required: false, description: 'Start; overrides `window`.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'End; defaults to now.' }),
  }));
}

/** Turns range arguments into a TimeRange, as a GraphQL error naming the argument when wrong. */
export function toRange(args: RangeArgs, defaultWindow: string): TimeRange {
  try {
    return resolveRange(args, defaultWindow);
  } catch (err) {
    throw asUserError(err);
  }
}

export function toBucket(range: TimeRange, bucket: string | null | undefined): number {
  try {
    return chooseBucket(range, bucket);
  } catch (err) {
    throw asUserError(err);
  }
}

export function asUserError(err: unknown): Error {
  if (err instanceof InvalidRangeError) return userInputError(err.message);
  return err as Error;
}
