/**
 * T5 as pure functions over parameter trees, matching Hugging Face
 * `T5ForConditionalGeneration` in eval mode (no dropout):
 *   - pre-LN blocks, `x + sublayer(RMSNorm(x))`, and a final RMSNorm per stack;
 *   - no biases, and no 1/√d scaling of the attention scores;
 *   - a relative-position bias (bidirectional buckets in the encoder, causal in the decoder)
 *     computed from block 0's table and shared by every block of the stack; cross-attention
 *     has none; padding masks in both stacks, causal + padding in the decoder;
 *   - the LM head: the shared embeddings with the decoder output scaled by d_model^-0.5 when
 *     tied (v1.0), `lm_head.weight` without rescaling when untied (v1.1, FLAN-T5).
 *
 * Hook sites (models/hooks.ts) in every block of both stacks: `query` `key` `value` (the
 * projections' outputs, from the normed input), `prefix`, `attentionOutput` (the o
 * projection's output before the residual add), `ffnOutput` (wo's output before the residual
 * add); decoder blocks add the cross-attention's `crossQuery` (from the normed decoder
 * state), `crossKey` `crossValue` (from the encoder output), `crossPrefix` and
 * `crossAttentionOutput`. Sublayer-output hooks get the block's residual input and `norm:
 * null` (pre-LN: the residual is added without a norm).
 *
 * Prefix keys/values sit before the sequence, as Hugging Face treats past key/values: in
 * self-attention they are always attended (in the decoder too) and get the position bias of
 * positions -P..-1; in cross-attention they are attended with no position bias.
 *
 * The attention math lives in attention.ts, shared with the incremental decoder of
 * decode-cache.ts (generation), which also reuses `embed`, `ffnBlock` and `checkHooks` from
 * here: the two paths run the same functions.
 *
 * Ownership: parameters are BORROWED (every use takes `.ref`); activations are consumed.
 */
import { np } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import { runLayersSettled } from "../../engine/layer-by-layer.js";
import { weightedCrossEntropy } from "../cross-entropy.js";
import type { ModelHooks, SublayerHook } from "../hooks.js";
import { activation, project, rmsNorm } from "../layers.js";
import { attend, attentionKeyValues, crossHooks, selfHooks } from "./attention.js";
import type { AttentionHooks } from "./attention.js";
import type { T5Batch, T5EncoderBatch, T5Labels } from "./batch.js";
import type { T5Config } from "./config.js";
import type { T5AttentionParams, T5DecoderLayerParams, T5EncoderLayerParams, T5FfnParams, T5Params } from "./params.js";
import { positionBias } from "./relative-position.js";
import type { BucketSpec } from "./relative-position.js";

/** The additive attention bias of a stack's self- or cross-attention: for the sequence's keys, and for P prefix keys. */
export interface T5KeyBias {
  /** [B|1, heads|1, Tq, Tk] incl. the mask (borrowed by the attention). */
  keys: JArray;
  /** [1, heads|1, Tq|1, P] (owned by the caller): prefix keys are always attended. */
  prefix(P: number): JArray;
}

/**
 * One attention sublayer over the whole sequence (attention.ts): keys and values from `kv`
 * (the encoder output, for cross-attention; borrowed) or, for self-attention (null), from the
 * normed x. `x` [B,Tq,d] is consumed.
 */
function attentionBlock(cfg: T5Config, p: T5AttentionParams, ln: JArray, x: JArray, kv: JArray | null, bias: T5KeyBias, hooks: AttentionHooks): JArray {
  const normed = rmsNorm(ln, x.ref, cfg.layerNormEps);
  const keys = attentionKeyValues(p, kv ?? normed, hooks);
  let keyBias = bias.keys.ref;
  if (keys.prefixLength > 0) {
    const [bB, bH, bQ] = keyBias.shape;
    const P = keys.prefixLength;
    keyBias = np.concatenate([np.broadcastTo(bias.prefix(P), [bB, bH, bQ, P]), keyBias], 3);
  }
  try {
    return attend(cfg, p, x, normed, keys, keyBias, hooks);
  } finally {
    keys.key.dispose();
    keys.value.dispose();
  }
}

/** The FFN's output before the residual: `wo(relu(wi x))` or `wo(gelu_new(wi_0 x) * wi_1 x)`. x consumed. */
function ffn(p: T5FfnParams, x: JArray): JArray {
  if ("wi0" in p) return project(p.wo, activation("gelu_new", project(p.wi0, x.ref)).mul(project(p.wi1, x)));
  return project(p.wo, activation("relu", project(p.wi, x)));
}

