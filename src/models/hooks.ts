/**
 * Named hook points where PETL modules attach to each encoder layer.
 *
 * Ownership (jax-js arrays are reference counted): a hook receives the activation it may
 * replace as an OWNED array and returns an owned array; the layer input `x` is BORROWED
 * (use `x.ref` to read it). Prefix tensors returned by `prefix` become owned by the model.
 *
 * | hook              | where (HF BertLayer)                                             |
 * |-------------------|------------------------------------------------------------------|
 * | `query`           | output of `attention.self.query`, before heads split (LoRA)      |
 * | `value`           | output of `attention.self.value` (LoRA)                          |
 * | `prefix`          | extra keys/values prepended in self-attention (prefix-tuning)    |
 * | `attentionOutput` | output of `attention.output.dense`, before residual + LayerNorm (Houlsby) |
 * | `ffnOutput`       | output of `output.dense`, before residual + LayerNorm (Pfeiffer, Houlsby) |
 *
 * The two sublayer-output hooks replace the raw sublayer output h; the layer then computes
 * `norm(h' + x)` as usual. They also get the sublayer's residual input x and its frozen
 * output norm (`SublayerContext`), because a Pfeiffer adapter (AdapterHub's
 * `original_ln_before`) reads `norm(h + x)` rather than h.
 */
import type { JArray } from "../engine/jax.js";

/**
 * What a sublayer-output hook may read besides h: the residual input x of the sublayer
 * (BORROWED: use `residual.ref`) and the block's frozen output norm, which consumes its
 * argument (null where the architecture adds the residual without a norm, as pre-LN models).
 */
export interface SublayerContext {
  residual: JArray;
  norm: ((y: JArray) => JArray) | null;
}

export interface LayerHooks {
  query?: (x: JArray, q: JArray) => JArray;
  value?: (x: JArray, v: JArray) => JArray;
  /** Keys and values of shape [B, P, H] (or [1, P, H], broadcast over the batch). */
  prefix?: (batchSize: number) => { key: JArray; value: JArray };
  attentionOutput?: (h: JArray, block: SublayerContext) => JArray;
  ffnOutput?: (h: JArray, block: SublayerContext) => JArray;
}

export const HOOK_POINTS = ["query", "value", "prefix", "attentionOutput", "ffnOutput"] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** Hook point names as they appear in adapter_config.json and fixtures: `layer.3.ffn_output`. */
export function hookPointName(layer: number, point: HookPoint): string {
  const snake: Record<HookPoint, string> = {
    query: "query",
    value: "value",
    prefix: "prefix",
    attentionOutput: "attention_output",
    ffnOutput: "ffn_output",
  };
  return `layer.${layer}.${snake[point]}`;
}
