/**
 * Run size and seed of the fuzz suite. CI runs it small (the defaults); `npm run fuzz` runs
 * the same files with FUZZ_RUNS times more cases and prints the seed. Replay a failure with
 * the seed (and path) fast-check prints: `FUZZ_SEED=<seed> FUZZ_PATH=<path> npm run fuzz`.
 */
import fc from 'fast-check';
import { afterAll } from 'vitest';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** One seed for every property of the run: a failure names it, and it replays the whole run. */
export const FUZZ_SEED = envNumber('FUZZ_SEED', 0x5eed_2026);
/** Multiplies every property's number of cases (1 in CI). */
export const FUZZ_SCALE = envNumber('FUZZ_RUNS', 1);
const FUZZ_PATH = process.env.FUZZ_PATH || undefined;
/** Shrinking re-runs cases against the live server; off unless asked for (FUZZ_SHRINK=1). */
const SHRINK = process.env.FUZZ_SHRINK === '1';

/** A test's timeout, scaled with the run size (the CI-sized value at FUZZ_RUNS=1). */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, FUZZ_SCALE));
}

/** fast-check parameters for a property whose CI-sized run has `runs` cases. */
export function params<T>(runs: number): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(runs * FUZZ_SCALE)),
    ...(FUZZ_PATH ? { path: FUZZ_PATH } : {}),
    endOnFailure: !SHRINK,
  };
}

/** Counts cases per transport, printed at the end of each file (the report's "cases run"). */
const counts = new Map<string, number>();
export function countCase(transport: string): void {
  counts.set(transport, (counts.get(transport) ?? 0) + 1);
}
/** Prints the cases this file ran, per transport, once its tests are done. */
export function reportCases(file: string): void {
  afterAll(() => {
    const summary = [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(`fuzz ${file}: ${summary} cases (seed ${FUZZ_SEED}, FUZZ_RUNS ${FUZZ_SCALE})\n`);
  });
}
