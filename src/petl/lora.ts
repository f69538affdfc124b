/**
 * LoRA on the query and value projections (paper App. A.2, eq. 9; Hu et al. 2022):
 * q ← q + (alpha / r) · (x Aᵀ) Bᵀ, and the same for v, with x the layer input.
 *
 * Unit tensors, as Hugging Face PEFT (A [r, in], B [out, r]):
 *   query_lora_A [r, H], query_lora_B [H, r], value_lora_A [r, H], value_lora_B [H, r].
 * A is initialised kaiming-uniform(a=√5) and B to zero (PEFT), so a fresh LoRA is the
 * identity. ProPETL masks all four (LoRA has no bias, eq. 10); its default alpha is larger
 * (48 vs 32, Sec. 4) to make up for the norm the masks remove.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { layerAddresses } from "../models/architecture.js";
import type { ClassifierConfig, ClassifierParams } from "../models/architecture.js";
import { HOOK_SITES, layerName } from "../models/hooks.js";
import type { LayerHooks } from "../models/hooks.js";
import { architectureOf } from "../models/registry.js";
import { getLeaf, refTree, setLeaf } from "../models/slots.js";
import { linearMasked, unitListReader } from "./adapter.js";
import { HostRng, kaimingUniform } from "./mask.js";
import type { Materialized, ModuleKind, ModuleOptions, TensorSpec, Unit } from "./method.js";

function loraSpec(cfg: ClassifierConfig, o: ModuleOptions): TensorSpec[] {
  const H = cfg.hiddenSize;
  const r = o.rank;
  return [
    { name: "query_lora_A", shape: [r, H], masked: true },
    { name: "query_lora_B", shape: [H, r], masked: true },
    { name: "value_lora_A", shape: [r, H], masked: true },
    { name: "value_lora_B", shape: [H, r], masked: true },
  ];
}

function initLora(cfg: ClassifierConfig, o: ModuleOptions, count: number, seed: number): Unit[] {
  const rng = new HostRng(seed);
  const spec = loraSpec(cfg, o);
  return Array.from({ length: count }, () => {
    const unit: Unit = {};
    for (const t of spec) unit[t.name] = t.name.endsWith("_A") ? kaimingUniform(rng, t.shape) : np.zeros(t.shape);
    return unit;
  });
}

/** LoRA's update (alpha/r)·(x Aᵀ)Bᵀ of x [B, T, H] (consumed); A and B (consumed) may be per example. */
export function loraDelta(x: JArray, a: JArray, b: JArray, scaling: number): JArray {
  return linearMasked(linearMasked(x, a), b).mul(scaling);
}

/** alpha / r. */
export function loraScaling(o: ModuleOptions): number {
  return o.alpha / o.rank;
}

/** LoRA on query and value of every layer. */
export const LORA_KIND: ModuleKind<Unit[]> = {
  name: "lora",
  positions: ["self_attention"],
  hookSites: ["query", "value"],
  unitSpec: loraSpec,
  initSource: initLora,
  openSource: (source) => unitListReader(source),
  layerHooks: (get, o): LayerHooks => {
    const s = loraScaling(o);
    return {
      query: (x, q) => q.add(loraDelta(x.ref, get(0, "query_lora_A"), get(0, "query_lora_B"), s)),
      value: (x, v) => v.add(loraDelta(x.ref, get(0, "value_lora_A"), get(0, "value_lora_B"), s)),
    };
  },
};

/**
 * Merge materialised LoRA modules into the frozen weights: W ← W + (alpha/r)·B̃Ã at every
 * site the kind adapts (query and value), so prediction runs the plain backbone with no
 * hooks. Which linear layer a site reads is the architecture's (`projectionPath`). Borrows
 * both inputs and returns a NEW backbone tree (untouched leaves are new references; free it
 * with `disposeTree`).
 */
export function mergeLora(cfg: ClassifierConfig, backbone: ClassifierParams, m: Materialized): ClassifierParams {
  if (m.kind !== "lora") throw new Error(`mergeLora: materialised modules are "${m.kind}", not "lora"`);
  const arch = architectureOf(cfg);
  const layers = layerAddresses(arch, cfg);
  if (m.layers.length !== layers.length || m.layers.some((a, i) => layerName(a) !== layerName(layers[i]))) {
    throw new Error(`mergeLora: LoRA modules for ${m.layers.map(layerName).join(", ")} do not fit a ${cfg.modelType} model with ${layers.map(layerName).join(", ")}`);
  }
  const s = loraScaling(m.options);
  const merged = refTree(backbone) as unknown as Record<string, unknown>;
  m.layers.forEach((at, i) => {
    const u = m.units[i][0];
    for (const site of LORA_KIND.hookSites) {
      const path = arch.projectionPath(at, site);
      if (path === null) throw new Error(`mergeLora: ${layerName(at)} has no linear layer for the ${HOOK_SITES[site]} site`);
      const w = getLeaf(merged, [...path, "w"]);
      const prefix = HOOK_SITES[site];
      setLeaf(merged, [...path, "w"], w.add(np.matmul(u[`${prefix}_lora_B`].ref, u[`${prefix}_lora_A`].ref).mul(s)));
    }
  });
  return merged as unknown as ClassifierParams;
}
