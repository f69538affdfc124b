/**
 * Binary masks of ProPETL (paper Sec. 3.3, edge-popup): top-k thresholding of |scores|, the
 * straight-through estimator, OR/AND combination of layer and task masks (Sec. 3.4), score
 * initialisation, and a small seeded host RNG used for initialisation and random masks.
 *
 * k is the KEPT fraction (the authors' code calls it `sparsity`). A mask over n entries keeps
 * exactly n − ⌊(1−k)·n⌋ entries, as the authors' `GetSubnet` (it zeroes the j = ⌊(1−k)·n⌋
 * smallest). Ties in |s| are broken by flat index: among equal magnitudes the LOWER index is
 * kept. The device and host versions give identical masks for identical float32 scores.
 */
import { lax, np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { HybridRule } from "./combine-rule.js";

/** Number of ones in a mask of `n` entries with kept fraction `k`: n − ⌊(1−k)·n⌋. */
export function keptCount(n: number, k: number): number {
  checkK(k, "k");
  return n - Math.floor((1 - k) * n);
}

/** Throws unless 0 < k ≤ 1. `name` labels the error. */
export function checkK(k: unknown, name: string): number {
  if (typeof k !== "number" || !Number.isFinite(k) || k <= 0 || k > 1) {
    throw new RangeError(`${name} must be a number in (0, 1] (the kept fraction of a mask), got ${String(k)}`);
  }
  return k;
}

/**
 * Top-k mask of magnitudes `a` (any shape; values compared as given, so pass |s|): float32
 * 0/1 of the same shape, keeping `keptCount(size, k)` entries, ties to the lower flat index.
 * Consumes `a`; the result carries no gradient (argsort is not differentiable: wrap the input
 * in `lax.stopGradient` when it is traced).
 */
export function topKMask(a: JArray, k: number): JArray {
  const shape = a.shape;
  const n = a.size;
  const K = keptCount(n, k);
  if (K >= n) {
    a.dispose();
    return np.ones(shape);
  }
  // Stable argsort of −a: descending magnitude, lower index first among ties. Its K-th entry j
  // is the last one kept, with value t = a[j]: the kept entries are those above t and those
  // equal to t at an index ≤ j. One argsort (the old inverse-permutation argsort for the ranks
  // cost as much again: bench/RESULTS.md, "Model-level speed levers").
  const flat = a.reshape([n]);
  const order = np.argsort(np.negative(flat.ref));
  const last = order.slice([K - 1, K]);
  const index = np.arange(n, undefined, undefined, { dtype: np.int32 });
  const isLast = index.ref.equal(last.ref);
  const t = np.max(np.where(isLast, flat.ref, -Infinity), 0, { keepdims: true });
  const tied = flat.ref.equal(t.ref).mul(index.lessEqual(last));
  return flat.greater(t).add(tied).astype(np.float32).reshape(shape);
}

/**
 * Straight-through mask of learned scores (consumed): the forward value is exactly
 * `topKMask(|s|, k)` (computed as m + (|s| − stopGradient(|s|)), which adds an exact zero),
 * and the backward pass treats the thresholding as the identity on |s|, as the authors'
 * `GetSubnet.apply(scores.abs(), k)`. Hence
 *
 *     ∂L/∂s = sign(s) ⊙ ∂L/∂m,   and for a masked weight w̃ = θ ⊙ m:  ∂L/∂s = sign(s) ⊙ θ ⊙ ∂L/∂w̃.
 */
export function straightThroughMask(scores: JArray, k: number): JArray {
  const a = np.abs(scores);
  const m = topKMask(lax.stopGradient(a.ref), k);
  return m.add(a.ref.sub(lax.stopGradient(a)));
}

/**
 * Hybrid mask of a layer mask and a task mask (both consumed, broadcastable) under the rules
 * that combine two masks (combine-rule.ts has the others, "layer" and "task"): OR is
 * 1 − (1 − a)(1 − b), so ∂/∂a = 1 − b and ∂/∂b = 1 − a reach both; AND is a·b. For 0/1 inputs
 * both are exact.
 */
export function combineMasks(layer: JArray, task: JArray, rule: HybridRule): JArray {
  if (rule === "and") return layer.mul(task);
  const keepNeither = np.subtract(1, layer).mul(np.subtract(1, task));
  return np.subtract(1, keepNeither);
}

/** Host top-k mask (0/1 bytes) of |scores| with the same count and tie rule as `topKMask`. */
export function topKMaskHost(scores: ArrayLike<number>, k: number): Uint8Array {
  const n = scores.length;
  const K = keptCount(n, k);
  const out = new Uint8Array(n);
  if (K >= n) return out.fill(1);
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.abs(scores[i]);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((x, y) => mag[y] - mag[x] || x - y);
  for (let j = 0; j < K; j++) out[idx[j]] = 1;
  return out;
}

/** Host OR / AND of two 0/1 masks of equal length. */
export function combineMasksHost(layer: Uint8Array, task: Uint8Array, rule: HybridRule): Uint8Array {
  if (layer.length !== task.length) throw new RangeError(`mask lengths differ: ${layer.length} vs ${task.length}`);
  const out = new Uint8Array(layer.length);
  for (let i = 0; i < out.length; i++) out[i] = rule === "or" ? layer[i] | task[i] : layer[i] & task[i];
  return out;
}

/**
 * Small deterministic PRNG (splitmix32) for initialisation and random masks. Host-side so
 * that a seed gives the same values on every backend.
 */
export class HostRng {
  private state: number;
  constructor(seed: number) {
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }
  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform in [0, 1) with 24 random bits. */
  uniform(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
  /** Float32 samples, uniform in [lo, hi). */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }
  /** Float32 samples from N(0, std²) (Box–Muller). */
  normalArray(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - this.uniform();
      const u2 = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u1)) * std;
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }
  /** A derived generator (independent stream), e.g. one per tensor. */
  fork(): HostRng {
    return new HostRng(this.nextU32());
  }
}

/** PyTorch's fan-in of a weight shape: shape[1] · (product of the remaining axes); shape[0] for 1-D. */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) return shape[0] ?? 1;
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * kaiming_uniform_(a) as PyTorch: U(−b, b) with b = √(6 / ((1 + a²)·fan_in)). With the default
 * a = √5 (edge-popup scores, nn.Linear weights, LoRA A) this is b = 1/√fan_in.
 */
export function kaimingUniform(rng: HostRng, shape: readonly number[], a = Math.sqrt(5)): JArray {
  const n = shape.reduce((x, y) => x * y, 1);
  const bound = Math.sqrt(6 / ((1 + a * a) * fanIn(shape)));
  return np.array(rng.uniformArray(n, -bound, bound)).reshape([...shape]);
}

/** A fixed random mask (not learned): top-k of uniform host samples, so exactly keptCount ones. */
export function randomMaskHost(rng: HostRng, n: number, k: number): Uint8Array {
  return topKMaskHost(rng.uniformArray(n, 0, 1), k);
}

/**
 * A value computed at most once per forward pass and read a known number of times: the first
 * `take()` computes it, every read but the last gets a new reference, and the last read hands
 * the value over, so nothing is left to free when all reads happen (as in one encoder pass).
 */
export class SharedValue {
  private value: JArray | undefined;
  private left: number;
  constructor(
    private readonly make: () => JArray,
    reads: number,
  ) {
    this.left = reads;
  }
  take(): JArray {
    if (this.left <= 0) throw new Error("SharedValue read more often than declared");
    this.value ??= this.make();
    this.left--;
    if (this.left === 0) {
      const v = this.value;
      this.value = undefined;
      return v;
    }
    return this.value.ref;
  }
}
