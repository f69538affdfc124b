/**
 * Cross-entropy over a vocabulary (or any label set), shared by the language-model losses:
 * BERT's masked-LM loss and T5's teacher-forced loss. Arrays are consumed.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";

/** Cross-entropy of each row of logits [N,V] against int32 targets [N] (-> [N]); both consumed. */
export function rowCrossEntropy(logits: JArray, targets: JArray, vocabSize: number): JArray {
  const shifted = logits.ref.sub(np.max(logits.ref, -1, { keepdims: true }));
  const logZ = np.log(np.sum(np.exp(shifted.ref), -1));
  const picked = np.sum(shifted.mul(oneHotRows(targets, vocabSize)), -1);
  logits.dispose();
  return logZ.sub(picked);
}

/**
 * Weighted sum of the rows' cross-entropies, `sum_i weights[i] * CE_i`: with weights 1/n on
 * n real rows and 0 on padding rows it is the mean over the real rows, at a fixed number of
 * rows (static shapes for jit). All three arrays are consumed.
 */
export function weightedCrossEntropy(logits: JArray, targets: JArray, weights: JArray, vocabSize: number): JArray {
  return np.sum(rowCrossEntropy(logits, targets, vocabSize).mul(weights));
}

function oneHotRows(targets: JArray, vocabSize: number): JArray {
  return targets.reshape([-1, 1]).equal(np.arange(vocabSize).astype(np.int32).reshape([1, vocabSize])).astype(np.float32);
}
