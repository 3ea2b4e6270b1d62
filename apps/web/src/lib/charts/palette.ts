/** Chart colours come from the page's CSS variables, so light and dark mode apply to canvases too. */

export interface ChartTheme {
  text: string;
  grid: string;
  series: string[];
}

export function readChartTheme(el: Element = document.documentElement): ChartTheme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--muted', '#555'),
    grid: v('--grid', 'rgba(127,127,127,0.2)'),
    series: [v('--series-1', '#2457c5'), v('--series-2', '#c2410c'), v('--series-3', '#7c3aed')],
  };
}

/** Calls `onChange` when the colour scheme flips; returns the stop function. */
export function watchColorScheme(onChange: () => void): () => void {
  const mq = window.matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', onChange);
  return () => mq.removeEventListener('change', onChange);
}
