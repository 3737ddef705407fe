/** Small statistics of the calibration report. */

/**
 * The `p`-quantile (0…1) of `values` with linear interpolation between closest ranks (R-7, the
 * definition of d3-array's `quantile`, numpy's default and Excel's `PERCENTILE.INC`); `undefined`
 * for no values. https://d3js.org/d3-array/summarize#quantile
 */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (h - lo);
}

/** `part / whole`, or `undefined` when `whole` is 0. */
export const rate = (part: number, whole: number): number | undefined => (whole > 0 ? part / whole : undefined);

/** Sum of `values`. */
export const sum = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);
