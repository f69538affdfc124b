/**
 * Training memory per token with per-layer rematerialisation (train/remat.ts), read from the
 * wasm allocator's peak of live bytes (`wasmHeapStatsReader`) during one loss-and-gradient of
 * the classification objective, above what was live before it (weights, trainable tree, batch).
 *
 * A small randomly initialised BERT (hidden 64, 4 heads, FFN 256) with ProPETL-adapter, batch
 * 4 × 64 tokens. The figures are expressed in "width units": U = (H + FFN + heads·T) · 4 bytes
 * per token, the widths one layer's activations have (hidden state, FFN intermediate,
 * attention row), so the bound reads the same at any model size. Measured when written: one
 * layer's forward and backward peak at 13.8 U per token, and each further layer adds one
 * hidden state (H · 4 bytes per token); plain `valueAndGrad` held about 21 U per token per
 * layer. The bounds below leave about 10% above the first figure, so a regression shows.
 * Partial rematerialisation (`keepLayers`): each kept layer adds its residuals, more than a
 * kept input and at most the figures remat-choice.ts budgets with (measured when written: 2.26
 * U per kept layer on average over 3, the whole-network gradient 16.1 U per layer).
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { blockUntilReady, tree } from "../../src/engine/jax.js";
import { wasmHeapStatsReader } from "../../src/engine/live-buffers.js";
import type { WasmHeapStats } from "../../src/engine/live-buffers.js";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import { initEncoder, initHead } from "../../src/models/bert/init.js";
import { readEncoderConfig } from "../../src/models/config-file.js";
import type { PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import type { EncodedExample } from "../../src/train/batching.js";
import { classificationObjective } from "../../src/train/finetune.js";
import { KEPT_UNITS_PER_TOKEN_LAYER, REMAT_WORK_UNITS_PER_TOKEN } from "../../src/train/remat-choice.js";
import type { Trainable } from "../../src/train/finetune.js";
import { makeLossAndGrad } from "../../src/train/trainer.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

const [H, HEADS, FFN, B, T] = [64, 4, 256, 4, 64];
/** Bytes per token of one "width unit" (see the file comment). */
const U = (H + FFN + HEADS * T) * 4;

let heap: (opts?: { resetPeak?: boolean }) => WasmHeapStats;
let base: EncoderConfig;
before(async () => {
  await initEngine();
  heap = await wasmHeapStatsReader();
  base = readEncoderConfig(path.join(REPO_ROOT, "models", "propetl-mini", "config.json")) as EncoderConfig;
});

/** Peak live bytes per token above the live bytes before one loss-and-gradient (the second of two). */
async function peakPerToken(layers: number, remat: boolean, keepLayers = 0): Promise<number> {
  const cfg: EncoderConfig = { ...base, numLayers: layers, hiddenSize: H, numHeads: HEADS, intermediateSize: FFN, vocabSize: 200 };
  const encoder = initEncoder(cfg, 1);
  const method = createMethod({ method: "propetl-adapter", bottleneck: 16 }, cfg) as PetlMethod<unknown>;
  const params: Trainable<unknown> = { method: method.init(cfg, encoder, 1), head: initHead(cfg, 2) };
  const data: EncodedExample[] = Array.from({ length: B }, (_, index) => ({
    inputIds: Int32Array.from({ length: T }, (_, t) => 5 + ((t * 7 + index * 13) % 190)),
    tokenTypeIds: new Int32Array(T),
    label: index % 2,
    index,
  }));
  const objective = classificationObjective({ config: cfg, encoder }, method, data, { kind: "classification", numLabels: 2 }, { padTokenId: 0 }, { remat, keepLayers });
  assert.equal(objective.valueAndGrad !== undefined, remat);
  const lossAndGrad = objective.valueAndGrad ? objective.valueAndGrad.bind(objective) : makeLossAndGrad(objective.loss, false);
  await blockUntilReady([encoder, params] as never);
  let peak = 0;
  for (let rep = 0; rep < 2; rep++) {
    const d = objective.toDevice(data.map((e) => e.index));
    await blockUntilReady(d as never);
    const before = heap({ resetPeak: true });
    const [loss, grads] = await lossAndGrad(tree.ref(params), d);
    const value = ((await loss.data()) as Float32Array)[0];
    await blockUntilReady(grads as never);
    peak = heap().peakLiveBytes - before.liveBytes;
    tree.dispose(grads as never);
    assert.ok(Number.isFinite(value), "finite loss");
  }
  tree.dispose([params, encoder] as never);
  method.dispose();
  return peak / (B * T);
}

describe("training memory per token with per-layer rematerialisation", () => {
  test("one layer's work: at most 15 width units per token; each further layer adds at most two hidden states", async () => {
    const two = await peakPerToken(2, true);
    const six = await peakPerToken(6, true);
    assert.ok(two <= 15 * U, `2 layers: ${(two / U).toFixed(2)} U per token (${two.toFixed(0)} bytes), bound 15 U`);
    const perLayer = (six - two) / 4;
    assert.ok(perLayer <= 2 * H * 4, `each further layer adds ${perLayer.toFixed(0)} bytes per token; bound ${2 * H * 4} (two hidden states)`);
  });

  test("plain valueAndGrad grows with depth; remat holds a third of it at 6 layers or less", async () => {
    const two = await peakPerToken(2, false);
    const six = await peakPerToken(6, false);
    assert.ok((six - two) / 4 > 5 * U, `plain valueAndGrad: ${((six - two) / 4 / U).toFixed(2)} U per token per layer`);
    const rematSix = await peakPerToken(6, true);
    assert.ok(rematSix * 3 <= six, `6 layers: remat ${(rematSix / U).toFixed(2)} U vs plain ${(six / U).toFixed(2)} U per token`);
  });

  test("partial: each kept layer adds more than a hidden state and at most KEPT_UNITS_PER_TOKEN_LAYER width units", async () => {
    const plainTwo = await peakPerToken(2, false);
    const plainSix = await peakPerToken(6, false);
    const none = await peakPerToken(6, true, 0);
    const three = await peakPerToken(6, true, 3);
    const perPlain = (plainSix - plainTwo) / 4;
    const perKept = (three - none) / 3;
    console.log(`6 layers: keep 0 ${(none / U).toFixed(2)} U, keep 3 ${(three / U).toFixed(2)} U per token: ${(perKept / U).toFixed(2)} U per kept layer; whole-network gradient ${(perPlain / U).toFixed(2)} U per layer`);
    assert.ok(perKept > 2 * H * 4, `a kept layer adds ${perKept.toFixed(0)} bytes per token: its residuals are not kept`);
    assert.ok(perKept <= KEPT_UNITS_PER_TOKEN_LAYER * U, `a kept layer adds ${(perKept / U).toFixed(2)} U per token; auto budgets ${KEPT_UNITS_PER_TOKEN_LAYER} U`);
    assert.ok(none <= REMAT_WORK_UNITS_PER_TOKEN * U, `the layer-by-layer work: ${(none / U).toFixed(2)} U per token; auto budgets ${REMAT_WORK_UNITS_PER_TOKEN} U`);
  });
});
