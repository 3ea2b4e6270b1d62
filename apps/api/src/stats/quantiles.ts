/**
 * Distribution-free confidence intervals for quantiles from order statistics, computed on the
 * mergeable latency histograms the roll-ups store.
 *
 * For n observations, the interval [X_(l), X_(u)] with l = B⁻¹(α/2; n, q) and
 * u = B⁻¹(1 − α/2; n, q) + 1 (B the binomial distribution of how many observations fall below
 * the q-quantile) covers the q-quantile with probability about 1 − α whatever the latency
 * distribution (e.g. H. A. David, H. N. Nagaraja, "Order Statistics", 3rd ed. 2003, §7.1; the
 * method GrowthBook uses for quantile metrics after A. Deng, U. Knoblich, J. Lu (2018),
 * "Applying the delta method in metric analytics", KDD 2018). Large samples take the ranks'
 * normal approximation (see `quantileRanks`).
 *
 * The histogram knows each order statistic only up to its bucket (about 8 % wide), so the
 * lower limit takes its bucket's lower bound and the upper limit its bucket's upper bound: the
 * interval stays conservative despite the binning.
 *
 * The difference of two quantiles gets the MOVER interval (method of variance estimates
 * recovery, G. Y. Zou, A. Donner (2008), Statistics in Medicine 27:1693-1702; Newcombe's
 * method 10 is its special case for proportions).
 */
import { BUCKETS, bucketBounds, type Histogram } from '../model/histogram.js';
import { binomialQuantile, zQuantile } from './distributions.js';

export interface QuantileEstimate {
  /** The q-quantile (bucket representative value), null when there are no observations. */
  value: number | null;
  /** Lower limit, null when there are no observations. */
  low: number | null;
  /** Upper limit, null when too few observations bound it (the interval is open above). */
  high: number | null;
}

/** The bucket holding the k-th smallest observation (1-based). */
function bucketOfRank(h: Histogram, k: number): number {
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i]!;
    if (seen >= k) return i;
  }
  return BUCKETS - 1;
}

/**
 * Below this variance of the binomial count the ranks come from the exact binomial quantile;
 * above it from its normal approximation nq ± z·√(nq(1−q)) (off by well under one standard
 * deviation's hundredth there, and constant-time where the exact search is not).
 */
const EXACT_RANK_VARIANCE = 400;

/** The (1-based) order-statistic ranks bounding the q-quantile at level 1 − alpha. */
export function quantileRanks(n: number, q: number, alpha: number): [low: number, high: number] {
  const variance = n * q * (1 - q);
  if (variance <= EXACT_RANK_VARIANCE) return [binomialQuantile(alpha / 2, n, q), binomialQuantile(1 - alpha / 2, n, q) + 1];
  const z = zQuantile(1 - alpha / 2);
  const sd = Math.sqrt(variance);
  return [Math.floor(n * q - z * sd), Math.ceil(n * q + z * sd) + 1];
}

export function quantileInterval(h: Histogram, q: number, alpha = 0.05, max?: number): QuantileEstimate {
  const n = h.total();
  if (n === 0) return { value: null, low: null, high: null };
  const clamp = (v: number): number => (max !== undefined && v > max ? max : v);
  const value = h.quantile(q, max);
  const [l, u] = quantileRanks(n, q, alpha);
  const low = l >= 1 ? clamp(bucketBounds(bucketOfRank(h, l))[0]) : 0;
  let high: number | null = null;
  if (u <= n) {
    const upperBound = bucketBounds(bucketOfRank(h, u))[1];
    high = Number.isFinite(upperBound) ? clamp(upperBound) : (max ?? null);
  }
  return { value, low, high };
}

export interface QuantileDifference {
  diff: number | null;
  low: number | null;
  high: number | null;
}

/** MOVER interval for candidate − baseline; open (null) ends where a release's interval is open. */
export function quantileDifference(candidate: QuantileEstimate, baseline: QuantileEstimate): QuantileDifference {
  if (candidate.value === null || baseline.value === null) return { diff: null, low: null, high: null };
  const diff = candidate.value - baseline.value;
  const low =
    candidate.low === null || baseline.high === null
      ? null
      : diff - Math.sqrt((candidate.value - candidate.low) ** 2 + (baseline.high - baseline.value) ** 2);
  const high =
    candidate.high === null || baseline.low === null
      ? null
      : diff + Math.sqrt((candidate.high - candidate.value) ** 2 + (baseline.value - baseline.low) ** 2);
  return { diff, low, high };
}