/** The FFN sublayer `x + ffn(RMSNorm(x))`; x [B,T,d] consumed. */
export function ffnBlock(cfg: T5Config, p: T5EncoderLayerParams, x: JArray, hook: SublayerHook | undefined): JArray {
  let h = ffn(p.ffn, rmsNorm(p.ffnLn, x.ref, cfg.layerNormEps));
  if (hook) h = hook(h, { residual: x, norm: null });
  return x.add(h);
}

/** Embedding rows [B, L, d] of int32 ids [B*L] (borrowed). T5's embedding has no padding_idx: every row gets its gradient. */
export function embed(cfg: T5Config, p: T5Params, ids: JArray, B: number, L: number): JArray {
  return p.shared.ref.slice(ids.ref).reshape([B, L, cfg.dModel]);
}

export function bucketSpec(cfg: T5Config, bidirectional: boolean): BucketSpec {
  return { bidirectional, numBuckets: cfg.relativeBuckets, maxDistance: cfg.relativeMaxDistance };
}

/**
 * A stack's self-attention bias: block 0's relative-position bias plus the mask, and prefix
 * biases by length (made on first use, freed by `dispose`).
 */
function selfBias(table: JArray, mask: JArray, length: number, spec: BucketSpec): T5KeyBias & { dispose(): void } {
  const keys = positionBias(table, length, length, 0, spec).add(mask.ref);
  const prefixes = new Map<number, JArray>();
  return {
    keys,
    prefix(P) {
      let b = prefixes.get(P);
      if (b === undefined) {
        b = positionBias(table, length, P, P, spec);
        prefixes.set(P, b);
      }
      return b.ref;
    },
    dispose() {
      keys.dispose();
      for (const b of prefixes.values()) b.dispose();
    },
  };
}

export function checkHooks(cfg: T5Config, hooks: ModelHooks | undefined): void {
  const enc = hooks?.encoder;
  const dec = hooks?.decoder;
  if (enc && enc.length > cfg.numLayers) throw new Error(`hooks for ${enc.length} encoder layers, but the model has ${cfg.numLayers}`);
  if (dec && dec.length > cfg.numDecoderLayers) throw new Error(`hooks for ${dec.length} decoder layers, but the model has ${cfg.numDecoderLayers}`);
  enc?.forEach((h, i) => {
    const cross = h && (["crossQuery", "crossKey", "crossValue", "crossPrefix", "crossAttentionOutput"] as const).find((s) => h[s] !== undefined);
    if (cross) throw new Error(`encoder.layer.${i}: T5 encoder blocks have no cross-attention, but a ${cross} hook was given`);
  });
}

/** The encoder's last hidden states [B, S, d] (after its final RMSNorm); `hooks.encoder[i]` attaches to block i. */
export function t5Encode(cfg: T5Config, p: T5Params, batch: T5EncoderBatch, hooks?: ModelHooks): JArray {
  checkHooks(cfg, hooks);
  let h = embed(cfg, p, batch.inputIds, batch.batchSize, batch.encoderLength);
  const bias = t5EncoderBias(cfg, p, batch);
  try {
    for (let i = 0; i < cfg.numLayers; i++) h = t5EncoderBlock(cfg, p, i, h, bias, hooks);
  } finally {
    bias.dispose();
  }
  return t5EncoderOutput(cfg, p, h);
}

/** The encoder's self-attention bias for a batch (position bias + padding mask; dispose it after the pass). */
export function t5EncoderBias(cfg: T5Config, p: T5Params, batch: T5EncoderBatch): T5KeyBias & { dispose(): void } {
  return selfBias(p.encoder.relativeBias, batch.encoderMaskBias, batch.encoderLength, bucketSpec(cfg, true));
}

/** The encoder's final RMSNorm over the last block's output h (consumed): the encoder output. */
export function t5EncoderOutput(cfg: T5Config, p: T5Params, h: JArray): JArray {
  return rmsNorm(p.encoder.finalLn, h, cfg.layerNormEps);
}

/**
 * Encoder block i over h [B,S,d] (consumed) with its hooks (`hooks.encoder[i]`): self-attention,
 * then the FFN. The one block body of `t5Encode`, `t5EncodeAsync` and the rematerialised
 * gradient (train/seq2seq-remat.ts). `bias` from `t5EncoderBias` (borrowed).
 */
export function t5EncoderBlock(cfg: T5Config, p: T5Params, i: number, h: JArray, bias: T5KeyBias, hooks: ModelHooks | undefined): JArray {
  const layer = p.encoder.layers[i];
  const lh = hooks?.encoder?.[i];
  return ffnBlock(cfg, layer, attentionBlock(cfg, layer.selfAttention, layer.selfLn, h, null, bias, selfHooks(lh)), lh?.ffnOutput);
}

/**
 * `t5Encode` for inference, block by block (engine/layer-by-layer.ts): each block's pending
 * work runs before the next is recorded, so the pass holds one block's intermediates; the
 * result is byte-identical to `t5Encode`'s. Training and `jit` keep `t5Encode`.
 */
