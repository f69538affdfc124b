/**
 * Incremental T5 decoding with a key/value cache (HF `past_key_values`): one decoder position
 * per step instead of re-running the whole prefix of the output.
 *
 *   - Self-attention: each block keeps the keys and values of the positions decoded so far,
 *     appending the new position's at every step; prefix keys/values from a `prefix` hook
 *     sit in front of them from the start, as in the full pass. The new query at decoder
 *     position t (after P prefix positions) gets the causal relative-position bias of
 *     position P+t against keys 0..P+t, the last row of the full pass's bias; every earlier
 *     key is visible, so no mask is needed (generation has no decoder padding).
 *   - Cross-attention: keys and values are computed once per input from the encoder output
 *     (with the `crossKey`/`crossValue` hooks and a `crossPrefix` in front) and reused at
 *     every step, with the encoder padding mask as bias.
 *
 * Every step runs the same functions as the full pass in model.ts (attention.ts `attend` and
 * `attentionKeyValues`, `ffnBlock`, `embed`), so the hooks of PETL methods act identically.
 * Hooks are called at every step (projection and sublayer hooks on the new position; prefix
 * and cross-attention key/value hooks once, in `startT5Decoding`): they must be reusable, as
 * the hooks of materialised modules (`materializedHooks`, `checkpointHooks`) are; a
 * training-mode `method.hooks(...)` is built for one forward pass.
 *
 * Memory: the number of live arrays is constant across steps (each step replaces the
 * cache's arrays); their size grows by one position per step, as any KV cache does.
 *
 * Ownership: parameters are BORROWED; the cache owns its arrays until `disposeT5DecoderCache`.
 */
import { np } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import { runLayersSettled } from "../../engine/layer-by-layer.js";
import type { ModelHooks } from "../hooks.js";
import { rmsNorm } from "../layers.js";
import { attend, attentionKeyValues, crossHooks, selfHooks } from "./attention.js";
import type { KeyValues } from "./attention.js";
import type { T5Config } from "./config.js";
import { bucketSpec, checkHooks, embed, ffnBlock } from "./model.js";
import type { T5Params } from "./params.js";
import { positionBias } from "./relative-position.js";

/** One decoder block's self-attention cache: the prefix and the positions decoded so far. */
export interface SelfCache {
  /** [B, P+t, inner]; null while it is empty (no prefix, no step yet). */
  key: JArray | null;
  /** [B, P+t, inner], as `key`. */
  value: JArray | null;
  /** P: how many prefix positions lead the keys and values. */
  prefixLength: number;
}

/** The state of an incremental decode over a batch of B rows. */
export interface T5DecoderCache {
  /** B: rows decoded together (beams included). */
  readonly batchSize: number;
  /** Decoder positions processed so far (the next step's position). */
  length: number;
  /** The hooks every step uses (borrowed from the caller, who keeps them alive). */
  readonly hooks: ModelHooks | undefined;
  /** Per decoder block. */
  readonly self: SelfCache[];
  /** Per decoder block: cross-attention keys/values [B, P+S, inner], computed once. */
  readonly cross: KeyValues[];
  /** Per decoder block: the cross-attention bias [B, 1, 1, P+S] (padding mask; 0 for prefix keys). */
  readonly crossBias: JArray[];
}

/**
 * Start decoding: cross-attention keys/values of every decoder block from the encoder's last
 * hidden states [B, S, d] (consumed) and its padding-mask bias [B, 1, 1, S] (borrowed; 0 for
 * tokens, float32 min for padding, `makeT5Batch`'s `encoderMaskBias`), and the self-attention
 * caches holding only the prefix hooks' keys/values. `hooks` must stay alive until the cache is
 * disposed.
 */
