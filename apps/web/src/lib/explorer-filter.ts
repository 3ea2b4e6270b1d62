/**
 * The explorer's filters and their URL form, so a filtered view can be shared:
 * `/interactions?range=1h&intent=weather&success=false&q=paris`.
 */
import type { InteractionFilter } from './graphql/types';
import { presetOf, type PresetId } from './time-range';

export type ExplorerRange = 'all' | PresetId | 'custom';

export interface ExplorerFilter {
  range: ExplorerRange;
  /** Epoch ms, for a custom range. */
  from: number | null;
  to: number | null;
  session: string;
  intent: string;
  tool: string;
  /** '' any, 'true' succeeded, 'false' failed. */
  success: '' | 'true' | 'false';
  error: string;
  q: string;
}

export const EMPTY_FILTER: ExplorerFilter = {
  range: 'all',
  from: null,
  to: null,
  session: '',
  intent: '',
  tool: '',
  success: '',
  error: '',
  q: '',
};

const TEXT_KEYS = ['session', 'intent', 'tool', 'error', 'q'] as const;

function time(value: string | null): number | null {
  const t = Date.parse(value ?? '');
  return Number.isFinite(t) ? t : null;
}

export function filterFromParams(params: URLSearchParams): ExplorerFilter {
  const f: ExplorerFilter = { ...EMPTY_FILTER };
  for (const key of TEXT_KEYS) f[key] = (params.get(key) ?? '').trim();
  const success = params.get('success');
  f.success = success === 'true' || success === 'false' ? success : '';
  const from = time(params.get('from'));
  const to = time(params.get('to'));
  if (from !== null || to !== null) {
    f.range = 'custom';
    f.from = from;
    f.to = to;
  } else {
    f.range = presetOf(params.get('range'))?.id ?? 'all';
  }
  return f;
}

export function filterToParams(f: ExplorerFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (f.range === 'custom') {
    if (f.from !== null) params.set('from', new Date(f.from).toISOString());
    if (f.to !== null) params.set('to', new Date(f.to).toISOString());
  } else if (f.range !== 'all') params.set('range', f.range);
  for (const key of TEXT_KEYS) if (f[key].trim()) params.set(key, f[key].trim());
  if (f.success) params.set('success', f.success);
  return params;
}

/** The GraphQL filter; sliding ranges are resolved against `now` (the server's clock). */
export function filterToGraphQL(f: ExplorerFilter, now: number): InteractionFilter {
  const out: InteractionFilter = {};
  if (f.range === 'custom') {
    if (f.from !== null) out.from = new Date(f.from).toISOString();
    if (f.to !== null) out.to = new Date(f.to).toISOString();
  } else if (f.range !== 'all') {
    const preset = presetOf(f.range);
    if (preset) out.from = new Date(now - preset.ms).toISOString();
  }
  if (f.session) out.sessionId = f.session;
  if (f.intent) out.intent = f.intent;
  if (f.tool) out.tool = f.tool;
  if (f.error) out.errorType = f.error;
  if (f.q) out.search = f.q;
  if (f.success) out.success = f.success === 'true';
  return out;
}

export function isFiltered(f: ExplorerFilter): boolean {
  return filterToParams(f).toString() !== '';
}
