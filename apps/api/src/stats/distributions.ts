/**
 * The distribution functions the statistics need, from @stdlib (maintained, tested special
 * functions) rather than hand-written approximations.
 */
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import binomialQuantileFn from '@stdlib/stats-base-dists-binomial-quantile';

/** The standard normal quantile: z such that P(Z ≤ z) = p. */
export function zQuantile(p: number): number {
  return normalQuantile(p, 0, 1);
}

/** P(Z ≤ z) for a standard normal Z. */
export function zCdf(z: number): number {
  return normalCdf(z, 0, 1);
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  if (!Number.isFinite(z)) return Number.isNaN(z) ? 1 : 0;
  return Math.min(1, 2 * zCdf(-Math.abs(z)));
}

/** The smallest k with P(X ≤ k) ≥ p for X ~ Binomial(n, prob). */
export function binomialQuantile(p: number, n: number, prob: number): number {
  return binomialQuantileFn(p, n, prob);
}
