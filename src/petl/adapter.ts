/**
 * Bottleneck adapters (paper App. A.1, eq. 7) with the placement of AdapterHub's
 * `PfeifferConfig` and `HoulsbyConfig`, which the authors' code builds on. With h the
 * sublayer's raw output (dense, before the residual), x its residual input and LN the block's
 * frozen output LayerNorm (see `SublayerContext`), and Δ(z) = up(ReLU(down(z))):
 *
 * - Pfeiffer ("adapter"): one adapter per layer, after the FFN (hook `ffnOutput`). It reads
 *   the normalised block output a = LN(h + x) (AdapterHub: `original_ln_before`), its output
 *   is added to h (`residual_before_ln`), and the frozen LN is applied again
 *   (`original_ln_after`):   out = LN(h + Δ(LN(h + x)) + x).
 * - Houlsby ("houlsby"): two per layer, after the attention output (`attentionOutput`) and
 *   after the FFN; each reads the raw h:   out = LN(h + Δ(h) + x). AdapterHub's Houlsby uses
 *   swish; we keep the paper's module (eq. 7, ReLU) for both kinds.
 *
 * In a model without an output norm (pre-LN), LN above is the identity, as in AdapterHub.
 *
 * Unit tensors (PyTorch nn.Linear layout, weight [out, in]):
 *   down_weight [bn, H], down_bias [bn], up_weight [H, bn], up_bias [H].
 * ProPETL masks the two weights, never the biases (eq. 8). Initialisation follows
 * AdapterHub's default ("bert"): weights N(0, 0.02²), biases zero, so a fresh adapter is
 * close to the identity while every weight still gets a gradient.
 */
import { nn, np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { ModelConfig } from "../models/architecture.js";
import { architectureOf } from "../models/registry.js";
import type { LayerHooks, SublayerContext } from "../models/hooks.js";
import { HostRng } from "./mask.js";
import type { ModuleKind, ModuleOptions, TensorSpec, Unit, UnitReader } from "./method.js";

/**
 * x @ w.T (+ b) over the last axis. `x` [..., in] is consumed; `w` [out, in] or per example
 * [B, out, in] (then x is [B, T, in]) and `b` [out] are consumed too.
 */
export function linearMasked(x: JArray, w: JArray, b?: JArray): JArray {
  let y: JArray;
  if (w.ndim === 2) {
    const shape = x.shape;
    const inDim = shape[shape.length - 1];
    y = np.matmul(x.reshape([-1, inDim]), w.transpose()).reshape([...shape.slice(0, -1), w.shape[0]]);
  } else {
    y = np.matmul(x, w.transpose([0, 2, 1]));
  }
  return b ? y.add(b) : y;
}

/** The bottleneck Δ(z) = up(ReLU(down(z))) of z [B, T, H]; z and the tensors are consumed. */
export function bottleneck(z: JArray, downW: JArray, downB: JArray, upW: JArray, upB: JArray): JArray {
  return linearMasked(nn.relu(linearMasked(z, downW, downB)), upW, upB);
}

/** Where an adapter reads its input: the raw sublayer output, or the normalised block output. */
export type AdapterInput = "output" | "normed-block";

/**
 * The replacement of a sublayer output h [B, T, H] (consumed) by an adapter: h + Δ(input),
 * where input is h ("output", Houlsby) or LN(h + x) ("normed-block", Pfeiffer). The layer
 * then applies its residual and norm. The unit tensors are consumed; `block` is borrowed.
 */
export function adapterForward(input: AdapterInput, h: JArray, block: SublayerContext, downW: JArray, downB: JArray, upW: JArray, upB: JArray): JArray {
  let z: JArray;
  if (input === "output") {
    z = h.ref;
  } else {
    const sum = h.ref.add(block.residual.ref);
    z = block.norm ? block.norm(sum) : sum;
  }
  return h.add(bottleneck(z, downW, downB, upW, upB));
}

function adapterSpec(cfg: ModelConfig, o: ModuleOptions): TensorSpec[] {
  const H = architectureOf(cfg).moduleWidths(cfg).hidden;
  const bn = o.bottleneck;
  return [
    { name: "down_weight", shape: [bn, H], masked: true },
    { name: "down_bias", shape: [bn], masked: false },
    { name: "up_weight", shape: [H, bn], masked: true },
    { name: "up_bias", shape: [H], masked: false },
  ];
}

function initAdapters(cfg: ModelConfig, o: ModuleOptions, count: number, seed: number): Unit[] {
  const rng = new HostRng(seed);
  const spec = adapterSpec(cfg, o);
  return Array.from({ length: count }, () => {
    const unit: Unit = {};
    for (const t of spec) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      unit[t.name] = t.masked ? np.array(rng.normalArray(n, 0.02)).reshape(t.shape) : np.zeros(t.shape);
    }
    return unit;
  });
}

/** Reader over a list of instances (adapter and LoRA sources): borrowed tensors, new references. */
export function unitListReader(source: Unit[]): UnitReader {
  return (unit, name) => {
    const t = source[unit]?.[name];
    if (t === undefined) throw new Error(`module source has no tensor "${name}" in instance ${unit}`);
    return t.ref;
  };
}

function adapterHooksAt(points: ("attentionOutput" | "ffnOutput")[], input: AdapterInput) {
  return (get: (position: number, name: string) => JArray): LayerHooks => {
    const hooks: LayerHooks = {};
    points.forEach((point, p) => {
      hooks[point] = (h: JArray, block: SublayerContext) =>
        adapterForward(input, h, block, get(p, "down_weight"), get(p, "down_bias"), get(p, "up_weight"), get(p, "up_bias"));
    });
    return hooks;
  };
}

/** Pfeiffer adapter: after the FFN of every layer, reading LN(h + x). */
export const ADAPTER_KIND: ModuleKind<Unit[]> = {
  name: "adapter",
  positions: [{ name: "ffn_output", sites: ["ffnOutput"], where: "every-layer" }],
  unitSpec: adapterSpec,
  initSource: initAdapters,
  openSource: (source) => unitListReader(source),
  layerHooks: adapterHooksAt(["ffnOutput"], "normed-block"),
};

/** Houlsby adapter: after the attention output and after the FFN of every layer, reading h. */
export const HOULSBY_KIND: ModuleKind<Unit[]> = {
  name: "houlsby",
  positions: [
    { name: "attention_output", sites: ["attentionOutput"], where: "every-layer" },
    { name: "ffn_output", sites: ["ffnOutput"], where: "every-layer" },
  ],
  unitSpec: adapterSpec,
  initSource: initAdapters,
  openSource: (source) => unitListReader(source),
  layerHooks: adapterHooksAt(["attentionOutput", "ffnOutput"], "output"),
};
