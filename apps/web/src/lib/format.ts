/** Number and time formatting for tiles, tables and chart legends; `—` for missing values. */
import { FEEDBACK_SCALE } from '@ai-monitor/schema';

const DASH = '—';

type Maybe = number | null | undefined;

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const two = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function fmtInt(n: Maybe): string {
  return n == null || !Number.isFinite(n) ? DASH : int.format(n);
}

/** A rate: two decimals below 10, one below 100, none above. */
export function fmtRate(n: Maybe): string {
  if (n == null || !Number.isFinite(n)) return DASH;
  return (n < 10 ? two : n < 100 ? one : int).format(n);
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** 1.2K, 3.4M: for axis labels. */
export function fmtCompact(n: Maybe): string {
  return n == null || !Number.isFinite(n) ? DASH : compact.format(n);
}

export function fmtPercent(n: Maybe): string {
  return n == null || !Number.isFinite(n) ? DASH : `${one.format(n)} %`;
}

/** Milliseconds as ms below a second, seconds below a minute, minutes above. */
export function fmtMs(ms: Maybe): string {
  if (ms == null || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${int.format(ms)} ms`;
  if (ms < 60_000) return `${(ms < 10_000 ? two : one).format(ms / 1000)} s`;
  return `${one.format(ms / 60_000)} min`;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/**
 * A moment in a live list, in the viewer's zone: the time of day when it is today, else a
 * compact date and time ("Feb 17, 14:30:05", with the year when it is not this year), so a
 * late or back-dated record is never mistaken for one of today. `alwaysDate` for lists that
 * span days (the date on every row, still compact).
 */
export function fmtWhen(iso: string | null | undefined, now: Date = new Date(), alwaysDate = false): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  if (!alwaysDate && d.toDateString() === now.toDateString()) return fmtTime(iso);
  const year = d.getFullYear() === now.getFullYear() ? undefined : 'numeric';
  return d.toLocaleString(undefined, { year, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A feedback score with its scale: "4 / 5". */
export function fmtFeedback(score: Maybe): string {
  return score == null || !Number.isFinite(score) ? DASH : `${one.format(score)} / ${FEEDBACK_SCALE.max}`;
}

export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? DASH
    : d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}

/** US dollars: cents above a dollar, more digits for the fractions of a cent per-call costs are. */
export function fmtUsd(n: Maybe): string {
  if (n == null || !Number.isFinite(n)) return DASH;
  if (n === 0) return '$0';
  const abs = Math.abs(n);
  const digits = abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  return `$${n.toLocaleString(undefined, { minimumFractionDigits: abs >= 1 ? 2 : 0, maximumFractionDigits: digits })}`;
}
