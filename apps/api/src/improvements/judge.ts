/**
 * How an improvement's status follows from a release comparison (pure). The judgement is
 * repeated as traffic arrives, so it uses the anytime-valid confidence sequence: judging
 * again and again does not raise the chance of a false "verified" or "regressed".
 *
 * open → fix_released: the fix release has traffic.
 * fix_released → verified / regressed: the problem's row improved / regressed (sequential
 *   verdict), or for slow_response the p95 difference's interval lies below / above 0.
 * fix_released → no_effect: no change with enough traffic to have detected the stated effect
 *   (sampleNeeded 0).
 * Otherwise the status stays; verified / no_effect / regressed are final until edited.
 */
import type { Improvement, ImprovementEvidence, ImprovementStatus } from '../model/improvement.js';
import type { ComparisonRow } from '../stats/compare.js';
import type { ReleaseComparison } from '../releases/service.js';

export interface Judgement {
  status: ImprovementStatus;
  evidence: ImprovementEvidence | null;
}

/** The comparison row that measures the problem, and which of its figures. */
export function problemRow(i: Improvement, c: ReleaseComparison): { row: ComparisonRow | null; metric: 'success' | 'p95' } {
  switch (i.problemKind) {
    case 'error_type':
      return { row: c.rows.find((r) => r.dimension === 'ERROR_TYPE' && r.key === i.problem) ?? null, metric: 'success' };
    case 'intent':
      return { row: c.rows.find((r) => r.dimension === 'INTENT' && r.key === i.problem) ?? null, metric: 'success' };
    case 'alert':
      return { row: c.overall, metric: i.problem === 'slow_response' ? 'p95' : 'success' };
    default:
      // An explorer filter has no roll-up of its own: judged on the release's overall success rate.
      return { row: c.overall, metric: 'success' };
  }
}

export function judge(i: Improvement, c: ReleaseComparison | null): Judgement {
  if (!i.fix || !c) return { status: i.status === 'fix_released' ? 'open' : i.status, evidence: i.evidence };
  const { row, metric } = problemRow(i, c);
  const fixCount = c.overall.candidate.count;
  const released: ImprovementStatus = fixCount > 0 ? 'fix_released' : 'open';
  if (!row) return { status: released, evidence: null };
  const evidence: ImprovementEvidence = {
    dimension: row.dimension,
    key: row.key,
    metric,
    diff: metric === 'p95' ? row.p95Diff : row.successDiff,
    low: metric === 'p95' ? row.p95DiffLow : row.sequentialLow,
    high: metric === 'p95' ? row.p95DiffHigh : row.sequentialHigh,
    baselineCount: row.baseline.count,
    fixCount: row.candidate.count,
    sampleNeeded: row.sampleNeeded,
    judgedFrom: c.from,
    judgedTo: c.to,
  };
  const enough = Math.min(row.baseline.count, row.candidate.count) >= c.options.minSample;
  if (released === 'open' || !enough) return { status: released, evidence };
  if (metric === 'p95') {
    if (row.p95DiffHigh !== null && row.p95DiffHigh < 0) return { status: 'verified', evidence };
    if (row.p95DiffLow !== null && row.p95DiffLow > 0) return { status: 'regressed', evidence };
    return { status: row.sampleNeeded === 0 ? 'no_effect' : 'fix_released', evidence };
  }
  if (row.sequentialVerdict === 'IMPROVED') return { status: 'verified', evidence };
  if (row.sequentialVerdict === 'REGRESSED') return { status: 'regressed', evidence };
  return { status: row.sampleNeeded === 0 ? 'no_effect' : 'fix_released', evidence };
}
