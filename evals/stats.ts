/**
 * Simple 95 % confidence intervals for the eval report: Wilson score interval for pass rates
 * (https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Wilson_score_interval),
 * percentile bootstrap for means (judge score, cost, time), with a seeded generator so that one
 * set of results always gives the same report.
 */

/** z of a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** An estimate and its 95 % interval. */
export interface Estimate {
  value: number;
  low: number;
  high: number;
  /** Sample size. */
  n: number;
}

/** Wilson score interval of `successes` out of `n` (n = 0 gives 0 in [0, 1]). */
export function wilson(successes: number, n: number): Estimate {
  if (n === 0) return { value: 0, low: 0, high: 1, n };
  const p = successes / n;
  const z2 = Z95 * Z95;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, low: Math.max(0, center - half), high: Math.min(1, center + half), n };
}

/** Mulberry32: a small seeded PRNG in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Mean of `xs` with a 95 % percentile-bootstrap interval (`resamples` draws, seeded). One value
 * gives a zero-width interval; none gives NaN.
 */
export function bootstrapMean(xs: number[], resamples = 2000, seed = 12): Estimate {
  if (xs.length === 0) return { value: NaN, low: NaN, high: NaN, n: 0 };
  const m = mean(xs);
  if (xs.length === 1) return { value: m, low: m, high: m, n: 1 };
  const rand = mulberry32(seed);
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rand() * xs.length)]!;
    means.push(s / xs.length);
  }
  means.sort((a, b) => a - b);
  const at = (q: number): number => means[Math.min(means.length - 1, Math.max(0, Math.round(q * (means.length - 1))))]!;
  return { value: m, low: at(0.025), high: at(0.975), n: xs.length };
}
