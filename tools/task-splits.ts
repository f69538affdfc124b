/**
 * The deterministic split rules of the built-in task generator
 * (experiments/data/make-builtin-tasks.ts): stratified and group splits and
 * sorted samples, all driven by the library's seeded `sampleIndices`, so the
 * same seed gives the same files on every platform.
 */
import { sampleIndices } from "../src/data/splits.js";

/** Seed of the generator's splits (recorded as `seed` in data/spam and data/sotu-party manifest.json). */
export const BUILTIN_SPLIT_SEED = 20240605;

export type SplitName = "train" | "dev" | "test";

/** Sizes of the three parts of n items for fractions (train, dev, test): dev = round(n*fd), test = round(n*ft), train = the rest. */
export function splitSizes(n: number, fractions: readonly [number, number, number]): [number, number, number] {
  const dev = Math.round(n * fractions[1]);
  const test = Math.round(n * fractions[2]);
  return [n - dev - test, dev, test];
}

/** A seeded permutation of 0..n-1 (Fisher–Yates driven by mulberry32; `sampleIndices(n, n, seed)`). */
export function seededPermutation(n: number, seed: number): number[] {
  return sampleIndices(n, n, seed);
}

/**
 * Stratified split: for each label (in order of first appearance), that
 * label's items (in input order) are permuted with `seed + labelIndex` and
 * cut into train / dev / test by `splitSizes`. Returns each item's split.
 */
export function stratifiedSplit(labels: readonly string[], fractions: readonly [number, number, number], seed: number): SplitName[] {
  const out = new Array<SplitName>(labels.length);
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const list = byLabel.get(l);
    if (list) list.push(i);
    else byLabel.set(l, [i]);
  });
  let k = 0;
  for (const items of byLabel.values()) {
    const [nTrain, nDev] = splitSizes(items.length, fractions);
    const perm = seededPermutation(items.length, seed + k);
    perm.forEach((p, j) => {
      out[items[p] as number] = j < nTrain ? "train" : j < nTrain + nDev ? "dev" : "test";
    });
    k++;
  }
  return out;
}

/**
 * Group split: groups (e.g. speeches) are split by `stratifiedSplit` on
 * their stratum (e.g. party), so every member of a group lands in the same
 * split. `groups[i]` is item i's group id, `strata` maps a group to its stratum.
 * Groups are ordered by first appearance. Returns each group's split.
 */
export function groupSplit(groups: readonly string[], strata: ReadonlyMap<string, string>, fractions: readonly [number, number, number], seed: number): Map<string, SplitName> {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const g of groups) {
    if (!seen.has(g)) {
      seen.add(g);
      order.push(g);
    }
  }
  const labels = order.map((g) => {
    const s = strata.get(g);
    if (s === undefined) throw new Error(`groupSplit: no stratum for group ${g}`);
    return s;
  });
  const parts = stratifiedSplit(labels, fractions, seed);
  return new Map(order.map((g, i) => [g, parts[i] as SplitName]));
}

/** `k` of `n` indices drawn uniformly without replacement with `seed`, returned in increasing order. */
export function sampleSorted(n: number, k: number, seed: number): number[] {
  return sampleIndices(n, Math.min(k, n), seed).sort((a, b) => a - b);
}
