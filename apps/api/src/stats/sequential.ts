/**
 * An anytime-valid confidence sequence for a difference of means (here of success rates):
 * the asymptotic normal-mixture confidence sequence of S. R. Howard, A. Ramdas, J. McAuliffe,
 * J. Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence sequences", Annals
 * of Statistics 49:1055-1080, in the asymptotic form of I. Waudby-Smith et al. (2024),
 * "Time-uniform central limit theory and asymptotic confidence sequences", as GrowthBook's
 * sequential testing uses it. Looking at it after every interaction keeps the chance that it
 * ever excludes the true difference at most α.
 *
 * Half-width after N observations with per-observation variance σ²:
 *   σ · √( 2(Nρ² + 1) / (N²ρ²) · ln(√(Nρ² + 1) / α) )
 * where ρ tunes the sample size at which the sequence is tightest (N*):
 *   ρ² = (−2 ln α + ln(−2 ln α + 1)) / N*.
 */
import type { Interval } from './proportions.js';

/** Default sample size (both releases together) at which the sequence is tightest. */
export const DEFAULT_TUNING_N = 5000;

export function mixtureRho2(alpha: number, tuningN = DEFAULT_TUNING_N): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / tuningN;
}

/**
 * Half-width of the confidence sequence for an estimate whose variance is `variance` after
 * `n` observations (so the per-observation variance is variance·n).
 */
export function confidenceSequenceHalfWidth(variance: number, n: number, alpha = 0.05, tuningN = DEFAULT_TUNING_N): number {
  if (!(n > 0) || !(variance >= 0)) return Number.POSITIVE_INFINITY;
  const rho2 = mixtureRho2(alpha, tuningN);
  const sigma2 = variance * n;
  const a = n * rho2 + 1;
  return Math.sqrt(sigma2) * Math.sqrt(((2 * a) / (n * n * rho2)) * Math.log(Math.sqrt(a) / alpha));
}

/**
 * Confidence sequence for p1 − p2 from effective counts. The variance uses the rates shrunk
 * by one success and one failure ((x + 1)/(n + 2)), so an early run of all successes does not
 * give a zero-width sequence.
 */
export function proportionDiffSequence(x1: number, n1: number, x2: number, n2: number, alpha = 0.05, tuningN = DEFAULT_TUNING_N): Interval & { diff: number } {
  if (!(n1 > 0 && n2 > 0)) return { diff: 0, low: -1, high: 1 };
  const diff = x1 / n1 - x2 / n2;
  const s1 = (x1 + 1) / (n1 + 2);
  const s2 = (x2 + 1) / (n2 + 2);
  const variance = (s1 * (1 - s1)) / n1 + (s2 * (1 - s2)) / n2;
  const half = confidenceSequenceHalfWidth(variance, n1 + n2, alpha, tuningN);
  return { diff, low: Math.max(-1, diff - half), high: Math.min(1, diff + half) };
}
