/**
 * T5 parameter trees and their Hugging Face names (the architecture's tensor slots), as
 * `T5ForConditionalGeneration` stores them. No tensor has a bias; linear weights keep
 * PyTorch's [out, in] layout. Only block 0 of each stack has a relative-attention bias
 * (`relativeBias` of the stack: the other blocks reuse it).
 */
import type { JArray } from "../../engine/jax.js";
import type { Projection } from "../layers.js";
import type { ParamSlot } from "../slots.js";
import type { T5Config } from "./config.js";

/** One attention: projections q, k, v [inner, d_model] and o [d_model, inner] (inner = heads * d_kv). */
export type T5AttentionParams = {
  /** Query projection, [inner, d_model]. */
  q: Projection;
  /** Key projection, [inner, d_model]. */
  k: Projection;
  /** Value projection, [inner, d_model]. */
  v: Projection;
  /** Output projection, [d_model, inner]. */
  o: Projection;
};

/** FFN `relu` (DenseReluDense: wo(relu(wi x))). */
export type T5ReluFfnParams = {
  /** Input projection, [d_ff, d_model]. */
  wi: Projection;
  /** Output projection, [d_model, d_ff]. */
  wo: Projection;
};
/** FFN `gated-gelu` (wo(gelu_new(wi_0 x) * wi_1 x)). */
export type T5GatedFfnParams = {
  /** Gate projection (through gelu_new), [d_ff, d_model]. */
  wi0: Projection;
  /** Linear projection, [d_ff, d_model]. */
  wi1: Projection;
  /** Output projection, [d_model, d_ff]. */
  wo: Projection;
};
/** A block's FFN, by `T5Config.feedForwardProj`. */
export type T5FfnParams = T5ReluFfnParams | T5GatedFfnParams;

/** An encoder block: self-attention and FFN, each behind its RMS LayerNorm (pre-LN). */
export type T5EncoderLayerParams = {
  /** RMS norm weight before self-attention, [d_model]. */
  selfLn: JArray;
  /** Self-attention. */
  selfAttention: T5AttentionParams;
  /** RMS norm weight before the FFN, [d_model]. */
  ffnLn: JArray;
  /** The FFN. */
  ffn: T5FfnParams;
};

/** A decoder block: self-attention, cross-attention over the encoder output, FFN. */
export type T5DecoderLayerParams = T5EncoderLayerParams & {
  /** RMS norm weight before cross-attention, [d_model]. */
  crossLn: JArray;
  /** Cross-attention (queries from the decoder, keys and values from the encoder output). */
  crossAttention: T5AttentionParams;
};

/** A stack: the relative-attention bias table [buckets, heads] (block 0's), the blocks, the final norm. */
export type T5StackParams<L> = {
  /** Relative-attention bias table, [buckets, heads]. */
  relativeBias: JArray;
  /** The blocks, bottom first. */
  layers: L[];
  /** Final RMS norm weight, [d_model]. */
  finalLn: JArray;
};

/** The whole model: shared embeddings [vocab, d_model], both stacks, and the LM head when untied. */
export type T5Params = {
  /** Shared token embeddings, [vocab, d_model] (encoder, decoder and, when tied, the LM head). */
  shared: JArray;
  /** The encoder stack. */
  encoder: T5StackParams<T5EncoderLayerParams>;
  /** The decoder stack. */
  decoder: T5StackParams<T5DecoderLayerParams>;
  /** The LM head [vocab, d_model] when `tieWordEmbeddings` is false. */
  lmHead?: Projection;
};

/** The HF name every file may use for the shared embeddings (HF ties the other two to it). */
export const SHARED_EMBEDDING_NAMES = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"] as const;

function slot(hfName: string, path: (string | number)[], shape: number[]): ParamSlot {
  return { hfName, prefixed: false, tree: "encoder", path, shape };
}

function attentionSlots(hf: string, path: (string | number)[], cfg: T5Config): ParamSlot[] {
  const inner = cfg.numHeads * cfg.dKv;
  return [
    slot(`${hf}.q.weight`, [...path, "q", "w"], [inner, cfg.dModel]),
    slot(`${hf}.k.weight`, [...path, "k", "w"], [inner, cfg.dModel]),
    slot(`${hf}.v.weight`, [...path, "v", "w"], [inner, cfg.dModel]),
    slot(`${hf}.o.weight`, [...path, "o", "w"], [cfg.dModel, inner]),
  ];
}

function ffnSlots(hf: string, path: (string | number)[], cfg: T5Config): ParamSlot[] {
  const { dModel: d, dFf: f } = cfg;
  if (cfg.feedForwardProj === "gated-gelu") {
    return [
      slot(`${hf}.wi_0.weight`, [...path, "wi0", "w"], [f, d]),
      slot(`${hf}.wi_1.weight`, [...path, "wi1", "w"], [f, d]),
      slot(`${hf}.wo.weight`, [...path, "wo", "w"], [d, f]),
    ];
  }
  return [slot(`${hf}.wi.weight`, [...path, "wi", "w"], [f, d]), slot(`${hf}.wo.weight`, [...path, "wo", "w"], [d, f])];
}

function stackSlots(stack: "encoder" | "decoder", layers: number, cfg: T5Config): ParamSlot[] {
  const out: ParamSlot[] = [];
  const d = cfg.dModel;
  for (let i = 0; i < layers; i++) {
    const hf = `${stack}.block.${i}.layer`;
    const t = [stack, "layers", i];
    out.push(...attentionSlots(`${hf}.0.SelfAttention`, [...t, "selfAttention"], cfg));
    if (i === 0) out.push(slot(`${hf}.0.SelfAttention.relative_attention_bias.weight`, [stack, "relativeBias"], [cfg.relativeBuckets, cfg.numHeads]));
    out.push(slot(`${hf}.0.layer_norm.weight`, [...t, "selfLn"], [d]));
    let ffn = 1;
    if (stack === "decoder") {
      out.push(...attentionSlots(`${hf}.1.EncDecAttention`, [...t, "crossAttention"], cfg), slot(`${hf}.1.layer_norm.weight`, [...t, "crossLn"], [d]));
      ffn = 2;
    }
    out.push(...ffnSlots(`${hf}.${ffn}.DenseReluDense`, [...t, "ffn"], cfg), slot(`${hf}.${ffn}.layer_norm.weight`, [...t, "ffnLn"], [d]));
  }
  out.push(slot(`${stack}.final_layer_norm.weight`, [stack, "finalLn"], [d]));
  return out;
}

/** Every tensor of a T5 model, in HF order (the shared embeddings first, `lm_head.weight` last when untied). */
export function t5Slots(cfg: T5Config): ParamSlot[] {
  return [
    slot(SHARED_EMBEDDING_NAMES[0], ["shared"], [cfg.vocabSize, cfg.dModel]),
    ...stackSlots("encoder", cfg.numLayers, cfg),
    ...stackSlots("decoder", cfg.numDecoderLayers, cfg),
    ...(cfg.tieWordEmbeddings ? [] : [slot("lm_head.weight", ["lmHead", "w"], [cfg.vocabSize, cfg.dModel])]),
  ];
}
