/** The dashboard's pure logic: plot buffer, time ranges, explorer filters in the URL, coalescing. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeriesBuffer, type SeriesPoint } from '../../apps/web/src/lib/charts/series-buffer.js';
import { bucketFor, rangeFromParams, rangeToParams, resolveRange } from '../../apps/web/src/lib/time-range.js';
import { EMPTY_FILTER, filterFromParams, filterToGraphQL, filterToParams } from '../../apps/web/src/lib/explorer-filter.js';
import { throttle } from '../../apps/web/src/lib/live/coalesce.js';
import { fmtFeedback, fmtWhen } from '../../apps/web/src/lib/format.js';

const MIN = 60_000;
const point = (start: number, count: number, over: Partial<SeriesPoint> = {}): SeriesPoint => ({
  start,
  count,
  throughputPerMinute: count,
  errorRate: 10,
  p50: 100,
  p95: 200,
  p99: 300,
  ...over,
});

describe('plot buffer', () => {
  it('fills gaps: no traffic is zero throughput and no latency or error rate', () => {
    const b = new SeriesBuffer(MIN);
    b.replace([point(10 * MIN, 5), point(12 * MIN, 7)]);
    const cols = b.columns(10 * MIN, 13 * MIN - 1);
    expect(cols.x).toEqual([600, 660, 720]);
    expect(cols.throughput).toEqual([5, 0, 7]);
    expect(cols.p95).toEqual([200, null, 200]);
    expect(cols.errorRate).toEqual([10, null, 10]);
  });

  it('replaces a bucket with its fresher copy and prunes what left the window', () => {
    const b = new SeriesBuffer(MIN);
    b.replace([point(0, 1), point(MIN, 2)]);
    b.merge([point(MIN, 9), point(2 * MIN, 3)]);
    expect(b.columns(0, 2 * MIN).throughput).toEqual([1, 9, 3]);
    b.prune(MIN + 1);
    expect(b.size).toBe(2);
    expect(b.alignedStart(2 * MIN + 59_999)).toBe(2 * MIN);
  });
});

describe('time range', () => {
  it('round-trips presets and custom ranges through the URL', () => {
    expect(rangeFromParams(new URLSearchParams(''))).toEqual({ kind: 'preset', preset: '1h' });
    expect(rangeFromParams(new URLSearchParams('range=7d'))).toEqual({ kind: 'preset', preset: '7d' });
    expect(rangeFromParams(new URLSearchParams('range=bogus'))).toEqual({ kind: 'preset', preset: '1h' });
    const custom = { kind: 'custom' as const, from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 0, 2) };
    const params = rangeToParams(custom, new URLSearchParams('keep=1'));
    expect(params.get('keep')).toBe('1');
    expect(rangeFromParams(params)).toEqual(custom);
    expect(rangeFromParams(new URLSearchParams('from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'))).toEqual({ kind: 'preset', preset: '1h' });
  });

  it('sends presets as a window (the server clock decides) and picks buckets of at most 180 points', () => {
    expect(resolveRange({ kind: 'preset', preset: '24h' }, 0).vars).toEqual({ window: '24h' });
    expect(resolveRange({ kind: 'preset', preset: '24h' }, 0).bucket).toBe('15m');
    expect(bucketFor(3 * 3_600_000).bucket).toBe('1m');
    expect(bucketFor(7 * 86_400_000).bucket).toBe('1h');
    expect(bucketFor(400 * 86_400_000).bucket).toBe('1d');
  });
});

describe('explorer filter', () => {
  it('keeps every filter in the query string', () => {
    const f = { ...EMPTY_FILTER, range: '24h' as const, intent: 'weather', tool: 'search', success: 'false' as const, error: 'timeout', session: 's1', q: 'paris' };
    const params = filterToParams(f);
    expect(params.toString()).toBe('range=24h&intent=weather&tool=search&error=timeout&session=s1&q=paris&success=false');
    expect(filterFromParams(params)).toEqual(f);
    expect(filterToParams(EMPTY_FILTER).toString()).toBe('');
  });

  it('turns into the GraphQL filter, sliding ranges resolved against the given clock', () => {
    const now = Date.UTC(2026, 1, 17, 14, 30);
    const g = filterToGraphQL({ ...EMPTY_FILTER, range: '1h', success: 'true', q: 'x' }, now);
    expect(g).toEqual({ from: new Date(now - 3_600_000).toISOString(), success: true, search: 'x' });
    const custom = filterFromParams(new URLSearchParams('from=2026-02-17T10:00:00.000Z'));
    expect(custom.range).toBe('custom');
    expect(filterToGraphQL(custom, now)).toEqual({ from: '2026-02-17T10:00:00.000Z' });
  });
});

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs the first call at once and collapses the rest of a burst into one trailing run', async () => {
    let runs = 0;
    const t = throttle(() => {
      runs++;
    }, 1000);
    t.schedule();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    for (let i = 0; i < 100; i++) t.schedule();
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(2);
  });
});

describe('dates in lists', () => {
  // Local times: the dashboard shows the viewer's zone.
  const now = new Date(2026, 1, 17, 14, 30);
  const at = (d: Date): string => d.toISOString();

  it("shows the time alone for today's records and a date for others", () => {
    const today = fmtWhen(at(new Date(2026, 1, 17, 9, 5, 7)), now);
    expect(today).toMatch(/09:05:07|9:05:07/);
    expect(today).not.toMatch(/Feb|17/);
    const yesterday = fmtWhen(at(new Date(2026, 1, 16, 23, 59, 58)), now);
    expect(yesterday).toMatch(/16/);
    expect(yesterday).toMatch(/59:58/);
    expect(yesterday).not.toMatch(/2026/);
    expect(fmtWhen(at(new Date(2025, 11, 31, 12, 0, 0)), now)).toMatch(/2025/);
    expect(fmtWhen(at(new Date(2026, 1, 17, 9, 5, 7)), now, true)).toMatch(/17/);
    expect(fmtWhen(null, now)).toBe('—');
    expect(fmtWhen('not a date', now)).toBe('—');
  });

  it('shows feedback on its 1-5 scale', () => {
    expect(fmtFeedback(4)).toBe('4 / 5');
    expect(fmtFeedback(4.5)).toMatch(/^4[.,]5 \/ 5$/);
    expect(fmtFeedback(null)).toBe('—');
  });
});
