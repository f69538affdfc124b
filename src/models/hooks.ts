/**
 * Hook sites: the named places where PETL modules attach to a backbone, addressed by stack,
 * layer and site, e.g. `encoder.layer.3.ffn_output` or (an encoder–decoder) `decoder.layer.0.cross_value`.
 * Each architecture declares which stacks it has and which sites each of its layers offers
 * (`Architecture.sites`); a method asking for a site the backbone lacks is an error.
 *
 * Ownership (jax-js arrays are reference counted): a hook receives the activation it may
 * replace as an OWNED array and returns an owned array; the layer input `x` is BORROWED
 * (use `x.ref` to read it). Prefix tensors returned by `prefix` become owned by the model.
 *
 * | site                     | where (HF BertLayer; T5 analogues)                              |
 * |--------------------------|-----------------------------------------------------------------|
 * | `query` `key` `value`    | outputs of the self-attention projections, before heads split (LoRA) |
 * | `prefix`                 | extra keys/values prepended in self-attention (prefix-tuning)   |
 * | `attentionOutput`        | output of the self-attention output dense, before residual (+ norm) (Houlsby) |
 * | `crossQuery` `crossKey` `crossValue` | the cross-attention projections (decoder layers)    |
 * | `crossPrefix`            | extra keys/values prepended in cross-attention                  |
 * | `crossAttentionOutput`   | output of the cross-attention output dense, before residual     |
 * | `ffnOutput`              | output of the FFN's last dense, before residual (+ norm) (Pfeiffer, Houlsby) |
 *
 * The sublayer-output hooks (`attentionOutput`, `crossAttentionOutput`, `ffnOutput`) replace
 * the raw sublayer output h; the layer then computes `norm(h' + x)` (post-LN) or `h' + x`.
 * They also get the sublayer's residual input x and its frozen output norm
 * (`SublayerContext`), because a Pfeiffer adapter (AdapterHub's `original_ln_before`) reads
 * `norm(h + x)` rather than h.
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

/** Extra keys and values of shape [B, P, H] (or [1, P, H], broadcast over the batch). */
export type PrefixHook = (batchSize: number) => { key: JArray; value: JArray };
/** A projection output q/k/v (owned) from the layer input x (borrowed). */
export type ProjectionHook = (x: JArray, y: JArray) => JArray;
export type SublayerHook = (h: JArray, block: SublayerContext) => JArray;

export interface LayerHooks {
  query?: ProjectionHook;
  key?: ProjectionHook;
  value?: ProjectionHook;
  prefix?: PrefixHook;
  attentionOutput?: SublayerHook;
  crossQuery?: ProjectionHook;
  crossKey?: ProjectionHook;
  crossValue?: ProjectionHook;
  crossPrefix?: PrefixHook;
  crossAttentionOutput?: SublayerHook;
  ffnOutput?: SublayerHook;
}

/** Every hook site, with its name in files (adapter_config.json, checkpoints, fixtures). */
export const HOOK_SITES = {
  query: "query",
  key: "key",
  value: "value",
  prefix: "prefix",
  attentionOutput: "attention_output",
  crossQuery: "cross_query",
  crossKey: "cross_key",
  crossValue: "cross_value",
  crossPrefix: "cross_prefix",
  crossAttentionOutput: "cross_attention_output",
  ffnOutput: "ffn_output",
} as const satisfies Record<keyof LayerHooks, string>;
export type HookSite = keyof typeof HOOK_SITES;

/** The layer stacks of a backbone: an encoder, and for encoder–decoder models a decoder. */
export const STACKS = ["encoder", "decoder"] as const;
export type Stack = (typeof STACKS)[number];

/** Hooks for a whole model: per stack, one entry per layer (undefined: nothing attached). */
export type ModelHooks = Partial<Record<Stack, readonly (LayerHooks | undefined)[]>>;

/** One layer of one stack. */
export interface LayerAddress {
  stack: Stack;
  layer: number;
}

/** `encoder.layer.3`: a layer's name in files. */
export function layerName(a: LayerAddress): string {
  return `${a.stack}.layer.${a.layer}`;
}

/** `encoder.layer.3.ffn_output`: a site's name in files. */
export function siteName(a: LayerAddress, site: HookSite): string {
  return `${layerName(a)}.${HOOK_SITES[site]}`;
}
