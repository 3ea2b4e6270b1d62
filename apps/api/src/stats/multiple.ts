/**
 * Benjamini–Hochberg adjusted p-values (q-values): Y. Benjamini, Y. Hochberg (1995),
 * "Controlling the false discovery rate: a practical and powerful approach to multiple
 * testing", JRSS B 57:289-300. Rejecting every hypothesis with q ≤ α is the step-up
 * procedure at level α.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const q = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, i] = order[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    q[i] = Math.min(1, running);
  }
  return q;
}
