/**
 * LoRA on the query and value projections (paper App. A.2, eq. 9; Hu et al. 2022):
 * q ← q + (alpha / r) · (x Aᵀ) Bᵀ, and the same for v, with x the layer input.
 *
 * Unit tensors, as Hugging Face PEFT (A [r, in], B [out, r]), with H the residual width and
 * D the attention's inner width (`Architecture.moduleWidths`; D = H in BERT):
 *   query_lora_A [r, H], query_lora_B [D, r], value_lora_A [r, H], value_lora_B [D, r].
 * A is initialised kaiming-uniform(a=√5) and B to zero (PEFT), so a fresh LoRA is the
 * identity. ProPETL masks all four (LoRA has no bias, eq. 10); its default alpha is larger
 * (48 vs 32, Sec. 4) to make up for the norm the masks remove.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { layerAddresses } from "../models/architecture.js";
import type { BackboneParams, ModelConfig } from "../models/architecture.js";
import { HOOK_SITES, layerName } from "../models/hooks.js";
import type { LayerHooks } from "../models/hooks.js";
import { architectureOf } from "../models/registry.js";
import { getLeaf, refTree, setLeaf } from "../models/slots.js";
import { linearMasked, unitListReader } from "./adapter.js";
import { HostRng, kaimingUniform } from "./mask.js";
import type { Materialized, ModuleKind, ModuleOptions, TensorSpec, Unit } from "./method.js";
import type { ModulePosition } from "./positions.js";

/**
 * The projections one LoRA unit adapts, in the order of each position's sites: a unit holds
 * `query_lora_A/B` and `value_lora_A/B` whether it sits on self- or cross-attention.
 */
const LORA_TARGETS = ["query", "value"] as const;

function loraSpec(cfg: ModelConfig, o: ModuleOptions): TensorSpec[] {
  const { hidden, attention } = architectureOf(cfg).moduleWidths(cfg);
  const r = o.rank;
  return LORA_TARGETS.flatMap((t) => [
    { name: `${t}_lora_A`, shape: [r, hidden], masked: true },
    { name: `${t}_lora_B`, shape: [attention, r], masked: true },
  ]);
}

function initLora(cfg: ModelConfig, o: ModuleOptions, count: number, seed: number): Unit[] {
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

/**
 * LoRA on the query and value projections of self-attention in every layer and, where a
 * stack has cross-attention (the decoder of an encoder–decoder model), of cross-attention too
 * (the ProPETL authors' T5 LoRA adapts every attention's q and v).
 */
const LORA_POSITIONS: readonly ModulePosition[] = [
  { name: "self_attention", sites: ["query", "value"], where: "every-layer" },
  { name: "cross_attention", sites: ["crossQuery", "crossValue"], where: "where-offered" },
];

export const LORA_KIND: ModuleKind<Unit[]> = {
  name: "lora",
  positions: LORA_POSITIONS,
  unitSpec: loraSpec,
  initSource: initLora,
  openSource: (source) => unitListReader(source),
  layerHooks: (get, o, has): LayerHooks => {
    const s = loraScaling(o);
    const hooks: LayerHooks = {};
    LORA_POSITIONS.forEach((pos, p) => {
      if (!has(p)) return;
      pos.sites.forEach((site, j) => {
        const t = LORA_TARGETS[j];
        hooks[site as "query" | "value" | "crossQuery" | "crossValue"] = (x: JArray, y: JArray) => y.add(loraDelta(x.ref, get(p, `${t}_lora_A`), get(p, `${t}_lora_B`), s));
      });
    });
    return hooks;
  },
};

/**
 * Merge materialised LoRA modules into the frozen weights: W ← W + (alpha/r)·B̃Ã at every
 * site the kind adapts (query and value), so prediction runs the plain backbone with no
 * hooks. Which linear layer a site reads is the architecture's (`projectionPath`). Borrows
 * both inputs and returns a NEW backbone tree (untouched leaves are new references; free it
 * with `disposeTree`).
 */
export function mergeLora<P extends BackboneParams>(cfg: ModelConfig, backbone: P, m: Materialized): P {
  if (m.kind !== "lora") throw new Error(`mergeLora: materialised modules are "${m.kind}", not "lora"`);
  const arch = architectureOf(cfg);
  const layers = layerAddresses(arch, cfg);
  if (m.layers.length !== layers.length || m.layers.some((a, i) => layerName(a) !== layerName(layers[i]))) {
    throw new Error(`mergeLora: LoRA modules for ${m.layers.map(layerName).join(", ")} do not fit a ${cfg.modelType} model with ${layers.map(layerName).join(", ")}`);
  }
  const s = loraScaling(m.options);
  const merged = refTree(backbone) as unknown as Record<string, unknown>;
  m.layers.forEach((at, i) => {
    LORA_POSITIONS.forEach((pos, p) => {
      const u = m.units[i]?.[p];
      if (u === undefined || Object.keys(u).length === 0) return;
      pos.sites.forEach((site, j) => {
        const path = arch.projectionPath(at, site);
        if (path === null) throw new Error(`mergeLora: ${layerName(at)} has no linear layer for the ${HOOK_SITES[site]} site`);
        const w = getLeaf(merged, [...path, "w"]);
        const t = LORA_TARGETS[j];
        setLeaf(merged, [...path, "w"], w.add(np.matmul(u[`${t}_lora_B`].ref, u[`${t}_lora_A`].ref).mul(s)));
      });
    });
  });
  return merged as unknown as P;
}
