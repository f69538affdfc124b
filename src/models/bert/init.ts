/**
 * Fresh BERT / RoBERTa parameters, as Hugging Face initialises them (seeded).
 */
import { np, random } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import { setLeaf } from "../slots.js";
import type { EncoderConfig } from "./config.js";
import { encoderSlots } from "./params.js";
import type { EncoderParams, HeadParams } from "./params.js";

/** Fresh head parameters: normal(0, 0.02) weights, zero biases (HF's initializer_range). */
export function initHead(cfg: EncoderConfig, seed: number): HeadParams {
  const [k1, k2] = random.split(random.key(seed), 2);
  const H = cfg.hiddenSize;
  return {
    dense: { w: random.normal(k1, [H, H]).mul(0.02), b: np.zeros([H]) },
    out: { w: random.normal(k2, [cfg.numLabels, H]).mul(0.02), b: np.zeros([cfg.numLabels]) },
  };
}

/**
 * A fresh encoder as HF initialises BERT (`BertPreTrainedModel._init_weights`): embeddings
 * and linear weights normal(0, 0.02), the word embedding row of the pad token zeroed, zero
 * biases, unit LayerNorm. Deterministic in `seed`.
 */
export function initEncoder(cfg: EncoderConfig, seed: number): EncoderParams {
  const slots = encoderSlots(cfg);
  const keys = [...random.split(random.key(seed), slots.length)];
  const encoder: Record<string, unknown> = {};
  slots.forEach((slot, i) => {
    const last = slot.path[slot.path.length - 1];
    let leaf: JArray;
    if (last === "g") leaf = np.ones(slot.shape);
    else if (last === "b") leaf = np.zeros(slot.shape);
    else leaf = random.normal(keys[i], slot.shape).mul(0.02);
    if (last === "g" || last === "b") keys[i].dispose();
    if (slot.path[1] === "word" && cfg.padTokenId >= 0 && cfg.padTokenId < cfg.vocabSize) {
      const keep = new Float32Array(cfg.vocabSize).fill(1);
      keep[cfg.padTokenId] = 0;
      leaf = leaf.mul(np.array(keep).reshape([cfg.vocabSize, 1]));
    }
    setLeaf(encoder, slot.path, leaf);
  });
  return encoder as unknown as EncoderParams;
}

