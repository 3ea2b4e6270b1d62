#!/usr/bin/env node
/**
 * `npm run fuzz`: the fuzz suite (tests/fuzz) with many more cases than CI runs. Prints the
 * seed first, so a failure can be replayed: `FUZZ_SEED=<seed> npm run fuzz` (fast-check also
 * prints the path of the failing case: add `FUZZ_PATH=<path>` to run only that case).
 *
 *   FUZZ_RUNS   cases per property, as a multiple of the CI run (default 10)
 *   FUZZ_SEED   seed (default: a new random one)
 *   FUZZ_SHRINK 1 to shrink a failing case to a smaller one (slower: it re-runs cases)
 * Extra arguments go to vitest, e.g. `npm run fuzz -- tests/fuzz/http.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const seed = process.env.FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
const runs = process.env.FUZZ_RUNS || '10';
const args = process.argv.slice(2);
const files = args.some((a) => a.startsWith('tests/')) ? [] : ['tests/fuzz'];

process.stdout.write(`fuzz: seed ${seed}, FUZZ_RUNS ${runs} (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} npm run fuzz)\n`);
const r = spawnSync('npx', ['vitest', 'run', ...files, '--testTimeout=1800000', '--hookTimeout=120000', ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs },
});
process.stdout.write(`fuzz: seed ${seed} ${r.status === 0 ? 'passed' : 'FAILED'} (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} npm run fuzz)\n`);
process.exit(r.status ?? 1);
