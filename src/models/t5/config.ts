/**
 * Hugging Face config.json for T5 (`T5Config`, model_type "t5"): parsing with strict
 * validation, and writing it back as `save_pretrained` does. Two variants are supported:
 *   - T5 v1.0: `feed_forward_proj` "relu", tied embeddings (the decoder output is scaled by
 *     d_model^-0.5 before the LM head, which is the shared embedding matrix);
 *   - T5 v1.1 / FLAN-T5: "gated-gelu" (gelu_new, the tanh approximation, times a linear
 *     gate), an untied `lm_head.weight`, no rescaling.
 */
import { ConfigError, boolKey, choiceKey, intKey, positiveKey } from "../config-values.js";

/** The model types this architecture family reads. */
export const T5_MODEL_TYPES = ["t5"] as const;
/** The `model_type` of T5 configs (`T5_MODEL_TYPES`). */
export type T5ModelType = (typeof T5_MODEL_TYPES)[number];

/** The FFN variants: `relu` (DenseReluDense: wi, wo) and `gated-gelu` (wi_0, wi_1, wo). */
export const T5_FEED_FORWARD_PROJS = ["relu", "gated-gelu"] as const;
/** A T5 FFN variant (`T5_FEED_FORWARD_PROJS`). */
export type T5FeedForwardProj = (typeof T5_FEED_FORWARD_PROJS)[number];

/** The hyper-parameters of a T5 encoder–decoder, in our naming (each property names its config.json key). */
export interface T5Config {
  /** config.json `model_type`. */
  modelType: T5ModelType;
  /** config.json `vocab_size`: rows of the shared embedding matrix. */
  vocabSize: number;
  /** config.json `d_model`: the residual width. */
  dModel: number;
  /** config.json `d_kv`: per-head size of q/k/v; the attention's inner width is numHeads * dKv. */
  dKv: number;
  /** config.json `d_ff`: the FFN's inner width. */
  dFf: number;
  /** config.json `num_layers`: encoder blocks. */
  numLayers: number;
  /** config.json `num_decoder_layers`: decoder blocks (default: `num_layers`). */
  numDecoderLayers: number;
  /** config.json `num_heads`. */
  numHeads: number;
  /** config.json `relative_attention_num_buckets`. */
  relativeBuckets: number;
  /** config.json `relative_attention_max_distance`: distances beyond it share the last bucket. */
  relativeMaxDistance: number;
  /** config.json `layer_norm_epsilon` (of the RMS norms). */
  layerNormEps: number;
  /** config.json `feed_forward_proj`: "relu" (T5 v1.0) or "gated-gelu" (v1.1, FLAN-T5). */
  feedForwardProj: T5FeedForwardProj;
  /** config.json `tie_word_embeddings`: the LM head is the shared embedding matrix (and the decoder output is rescaled). */
  tieWordEmbeddings: boolean;
  /** config.json `pad_token_id`. */
  padTokenId: number;
  /** config.json `eos_token_id`. */
  eosTokenId: number;
  /** config.json `decoder_start_token_id`: the decoder's first input. */
  decoderStartTokenId: number;
}

type Json = Record<string, unknown>;

/** Whether a parsed config of any architecture is a T5 one. */
export function isT5Config(cfg: { modelType: string }): cfg is T5Config {
  return (T5_MODEL_TYPES as readonly string[]).includes(cfg.modelType);
}

/**
 * Parse a T5 config.json object (`file` names it in errors). Shape keys (vocab_size, d_model,
 * d_kv, d_ff, num_layers, num_heads) are required; the others take T5Config's defaults, and
 * `decoder_start_token_id` defaults to pad_token_id (every released T5 starts the decoder with
 * the pad token, 0).
 */
export function parseT5Config(cfg: unknown, file = "config.json"): T5Config {
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new ConfigError(`${file}: expected a JSON object`);
  const c = cfg as Json;
  const modelType = c.model_type ?? "t5";
  if (modelType !== "t5") throw new ConfigError(`${file}: "model_type" must be "t5", got ${JSON.stringify(modelType)}`);
  const numLayers = intKey(c, "num_layers", file);
  const relativeBuckets = intKey(c, "relative_attention_num_buckets", file, { min: 4, fallback: 32 });
  const relativeMaxDistance = intKey(c, "relative_attention_max_distance", file, { fallback: 128 });
  // The decoder's buckets are exact below num_buckets/2 and logarithmic from there up to the
  // maximum distance, so the distance must exceed that (else the log bins divide by zero).
  if (relativeMaxDistance <= Math.floor(relativeBuckets / 2)) {
    throw new ConfigError(`${file}: "relative_attention_max_distance" ${relativeMaxDistance} must exceed relative_attention_num_buckets/2 (${Math.floor(relativeBuckets / 2)})`);
  }
  const padTokenId = intKey(c, "pad_token_id", file, { min: 0, fallback: 0 });
  const vocabSize = intKey(c, "vocab_size", file);
  if (padTokenId >= vocabSize) throw new ConfigError(`${file}: "pad_token_id" ${padTokenId} is outside the vocabulary (vocab_size ${vocabSize})`);
  const out: T5Config = {
    modelType,
    vocabSize,
    dModel: intKey(c, "d_model", file),
    dKv: intKey(c, "d_kv", file),
    dFf: intKey(c, "d_ff", file),
    numLayers,
    numDecoderLayers: intKey(c, "num_decoder_layers", file, { fallback: numLayers }),
    numHeads: intKey(c, "num_heads", file),
    relativeBuckets,
    relativeMaxDistance,
    layerNormEps: positiveKey(c, "layer_norm_epsilon", file, 1e-6),
    feedForwardProj: choiceKey(c, "feed_forward_proj", file, T5_FEED_FORWARD_PROJS, "relu"),
    tieWordEmbeddings: boolKey(c, "tie_word_embeddings", file, true),
    padTokenId,
    eosTokenId: intKey(c, "eos_token_id", file, { min: 0, fallback: 1 }),
    decoderStartTokenId: intKey(c, "decoder_start_token_id", file, { min: 0, fallback: padTokenId }),
  };
  for (const [key, id] of [["pad_token_id", out.padTokenId], ["eos_token_id", out.eosTokenId], ["decoder_start_token_id", out.decoderStartTokenId]] as const) {
    if (id >= vocabSize) throw new ConfigError(`${file}: "${key}" ${id} is outside the vocabulary (vocab_size ${vocabSize})`);
  }
  return out;
}

/** config.json contents for a T5 model, as Hugging Face's `T5Config.save_pretrained` writes them. */
export function t5ConfigToJson(cfg: T5Config): Record<string, unknown> {
  const gated = cfg.feedForwardProj === "gated-gelu";
  return {
    architectures: ["T5ForConditionalGeneration"],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    d_model: cfg.dModel,
    d_kv: cfg.dKv,
    d_ff: cfg.dFf,
    num_layers: cfg.numLayers,
    num_decoder_layers: cfg.numDecoderLayers,
    num_heads: cfg.numHeads,
    relative_attention_num_buckets: cfg.relativeBuckets,
    relative_attention_max_distance: cfg.relativeMaxDistance,
    dropout_rate: 0.1,
    layer_norm_epsilon: cfg.layerNormEps,
    initializer_factor: 1.0,
    feed_forward_proj: cfg.feedForwardProj,
    dense_act_fn: gated ? "gelu_new" : "relu",
    is_gated_act: gated,
    is_encoder_decoder: true,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    use_cache: true,
    pad_token_id: cfg.padTokenId,
    eos_token_id: cfg.eosTokenId,
    decoder_start_token_id: cfg.decoderStartTokenId,
  };
}
