/**
 * BERT / RoBERTa parameter trees (encoder and classification head) and their Hugging Face
 * names (the architecture's tensor slots).
 */
import type { JArray } from "../../engine/jax.js";
import type { LayerNormParams, Linear } from "../layers.js";
import type { ParamSlot } from "../slots.js";
import type { EncoderConfig } from "./config.js";

export type { LayerNormParams, Linear };

/** One transformer layer's weights (HF `encoder.layer.{i}`); linear weights are [out, in]. */
export type EncoderLayerParams = {
  /** Self-attention query projection, [hidden, hidden]. */
  query: Linear;
  /** Self-attention key projection, [hidden, hidden]. */
  key: Linear;
  /** Self-attention value projection, [hidden, hidden]. */
  value: Linear;
  /** Attention output dense, [hidden, hidden]. */
  attnOut: Linear;
  /** LayerNorm after the attention's residual. */
  attnLn: LayerNormParams;
  /** FFN's first dense, [intermediate, hidden]. */
  inter: Linear;
  /** FFN's second dense, [hidden, intermediate]. */
  out: Linear;
  /** LayerNorm after the FFN's residual. */
  outLn: LayerNormParams;
};

/** The embedding tables (HF `embeddings.*`). */
export type EmbeddingParams = {
  /** Word embeddings, [vocab, hidden]. */
  word: JArray;
  /** Position embeddings, [maxPositions, hidden]. */
  position: JArray;
  /** Segment (token type) embeddings, [typeVocab, hidden]. */
  tokenType: JArray;
  /** LayerNorm over the embeddings' sum. */
  ln: LayerNormParams;
};

/** The backbone: embeddings and transformer layers (BertModel / RobertaModel without pooler). */
export type EncoderParams = {
  /** The embedding tables. */
  embeddings: EmbeddingParams;
  /** The transformer layers, bottom first. */
  layers: EncoderLayerParams[];
};

/**
 * Sequence-classification head: dense + tanh on the first token, then a projection to the
 * labels. BERT: `bert.pooler.dense` + `classifier`; RoBERTa: `classifier.dense` + `classifier.out_proj`.
 */
export type HeadParams = {
  /** The pooler (BERT) or the head's dense layer (RoBERTa), [hidden, hidden], tanh after it. */
  dense: Linear;
  /** The projection to the labels, [numLabels, hidden]. */
  out: Linear;
};

function linearSlots(hf: string, tree: ParamSlot["tree"], path: (string | number)[], inDim: number, outDim: number, prefixed: boolean): ParamSlot[] {
  return [
    { hfName: `${hf}.weight`, prefixed, tree, path: [...path, "w"], shape: [outDim, inDim] },
    { hfName: `${hf}.bias`, prefixed, tree, path: [...path, "b"], shape: [outDim] },
  ];
}

function lnSlots(hf: string, path: (string | number)[], dim: number): ParamSlot[] {
  return [
    { hfName: `${hf}.weight`, prefixed: true, tree: "encoder", path: [...path, "g"], shape: [dim] },
    { hfName: `${hf}.bias`, prefixed: true, tree: "encoder", path: [...path, "b"], shape: [dim] },
  ];
}

/** Every encoder tensor of a config, in HF order. */
export function encoderSlots(cfg: EncoderConfig): ParamSlot[] {
  const H = cfg.hiddenSize;
  const slots: ParamSlot[] = [
    { hfName: "embeddings.word_embeddings.weight", prefixed: true, tree: "encoder", path: ["embeddings", "word"], shape: [cfg.vocabSize, H] },
    { hfName: "embeddings.position_embeddings.weight", prefixed: true, tree: "encoder", path: ["embeddings", "position"], shape: [cfg.maxPositions, H] },
    { hfName: "embeddings.token_type_embeddings.weight", prefixed: true, tree: "encoder", path: ["embeddings", "tokenType"], shape: [cfg.typeVocabSize, H] },
    ...lnSlots("embeddings.LayerNorm", ["embeddings", "ln"], H),
  ];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `encoder.layer.${i}`;
    const t = ["layers", i];
    slots.push(
      ...linearSlots(`${p}.attention.self.query`, "encoder", [...t, "query"], H, H, true),
      ...linearSlots(`${p}.attention.self.key`, "encoder", [...t, "key"], H, H, true),
      ...linearSlots(`${p}.attention.self.value`, "encoder", [...t, "value"], H, H, true),
      ...linearSlots(`${p}.attention.output.dense`, "encoder", [...t, "attnOut"], H, H, true),
      ...lnSlots(`${p}.attention.output.LayerNorm`, [...t, "attnLn"], H),
      ...linearSlots(`${p}.intermediate.dense`, "encoder", [...t, "inter"], H, cfg.intermediateSize, true),
      ...linearSlots(`${p}.output.dense`, "encoder", [...t, "out"], cfg.intermediateSize, H, true),
      ...lnSlots(`${p}.output.LayerNorm`, [...t, "outLn"], H),
    );
  }
  return slots;
}

/** The head's tensors under their HF names. */
export function headSlots(cfg: EncoderConfig): ParamSlot[] {
  const H = cfg.hiddenSize;
  if (cfg.modelType === "bert") {
    return [
      ...linearSlots("pooler.dense", "head", ["dense"], H, H, true),
      ...linearSlots("classifier", "head", ["out"], H, cfg.numLabels, false),
    ];
  }
  return [
    ...linearSlots("classifier.dense", "head", ["dense"], H, H, false),
    ...linearSlots("classifier.out_proj", "head", ["out"], H, cfg.numLabels, false),
  ];
}

/** Full HF name of a slot for a model type. */
export function fullHfName(slot: ParamSlot, cfg: EncoderConfig): string {
  return slot.prefixed ? `${cfg.modelType}.${slot.hfName}` : slot.hfName;
}
