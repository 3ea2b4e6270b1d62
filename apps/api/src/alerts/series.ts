/** An alert's sparkline: [epoch ms, value] points, one per step at most, the newest kept. */

export const SERIES_STEP_MS = 10_000;
export const SERIES_POINTS = 60;

/** Appends [now, value] when the series is empty or a step has passed since its last point; says whether it did. */
export function appendPoint(series: [number, number][], now: number, value: number): boolean {
  const last = series[series.length - 1];
  if (last !== undefined && now - last[0] < SERIES_STEP_MS) return false;
  series.push([now, value]);
  if (series.length > SERIES_POINTS) series.shift();
  return true;
}
