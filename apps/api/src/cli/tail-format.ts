/** Lines printed by `ai-monitor tail`: one per interaction and a periodic metrics status line. */
import type { MetricsSnapshot } from '../metrics/service.js';
import { displayWidth, formatCount, formatMs, formatPercent, formatRate, pad, printable, truncate, type Colour, type Paint } from './output.js';

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

/** Wide terminals also show the assistant; narrow ones use shorter time and outcome columns. */
const WIDE = 130;
const NARROW = 100;
const GAP = '  ';
/** The tools column is dropped rather than squeezed below this; the input likewise. */
const MIN_TOOLS = 6;
const MIN_INPUT = 8;

/** One column of a line: plain text, its colour, and the columns it takes when not last. */
interface Cell {
  text: string;
  colour?: Colour;
  width: number;
}

function cell(text: string, width: number, colour?: Colour): Cell {
  return colour === undefined ? { text, width } : { text, colour, width };
}

/** Columns the cells take, separators included. */
function span(cells: readonly Cell[]): number {
  return cells.reduce((sum, c) => sum + c.width, 0) + GAP.length * Math.max(0, cells.length - 1);
}

/**
 * Joins cells into a line of at most `width` columns: a cell that does not fit is cut from the
 * right (with an ellipsis) and the cells after it are left out. Colours wrap whole cells, so a
 * cut never splits a colour code.
 */
function joinCells(cells: readonly Cell[], paint: Paint, width: number): string {
  let line = '';
  let used = 0;
  for (const [i, c] of cells.entries()) {
    const gap = i === 0 ? '' : GAP;
    const last = i === cells.length - 1;
    const room = width - used - gap.length;
    if (room <= 0) break;
    const text = last ? c.text : pad(c.text, c.width);
    const fitted = displayWidth(text) <= room ? text : truncate(text.trimEnd(), room);
    line += gap + (c.colour ? paint(c.colour, fitted) : fitted);
    used += gap.length + displayWidth(fitted);
    if (fitted !== text) break;
  }
  return line;
}

/**
 * `14:30:00.123  ✓                1.23 s  search      helpdesk-assist…  web_search,fetch_page  20260217_143000-helpdesk-a1f31  "find…"`
 *
 * At most `width` columns (the terminal's). The session id is shown whole, so it can be pasted
 * into a filter; the user input takes what is left, then the tools column gives way. Only on a
 * terminal too narrow for the id itself is it cut, from the right.
 */
export function interactionLine(r: TailInteraction, paint: Paint, width: number): string {
  const narrow = width < NARROW;
  const markWidth = narrow ? 12 : 14;
  const clockText = narrow ? clock(r.timestamp).slice(0, 8) : clock(r.timestamp);
  const latencyText = pad(formatMs(r.responseTimeMs), 8, 'right');
  const cells: Cell[] = [
    cell(clockText, clockText.length, 'dim'),
    r.success ? cell('✓', markWidth, 'green') : cell(`✗ ${truncate(printable(r.errorType ?? 'error'), markWidth - 2)}`, markWidth, 'red'),
    cell(latencyText, 8, r.responseTimeMs >= SLOW_MS ? 'yellow' : undefined),
    cell(truncate(printable(r.intent), 10), 10),
  ];
  if (width >= WIDE) cells.push(cell(truncate(printable(r.assistant ?? '-'), 16), 16));

  const session = printable(r.sessionId);
  const sessionCell = cell(session, Math.max(displayWidth(session), narrow ? 12 : 14), 'dim');
  const toolsRoom = width - span([...cells, sessionCell]) - GAP.length;
  if (toolsRoom >= MIN_TOOLS) {
    const tools = r.toolsUsed.length === 0 ? '-' : r.toolsUsed.map((t) => (t.success === false ? `${t.tool}!` : t.tool)).join(',');
    const toolsWidth = Math.min(narrow ? 14 : 22, toolsRoom);
    cells.push(cell(truncate(printable(tools), toolsWidth), toolsWidth));
  }
  cells.push(sessionCell);

  // The input's quotes take two columns.
  const inputRoom = width - span(cells) - GAP.length;
  if (inputRoom >= MIN_INPUT) {
    cells.push(cell(`"${truncate(printable(r.userInput.replace(/\s+/g, ' ')), inputRoom - 2)}"`, inputRoom, 'cyan'));
  }
  return joinCells(cells, paint, width);
}

/**
 * `── last 5m: 1,234 interactions · errors 4.20 % · p50 1.2 s · p95 8.1 s · p99 20 s · 4.1/s · 12 active sessions`
 * At most `width` columns: the last figures are left out on a narrow terminal.
 */
export function statusLine(m: TailMetrics, window: string, paint: Paint, width: number): string {
  const errors = formatPercent(m.errorRate);
  // [plain text, as printed]: colour codes take no columns.
  const parts: [string, string][] = [
    `── last ${window}: ${formatCount(m.count)} interactions`,
    `errors ${errors}`,
    `p50 ${formatMs(m.p50)}`,
    `p95 ${formatMs(m.p95)}`,
    `p99 ${formatMs(m.p99)}`,
    formatRate(m.throughputPerSecond),
    `${formatCount(m.activeSessions)} active sessions`,
  ].map((text) => [text, text]);
  if (m.errorRate >= 5) parts[1]![1] = `errors ${paint('red', errors)}`;
  const SEP = ' · ';
  let line = '';
  let used = 0;
  for (const [i, [plain, printed]] of parts.entries()) {
    const sep = i === 0 ? '' : SEP;
    const w = displayWidth(plain);
    if (used + sep.length + w > width) {
      if (i === 0) line = truncate(plain, width);
      break;
    }
    line += sep + printed;
    used += sep.length + w;
  }
  return paint('bold', line);
}
