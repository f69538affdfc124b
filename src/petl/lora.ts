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
import type { EncoderConfig } from "../models/config.js";
import type { LayerHooks } from "../models/hooks.js";
import type { EncoderParams } from "../models/params.js";
import { linearMasked, unitListReader } from "./adapter.js";
import { HostRng, kaimingUniform } from "./mask.js";
import type { Materialized, ModuleKind, ModuleOptions, TensorSpec, Unit } from "./method.js";

function loraSpec(cfg: EncoderConfig, o: ModuleOptions): TensorSpec[] {
  const H = cfg.hiddenSize;
  const r = o.rank;
  return [
    { name: "query_lora_A", shape: [r, H], masked: true },
    { name: "query_lora_B", shape: [H, r], masked: true },
    { name: "value_lora_A", shape: [r, H], masked: true },
    { name: "value_lora_B", shape: [H, r], masked: true },
  ];
}

function initLora(cfg: EncoderConfig, o: ModuleOptions, count: number, seed: number): Unit[] {
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
  hookPoints: ["query", "value"],
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
 * Merge materialised LoRA modules into the frozen weights: W_q ← W_q + (alpha/r)·B̃Ã (and
 * W_v), so prediction runs the plain encoder with no hooks. Borrows both inputs and returns a
 * NEW encoder tree (untouched leaves are new references; dispose it with `tree.dispose`).
 */
export function mergeLora(encoder: EncoderParams, m: Materialized): EncoderParams {
  if (m.kind !== "lora") throw new Error(`mergeLora: materialised modules are "${m.kind}", not "lora"`);
  if (m.units.length !== encoder.layers.length) {
    throw new Error(`mergeLora: ${m.units.length} LoRA layers for an encoder with ${encoder.layers.length}`);
  }
  const s = loraScaling(m.options);
  const ref = <V>(x: { w: JArray; b: JArray } & V) => ({ w: x.w.ref, b: x.b.ref });
  const merged = (w: JArray, a: JArray, b: JArray): JArray => w.ref.add(np.matmul(b.ref, a.ref).mul(s));
  return {
    embeddings: {
      word: encoder.embeddings.word.ref,
      position: encoder.embeddings.position.ref,
      tokenType: encoder.embeddings.tokenType.ref,
      ln: { g: encoder.embeddings.ln.g.ref, b: encoder.embeddings.ln.b.ref },
    },
    layers: encoder.layers.map((p, i) => {
      const u = m.units[i][0];
      return {
        query: { w: merged(p.query.w, u.query_lora_A, u.query_lora_B), b: p.query.b.ref },
        key: ref(p.key),
        value: { w: merged(p.value.w, u.value_lora_A, u.value_lora_B), b: p.value.b.ref },
        attnOut: ref(p.attnOut),
        attnLn: { g: p.attnLn.g.ref, b: p.attnLn.b.ref },
        inter: ref(p.inter),
        out: ref(p.out),
        outLn: { g: p.outLn.g.ref, b: p.outLn.b.ref },
      };
    }),
  };
}