export function startT5Decoding(cfg: T5Config, p: T5Params, encoderStates: JArray, encoderMaskBias: JArray, hooks?: ModelHooks): T5DecoderCache {
  checkHooks(cfg, hooks);
  const [B, S] = encoderStates.shape;
  const [mB, , , mS] = encoderMaskBias.shape;
  if (encoderMaskBias.ndim !== 4 || mB !== B || mS !== S) {
    encoderStates.dispose();
    throw new Error(`startT5Decoding: the encoder mask bias has shape [${encoderMaskBias.shape.join(",")}], expected [${B},1,1,${S}] for encoder states [${encoderStates.shape.join(",")}]`);
  }
  const cache: T5DecoderCache = { batchSize: B, length: 0, hooks, self: [], cross: [], crossBias: [] };
  try {
    for (let i = 0; i < cfg.numDecoderLayers; i++) {
      const layer = p.decoder.layers[i];
      const lh = hooks?.decoder?.[i];
      const self: SelfCache = { key: null, value: null, prefixLength: 0 };
      if (lh?.prefix) {
        const pre = lh.prefix(B);
        const [, P, W] = pre.key.shape;
        self.key = pre.key.shape[0] === B ? pre.key : np.broadcastTo(pre.key, [B, P, W]);
        self.value = pre.value.shape[0] === B ? pre.value : np.broadcastTo(pre.value, [B, P, W]);
        self.prefixLength = P;
      }
      cache.self.push(self);
      const kv = attentionKeyValues(layer.crossAttention, encoderStates, crossHooks(lh));
      cache.cross.push(kv);
      const P = kv.prefixLength;
      cache.crossBias.push(P > 0 ? np.concatenate([np.zeros([B, 1, 1, P]), encoderMaskBias.ref], 3) : encoderMaskBias.ref);
    }
  } catch (e) {
    disposeT5DecoderCache(cache);
    throw e;
  } finally {
    encoderStates.dispose();
  }
  return cache;
}

/**
 * One decoding step: the tokens at the current position, one per row (host ids), through
 * every decoder block with the cache; returns the decoder's last hidden states [B, 1, d] for
 * that position (after the final RMSNorm; `t5LmLogits` turns them into logits) and appends the
 * position's self-attention keys/values to the cache.
 */
export function t5DecodeStep(cfg: T5Config, p: T5Params, cache: T5DecoderCache, tokenIds: Int32Array): JArray {
  const step = beginStep(cfg, p, cache, tokenIds);
  let h = step.h;
  try {
    for (let i = 0; i < cfg.numDecoderLayers; i++) h = decodeBlock(cfg, p, cache, i, h, step.selfBias);
  } finally {
    step.dispose();
  }
  cache.length += 1;
  return rmsNorm(p.decoder.finalLn, h, cfg.layerNormEps);
}

/**
 * `t5DecodeStep` block by block (engine/layer-by-layer.ts): each block's pending work (its
 * cache update, a pending reorder of its cache rows, its attention over the cached keys and
 * values) runs before the next block is recorded, so a step holds one block's intermediates
 * and one block's old and new cache instead of every block's. Byte-identical to `t5DecodeStep`
 * (the same per-block function); generation (`t5Generate`) uses it.
 */
export async function t5DecodeStepAsync(cfg: T5Config, p: T5Params, cache: T5DecoderCache, tokenIds: Int32Array): Promise<JArray> {
  const step = beginStep(cfg, p, cache, tokenIds);
  let h: JArray;
  try {
    h = await runLayersSettled(step.h, cfg.numDecoderLayers, (x, i) => decodeBlock(cfg, p, cache, i, x, step.selfBias));
  } finally {
    step.dispose();
  }
  cache.length += 1;
  return rmsNorm(p.decoder.finalLn, h, cfg.layerNormEps);
}

