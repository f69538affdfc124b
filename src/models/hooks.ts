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
  /** The sublayer's residual input x, BORROWED (use `residual.ref`). */
  residual: JArray;
  /** The block's frozen output norm (consumes its argument); null where the residual is added without one. */
  norm: ((y: JArray) => JArray) | null;
}

/** Extra keys and values of shape [B, P, H] (or [1, P, H], broadcast over the batch). */
export type PrefixHook = (batchSize: number) => {
  /** Prefix keys. */
  key: JArray;
  /** Prefix values. */
  value: JArray;
};
/** A projection output q/k/v (owned) from the layer input x (borrowed). */
export type ProjectionHook = (x: JArray, y: JArray) => JArray;
/** A sublayer-output hook: the replacement (owned) of the raw sublayer output h (owned), given the `SublayerContext`. */
export type SublayerHook = (h: JArray, block: SublayerContext) => JArray;

/** The hooks of one layer, by site (see the table above); a site left undefined runs the frozen layer unchanged. */
export interface LayerHooks {
  /** Replaces the self-attention query projection's output. */
  query?: ProjectionHook;
  /** Replaces the self-attention key projection's output. */
  key?: ProjectionHook;
  /** Replaces the self-attention value projection's output. */
  value?: ProjectionHook;
  /** Extra self-attention keys/values before the sequence. */
  prefix?: PrefixHook;
  /** Replaces the self-attention output dense's output. */
  attentionOutput?: SublayerHook;
  /** Replaces the cross-attention query projection's output (decoder layers). */
  crossQuery?: ProjectionHook;
  /** Replaces the cross-attention key projection's output (its input is the encoder output). */
  crossKey?: ProjectionHook;
  /** Replaces the cross-attention value projection's output (its input is the encoder output). */
  crossValue?: ProjectionHook;
  /** Extra cross-attention keys/values before the encoder's positions. */
  crossPrefix?: PrefixHook;
  /** Replaces the cross-attention output dense's output. */
  crossAttentionOutput?: SublayerHook;
  /** Replaces the FFN's output. */
  ffnOutput?: SublayerHook;
}

/** Every hook site, with its name in files (adapter_config.json, checkpoints, fixtures). */
export const HOOK_SITES = {
  /** Name of `LayerHooks.query` in files. */
  query: "query",
  /** Name of `LayerHooks.key` in files. */
  key: "key",
  /** Name of `LayerHooks.value` in files. */
  value: "value",
  /** Name of `LayerHooks.prefix` in files. */
  prefix: "prefix",
  /** Name of `LayerHooks.attentionOutput` in files. */
  attentionOutput: "attention_output",
  /** Name of `LayerHooks.crossQuery` in files. */
  crossQuery: "cross_query",
  /** Name of `LayerHooks.crossKey` in files. */
  crossKey: "cross_key",
  /** Name of `LayerHooks.crossValue` in files. */
  crossValue: "cross_value",
  /** Name of `LayerHooks.crossPrefix` in files. */
  crossPrefix: "cross_prefix",
  /** Name of `LayerHooks.crossAttentionOutput` in files. */
  crossAttentionOutput: "cross_attention_output",
  /** Name of `LayerHooks.ffnOutput` in files. */
  ffnOutput: "ffn_output",
} as const satisfies Record<keyof LayerHooks, string>;
/** A hook site's key in `LayerHooks` (its name in files: `HOOK_SITES`). */
export type HookSite = keyof typeof HOOK_SITES;

/** The layer stacks of a backbone: an encoder, and for encoder–decoder models a decoder. */
export const STACKS = ["encoder", "decoder"] as const;
/** A layer stack: "encoder" or "decoder" (`STACKS`). */
export type Stack = (typeof STACKS)[number];

/** Hooks for a whole model: per stack, one entry per layer (undefined: nothing attached). */
export type ModelHooks = Partial<Record<Stack, readonly (LayerHooks | undefined)[]>>;

/** One layer of one stack. */
export interface LayerAddress {
  /** Which stack. */
  stack: Stack;
  /** 0-based layer index within the stack. */
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
