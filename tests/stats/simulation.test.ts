/**
 * Seeded simulations of release comparisons (pure math, no server, bounded run time):
 * - no true difference: the fixed-horizon verdict says IMPROVED or REGRESSED in at most 5 %
 *   of 1,000 comparisons, with interactions clustered in sessions;
 * - no true difference, watched live: the confidence-sequence verdict checked after every 100
 *   interactions ever says IMPROVED or REGRESSED in at most 5 % of 1,000 runs;
 * - a true 5-point drop in success at 2,000 interactions per release is found (REGRESSED) in at
 *   least 80 % of 1,000 comparisons.
 */
import { describe, expect, it } from 'vitest';
import { compareReleaseCells, designEffect, type ClusterMoments, type ReleaseCell } from '../../apps/api/src/stats/index.js';
import { mulberry32 } from './rng.js';

interface Sample {
  cell: ReleaseCell;
  moments: ClusterMoments;
}

const emptyCell = (): ReleaseCell => ({ count: 0, successes: 0, histogram: null, rtMax: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });
const emptyMoments = (): ClusterMoments => ({ sessions: 0, n: 0, y: 0, nn: 0, yy: 0, ny: 0 });

/**
 * `total` interactions in sessions of 1–8; each session has its own success probability
 * (rate ± spread, so interactions of one session are correlated).
 */
function releaseSample(rand: () => number, total: number, rate: number, spread: number): Sample {
  const cell = emptyCell();
  const m = emptyMoments();
  let left = total;
  while (left > 0) {
    const size = Math.min(left, 1 + Math.floor(rand() * 8));
    const p = rand() < 0.5 ? rate - spread : rate + spread;
    let failures = 0;
    for (let i = 0; i < size; i++) if (rand() >= p) failures++;
    cell.count += size;
    cell.successes += size - failures;
    m.sessions++;
    m.n += size;
    m.y += failures;
    m.nn += size * size;
    m.yy += failures * failures;
    m.ny += size * failures;
    left -= size;
  }
  return { cell, moments: m };
}

function compare(base: Sample, cand: Sample) {
  return compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: base.cell, candidate: cand.cell }, [], {
    baseline: designEffect(base.moments),
    candidate: designEffect(cand.moments),
  }).overall;
}

const RUNS = 1000;

describe('release comparison simulations (seeded)', () => {
  it('no true difference, sessions clustered: IMPROVED or REGRESSED in at most 5 % of 1,000 comparisons', () => {
    const rand = mulberry32(20261201);
    let alarms = 0;
    let naiveAlarms = 0;
    for (let run = 0; run < RUNS; run++) {
      const base = releaseSample(rand, 2000, 0.85, 0.1);
      const cand = releaseSample(rand, 2000, 0.85, 0.1);
      const v = compare(base, cand).verdict;
      if (v === 'IMPROVED' || v === 'REGRESSED') alarms++;
      // The same comparison treating interactions as independent, to show what clustering changes.
      const naive = compareReleaseCells({ dimension: 'OVERALL', key: '', baseline: base.cell, candidate: cand.cell }, [], { baseline: 1, candidate: 1 }).overall.verdict;
      if (naive === 'IMPROVED' || naive === 'REGRESSED') naiveAlarms++;
    }
    expect(alarms / RUNS).toBeLessThanOrEqual(0.05);
    expect(naiveAlarms).toBeGreaterThan(alarms);
  });

  it('no true difference, checked live after every 100 interactions: the sequential verdict alarms in at most 5 % of 1,000 runs', () => {
    const rand = mulberry32(42);
    let alarms = 0;
    for (let run = 0; run < RUNS; run++) {
      const base = { cell: emptyCell(), moments: emptyMoments() };
      const cand = { cell: emptyCell(), moments: emptyMoments() };
      let alarmed = false;
      // 4,000 interactions, alternating releases, one per session; a look after every 100.
      for (let i = 1; i <= 4000 && !alarmed; i++) {
        const s = i % 2 === 0 ? base : cand;
        const failed = rand() >= 0.9 ? 1 : 0;
        s.cell.count++;
        s.cell.successes += 1 - failed;
        s.moments.sessions++;
        s.moments.n++;
        s.moments.nn++;
        s.moments.y += failed;
        s.moments.yy += failed;
        s.moments.ny += failed;
        if (i % 100 === 0) {
          const v = compare(base, cand).sequentialVerdict;
          if (v === 'IMPROVED' || v === 'REGRESSED') alarmed = true;
        }
      }
      if (alarmed) alarms++;
    }
    expect(alarms / RUNS).toBeLessThanOrEqual(0.05);
  });

  it('a true 5-point drop (90 % → 85 %) at 2,000 interactions per release is REGRESSED in at least 80 % of 1,000 comparisons', () => {
    const rand = mulberry32(7);
    let found = 0;
    let foundLive = 0;
    for (let run = 0; run < RUNS; run++) {
      const row = compare(releaseSample(rand, 2000, 0.9, 0.05), releaseSample(rand, 2000, 0.85, 0.05));
      if (row.verdict === 'REGRESSED') found++;
      if (row.sequentialVerdict === 'REGRESSED') foundLive++;
    }
    expect(found / RUNS).toBeGreaterThanOrEqual(0.8);
    // The anytime-valid sequence pays for its guarantee with power; it still finds most.
    expect(foundLive / RUNS).toBeGreaterThanOrEqual(0.5);
  });
});
