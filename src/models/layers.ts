/**
 * Building blocks every architecture shares: linear layers in PyTorch's [out, in] layout,
 * LayerNorm and the FFN activations. Parameters are BORROWED, activations CONSUMED.
 *
 * Linear weights keep PyTorch's layout [out, in] and the forward pass computes `x @ w.T`:
 * both matmul operands then reduce over a contiguous axis, which jax-js's wasm kernels need
 * for speed (reducing over a strided axis of 256 floats measured 30x slower).
 */
import { np, nn } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";

/** A linear layer: `w` is [out, in] as in PyTorch, `b` is [out]. */
export type Linear = { w: JArray; b: JArray };
export type LayerNormParams = { g: JArray; b: JArray };

/** FFN activations by their Hugging Face `hidden_act` names. */
export const HIDDEN_ACTS = ["gelu", "gelu_new", "relu"] as const;
export type HiddenAct = (typeof HIDDEN_ACTS)[number];

/** x @ w.T + b over the last axis (w is [out, in]); x [..., in] is consumed, params borrowed. */
export function linear(p: Linear, x: JArray): JArray {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const outDim = p.w.shape[0];
  const flat = x.reshape([-1, inDim]);
  const y = np.matmul(flat, p.w.ref.transpose()).add(p.b.ref);
  return y.reshape([...shape.slice(0, -1), outDim]);
}

/** LayerNorm over the last axis (biased variance, as torch). */
export function layerNorm(p: LayerNormParams, x: JArray, eps: number): JArray {
  const axis = x.ndim - 1;
  const mean = np.mean(x.ref, axis, { keepdims: true });
  const centered = x.sub(mean);
  const variance = np.mean(np.square(centered.ref), axis, { keepdims: true });
  const normed = centered.mul(np.reciprocal(np.sqrt(variance.add(eps))));
  return normed.mul(p.g.ref).add(p.b.ref);
}

export function activation(name: HiddenAct, x: JArray): JArray {
  switch (name) {
    case "gelu":
      return nn.gelu(x, { approximate: false });
    case "gelu_new":
      return nn.gelu(x, { approximate: true });
    case "relu":
      return nn.relu(x);
  }
}
