/**
 * Shared pieces of the benchmarks: statistics, a seeded random source, environment knobs and the
 * figures table every benchmark prints. Benchmarks print figures; they never fail a build.
 */

/** Sorted copy. */
function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function max(xs: readonly number[]): number {
  return xs.length ? Math.max(...xs) : NaN;
}

/** One row of a figures table. */
export interface Row {
  /** What was measured. */
  what: string;
  samples: readonly number[];
  /** Unit shown after each figure (`ms`, `µs`, `USD`, `%`, ``). */
  unit: string;
  /** Human target, e.g. `≤ 2000 ms median`, or `-` when the row is context. */
  target: string;
  /** Whether the target is met; undefined for a context row (no target). */
  met?: boolean;
  /** Digits after the decimal point (default 1). */
  digits?: number;
}

function fmt(v: number, unit: string, digits: number): string {
  if (Number.isNaN(v)) return 'n/a';
  const s = unit === 'USD' ? v.toFixed(Math.max(digits, 6)) : v.toFixed(digits);
  return unit ? `${s} ${unit}` : s;
}

/** Prints a table: what, n, median, p95, max, target, met; then a `target met: yes/no` line for `headline` rows. */
export function printTable(title: string, rows: Row[]): void {
  const header = ['measured', 'n', 'median', 'p95', 'max', 'target', 'met'];
  const body = rows.map((r) => {
    const d = r.digits ?? 1;
    return [
      r.what,
      String(r.samples.length),
      fmt(median(r.samples), r.unit, d),
      fmt(percentile(r.samples, 95), r.unit, d),
      fmt(max(r.samples), r.unit, d),
      r.target,
      r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n== ${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

/** Prints the closing verdict line of a benchmark. */
export function printVerdict(met: boolean, why: string): void {
  console.log(`target met: ${met ? 'yes' : 'no'} (${why})`);
}

/** An integer knob from the environment, with a default and bounds. */
export function envInt(name: string, def: number, min = 0, maxValue = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > maxValue) throw new RangeError(`${name} must be an integer in [${min}, ${maxValue}], got ${raw}`);
  return v;
}

/** A seeded random source (mulberry32): reproducible runs, `BENCH_SEED` to vary them. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Log-uniform in [lo, hi]. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
