/**
 * Version-1 task checkpoints (layers named without their stack: `layer.0.ffn_output`,
 * `mask.layer.0...`), written by propetl 764da18 (scripts/make_v1_checkpoints.mjs), still
 * load: as version 2 with every layer in the encoder. LoRA's and the prefix's forward pass
 * did not change since, so their logits must equal the ones that version computed.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { classify, disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import { layerName } from "../../src/models/hooks.js";
import { loadModelDir } from "../../src/models/load.js";
import type { LoadedModel } from "../../src/models/load.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import { FIXTURES, modelFixtureDir, readExpected } from "../helpers/fixtures.js";

let model: LoadedModel;
before(async () => {
  await initEngine();
  model = await loadModelDir(modelFixtureDir("tiny-bert"));
});

const dirOf = (name: string): string => path.join(FIXTURES, "checkpoints", name);

for (const [name, sameLogits] of [["v1-propetl-lora", true], ["v1-prefix", true], ["v1-only-mask", false]] as const) {
  test(`${name}: a version-1 checkpoint loads${sameLogits ? " and predicts as the version that wrote it" : ""}`, async () => {
    const stored = JSON.parse(readFileSync(path.join(dirOf(name), "adapter_config.json"), "utf8")) as { format_version: number; hook_points: string[] };
    assert.equal(stored.format_version, 1);
    assert.ok(stored.hook_points.every((h) => h.startsWith("layer.")), "the file names layers without a stack");
    const ckpt = await loadTaskCheckpoint(dirOf(name), { encoderConfig: model.config });
    const m = ckpt.materialize();
    assert.deepEqual(m.layers.map(layerName), ["encoder.layer.0", "encoder.layer.1"]);
    const exp = readExpected("tiny-bert");
    const [B, T] = exp.shape("input_ids");
    const batch = makeBatch(model.config, { batchSize: B, seqLen: T, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), tokenTypeIds: exp.i32("token_type_ids") });
    const logits = (await classify(model.head, encode(model.config, model.encoder, batch, materializedHooks(m))).data()) as Float32Array;
    assert.ok(logits.every(Number.isFinite));
    if (sameLogits) {
      const want = (JSON.parse(readFileSync(path.join(dirOf(name), "expected_logits.json"), "utf8")) as { logits: number[] }).logits;
      assert.equal(logits.length, want.length);
      logits.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `logit ${i}: ${v} vs ${want[i]} (version 1)`));
    }
    disposeBatch(batch);
    disposeMaterialized(m);
    ckpt.dispose();
  });
}
