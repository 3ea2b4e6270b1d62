/** The improvement tracker as a Markdown table (the seed's tracking table). */
import type { Improvement } from '../model/improvement.js';

const STATUS_LABEL: Record<Improvement['status'], string> = {
  open: 'open',
  fix_released: 'fix released',
  verified: 'verified',
  no_effect: 'no effect',
  regressed: 'regressed',
};

/** A table cell: pipes escaped, line breaks as spaces. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ').trim() || '—';
}

function signed(v: number, digits: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

export function evidenceText(i: Improvement): string {
  const e = i.evidence;
  if (!e || e.diff === null) return '';
  const unit = e.metric === 'p95' ? ' ms p95' : ' pp success';
  const digits = e.metric === 'p95' ? 0 : 1;
  const interval = e.low !== null && e.high !== null ? ` [${e.low.toFixed(digits)}, ${e.high.toFixed(digits)}]` : '';
  return `${signed(e.diff, digits)}${unit}${interval}, n = ${e.baselineCount} / ${e.fixCount}`;
}

export function improvementsMarkdown(list: readonly Improvement[]): string {
  const head = '| # | Improvement | Problem | Assistant | Baseline | Fix | Status | Evidence (fix − baseline) | Updated |';
  const rule = '|---|---|---|---|---|---|---|---|---|';
  const rows = list.map((i, n) =>
    [
      String(n + 1),
      cell(i.title),
      cell(`${i.problemKind.replace('_', ' ')}: ${i.problem}`),
      cell(i.assistant),
      cell(i.baseline),
      cell(i.fix ?? ''),
      STATUS_LABEL[i.status],
      cell(evidenceText(i)),
      new Date(i.updatedAt).toISOString().slice(0, 16).replace('T', ' '),
    ].join(' | '),
  );
  return [head, rule, ...rows.map((r) => `| ${r} |`)].join('\n') + '\n';
}
