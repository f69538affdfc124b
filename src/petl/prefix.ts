/**
 * Prefix-tuning with reparametrisation (Li & Liang 2021; paper App. A.3, eqs. 11–13), laid
 * out as AdapterHub's `PrefixTuning` (which the authors' code extends):
 *
 *   P' = embedding [l, H]  →  Linear(H, prefixHidden) → tanh → Linear(prefixHidden, count·2H)
 *
 * gives `count` instances of a [l, 2H] tensor `key_value`; columns [0, H) are the prefix keys
 * and [H, 2H) the prefix values, both prepended to the projected keys/values of a layer's
 * self-attention (hook `prefix`). Plain prefix-tuning has one instance per layer from ONE
 * MLP (output 2·L·H, layer i at columns [2iH, 2(i+1)H), as AdapterHub's view); ProPETL-prefix
 * has one shared instance (output 2H, AdapterHub's `SharePrefixTuning`) and masks the
 * reparametrised output per layer (eq. 13). After training only the `key_value` tensors are
 * stored (the MLP is discarded, paper eq. 18).
 *
 * Initialisation as PyTorch: embedding N(0, 1); linear weights kaiming-uniform(a=√5), biases
 * U(±1/√fan_in).
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { ModelConfig } from "../models/architecture.js";
import { architectureOf } from "../models/registry.js";
import type { LayerHooks } from "../models/hooks.js";
import { linear } from "../models/layers.js";
import type { Linear } from "../models/bert/params.js";
import { HostRng, SharedValue, kaimingUniform } from "./mask.js";
import type { ModuleKind, ModuleOptions, TensorSpec } from "./method.js";

/** The trainable reparametrisation: P' and the two-layer MLP. */
export interface PrefixSource {
  embedding: JArray;
  mlp: { l1: Linear; l2: Linear };
}

function prefixSpec(cfg: ModelConfig, o: ModuleOptions): TensorSpec[] {
  return [{ name: "key_value", shape: [o.prefixLength, 2 * architectureOf(cfg).moduleWidths(cfg).attention], masked: true }];
}

function initLinear(rng: HostRng, inDim: number, outDim: number): Linear {
  const bound = 1 / Math.sqrt(inDim);
  return { w: kaimingUniform(rng, [outDim, inDim]), b: np.array(rng.uniformArray(outDim, -bound, bound)) };
}

function initPrefix(cfg: ModelConfig, o: ModuleOptions, count: number, seed: number): PrefixSource {
  const rng = new HostRng(seed);
  const { hidden: H, attention: A } = architectureOf(cfg).moduleWidths(cfg);
  const embedding = np.array(rng.normalArray(o.prefixLength * H, 1)).reshape([o.prefixLength, H]);
  return {
    embedding,
    mlp: { l1: initLinear(rng, H, o.prefixHidden), l2: initLinear(rng, o.prefixHidden, count * 2 * A) },
  };
}

/** The reparametrised prefixes [l, count·2H] (source borrowed, result owned). */
export function reparametrise(source: PrefixSource): JArray {
  return linear(source.mlp.l2, np.tanh(linear(source.mlp.l1, source.embedding.ref)));
}

/** Split a [l, 2H] (or per example [B, l, 2H]) key_value tensor (consumed) into prefix keys and values. */
export function splitKeyValue(kv: JArray, hidden: number): { key: JArray; value: JArray } {
  if (kv.ndim === 2) {
    const [l] = kv.shape;
    return {
      key: kv.ref.slice([], [0, hidden]).reshape([1, l, hidden]),
      value: kv.slice([], [hidden, 2 * hidden]).reshape([1, l, hidden]),
    };
  }
  return { key: kv.ref.slice([], [], [0, hidden]), value: kv.slice([], [], [hidden, 2 * hidden]) };
}

/** Prefix-tuning: one `key_value` instance per position. */
export const PREFIX_KIND: ModuleKind<PrefixSource> = {
  name: "prefix",
  positions: [{ name: "prefix", sites: ["prefix"], where: "every-layer" }],
  unitSpec: prefixSpec,
  initSource: initPrefix,
  openSource: (source, cfg, _o, count, reads) => {
    const out = new SharedValue(() => reparametrise(source), reads);
    const w = 2 * architectureOf(cfg).moduleWidths(cfg).attention;
    return (unit, name) => {
      if (name !== "key_value") throw new Error(`prefix source has no tensor "${name}"`);
      const all = out.take();
      return count === 1 ? all : all.slice([], [unit * w, (unit + 1) * w]);
    };
  },
  layerHooks: (get): LayerHooks => ({
    prefix: () => {
      const kv = get(0, "key_value");
      return splitKeyValue(kv, kv.shape[kv.ndim - 1] / 2);
    },
  }),
};
