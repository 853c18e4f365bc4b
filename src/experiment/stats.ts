/** Statistics of results over seeds: mean, sample standard deviation, paired t-test. */
import tCdf from '@stdlib/stats-base-dists-t-cdf';

function expectNumbers(values: unknown, name: string): number[] {
  if (!Array.isArray(values)) throw new TypeError(`Expected an array of numbers for ${name} but received ${String(values)}`);
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Expected finite numbers in ${name} but received ${String(v)}`);
  }
  return values;
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: number[]): number {
  expectNumbers(values, 'values');
  return values.length ? values.reduce((a, v) => a + v, 0) / values.length : NaN;
}

/** Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values. */
export function sampleStd(values: number[]): number {
  expectNumbers(values, 'values');
  if (values.length < 2) return NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

export interface PairedTTest {
  /** Mean of a[i] - b[i]. */
  meanDifference: number;
  t: number;
  /** Degrees of freedom: pairs - 1. */
  df: number;
  /** Two-sided p-value; NaN when it is undefined (fewer than two pairs, or every difference zero). */
  p: number;
}

/**
 * Student's paired t-test of a against b (a[i] and b[i] share seed i), two-sided, as
 * scipy.stats.ttest_rel and R's t.test(paired = TRUE). Differences that are all equal and
 * non-zero give t = ±Infinity and p = 0.
 */
export function pairedTTest(a: number[], b: number[]): PairedTTest {
  expectNumbers(a, 'a');
  expectNumbers(b, 'b');
  if (a.length !== b.length) throw new RangeError(`Expected a and b of equal length (pairs) but received ${a.length} and ${b.length}`);
  const n = a.length;
  const d = a.map((v, i) => v - b[i]);
  const meanDifference = mean(d);
  const df = n - 1;
  if (n < 2) return { meanDifference, t: NaN, df, p: NaN };
  const sd = sampleStd(d);
  if (sd === 0) {
    return meanDifference === 0 ? { meanDifference, t: NaN, df, p: NaN } : { meanDifference, t: Math.sign(meanDifference) * Infinity, df, p: 0 };
  }
  const t = meanDifference / (sd / Math.sqrt(n));
  return { meanDifference, t, df, p: Math.min(1, 2 * tCdf(-Math.abs(t), df)) };
}
