/**
 * Hugging Face config.json for BERT and RoBERTa encoders: parsing with strict validation.
 */

import { ConfigError, intKey as int } from "../config-values.js";
import { HIDDEN_ACTS } from "../layers.js";
import type { HiddenAct } from "../layers.js";

export type { HiddenAct };
export { ConfigError };
/** The `model_type` values of BERT-family configs (`BERT_MODEL_TYPES`). */
export type BertModelType = (typeof BERT_MODEL_TYPES)[number];

/** The architecture hyper-parameters the encoder needs, in our naming. */
export interface EncoderConfig {
  /** config.json `model_type`. */
  modelType: BertModelType;
  /** config.json `vocab_size`: rows of the word-embedding matrix. */
  vocabSize: number;
  /** config.json `hidden_size`. */
  hiddenSize: number;
  /** config.json `num_hidden_layers`. */
  numLayers: number;
  /** config.json `num_attention_heads`. */
  numHeads: number;
  /** config.json `intermediate_size`: the FFN's inner width. */
  intermediateSize: number;
  /** config.json `hidden_act`. */
  hiddenAct: HiddenAct;
  /** config.json `layer_norm_eps`. */
  layerNormEps: number;
  /** config.json `max_position_embeddings`: rows of the position-embedding table (RoBERTa's positions start after `pad_token_id` + 1, so its longest input is that much shorter). */
  maxPositions: number;
  /** config.json `type_vocab_size`: number of segment ids. */
  typeVocabSize: number;
  /** config.json `pad_token_id`. */
  padTokenId: number;
  /** Labels of the sequence-classification head; 1 means regression. */
  numLabels: number;
  /** Label names in id order, when config.json has id2label. */
  labelNames?: string[];
}

type Json = Record<string, unknown>;

/** The model types this architecture family reads. */
export const BERT_MODEL_TYPES = ["bert", "roberta"] as const;

/** Whether a parsed config of any architecture is a BERT/RoBERTa one. */
export function isEncoderConfig(cfg: { modelType: string }): cfg is EncoderConfig {
  return (BERT_MODEL_TYPES as readonly string[]).includes(cfg.modelType);
}

/**
 * Parse a config.json object. `file` names the source in error messages. `modelType` is the
 * resolved model type when config.json does not name one (see models/registry.ts);
 * otherwise `model_type` must be "bert" or "roberta".
 */
export function parseEncoderConfig(cfg: unknown, file = "config.json", resolvedType?: BertModelType): EncoderConfig {
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) {
    throw new ConfigError(`${file}: expected a JSON object`);
  }
  const c = cfg as Json;
  const modelType = c.model_type ?? resolvedType;
  if (modelType !== "bert" && modelType !== "roberta") {
    throw new ConfigError(`${file}: "model_type" must be "bert" or "roberta", got ${JSON.stringify(modelType)}`);
  }
  const hiddenAct = c.hidden_act ?? "gelu";
  if (!(HIDDEN_ACTS as readonly unknown[]).includes(hiddenAct)) {
    throw new ConfigError(`${file}: "hidden_act" must be one of ${HIDDEN_ACTS.join(", ")}, got ${JSON.stringify(hiddenAct)}`);
  }
  const pe = c.position_embedding_type;
  if (pe !== undefined && pe !== "absolute") {
    throw new ConfigError(`${file}: "position_embedding_type" ${JSON.stringify(pe)} is not supported (only "absolute")`);
  }
  const hiddenSize = int(c, "hidden_size", file);
  const numHeads = int(c, "num_attention_heads", file);
  if (hiddenSize % numHeads !== 0) {
    throw new ConfigError(`${file}: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  const eps = c.layer_norm_eps ?? 1e-12;
  if (typeof eps !== "number" || !(eps > 0)) throw new ConfigError(`${file}: "layer_norm_eps" must be a positive number`);
  let labelNames: string[] | undefined;
  if (c.id2label !== undefined) {
    if (typeof c.id2label !== "object" || c.id2label === null) throw new ConfigError(`${file}: "id2label" must be an object`);
    const entries = Object.entries(c.id2label as Json);
    labelNames = entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => String(v));
  }
  const numLabels = c.num_labels !== undefined ? int(c, "num_labels", file) : (labelNames?.length ?? 2);
  if (labelNames && labelNames.length !== numLabels) labelNames = undefined;
  const padTokenId = int(c, "pad_token_id", file, { min: 0, fallback: modelType === "roberta" ? 1 : 0 });
  const maxPositions = int(c, "max_position_embeddings", file);
  if (modelType === "roberta" && maxPositions <= padTokenId + 1) {
    throw new ConfigError(`${file}: RoBERTa max_position_embeddings ${maxPositions} leaves no positions after pad_token_id+1`);
  }
  const vocabSize = int(c, "vocab_size", file);
  if (padTokenId >= vocabSize) throw new ConfigError(`${file}: "pad_token_id" ${padTokenId} is outside the vocabulary (vocab_size ${vocabSize})`);
  if (labelNames && new Set(labelNames).size !== labelNames.length) {
    const dup = labelNames.find((n, i) => labelNames?.indexOf(n) !== i);
    throw new ConfigError(`${file}: "id2label" names the label ${JSON.stringify(dup)} twice; label names must be unique`);
  }
  return {
    modelType,
    vocabSize,
    hiddenSize,
    numLayers: int(c, "num_hidden_layers", file),
    numHeads,
    intermediateSize: int(c, "intermediate_size", file),
    hiddenAct: hiddenAct as HiddenAct,
    layerNormEps: eps,
    maxPositions,
    typeVocabSize: int(c, "type_vocab_size", file, { fallback: 2 }),
    padTokenId,
    numLabels,
    ...(labelNames ? { labelNames } : {}),
  };
}

/** config.json contents for a model, as Hugging Face writes it. */
export function encoderConfigToJson(cfg: EncoderConfig): Record<string, unknown> {
  const isRoberta = cfg.modelType === "roberta";
  const labels = cfg.labelNames ?? Array.from({ length: cfg.numLabels }, (_, i) => `LABEL_${i}`);
  return {
    architectures: [isRoberta ? "RobertaForSequenceClassification" : "BertForSequenceClassification"],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    intermediate_size: cfg.intermediateSize,
    hidden_act: cfg.hiddenAct,
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    layer_norm_eps: cfg.layerNormEps,
    max_position_embeddings: cfg.maxPositions,
    type_vocab_size: cfg.typeVocabSize,
    pad_token_id: cfg.padTokenId,
    ...(isRoberta ? { bos_token_id: 0, eos_token_id: 2 } : {}),
    position_embedding_type: "absolute",
    initializer_range: 0.02,
    num_labels: cfg.numLabels,
    ...(cfg.numLabels === 1 ? { problem_type: "regression" } : {}),
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}