/** A step's embedded tokens [B, 1, d] and the new position's causal self-attention bias by prefix length (freed by `dispose`). */
function beginStep(cfg: T5Config, p: T5Params, cache: T5DecoderCache, tokenIds: Int32Array): { h: JArray; selfBias: (P: number) => JArray; dispose(): void } {
  const B = cache.batchSize;
  if (tokenIds.length !== B) throw new Error(`t5DecodeStep: ${tokenIds.length} token ids for a cache of ${B} rows`);
  for (let r = 0; r < B; r++) {
    const id = tokenIds[r];
    if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize) throw new Error(`t5DecodeStep: token id ${id} of row ${r} is outside the vocabulary (size ${cfg.vocabSize})`);
  }
  const ids = np.array(tokenIds, { dtype: np.int32 });
  const h = embed(cfg, p, ids, B, 1);
  ids.dispose();
  const t = cache.length;
  const spec = bucketSpec(cfg, false);
  // The new position's causal bias against P prefix keys and t+1 sequence keys, by P.
  const biases = new Map<number, JArray>();
  return {
    h,
    selfBias: (P) => {
      let b = biases.get(P);
      if (b === undefined) {
        b = positionBias(p.decoder.relativeBias, 1, P + t + 1, P + t, spec);
        biases.set(P, b);
      }
      return b.ref;
    },
    dispose: () => {
      for (const b of biases.values()) b.dispose();
    },
  };
}

/** Decoder block i of a step over h [B, 1, d] (consumed): appends the position's keys/values to block i's cache. */
function decodeBlock(cfg: T5Config, p: T5Params, cache: T5DecoderCache, i: number, h: JArray, selfBias: (P: number) => JArray): JArray {
  const layer = p.decoder.layers[i];
  const lh = cache.hooks?.decoder?.[i];
  const sh = selfHooks(lh);
  const c = cache.self[i];
  const normed = rmsNorm(layer.selfLn, h.ref, cfg.layerNormEps);
  const fresh = attentionKeyValues(layer.selfAttention, normed, sh, false);
  c.key = c.key === null ? fresh.key : np.concatenate([c.key, fresh.key], 1);
  c.value = c.value === null ? fresh.value : np.concatenate([c.value, fresh.value], 1);
  h = attend(cfg, layer.selfAttention, h, normed, { key: c.key, value: c.value }, selfBias(c.prefixLength), sh);
  const normedCross = rmsNorm(layer.crossLn, h.ref, cfg.layerNormEps);
  h = attend(cfg, layer.crossAttention, h, normedCross, cache.cross[i], cache.crossBias[i].ref, crossHooks(lh));
  return ffnBlock(cfg, layer, h, lh?.ffnOutput);
}

/** Rows `rows` of a [B, ...] array (consumed): row r of the result is row rows[r]. */
function gatherRows(x: JArray, rows: JArray): JArray {
  return np.take(x, rows.ref, 0);
}

/**
 * Reorder the cache's rows (beam search): row r continues from row `rows[r]`. `which` "self"
 * moves only the self-attention caches; that suffices when rows only move between rows with
 * the same encoder input (the beams of one input), whose cross-attention entries are equal.
 */
export function reorderT5DecoderCache(cache: T5DecoderCache, rows: Int32Array, which: "self" | "all" = "all"): void {
  const B = cache.batchSize;
  if (rows.length !== B) throw new Error(`reorderT5DecoderCache: ${rows.length} row indices for a cache of ${B} rows`);
  for (let r = 0; r < B; r++) {
    if (!Number.isInteger(rows[r]) || rows[r] < 0 || rows[r] >= B) throw new Error(`reorderT5DecoderCache: row index ${rows[r]} at ${r} is outside [0, ${B})`);
  }
  const idx = np.array(rows, { dtype: np.int32 });
  try {
    for (const c of cache.self) {
      if (c.key !== null) c.key = gatherRows(c.key, idx);
      if (c.value !== null) c.value = gatherRows(c.value, idx);
    }
    if (which === "all") {
      cache.cross.forEach((kv, i) => {
        kv.key = gatherRows(kv.key, idx);
        kv.value = gatherRows(kv.value, idx);
        cache.crossBias[i] = gatherRows(cache.crossBias[i], idx);
      });
    }
  } finally {
    idx.dispose();
  }
}

/** Free the cache's arrays (not the hooks). */
export function disposeT5DecoderCache(cache: T5DecoderCache): void {
  for (const c of cache.self) {
    c.key?.dispose();
    c.value?.dispose();
    c.key = null;
    c.value = null;
  }
  for (const kv of cache.cross) {
    kv.key.dispose();
    kv.value.dispose();
  }
  for (const b of cache.crossBias) b.dispose();
  cache.cross.length = 0;
  cache.crossBias.length = 0;
}
