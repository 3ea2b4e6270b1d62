/**
 * The explorer's filters and their URL form, so a filtered view can be shared:
 * `/interactions?range=1h&intent=weather&success=false&q=paris`.
 */
import type { InteractionFilter } from './graphql/types';
import { presetOf, type PresetId } from './time-range';

export type ExplorerRange = 'all' | PresetId | 'custom';

/** One text field of the filter form: its URL key, label, the GraphQL filter field it sets, and its suggestions. */
export interface TextFilter {
  key: string;
  label: string;
  /** A string-valued field of the GraphQL filter. */
  field: Exclude<keyof InteractionFilter, 'from' | 'to' | 'success'>;
  suggest?: 'intents' | 'tools' | 'errors';
  /** The free-text search field (wider, a search box). */
  search?: boolean;
}

/** The explorer's text filters, in form order; the form, the URL and the GraphQL filter derive from this list. */
export const TEXT_FILTERS = [
  { key: 'intent', label: 'Intent', field: 'intent', suggest: 'intents' },
  { key: 'tool', label: 'Tool', field: 'tool', suggest: 'tools' },
  { key: 'error', label: 'Error type', field: 'errorType', suggest: 'errors' },
  { key: 'environment', label: 'Environment', field: 'environment' },
  { key: 'assistant', label: 'Assistant', field: 'assistant' },
  { key: 'model', label: 'Model', field: 'model' },
  { key: 'version', label: 'Version', field: 'version' },
  { key: 'session', label: 'Session', field: 'sessionId' },
  { key: 'q', label: 'Text in user input', field: 'search', search: true },
] as const satisfies readonly TextFilter[];

type TextKey = (typeof TEXT_FILTERS)[number]['key'];

export type ExplorerFilter = {
  range: ExplorerRange;
  /** Epoch ms, for a custom range. */
  from: number | null;
  to: number | null;
  /** '' any, 'true' succeeded, 'false' failed. */
  success: '' | 'true' | 'false';
} & Record<TextKey, string>;

export const EMPTY_FILTER: ExplorerFilter = {
  range: 'all',
  from: null,
  to: null,
  success: '',
  ...(Object.fromEntries(TEXT_FILTERS.map((t) => [t.key, ''])) as Record<TextKey, string>),
};

const TEXT_KEYS: readonly TextKey[] = TEXT_FILTERS.map((t) => t.key);

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
  for (const t of TEXT_FILTERS) if (f[t.key]) out[t.field] = f[t.key];
  if (f.success) out.success = f.success === 'true';
  return out;
}

export function isFiltered(f: ExplorerFilter): boolean {
  return filterToParams(f).toString() !== '';
}

/** The explorer's orders, as the URL names them (`sort`, `dir`). */
export const SORTS = [
  { id: 'time', label: 'Time', graphql: 'TIME' },
  { id: 'responseTime', label: 'Response time', graphql: 'RESPONSE_TIME' },
  { id: 'tokens', label: 'Tokens', graphql: 'TOKENS' },
  { id: 'cost', label: 'Cost', graphql: 'COST' },
] as const;

export type SortId = (typeof SORTS)[number]['id'];
export interface ExplorerSort {
  by: SortId;
  dir: 'desc' | 'asc';
}

export function sortFromParams(params: URLSearchParams): ExplorerSort {
  const by = SORTS.find((s) => s.id === params.get('sort'))?.id ?? 'time';
  return { by, dir: params.get('dir') === 'asc' ? 'asc' : 'desc' };
}

/** The URL with the sort set (the default order leaves no trace). */
export function withSort(params: URLSearchParams, sort: ExplorerSort): URLSearchParams {
  const out = new URLSearchParams(params);
  out.delete('sort');
  out.delete('dir');
  if (sort.by !== 'time') out.set('sort', sort.by);
  if (sort.dir === 'asc') out.set('dir', 'asc');
  return out;
}

export function sortToGraphQL(sort: ExplorerSort): { by: (typeof SORTS)[number]['graphql']; direction: 'ASC' | 'DESC' } {
  return { by: SORTS.find((s) => s.id === sort.by)!.graphql, direction: sort.dir === 'asc' ? 'ASC' : 'DESC' };
}

/** `/api/export` for the current filter and order: the same filter names as GraphQL. */
export function exportUrl(f: ExplorerFilter, sort: ExplorerSort, format: 'csv' | 'jsonl', now: number): string {
  const params = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(filterToGraphQL(f, now))) params.set(k, String(v));
  if (sort.by !== 'time') params.set('sort', sort.by);
  if (sort.dir === 'asc') params.set('direction', 'asc');
  return `/api/export?${params}`;
}
