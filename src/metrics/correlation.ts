import { checkPair, type NumArray } from "./validate.js";

/**
 * Pearson correlation coefficient (scipy `stats.pearsonr(x, y)[0]`).
 *
 * Computed with centred sums (two passes) for numerical stability and
 * clipped to [-1, 1] as scipy does. If either input is constant the
 * coefficient is undefined: like scipy (which warns with
 * ConstantInputWarning) this returns NaN. Callers that select models on it
 * should treat NaN as "worse than anything" (note `NaN > x` is false).
 */
export function pearson(x: NumArray, y: NumArray): number {
  const n = checkPair("pearson", x, y, "x", "y");
  return pearsonUnchecked(x, y, n);
}

function pearsonUnchecked(x: NumArray, y: NumArray, n: number): number {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (isConstant(x, n) || isConstant(y, n)) return Number.NaN;
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

function isConstant(a: NumArray, n: number): boolean {
  const first = a[0];
  for (let i = 1; i < n; i++) if (a[i] !== first) return false;
  return true;
}

/**
 * Ranks 1..n with ties given the average of the ranks they span (scipy
 * `stats.rankdata(a, method="average")`). E.g. [10, 20, 20, 5] -> [2, 3.5, 3.5, 1].
 */
export function averageRanks(a: NumArray): number[] {
  const n = a.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((i, j) => a[i] - a[j] || i - j);
  const ranks = new Array<number>(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && a[order[end]] === a[order[start]]) end++;
    // positions start..end-1 (0-based) share ranks start+1..end -> mean (start+1+end)/2
    const r = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = r;
    start = end;
  }
  return ranks;
}

/**
 * Spearman rank correlation (scipy `stats.spearmanr(x, y).statistic`):
 * the Pearson correlation of the average ranks (ties share their mean rank).
 * A constant input (all values tied) gives NaN, as in scipy.
 */
export function spearman(x: NumArray, y: NumArray): number {
  const n = checkPair("spearman", x, y, "x", "y");
  return pearsonUnchecked(averageRanks(x), averageRanks(y), n);
}
