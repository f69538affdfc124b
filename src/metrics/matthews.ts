import { checkIntegers, checkPair, type NumArray } from "./validate.js";

/**
 * Matthews correlation coefficient with sklearn `matthews_corrcoef`
 * semantics, including its multiclass generalisation (Gorodkin's R_K):
 *
 *   MCC = (c·s − Σ_k p_k·t_k) / sqrt((s² − Σ_k p_k²) · (s² − Σ_k t_k²))
 *
 * where s = number of samples, c = number of correct predictions, p_k and
 * t_k = how often class k is predicted / true. For binary labels this is
 * (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
 *
 * When the denominator is 0 (all predictions one class, or all labels one
 * class) the result is 0, as in sklearn. Values are class indices
 * (integers); returns a number in [-1, 1].
 */
export function matthewsCorrelation(preds: NumArray, labels: NumArray): number {
  const n = checkPair("matthewsCorrelation", preds, labels, "preds", "labels");
  checkIntegers("matthewsCorrelation", preds, "preds");
  checkIntegers("matthewsCorrelation", labels, "labels");
  const predCount = new Map<number, number>();
  const trueCount = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const p = preds[i];
    const t = labels[i];
    predCount.set(p, (predCount.get(p) ?? 0) + 1);
    trueCount.set(t, (trueCount.get(t) ?? 0) + 1);
    if (p === t) correct++;
  }
  let pt = 0;
  for (const [k, pk] of predCount) pt += pk * (trueCount.get(k) ?? 0);
  let pp = 0;
  for (const pk of predCount.values()) pp += pk * pk;
  let tt = 0;
  for (const tk of trueCount.values()) tt += tk * tk;
  const s = n;
  const covYtYp = correct * s - pt;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}
