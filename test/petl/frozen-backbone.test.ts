/**
 * A frozen backbone's backward does input-gradient work only (issue 15, "no weight-gradient
 * work for frozen weights"): in the traced loss-and-gradient of a ProPETL-adapter step on
 * tiny-bert, no `dot` produces a frozen weight's gradient. A control makes two backbone weights
 * trainable and sees their weight-gradient dots appear, so the check can fail.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { makeJaxpr, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { classify, encode, sequenceLoss } from "../../src/models/bert/encoder.js";
import type { EncoderParams, HeadParams } from "../../src/models/bert/params.js";
import type { Linear } from "../../src/models/layers.js";
import { createMethod } from "../../src/petl/registry.js";
import { SMALL, tinyBert } from "./petl-helpers.js";
import type { Setup } from "./petl-helpers.js";

let s: Setup;
before(async () => {
  await initEngine();
  s = await tinyBert();
});
after(() => s.dispose());

/** Output shapes (size-1 axes dropped) of every `dot` in a jaxpr's text. */
function dotShapes(text: string): string[] {
  return [...text.matchAll(/:float32\[([\d,]*)\] = dot /g)].map((m) => m[1].split(",").filter((d) => d !== "1").join("x"));
}

const count = (shapes: string[], ...want: string[]): number => shapes.filter((x) => want.includes(x)).length;

describe("frozen backbone: no weight-gradient matmuls", () => {
  test("ProPETL-adapter step: no dot of a frozen weight's shape; making two weights trainable adds theirs", () => {
    const cfg = s.model.config;
    const H = cfg.hiddenSize;
    const F = cfg.intermediateSize;
    const tokens = s.batch.batchSize * s.batch.seqLen;
    // Shapes must not collide with activations' [tokens, width] or the adapter's [bn, H].
    for (const d of [tokens, SMALL.bottleneck]) assert.ok(d !== H && d !== F, `tiny-bert sizes collide: ${d} vs H ${H}, F ${F}`);
    const method = createMethod({ method: "propetl-adapter", bottleneck: SMALL.bottleneck, k: 0.5 });
    type Trainable = { petl: ReturnType<typeof method.init>; head: HeadParams; extra?: { inter: Linear; query: Linear } };
    const ctx = { batchSize: s.batch.batchSize, training: true };
    const traced = (withExtra: boolean): string[] => {
      const enc = s.model.encoder;
      const params: Trainable = { petl: method.init(cfg, enc, 0), head: tree.ref(s.model.head) };
      if (withExtra) params.extra = { inter: tree.ref(enc.layers[1].inter), query: tree.ref(enc.layers[1].query) };
      const loss = (t: Trainable): JArray => {
        const e: EncoderParams = t.extra ? { ...enc, layers: enc.layers.map((l, i) => (i === 1 && t.extra ? { ...l, inter: t.extra.inter, query: t.extra.query } : l)) } : enc;
        const l = sequenceLoss(classify(t.head, encode(cfg, e, s.batch, method.hooks(t.petl, ctx))), s.labels.ref, cfg.numLabels);
        tree.dispose(t as never);
        return l;
      };
      const vg = valueAndGrad(loss) as unknown as (p: unknown) => JArray;
      const { jaxpr } = makeJaxpr(vg)(params);
      const text = jaxpr.toString();
      jaxpr.dispose();
      return dotShapes(text);
    };
    const frozen = traced(false);
    const control = traced(true);
    method.dispose();
    // The only [H, H] weight gradient is the head's dense layer; no FFN-shaped one at all.
    const hh = count(frozen, `${H}x${H}`);
    assert.equal(count(frozen, `${F}x${H}`, `${H}x${F}`), 0, `FFN weight-gradient dots in the frozen step: ${frozen.join(" ")}`);
    assert.equal(hh, 1, `[H, H] dots in the frozen step (the head's dW only): ${frozen.join(" ")}`);
    // Control: layer 1's FFN input weight and query weight trainable → their dW dots appear.
    assert.equal(count(control, `${F}x${H}`, `${H}x${F}`), 1, `control: ${control.join(" ")}`);
    assert.equal(count(control, `${H}x${H}`), hh + 1, `control: ${control.join(" ")}`);
  });
});
