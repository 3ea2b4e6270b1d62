/** The improvement tracker's record: a problem, the release meant to fix it, and the verdict. */
import type { DeliveryOutcome } from './alert.js';

export type ImprovementStatus = 'open' | 'fix_released' | 'verified' | 'no_effect' | 'regressed';
/** What the problem is: an alert kind, an error type, an intent, or an explorer filter (JSON). */
export type ProblemKind = 'alert' | 'error_type' | 'intent' | 'filter';

/** The comparison figures behind the current status (candidate = the fix release). */
export interface ImprovementEvidence {
  dimension: string;
  key: string;
  metric: 'success' | 'p95';
  diff: number | null;
  low: number | null;
  high: number | null;
  baselineCount: number;
  fixCount: number;
  sampleNeeded: number;
  judgedFrom: number;
  judgedTo: number;
}

export interface Improvement {
  id: string;
  title: string;
  problemKind: ProblemKind;
  problem: string;
  /** '' for records without an assistant. */
  assistant: string;
  baseline: string;
  fix: string | null;
  status: ImprovementStatus;
  createdAt: number;
  updatedAt: number;
  judgedAt: number | null;
  evidence: ImprovementEvidence | null;
  /** The webhook notification of the last verdict. */
  delivery: DeliveryOutcome | null;
}

export const FINAL_STATUSES: readonly ImprovementStatus[] = ['verified', 'no_effect', 'regressed'];