export async function t5EncodeAsync(cfg: T5Config, p: T5Params, batch: T5EncoderBatch, hooks?: ModelHooks): Promise<JArray> {
  checkHooks(cfg, hooks);
  const bias = t5EncoderBias(cfg, p, batch);
  let h: JArray;
  try {
    h = await runLayersSettled(embed(cfg, p, batch.inputIds, batch.batchSize, batch.encoderLength), cfg.numLayers, (x, i) => t5EncoderBlock(cfg, p, i, x, bias, hooks));
  } finally {
    bias.dispose();
  }
  return t5EncoderOutput(cfg, p, h);
}

/**
 * The decoder's last hidden states [B, T, d] (after its final RMSNorm) given the encoder's
 * (`encoderStates` [B, S, d], consumed); `hooks.decoder[i]` attaches to block i.
 */
export function t5Decode(cfg: T5Config, p: T5Params, batch: T5Batch, encoderStates: JArray, hooks?: ModelHooks): JArray {
  checkHooks(cfg, hooks);
  let h = embed(cfg, p, batch.decoderInputIds, batch.batchSize, batch.decoderLength);
  const bias = t5DecoderBias(cfg, p, batch);
  try {
    for (let i = 0; i < cfg.numDecoderLayers; i++) h = t5DecoderBlock(cfg, p, i, h, encoderStates, bias, hooks);
  } finally {
    bias.dispose();
    encoderStates.dispose();
  }
  return t5DecoderOutput(cfg, p, h);
}

/** The decoder's attention biases for a batch: self-attention (position bias + causal and padding mask) and cross-attention (the encoder's padding mask). Dispose after the pass. */
export function t5DecoderBias(cfg: T5Config, p: T5Params, batch: T5Batch): { self: T5KeyBias; cross: T5KeyBias; dispose(): void } {
  const self = selfBias(p.decoder.relativeBias, batch.decoderMaskBias, batch.decoderLength, bucketSpec(cfg, false));
  return { self, cross: { keys: batch.encoderMaskBias, prefix: (P) => np.zeros([1, 1, 1, P]) }, dispose: () => self.dispose() };
}

/**
 * Decoder block i over h [B,T,d] (consumed) with its hooks (`hooks.decoder[i]`): causal
 * self-attention, cross-attention over `encoderStates` [B,S,d] (borrowed), then the FFN. The
 * one block body of `t5Decode` and the rematerialised gradient (train/seq2seq-remat.ts).
 */
export function t5DecoderBlock(cfg: T5Config, p: T5Params, i: number, h: JArray, encoderStates: JArray, bias: { self: T5KeyBias; cross: T5KeyBias }, hooks: ModelHooks | undefined): JArray {
  const layer: T5DecoderLayerParams = p.decoder.layers[i];
  const lh = hooks?.decoder?.[i];
  h = attentionBlock(cfg, layer.selfAttention, layer.selfLn, h, null, bias.self, selfHooks(lh));
  h = attentionBlock(cfg, layer.crossAttention, layer.crossLn, h, encoderStates, bias.cross, crossHooks(lh));
  return ffnBlock(cfg, layer, h, lh?.ffnOutput);
}

/** The decoder's final RMSNorm over the last block's output h (consumed): the decoder's last hidden states. */
export function t5DecoderOutput(cfg: T5Config, p: T5Params, h: JArray): JArray {
  return rmsNorm(p.decoder.finalLn, h, cfg.layerNormEps);
}

/** Encoder then decoder: the decoder's last hidden states [B, T, d], with hooks in both stacks. */
export function t5Forward(cfg: T5Config, p: T5Params, batch: T5Batch, hooks?: ModelHooks): JArray {
  return t5Decode(cfg, p, batch, t5Encode(cfg, p, batch, hooks), hooks);
}

/** LM logits [B, T, vocab] from the decoder's hidden states (consumed). */
export function t5LmLogits(cfg: T5Config, p: T5Params, decoderStates: JArray): JArray {
  if (cfg.tieWordEmbeddings) return project({ w: p.shared }, decoderStates.mul(cfg.dModel ** -0.5));
  if (!p.lmHead) throw new Error("the T5 parameters have no lmHead, but config.json says tie_word_embeddings is false");
  return project(p.lmHead, decoderStates);
}

/**
 * Teacher-forced loss: the mean cross-entropy of logits [B, T, vocab] (consumed) over the
 * positions with a label (HF's `labels`, -100 for none; `makeT5Labels`, borrowed).
 */
export function t5Loss(cfg: T5Config, logits: JArray, labels: T5Labels): JArray {
  return weightedCrossEntropy(logits.reshape([-1, cfg.vocabSize]), labels.targets.ref, labels.weights.ref, cfg.vocabSize);
}
