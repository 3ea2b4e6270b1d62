/** Alert values in their unit, durations, and the explorer link of an alert's scope and window. */
import { fmtInt, fmtMs, fmtPercent, fmtRate } from '$lib/format';
import type { Alert } from '$lib/graphql/types';

/** A value in one of the rule registry's units (percent, ms, per_minute, minutes, count, tokens, usd, score). */
export function fmtUnit(unit: string, v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'percent':
      return fmtPercent(v);
    case 'ms':
      return fmtMs(v);
    case 'per_minute':
      return `${fmtRate(v)}/min`;
    case 'minutes':
      return `${fmtRate(v)} min`;
    case 'tokens':
      return `${fmtInt(v)} tokens`;
    case 'usd':
      return `$${v.toFixed(v < 10 ? 2 : 0)}`;
    case 'score':
      return fmtRate(v);
    default:
      return fmtInt(v);
  }
}

/** 45 s, 12 min, 3 h 5 min. */
export function fmtDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const min = Math.floor(seconds / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return `${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/**
 * The explorer filtered to the alert's scope (the fields the explorer filters by) and window:
 * from the start of the window before it was raised to its end (or now).
 */
export function explorerHref(a: Alert, now = Date.now()): string {
  const params = new URLSearchParams();
  const windowMs = (a.windowMinutes ?? 5) * 60_000;
  params.set('from', new Date(Date.parse(a.raisedAt) - windowMs).toISOString());
  params.set('to', new Date(a.resolvedAt ? Date.parse(a.resolvedAt) + 60_000 : now + 60_000).toISOString());
  if (a.scope.intent) params.set('intent', a.scope.intent);
  if (a.scope.tool) params.set('tool', a.scope.tool);
  if (a.scope.errorType) params.set('error', a.scope.errorType);
  if (a.scope.environment) params.set('environment', a.scope.environment);
  if (a.kind === 'consecutive_errors' || a.kind === 'high_error_rate' || ['error_rate', 'consecutive_errors'].includes(String((a.details.rule as { metric?: string } | undefined)?.metric))) {
    params.set('success', 'false');
  }
  return `/interactions?${params.toString()}`;
}
