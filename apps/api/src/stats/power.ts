/**
 * Sample size per group for a two-sided two-proportion z-test to detect p1 vs p2 with the
 * given power (the classical formula, e.g. J. L. Fleiss, "Statistical Methods for Rates and
 * Proportions", 3rd ed. 2003, eq. 4.14 without continuity correction):
 *   n = (z_{1−α/2}·√(2·p̄(1−p̄)) + z_{1−β}·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)²
 * multiplied by the design effect when sessions cluster the interactions.
 */
import { zQuantile } from './distributions.js';

export function sampleSizePerGroup(p1: number, p2: number, alpha = 0.05, power = 0.8, deff = 1): number {
  const delta = Math.abs(p1 - p2);
  if (!(delta > 0)) return Number.POSITIVE_INFINITY;
  const za = zQuantile(1 - alpha / 2);
  const zb = zQuantile(power);
  const mean = (p1 + p2) / 2;
  const root = za * Math.sqrt(2 * mean * (1 - mean)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil(((root * root) / (delta * delta)) * Math.max(1, deff));
}

/**
 * The stated effect moved away from p (towards the middle, so the alternative stays in
 * (0, 1)): the alternative a comparison should be able to detect.
 */
export function alternativeOf(p: number, effect: number): number {
  const down = p - effect;
  return down > 0 ? down : Math.min(1, p + effect);
}
