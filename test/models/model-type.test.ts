/**
 * A config.json without `model_type` (2019-era BERT checkpoints) loads as Hugging Face
 * resolves it — from `architectures`, else from the tensor-name prefix, else BERT — says how
 * it decided, and the loaded model matches the PyTorch fixture.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { readSafetensorsFileSync, writeSafetensorsFileSync } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { classify, disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import { loadModelDir } from "../../src/models/load.js";
import { parseModelConfig, resolveModelType } from "../../src/models/registry.js";
import { compare, modelFixtureDir, readExpected } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

/** A copy of a fixture model with config keys dropped and tensor names rewritten. */
function variant(name: string, drop: string[], rename: (n: string) => string = (n) => n): string {
  const dir = mkdtempSync(path.join(tmpdir(), "propetl-mt-"));
  const src = modelFixtureDir(name);
  const cfg = JSON.parse(readFileSync(path.join(src, "config.json"), "utf8")) as Record<string, unknown>;
  for (const k of drop) delete cfg[k];
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  const st = readSafetensorsFileSync(path.join(src, "model.safetensors"));
  const out: Record<string, TensorInput> = {};
  for (const [n, e] of st.tensors) out[rename(n)] = { dtype: e.dtype, shape: e.shape, data: e.data };
  writeSafetensorsFileSync(path.join(dir, "model.safetensors"), out);
  return dir;
}

async function matchesFixture(dir: string, fixture: string): Promise<string | null> {
  const model = await loadModelDir(dir);
  const exp = readExpected(fixture);
  const [B, T] = exp.shape("input_ids");
  const batch = makeBatch(model.config, { batchSize: B, seqLen: T, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), tokenTypeIds: exp.i32("token_type_ids") });
  const logits = classify(model.head, encode(model.config, model.encoder, batch));
  const l = compare(await logits.data(), exp.f32("logits"));
  assert.ok(l.maxAbs < 1e-4, `logits max abs ${l.maxAbs}`);
  assert.equal(model.headSource, "checkpoint");
  disposeBatch(batch);
  tree.dispose([model.encoder, model.head]);
  return model.modelTypeInferred;
}

test("no model_type: resolved from architectures", async () => {
  const how = await matchesFixture(variant("tiny-bert", ["model_type"]), "tiny-bert");
  assert.match(how ?? "", /model_type "bert" from architectures "BertForSequenceClassification"/);
});

test("no model_type, no architectures: resolved from the tensor-name prefix (RoBERTa too)", async () => {
  assert.match((await matchesFixture(variant("tiny-bert", ["model_type", "architectures"]), "tiny-bert")) ?? "", /model_type "bert" from the tensor name "bert\./);
  const roberta = variant("tiny-roberta", ["model_type", "architectures"], (n) => (n.startsWith("classifier.") ? n : `roberta.${n}`));
  assert.match((await matchesFixture(roberta, "tiny-roberta")) ?? "", /model_type "roberta" from the tensor name "roberta\./);
});

test("no model_type, no architectures, unprefixed tensors: BERT, as old checkpoints are", async () => {
  const dir = variant("tiny-bert", ["model_type", "architectures"], (n) => n.replace(/^bert\./, ""));
  assert.match((await matchesFixture(dir, "tiny-bert")) ?? "", /model_type "bert" \(config\.json names no model_type/);
});

test("a config that names model_type is not inferred; an unsupported one is an error naming it", async () => {
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  assert.equal(model.modelTypeInferred, null);
  tree.dispose([model.encoder, model.head]);
  assert.throws(() => resolveModelType({ model_type: "gpt2" }, "x/config.json"), /x\/config\.json: "model_type" must be one of bert, roberta, t5, got "gpt2"/);
  assert.throws(() => parseModelConfig([], "y/config.json"), /y\/config\.json: expected a JSON object/);
  assert.equal(resolveModelType({ architectures: ["RobertaForMaskedLM"] }, "c").modelType, "roberta");
});
