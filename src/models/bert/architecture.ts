/**
 * BERT and RoBERTa (`model_type` "bert", "roberta") as an `Architecture`: one encoder stack,
 * post-LN layers, a sequence-classification head on the first token.
 */
import type { Architecture } from "../architecture.js";
import type { HookSite, LayerAddress } from "../hooks.js";
import type { ParamSlot } from "../slots.js";
import { encoderConfigToJson, parseEncoderConfig } from "./config.js";
import type { BertModelType, EncoderConfig } from "./config.js";
import { classify, encode } from "./encoder.js";
import type { DeviceBatch } from "./encoder.js";
import { initEncoder, initHead } from "./init.js";
import { encoderSlots, headSlots } from "./params.js";
import type { EncoderParams } from "./params.js";

/** Sites of every BERT layer (see models/hooks.ts). */
const ENCODER_SITES: readonly HookSite[] = ["query", "key", "value", "prefix", "attentionOutput", "ffnOutput"];

/** The projection each attention site reads, under `layers[i]` of the encoder tree. */
const PROJECTIONS: Partial<Record<HookSite, string>> = { query: "query", key: "key", value: "value" };

/** The longest input a BERT/RoBERTa model takes: max_position_embeddings (RoBERTa: minus pad_token_id + 1). */
export function bertMaxInputLength(cfg: Pick<EncoderConfig, "modelType" | "maxPositions" | "padTokenId">): number {
  return cfg.modelType === "roberta" ? cfg.maxPositions - cfg.padTokenId - 1 : cfg.maxPositions;
}

/** Tensors a BERT/RoBERTa file may carry that we do not use (position-id buffers, MLM heads). */
function ignorableTensor(name: string): boolean {
  return /(^|\.)position_ids$/.test(name) || /^(cls|lm_head)\./.test(name) || name.startsWith("bert.cls.") || name.startsWith("roberta.lm_head.");
}

export const BERT_ARCHITECTURE: Architecture<EncoderConfig, EncoderParams, DeviceBatch> = {
  name: "BERT/RoBERTa",
  modelTypes: ["bert", "roberta"],
  classPrefixes: { Bert: "bert", Roberta: "roberta" },
  tensorPrefixes: { "bert.": "bert", "roberta.": "roberta" },
  parseConfig: (json: unknown, file: string, modelType: BertModelType) => parseEncoderConfig(json, file, modelType),
  configToJson: encoderConfigToJson,
  stacks: (cfg) => [{ stack: "encoder", layers: cfg.numLayers }],
  sites: (stack) => (stack === "encoder" ? ENCODER_SITES : []),
  moduleWidths: (cfg) => ({ hidden: cfg.hiddenSize, attention: cfg.hiddenSize }),
  projectionPath: (at: LayerAddress, site: HookSite) => {
    const name = PROJECTIONS[site];
    return at.stack === "encoder" && name !== undefined ? ["layers", at.layer, name] : null;
  },
  backboneSlots: encoderSlots,
  ignorableTensor,
  hfNames: (slot: ParamSlot, cfg: EncoderConfig) => (slot.prefixed ? [`${cfg.modelType}.${slot.hfName}`, slot.hfName] : [slot.hfName]),
  summaryKeys: ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size", "max_position_embeddings", "type_vocab_size", "hidden_act"],
  maxInputLength: bertMaxInputLength,
  initBackbone: initEncoder,
  forward: encode,
  head: { slots: headSlots, init: initHead, classify },
};
