/**
 * Prefix tuning's extra keys and values, put in front of an attention's own (every
 * architecture's self- and cross-attention use this; the bias for the prefix positions is
 * the architecture's).
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";

/**
 * Keys and values [B, P+L, W]: the prefix's [B|1, P, W] (owned; broadcast over the batch)
 * before the projected keys and values [B, L, W] (consumed). `length` is P.
 */
export function prependPrefix(pre: { key: JArray; value: JArray }, k: JArray, v: JArray): { key: JArray; value: JArray; length: number } {
  const [B, , W] = k.shape;
  const P = pre.key.shape[1];
  const pk = pre.key.shape[0] === B ? pre.key : np.broadcastTo(pre.key, [B, P, W]);
  const pv = pre.value.shape[0] === B ? pre.value : np.broadcastTo(pre.value, [B, P, W]);
  return { key: np.concatenate([pk, k], 1), value: np.concatenate([pv, v], 1), length: P };
}
