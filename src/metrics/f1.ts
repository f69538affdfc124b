import { checkBinary, checkPair, type NumArray } from "./validate.js";

/**
 * Binary F1 of the positive class 1 (sklearn `f1_score(labels, preds)` with
 * the default `pos_label=1`, `average="binary"`).
 *
 * F1 = 2·TP / (2·TP + FP + FN). Degenerate case: when there are no predicted
 * positives and no true positives (TP + FP + FN = 0, e.g. all-zero labels
 * and all-zero predictions) the score is 0, matching sklearn with
 * `zero_division=0` (sklearn's default also returns 0 there, with a warning).
 *
 * Both arrays must contain only 0 and 1; anything else throws a RangeError.
 * Returns a fraction in [0, 1].
 */
export function binaryF1(preds: NumArray, labels: NumArray): number {
  const n = checkPair("binaryF1", preds, labels, "preds", "labels");
  checkBinary("binaryF1", preds, "preds");
  checkBinary("binaryF1", labels, "labels");
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const p = preds[i] === 1;
    const t = labels[i] === 1;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denom = 2 * tp + fp + fn;
  return denom === 0 ? 0 : (2 * tp) / denom;
}
