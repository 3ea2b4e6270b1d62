/**
 * Intervals and tests for success rates (proportions) and their differences.
 *
 * References:
 * - Wilson score interval: E. B. Wilson (1927), JASA 22:209-212; as method 3 of R. G. Newcombe
 *   (1998), "Two-sided confidence intervals for the single proportion", Statistics in
 *   Medicine 17:857-872.
 * - Hybrid score interval for a difference: method 10 of R. G. Newcombe (1998), "Interval
 *   estimation for the difference between independent proportions", Statistics in Medicine
 *   17:873-890.
 * - Cluster-robust variance of a ratio estimator by the delta method, as in A. Deng, J. Lu,
 *   J. Litz (2017) / Deng, Knoblich, Lu (2018) for A/B tests whose analysis unit (the
 *   interaction) is finer than the randomisation unit (the session); the design effect scales
 *   the sample to its effective size (L. Kish, 1965, "Survey Sampling").
 */
import { twoSidedP, zQuantile } from './distributions.js';

export interface Interval {
  low: number;
  high: number;
}

/** z for a two-sided interval of level 1 − alpha. */
export function zFor(alpha: number): number {
  return zQuantile(1 - alpha / 2);
}

/**
 * Wilson score interval of x successes out of n (x and n may be fractional: effective counts).
 * The whole [0, 1] when n is 0.
 */
export function wilson(x: number, n: number, alpha = 0.05): Interval {
  if (!(n > 0)) return { low: 0, high: 1 };
  const z = zFor(alpha);
  const z2 = z * z;
  const p = x / n;
  const centre = (x + z2 / 2) / (n + z2);
  const half = (z * Math.sqrt(n * p * (1 - p) + z2 / 4)) / (n + z2);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface Difference extends Interval {
  /** p1 − p2. */
  diff: number;
}

/**
 * Newcombe's hybrid score interval (method 10) for p1 − p2, from the Wilson intervals of the
 * two proportions. Counts may be effective (fractional) counts.
 */
export function newcombe(x1: number, n1: number, x2: number, n2: number, alpha = 0.05): Difference {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const w1 = wilson(x1, n1, alpha);
  const w2 = wilson(x2, n2, alpha);
  const diff = p1 - p2;
  return {
    diff,
    low: diff - Math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2),
    high: diff + Math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2),
  };
}

/**
 * Two-sided p-value of the pooled two-proportion z-test (the score test of p1 = p2); 1 when
 * either sample is empty or every observation agrees.
 */
export function twoProportionP(x1: number, n1: number, x2: number, n2: number): number {
  if (!(n1 > 0 && n2 > 0)) return 1;
  const pooled = (x1 + x2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (!(variance > 0)) return 1;
  return twoSidedP((x1 / n1 - x2 / n2) / Math.sqrt(variance));
}

/**
 * What a release's sessions contribute to the variance of its rate: per session i, n_i
 * interactions of which y_i count (failures, say). Sums over sessions.
 */
export interface ClusterMoments {
  /** Number of sessions (clusters). */
  sessions: number;
  /** Σ n_i. */
  n: number;
  /** Σ y_i. */
  y: number;
  /** Σ n_i². */
  nn: number;
  /** Σ y_i². */
  yy: number;
  /** Σ n_i·y_i. */
  ny: number;
}

/**
 * Design effect of the ratio estimator p = Σy/Σn when sessions are the independent units:
 * the delta-method (linearised) variance k/(k−1)·Σ(y_i − p·n_i)²/(Σn)² over the binomial
 * variance p(1−p)/Σn. Never below 1: clustering is only allowed to widen intervals (a value
 * below 1 from few sessions is noise, and narrowing on it would be anti-conservative).
 */
export function designEffect(m: ClusterMoments): number {
  if (m.sessions < 2 || !(m.n > 0)) return 1;
  const p = m.y / m.n;
  const binomial = (p * (1 - p)) / m.n;
  if (!(binomial > 0)) return 1;
  const residual = m.yy - 2 * p * m.ny + p * p * m.nn;
  const clustered = ((m.sessions / (m.sessions - 1)) * Math.max(0, residual)) / (m.n * m.n);
  return Math.max(1, clustered / binomial);
}

/** Counts scaled to their effective size under a design effect (Kish). */
export function effective(x: number, n: number, deff: number): { x: number; n: number } {
  const d = deff >= 1 ? deff : 1;
  return { x: x / d, n: n / d };
}
