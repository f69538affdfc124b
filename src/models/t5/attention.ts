/**
 * T5's attention sublayer, the one implementation that both the full (teacher-forced) pass in
 * model.ts and the incremental decoder in decode-cache.ts run: `x + o(attention(RMSNorm(x)))`
 * with T5's unscaled scores `q kᵀ + bias` (HF `T5Attention` / `T5LayerSelfAttention` /
 * `T5LayerCrossAttention`).
 *
 * It is split where the two paths differ: `attentionKeyValues` projects keys and values from
 * their source (the normed sequence in self-attention, the encoder output in
 * cross-attention) and puts the prefix hook's keys/values in front; `attend` projects the
 * queries, attends over given keys/values with a given bias and adds the residual. The full
 * pass calls both per block; the incremental decoder keeps the keys/values (appending one
 * position per step in self-attention, computing cross-attention's once per input) and calls
 * `attend` per step.
 *
 * Ownership: parameters are BORROWED (every use takes `.ref`); activations are consumed
 * unless said otherwise.
 */
import { np, nn } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import { prependPrefix } from "../attention-prefix.js";
import type { LayerHooks, PrefixHook, ProjectionHook, SublayerHook } from "../hooks.js";
import { project } from "../layers.js";
import type { T5Config } from "./config.js";
import type { T5AttentionParams } from "./params.js";

/** The hooks of one attention: self-attention's, or cross-attention's under the self names. */
export interface AttentionHooks {
  query?: ProjectionHook;
  key?: ProjectionHook;
  value?: ProjectionHook;
  prefix?: PrefixHook;
  output?: SublayerHook;
}

export function selfHooks(h: LayerHooks | undefined): AttentionHooks {
  return { query: h?.query, key: h?.key, value: h?.value, prefix: h?.prefix, output: h?.attentionOutput };
}

export function crossHooks(h: LayerHooks | undefined): AttentionHooks {
  return { query: h?.crossQuery, key: h?.crossKey, value: h?.crossValue, prefix: h?.crossPrefix, output: h?.crossAttentionOutput };
}

/** Projected keys and values [B, P+M, inner] with the P prefix positions in front. */
export interface KeyValues {
  /** Keys, [B, P+M, inner]. */
  key: JArray;
  /** Values, [B, P+M, inner]. */
  value: JArray;
  /** P: how many prefix positions lead the keys (0 without a prefix hook). */
  prefixLength: number;
}

/** [B,S,inner] -> [B,heads,S,d_kv] */
function splitHeads(x: JArray, heads: number): JArray {
  const [B, S, inner] = x.shape;
  return x.reshape([B, S, heads, inner / heads]).transpose([0, 2, 1, 3]);
}

/**
 * Keys and values of an attention from `source` [B, M, d] (BORROWED): the k/v projections
 * with their hooks, and, when `withPrefix` and the hooks have one, the prefix's keys/values
 * (for `batchSize` rows) in front.
 */
export function attentionKeyValues(p: T5AttentionParams, source: JArray, hooks: AttentionHooks, withPrefix = true): KeyValues {
  let key = project(p.k, source.ref);
  if (hooks.key) key = hooks.key(source, key);
  let value = project(p.v, source.ref);
  if (hooks.value) value = hooks.value(source, value);
  if (!withPrefix || !hooks.prefix) return { key, value, prefixLength: 0 };
  const pre = prependPrefix(hooks.prefix(source.shape[0]), key, value);
  return { key: pre.key, value: pre.value, prefixLength: pre.length };
}

/**
 * The attention's output added to the residual: `x + o(softmax(q kᵀ + bias) v)` for queries
 * from `normed` [B,Tq,d] (RMSNorm(x), consumed), keys/values `kv` [B,Tk,inner] (BORROWED) and
 * the additive `bias` [B|1, heads|1, Tq|1, Tk] (consumed; masks included). `x` [B,Tq,d] is
 * consumed.
 */
export function attend(cfg: T5Config, p: T5AttentionParams, x: JArray, normed: JArray, kv: { key: JArray; value: JArray }, bias: JArray, hooks: AttentionHooks): JArray {
  const heads = cfg.numHeads;
  const [B, Tq] = x.shape;
  let q = project(p.q, normed.ref);
  if (hooks.query) q = hooks.query(normed, q);
  normed.dispose();
  const qh = splitHeads(q, heads);
  const kh = splitHeads(kv.key.ref, heads).transpose([0, 1, 3, 2]);
  const vh = splitHeads(kv.value.ref, heads);
  const probs = nn.softmax(np.matmul(qh, kh).add(bias), -1);
  const ctx = np.matmul(probs, vh).transpose([0, 2, 1, 3]).reshape([B, Tq, heads * cfg.dKv]);
  let h = project(p.o, ctx);
  if (hooks.output) h = hooks.output(h, { residual: x, norm: null });
  return x.add(h);
}
