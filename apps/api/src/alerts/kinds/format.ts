/** Number and window formatting shared by the rules' messages. */

// toLocaleString builds a formatter per call; rules run on every batch, so keep them.
const formatters = new Map<number, Intl.NumberFormat>();

export const fmt = (n: number, digits = 0): string => {
  let f = formatters.get(digits);
  if (!f) formatters.set(digits, (f = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })));
  return f.format(n);
};

export const windowText = (minutes: number): string =>
  minutes === 1 ? 'the last minute' : `the last ${fmt(minutes, minutes % 1 === 0 ? 0 : 2)} minutes`;

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
