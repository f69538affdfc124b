/**
 * T5 (`model_type` "t5", Hugging Face `T5ForConditionalGeneration` folders) as an
 * `Architecture`: an encoder and a decoder stack of pre-LN blocks, the LM head on the decoder,
 * no sequence-classification head.
 */
import type { Architecture } from "../architecture.js";
import type { HookSite, LayerAddress, Stack } from "../hooks.js";
import type { ParamSlot } from "../slots.js";
import type { T5Batch } from "./batch.js";
import { parseT5Config, t5ConfigToJson } from "./config.js";
import type { T5Config } from "./config.js";
import { initT5 } from "./init.js";
import { t5Forward } from "./model.js";
import { SHARED_EMBEDDING_NAMES, t5Slots } from "./params.js";
import type { T5Params } from "./params.js";

/** Sites of every encoder block (see models/hooks.ts). */
const ENCODER_SITES: readonly HookSite[] = ["query", "key", "value", "prefix", "attentionOutput", "ffnOutput"];
/** Sites of every decoder block: the encoder's, plus the cross-attention's. */
const DECODER_SITES: readonly HookSite[] = [...ENCODER_SITES, "crossQuery", "crossKey", "crossValue", "crossPrefix", "crossAttentionOutput"];

/** The attention and projection each projection site reads, under `<stack>.layers[i]`. */
const PROJECTIONS: Partial<Record<HookSite, [string, string]>> = {
  query: ["selfAttention", "q"],
  key: ["selfAttention", "k"],
  value: ["selfAttention", "v"],
  crossQuery: ["crossAttention", "q"],
  crossKey: ["crossAttention", "k"],
  crossValue: ["crossAttention", "v"],
};

/**
 * Tensors a T5 file may carry that loading ignores, as HF does: the embedding copies tied to
 * `shared.weight`, the relative-attention bias HF builds but never uses in block 0's
 * cross-attention, and `lm_head.weight` when it is tied to the shared embeddings.
 */
function ignorableTensor(name: string, cfg: T5Config): boolean {
  if ((SHARED_EMBEDDING_NAMES as readonly string[]).includes(name)) return true;
  if (name === "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight") return true;
  return cfg.tieWordEmbeddings && name === "lm_head.weight";
}

/**
 * The names a slot's tensor may have: the shared embeddings also load from either stack's
 * `embed_tokens.weight` (HF ties them); everything else has its one name.
 */
function hfNames(slot: ParamSlot): string[] {
  return slot.hfName === SHARED_EMBEDDING_NAMES[0] ? [...SHARED_EMBEDDING_NAMES] : [slot.hfName];
}

/**
 * T5 has no position table: its relative buckets extend to any length. 512 is the length it was
 * pretrained at (`n_positions` of the original configs, the tokenizer's model_max_length).
 */
const T5_MAX_INPUT_LENGTH = 512;

export const T5_ARCHITECTURE: Architecture<T5Config, T5Params, T5Batch> = {
  name: "T5",
  modelTypes: ["t5"],
  classPrefixes: { T5: "t5" },
  tensorPrefixes: { "shared.": "t5", "encoder.block.": "t5" },
  parseConfig: (json: unknown, file: string) => parseT5Config(json, file),
  configToJson: t5ConfigToJson,
  stacks: (cfg) => [
    { stack: "encoder", layers: cfg.numLayers },
    { stack: "decoder", layers: cfg.numDecoderLayers },
  ],
  sites: (stack: Stack) => (stack === "encoder" ? ENCODER_SITES : DECODER_SITES),
  moduleWidths: (cfg) => ({ hidden: cfg.dModel, attention: cfg.numHeads * cfg.dKv }),
  projectionPath: (at: LayerAddress, site: HookSite) => {
    const p = PROJECTIONS[site];
    if (p === undefined || (at.stack === "encoder" && p[0] === "crossAttention")) return null;
    return [at.stack, "layers", at.layer, ...p];
  },
  backboneSlots: t5Slots,
  ignorableTensor,
  hfNames,
  summaryKeys: ["d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers", "num_heads", "vocab_size", "feed_forward_proj", "relative_attention_num_buckets"],
  maxInputLength: () => T5_MAX_INPUT_LENGTH,
  initBackbone: initT5,
  forward: t5Forward,
  head: null,
};
