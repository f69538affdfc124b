/**
 * Building blocks every architecture shares: linear layers in PyTorch's [out, in] layout
 * (with a bias, or without as T5's), LayerNorm, T5's RMS LayerNorm and the FFN activations.
 * Parameters are BORROWED, activations CONSUMED.
 *
 * Linear weights keep PyTorch's layout [out, in] and the forward pass computes `x @ w.T`:
 * both matmul operands then reduce over a contiguous axis, which jax-js's wasm kernels need
 * for speed (reducing over a strided axis of 256 floats measured 30x slower).
 */
import { jit, np, nn } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";

/** A linear layer: `w` is [out, in] as in PyTorch, `b` is [out]. */
export type Linear = {
  /** Weight, [out, in]. */
  w: JArray;
  /** Bias, [out]. */
  b: JArray;
};
/** A linear layer without a bias (T5): `w` is [out, in]. */
export type Projection = {
  /** Weight, [out, in]. */
  w: JArray;
};
/** A LayerNorm's parameters, each [width]. */
export type LayerNormParams = {
  /** Scale (gamma; HF `weight`). */
  g: JArray;
  /** Shift (beta; HF `bias`). */
  b: JArray;
};

/** FFN activations by their Hugging Face `hidden_act` names. */
export const HIDDEN_ACTS = ["gelu", "gelu_new", "relu"] as const;
export type HiddenAct = (typeof HIDDEN_ACTS)[number];

/** x @ w.T + b over the last axis (w is [out, in]); x [..., in] is consumed, params borrowed. */
export function linear(p: Linear, x: JArray): JArray {
  return project(p, x).add(p.b.ref);
}

/** x @ w.T over the last axis (w is [out, in], no bias); x [..., in] is consumed, w borrowed. */
export function project(p: Projection, x: JArray): JArray {
  const shape = x.shape;
  const flat = x.reshape([-1, shape[shape.length - 1]]);
  return np.matmul(flat, p.w.ref.transpose()).reshape([...shape.slice(0, -1), p.w.shape[0]]);
}

/**
 * T5's LayerNorm (RMSNorm): `g * x / sqrt(mean(x²) + eps)` over the last axis, no mean
 * subtraction and no bias (HF `T5LayerNorm`; its variance is float32, as everything here).
 */
export function rmsNorm(g: JArray, x: JArray, eps: number): JArray {
  const variance = np.mean(np.square(x.ref), x.ndim - 1, { keepdims: true });
  return x.mul(np.reciprocal(np.sqrt(variance.add(eps)))).mul(g.ref);
}

/** LayerNorm's operations, unfused: x, g and b are consumed. */
function layerNormOps(x: JArray, g: JArray, b: JArray, eps: number): JArray {
  const axis = x.ndim - 1;
  const mean = np.mean(x.ref, axis, { keepdims: true });
  const centered = x.sub(mean);
  const variance = np.mean(np.square(centered.ref), axis, { keepdims: true });
  const normed = centered.mul(np.reciprocal(np.sqrt(variance.add(eps))));
  return normed.mul(g).add(b);
}

/**
 * LayerNorm under `jit` (eps static): jax-js fuses its elementwise work into a few kernels, and
 * its gradient (jit's JVP and transpose are jitted too) likewise, instead of one kernel per
 * operation and a dispatch each (bench/RESULTS.md, "Model-level speed levers"). The trace is
 * cached per input shape (jax-js keeps 64, patch 8).
 */
const layerNormFused = jit((x: JArray, g: JArray, b: JArray, eps: number) => layerNormOps(x, g, b, eps), { staticArgnums: [3] });

/** LayerNorm over the last axis (biased variance, as torch). */
export function layerNorm(p: LayerNormParams, x: JArray, eps: number): JArray {
  return layerNormFused(x, p.g.ref, p.b.ref, eps);
}

/**
 * softmax(scores · scale + bias) over the last axis, under `jit` (scale static) so that the
 * scaling, the mask bias and the softmax (and their gradient) run as a few fused kernels.
 * `scores` and `bias` (broadcast against scores) are consumed.
 */
export const scaledMaskedSoftmax = jit((scores: JArray, bias: JArray, scale: number) => nn.softmax(scores.mul(scale).add(bias), -1), { staticArgnums: [2] });

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
