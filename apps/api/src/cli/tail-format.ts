/** Lines printed by `ai-monitor tail`: one per interaction and a periodic metrics status line. */
import type { MetricsSnapshot } from '../metrics/service.js';
import { formatCount, formatMs, formatPercent, formatRate, pad, truncate, type Paint } from './output.js';

/** The fields `tail` subscribes to (GraphQL names). */
export interface TailInteraction {
  id: string;
  sessionId: string;
  timestamp: string;
  userInput: string;
  intent: string;
  toolsUsed: { tool: string; durationMs: number | null; success: boolean | null }[];
  responseTimeMs: number;
  success: boolean;
  errorType: string | null;
  assistant: string | null;
  model: string | null;
}

/** The metrics fields `tail` subscribes to (METRICS_FIELDS). */
export type TailMetrics = Pick<MetricsSnapshot, 'count' | 'errors' | 'errorRate' | 'p50' | 'p95' | 'p99' | 'throughputPerSecond' | 'activeSessions'>;

export const INTERACTION_FIELDS = `id sessionId timestamp userInput intent toolsUsed { tool durationMs success }
  responseTimeMs success errorType assistant model`;
export const METRICS_FIELDS = 'count errors errorRate p50 p95 p99 throughputPerSecond activeSessions';

/** Response times at or above this are shown as slow. */
const SLOW_MS = 10_000;

function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return pad(iso.slice(11, 23), 12);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Keeps the end of long ids, where generated ids differ. */
function tailOf(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `…${chars.slice(chars.length - width + 1).join('')}`;
}

/** Column widths by terminal width: wide terminals also show the assistant; narrow ones
 *  keep time, outcome, latency, intent, session and tools, and the input when room is left. */
const WIDE = 130;
const NARROW = 100;

/**
 * `14:30:00.123  ✓                1.23 s  search      helpdesk-assist…  …1430-help-a1f3  web_search,fetch_page  "find…"`
 * `width` (the terminal's columns) bounds the line; the user input takes what is left.
 */
export function interactionLine(r: TailInteraction, paint: Paint, width: number): string {
  const narrow = width < NARROW;
  const latencyText = pad(formatMs(r.responseTimeMs), 8, 'right');
  const tools = r.toolsUsed.length === 0 ? '-' : r.toolsUsed.map((t) => (t.success === false ? `${t.tool}!` : t.tool)).join(',');
  const markWidth = narrow ? 12 : 14;
  const clockText = narrow ? clock(r.timestamp).slice(0, 8) : clock(r.timestamp);
  // [visible width, text]: colour codes take no columns.
  const cells: [number, string][] = [
    [clockText.length, paint('dim', clockText)],
    [markWidth, r.success ? paint('green', pad('✓', markWidth)) : paint('red', pad(`✗ ${truncate(r.errorType ?? 'error', markWidth - 2)}`, markWidth))],
    [8, r.responseTimeMs >= SLOW_MS ? paint('yellow', latencyText) : latencyText],
    [10, pad(truncate(r.intent, 10), 10)],
  ];
  if (width >= WIDE) cells.push([16, pad(truncate(r.assistant ?? '-', 16), 16)]);
  const sessionWidth = narrow ? 12 : 14;
  const toolsWidth = narrow ? 14 : 22;
  cells.push([sessionWidth, paint('dim', pad(tailOf(r.sessionId, sessionWidth), sessionWidth))], [toolsWidth, pad(truncate(tools, toolsWidth), toolsWidth)]);
  const line = cells.map(([, text]) => text).join('  ');
  const room = width - cells.reduce((sum, [w]) => sum + w + 2, 0) - 2;
  if (room < 8) return line.trimEnd();
  return `${line}  ${paint('cyan', JSON.stringify(truncate(r.userInput.replace(/\s+/g, ' '), room)))}`;
}

/** `── last 5m: 1,234 interactions · errors 4.20 % · p50 1.2 s · p95 8.1 s · p99 20 s · 4.1/s · 12 active sessions` */
export function statusLine(m: TailMetrics, window: string, paint: Paint): string {
  const errors = formatPercent(m.errorRate);
  return paint(
    'bold',
    [
      `── last ${window}: ${formatCount(m.count)} interactions`,
      `errors ${m.errorRate >= 5 ? paint('red', errors) : errors}`,
      `p50 ${formatMs(m.p50)}`,
      `p95 ${formatMs(m.p95)}`,
      `p99 ${formatMs(m.p99)}`,
      formatRate(m.throughputPerSecond),
      `${formatCount(m.activeSessions)} active sessions`,
    ].join(' · '),
  );
}
