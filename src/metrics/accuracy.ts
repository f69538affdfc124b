import { checkPair, type NumArray } from "./validate.js";

/**
 * Fraction of positions where `preds[i] === labels[i]` (sklearn
 * `accuracy_score`). Returns a fraction in [0, 1], not a percentage.
 * Throws a RangeError on length mismatch, empty input or non-finite values.
 */
export function accuracy(preds: NumArray, labels: NumArray): number {
  const n = checkPair("accuracy", preds, labels, "preds", "labels");
  let correct = 0;
  for (let i = 0; i < n; i++) if (preds[i] === labels[i]) correct++;
  return correct / n;
}
