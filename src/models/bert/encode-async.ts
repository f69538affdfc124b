/**
 * The BERT / RoBERTa encoder for inference, layer by layer (engine/layer-by-layer.ts): the
 * same `embed` and `encoderLayer` as `encode`, with each layer's pending work run before the
 * next is recorded, so a pass holds one layer's intermediates. Its output is byte-identical to
 * `encode`'s (test/models/encode-async.test.ts). Training and `jit` keep `encode`.
 *
 * Ownership as `encode`: parameters and hooks' tensors are BORROWED, the batch too.
 */
import type { JArray } from "../../engine/jax.js";
import { runLayersSettled } from "../../engine/layer-by-layer.js";
import type { ModelHooks } from "../hooks.js";
import type { EncoderConfig } from "./config.js";
import { embed, encoderLayer } from "./encoder.js";
import type { DeviceBatch } from "./encoder.js";
import type { EncoderParams } from "./params.js";

/** Last hidden state [B,T,H] as `encode` computes it, layer by layer. `hooks.encoder[i]` attaches to layer i. */
export async function encodeAsync(cfg: EncoderConfig, p: EncoderParams, batch: DeviceBatch, hooks?: ModelHooks): Promise<JArray> {
  if (hooks?.decoder !== undefined) throw new Error(`${cfg.modelType} has no decoder: hooks were given for decoder layers`);
  const layerHooks = hooks?.encoder;
  if (layerHooks && layerHooks.length > cfg.numLayers) throw new Error(`hooks for ${layerHooks.length} encoder layers, but the model has ${cfg.numLayers}`);
  return runLayersSettled(embed(cfg, p.embeddings, batch), cfg.numLayers, (h, i) => encoderLayer(cfg, p.layers[i], h, batch, layerHooks?.[i]));
}
