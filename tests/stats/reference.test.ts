/**
 * The release statistics against published reference values: Newcombe (1998) for the Wilson
 * interval and the hybrid-score difference interval, Benjamini & Hochberg (1995) for q-values,
 * and properties of the order-statistic quantile interval, the power formula and the
 * confidence sequence.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Histogram } from '../../apps/api/src/model/histogram.js';
import {
  benjaminiHochberg,
  compareReleaseCells,
  confidenceSequenceHalfWidth,
  designEffect,
  newcombe,
  quantileDifference,
  quantileInterval,
  sampleSizePerGroup,
  twoProportionP,
  wilson,
  type ReleaseCell,
} from '../../apps/api/src/stats/index.js';
import { mulberry32 } from './rng.js';

const close = (actual: number, expected: number, digits = 4): void => expect(Math.abs(actual - expected)).toBeLessThan(0.5 * 10 ** -digits + 1e-12);

describe('Wilson score interval (Newcombe 1998, single proportion, method 3)', () => {
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i → %f to %f', (x, n, low, high) => {
    const w = wilson(x, n);
    close(w.low, low);
    close(w.high, high);
  });

  it('is the whole unit interval without observations', () => {
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  });
});

describe('Newcombe hybrid score interval for a difference (Newcombe 1998, Table II, method 10)', () => {
  it.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1.0],
    [10, 10, 0, 10, 0.6075, 1.0],
  ])('%i/%i − %i/%i → %f to %f', (x1, n1, x2, n2, low, high) => {
    const d = newcombe(x1, n1, x2, n2);
    close(d.diff, x1 / n1 - x2 / n2, 10);
    close(d.low, low);
    close(d.high, high);
  });
});

describe('two-proportion z-test', () => {
  it('matches the pooled score test (prop.test without continuity correction: 17/25 vs 8/20, p = 0.06034)', () => {
    close(twoProportionP(17, 25, 8, 20), 0.06034, 5);
  });
  it('is 1 without data or without variation', () => {
    expect(twoProportionP(0, 0, 5, 10)).toBe(1);
    expect(twoProportionP(10, 10, 20, 20)).toBe(1);
  });
});

describe('Benjamini–Hochberg (1995) worked example', () => {
  // The 15 p-values of the paper's example (section 4.1): at FDR 0.05 the first four are rejected.
  const p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
  it('rejects exactly the four smallest at 0.05', () => {
    const q = benjaminiHochberg(p);
    expect(q.filter((v) => v <= 0.05)).toHaveLength(4);
    expect(q.slice(0, 4).every((v) => v <= 0.05)).toBe(true);
  });
  it('gives the step-up adjusted values, monotone in p and independent of input order', () => {
    const q = benjaminiHochberg(p);
    close(q[0]!, 0.0015, 6); // 0.0001 × 15 / 1
    close(q[3]!, 0.035625, 6); // 0.0095 × 15 / 4
    close(q[8]!, 0.0765, 6); // min over j ≥ 9 of 15 p_j / j = 0.0459 × 15 / 9
    for (let i = 1; i < q.length; i++) expect(q[i]!).toBeGreaterThanOrEqual(q[i - 1]!);
    const shuffled = [...p].reverse();
    expect(benjaminiHochberg(shuffled)).toEqual([...q].reverse());
  });
});

describe('design effect of sessions (delta method)', () => {
  it('is 1 for independent interactions (one per session)', () => {
    const n = 100, y = 30;
    expect(designEffect({ sessions: n, n, y, nn: n, yy: y, ny: y })).toBeCloseTo(1, 1);
  });
  it('grows with the session size when sessions succeed or fail together', () => {
    // 50 sessions of 10: 15 fail entirely, 35 succeed entirely → deff ≈ cluster size × (k/(k−1)).
    const m = { sessions: 50, n: 500, y: 150, nn: 50 * 100, yy: 15 * 100, ny: 15 * 100 };
    close(designEffect(m), 10 * (50 / 49), 6);
  });
  it('never narrows the interval', () => {
    // Perfectly balanced sessions (each exactly 1 failure out of 2) have no between-session variance.
    expect(designEffect({ sessions: 10, n: 20, y: 10, nn: 40, yy: 10, ny: 20 })).toBe(1);
  });
});

describe('quantile intervals from order statistics on histograms', () => {
  function histogramOf(values: number[]): Histogram {
    const h = new Histogram();
    for (const v of values) h.record(v);
    return h;
  }
  it('brackets the estimate and narrows with the sample', () => {
    const small = histogramOf(Array.from({ length: 200 }, (_, i) => 10 + i));
    const large = histogramOf(Array.from({ length: 20_000 }, (_, i) => 10 + (i % 200)));
    const a = quantileInterval(small, 0.95);
    const b = quantileInterval(large, 0.95);
    expect(a.low!).toBeLessThanOrEqual(a.value!);
    expect(a.high!).toBeGreaterThanOrEqual(a.value!);
    expect(b.high! - b.low!).toBeLessThanOrEqual(a.high! - a.low!);
  });
  it('is open above when too few observations bound the quantile', () => {
    const q = quantileInterval(histogramOf([100, 200, 300, 400, 500]), 0.95);
    expect(q.high).toBeNull();
    expect(q.low).not.toBeNull();
  });
  it('covers the true p95 in about 95 % of samples (seeded)', () => {
    const rand = mulberry32(7);
    let covered = 0;
    const trials = 400;
    const trueP95 = -Math.log(0.05) * 200; // exponential, mean 200 ms
    for (let t = 0; t < trials; t++) {
      const h = new Histogram();
      for (let i = 0; i < 500; i++) h.record(-Math.log(1 - rand()) * 200);
      const q = quantileInterval(h, 0.95);
      if (q.low! <= trueP95 && trueP95 <= q.high!) covered++;
    }
    expect(covered / trials).toBeGreaterThanOrEqual(0.93);
  });
  it('gives the MOVER interval for a difference, which contains the point difference', () => {
    const d = quantileDifference({ value: 120, low: 110, high: 135 }, { value: 100, low: 95, high: 108 });
    expect(d.diff).toBe(20);
    close(d.low!, 20 - Math.sqrt(10 ** 2 + 8 ** 2), 9);
    close(d.high!, 20 + Math.sqrt(15 ** 2 + 5 ** 2), 9);
  });
});

describe('sample size for two proportions', () => {
  it('matches the classical formula (p 0.90 vs 0.85, α 0.05, power 0.8 → 686 per group: (1.95996·√(2·0.875·0.125) + 0.84162·√0.2175)² / 0.05²)', () => {
    expect(sampleSizePerGroup(0.9, 0.85)).toBe(686);
  });
  it('scales with the design effect and is infinite for no effect', () => {
    expect(sampleSizePerGroup(0.9, 0.85, 0.05, 0.8, 2)).toBe(1372);
    expect(sampleSizePerGroup(0.5, 0.5)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('confidence sequence', () => {
  it('is wider than the fixed-horizon interval and shrinks as data accrue', () => {
    const v = (0.25 * 2) / 1000;
    const fixed = 1.96 * Math.sqrt(v);
    expect(confidenceSequenceHalfWidth(v, 2000)).toBeGreaterThan(fixed);
    expect(confidenceSequenceHalfWidth(0.5 / 10_000, 20_000)).toBeLessThan(confidenceSequenceHalfWidth(v, 2000));
  });
});

describe('compareReleaseCells', () => {
  const cell = (count: number, successes: number): ReleaseCell => ({ count, successes, histogram: null, rtMax: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });
  it('gives INSUFFICIENT_DATA below the minimum sample and a sample still needed', () => {
    const c = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(50, 45), candidate: cell(50, 40) }, [], { baseline: 1, candidate: 1 });
    expect(c.overall.verdict).toBe('INSUFFICIENT_DATA');
    expect(c.overall.sampleNeeded).toBeGreaterThan(0);
  });
  it('calls a clear drop REGRESSED and a clear gain IMPROVED, with percentages', () => {
    const down = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(2000, 1800), candidate: cell(2000, 1600) }, [], { baseline: 1, candidate: 1 });
    expect(down.overall.verdict).toBe('REGRESSED');
    expect(down.overall.sequentialVerdict).toBe('REGRESSED');
    close(down.overall.successDiff!, -10, 9);
    expect(down.overall.baseline.successRate).toBe(90);
    const up = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(2000, 1600), candidate: cell(2000, 1800) }, [], { baseline: 1, candidate: 1 });
    expect(up.overall.verdict).toBe('IMPROVED');
  });
  it('adjusts the rows with Benjamini–Hochberg', () => {
    const rows = [
      { dimension: 'INTENT' as const, key: 'a', baseline: cell(1000, 900), candidate: cell(1000, 850) },
      { dimension: 'INTENT' as const, key: 'b', baseline: cell(1000, 900), candidate: cell(1000, 895) },
    ];
    const c = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(2000, 1800), candidate: cell(2000, 1745) }, rows, { baseline: 1, candidate: 1 });
    const expected = benjaminiHochberg(c.rows.map((r) => r.pValue!));
    expect(c.rows.map((r) => r.qValue)).toEqual(expected);
    expect(c.rows[0]!.verdict).toBe('REGRESSED');
    expect(c.rows[1]!.verdict).toBe('NO_CHANGE');
  });
  it('widens intervals by the design effect', () => {
    const one = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(2000, 1800), candidate: cell(2000, 1760) }, [], { baseline: 1, candidate: 1 });
    const four = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: cell(2000, 1800), candidate: cell(2000, 1760) }, [], { baseline: 4, candidate: 4 });
    expect(four.overall.successDiffHigh! - four.overall.successDiffLow!).toBeGreaterThan(1.9 * (one.overall.successDiffHigh! - one.overall.successDiffLow!));
    expect(four.overall.pValue!).toBeGreaterThan(one.overall.pValue!);
  });
});

describe('properties (fast-check, seeded)', () => {
  const counts = fc.integer({ min: 0, max: 5000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));
  it('Wilson lies in [0, 1] and contains the observed rate; Newcombe lies in [−1, 1] and contains the difference', () => {
    fc.assert(
      fc.property(counts, counts, ([x1, n1], [x2, n2]) => {
        const w = wilson(x1, n1);
        expect(w.low).toBeGreaterThanOrEqual(0);
        expect(w.high).toBeLessThanOrEqual(1);
        if (n1 > 0) expect(w.low <= x1 / n1 + 1e-12 && x1 / n1 <= w.high + 1e-12).toBe(true);
        if (n1 > 0 && n2 > 0) {
          const d = newcombe(x1, n1, x2, n2);
          expect(d.low).toBeGreaterThanOrEqual(-1 - 1e-12);
          expect(d.high).toBeLessThanOrEqual(1 + 1e-12);
          expect(d.low <= d.diff + 1e-12 && d.diff <= d.high + 1e-12).toBe(true);
          const p = twoProportionP(x1, n1, x2, n2);
          expect(p >= 0 && p <= 1).toBe(true);
        }
      }),
      { seed: 1998, numRuns: 500 },
    );
  });
  it('BH q-values are at least the p-values and at most 1', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (p) => {
        const q = benjaminiHochberg(p);
        q.forEach((v, i) => expect(v >= p[i]! - 1e-15 && v <= 1).toBe(true));
      }),
      { seed: 1995, numRuns: 300 },
    );
  });
});
