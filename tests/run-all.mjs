#!/usr/bin/env node
/**
 * Runs every suite (vitest for TypeScript, unittest for the Python SDK) and ends with one
 * line: `N passed, N failed` (plus `, N skipped`), totals over all suites.
 * Exit code 0 only when nothing failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outDir = join(root, 'tests/output');
mkdirSync(outDir, { recursive: true });
const extra = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
const notes = [];

function runVitest() {
  const report = join(outDir, 'vitest.json');
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    cwd: root,
    stdio: 'inherit',
  });
  if (!existsSync(report)) {
    totals.failed += 1;
    notes.push(`vitest produced no report (exit ${r.status})`);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  totals.passed += json.numPassedTests ?? 0;
  totals.failed += json.numFailedTests ?? 0;
  totals.skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A file that failed outside any test (an import error, a failing hook) counts once.
  const brokenFiles = (json.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  for (const f of brokenFiles) {
    totals.failed += 1;
    notes.push(`${f.name}: ${String(f.message ?? 'failed outside a test').split('\n')[0]}`);
  }
  if (r.status !== 0 && (json.numFailedTests ?? 0) === 0 && brokenFiles.length === 0) {
    totals.failed += 1;
    notes.push(`vitest exited ${r.status} without a failed test (an unhandled error?)`);
  }
}

function runPython() {
  const dir = join(root, 'clients/python/tests');
  if (!existsSync(dir)) return;
  const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'clients/python/tests', '-t', 'clients/python'], {
    cwd: root,
    encoding: 'utf8',
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(out);
  const ran = Number(/Ran (\d+) tests?/.exec(out)?.[1] ?? 0);
  const failures = Number(/failures=(\d+)/.exec(out)?.[1] ?? 0);
  const errors = Number(/errors=(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/skipped=(\d+)/.exec(out)?.[1] ?? 0);
  const failed = failures + errors;
  totals.passed += ran - failed - skipped;
  totals.failed += failed;
  totals.skipped += skipped;
  if (r.status !== 0 && failed === 0) {
    totals.failed += 1;
    notes.push(`python unittest exited ${r.status} without a counted failure`);
  }
}

runVitest();
runPython();
for (const n of notes) console.log(`note: ${n}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
