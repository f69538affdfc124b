/**
 * Loading T5 folders (`model_type` "t5"): strict tensor names with the copies HF ties to
 * `shared.weight` accepted, config.json validation naming the file and the key, the model
 * type resolved without `model_type`, the registry entry, and a fresh model that saves and
 * loads back.
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
import { layerAddresses } from "../../src/models/architecture.js";
import { exportHfTensors, loadBackboneDir, loadModelDir } from "../../src/models/load.js";
import { architectureFor, parseModelConfig } from "../../src/models/registry.js";
import { readEncoderConfig } from "../../src/models/config-file.js";
import { disposeT5Batch, makeT5Batch } from "../../src/models/t5/batch.js";
import { isT5Config, parseT5Config, t5ConfigToJson } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { t5Forward, t5LmLogits } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { modelFixtureDir } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

type Json = Record<string, unknown>;

function fixtureConfig(name: string): Json {
  return JSON.parse(readFileSync(path.join(modelFixtureDir(name), "config.json"), "utf8")) as Json;
}

/** A copy of a fixture model with its config edited and its tensors edited (return null to drop one). */
function variant(name: string, editConfig: (c: Json) => void, editTensors: (t: Record<string, TensorInput>) => void = () => {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), "propetl-t5-"));
  const cfg = fixtureConfig(name);
  editConfig(cfg);
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(cfg));
  const st = readSafetensorsFileSync(path.join(modelFixtureDir(name), "model.safetensors"));
  const out: Record<string, TensorInput> = {};
  for (const [n, e] of st.tensors) out[n] = { dtype: e.dtype, shape: e.shape, data: e.data };
  editTensors(out);
  writeSafetensorsFileSync(path.join(dir, "model.safetensors"), out);
  return dir;
}

async function t5Model(dir: string): Promise<{ cfg: T5Config; params: T5Params; inferred: string | null }> {
  const m = await loadBackboneDir(dir);
  if (!isT5Config(m.config)) throw new Error("not a T5 config");
  return { cfg: m.config, params: m.encoder as T5Params, inferred: m.modelTypeInferred };
}

async function sharedRow(params: T5Params): Promise<number[]> {
  return [...((await params.shared.ref.data()) as Float32Array).slice(0, 4)];
}

test("both fixtures load: v1.0 relu with tied embeddings, v1.1 gated-gelu with lm_head", async () => {
  const v10 = await t5Model(modelFixtureDir("tiny-t5"));
  assert.equal(v10.cfg.feedForwardProj, "relu");
  assert.equal(v10.cfg.tieWordEmbeddings, true);
  assert.equal(v10.params.lmHead, undefined);
  assert.ok("wi" in v10.params.encoder.layers[0].ffn);
  assert.equal(v10.inferred, null);
  const v11 = await t5Model(modelFixtureDir("tiny-t5-v1_1"));
  assert.equal(v11.cfg.feedForwardProj, "gated-gelu");
  assert.equal(v11.cfg.tieWordEmbeddings, false);
  assert.deepEqual(v11.params.lmHead?.w.shape, [v11.cfg.vocabSize, v11.cfg.dModel]);
  assert.ok("wi0" in v11.params.decoder.layers[1].ffn);
  tree.dispose([v10.params, v11.params]);
});

test("the copies HF ties to shared.weight are accepted and ignored; embed_tokens alone stands for shared", async () => {
  const base = await t5Model(modelFixtureDir("tiny-t5"));
  const want = await sharedRow(base.params);
  const withCopies = variant("tiny-t5", () => {}, (t) => {
    const shared = t["shared.weight"];
    t["encoder.embed_tokens.weight"] = shared;
    t["decoder.embed_tokens.weight"] = shared;
    t["lm_head.weight"] = shared; // tied: HF may store it, the shared matrix is used
    t["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] = { dtype: "F32", shape: [8, 2], data: new Float32Array(16) };
  });
  const a = await t5Model(withCopies);
  assert.deepEqual(await sharedRow(a.params), want);
  const onlyEmbed = variant("tiny-t5", () => {}, (t) => {
    t["encoder.embed_tokens.weight"] = t["shared.weight"];
    delete t["shared.weight"];
  });
  const b = await t5Model(onlyEmbed);
  assert.deepEqual(await sharedRow(b.params), want);
  tree.dispose([base.params, a.params, b.params]);
});

test("missing, unknown and mis-shaped tensors are errors naming them", async () => {
  const missing = variant("tiny-t5", () => {}, (t) => void delete t["decoder.block.1.layer.1.EncDecAttention.k.weight"]);
  await assert.rejects(loadBackboneDir(missing), /missing 1 tensor\(s\) required by config\.json: decoder\.block\.1\.layer\.1\.EncDecAttention\.k\.weight/);
  const noHead = variant("tiny-t5-v1_1", () => {}, (t) => void delete t["lm_head.weight"]);
  await assert.rejects(loadBackboneDir(noHead), /model\.safetensors: missing 1 tensor\(s\) required by config\.json: lm_head\.weight/);
  const unknown = variant("tiny-t5", () => {}, (t) => {
    t["encoder.block.0.layer.0.SelfAttention.q.bias"] = { dtype: "F32", shape: [16], data: new Float32Array(16) };
    t["encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"] = { dtype: "F32", shape: [8, 2], data: new Float32Array(16) };
  });
  await assert.rejects(
    loadBackboneDir(unknown),
    /2 unexpected tensor\(s\) for a t5 model with this config\.json: encoder\.block\.0\.layer\.0\.SelfAttention\.q\.bias, encoder\.block\.1\.layer\.0\.SelfAttention\.relative_attention_bias\.weight/,
  );
  // config.json says gated-gelu, the file holds a relu FFN
  const relu = variant("tiny-t5", (c) => void (c.feed_forward_proj = "gated-gelu"));
  await assert.rejects(loadBackboneDir(relu), /missing \d+ tensor\(s\) required by config\.json: encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight/);
  const shape = variant("tiny-t5", (c) => void (c.d_ff = 48));
  await assert.rejects(loadBackboneDir(shape), /tensor "encoder\.block\.0\.layer\.1\.DenseReluDense\.wi\.weight" has shape \[64,32\], expected \[48,32\] from config\.json/);
});

test("bad config.json keys are errors naming the file and the key", () => {
  const cfg = fixtureConfig("tiny-t5");
  const bad = (edit: (c: Json) => void): (() => unknown) => () => {
    const c = { ...cfg };
    edit(c);
    return parseModelConfig(c, "m/config.json");
  };
  assert.throws(bad((c) => void (c.feed_forward_proj = "gated-silu")), /m\/config\.json: "feed_forward_proj" must be one of "relu", "gated-gelu", got "gated-silu"/);
  assert.throws(bad((c) => void (c.d_model = "32")), /m\/config\.json: "d_model" must be an integer, got "32"/);
  assert.throws(bad((c) => void delete c.num_heads), /m\/config\.json: missing key "num_heads"/);
  assert.throws(bad((c) => void (c.tie_word_embeddings = "yes")), /m\/config\.json: "tie_word_embeddings" must be true or false, got "yes"/);
  assert.throws(bad((c) => void (c.layer_norm_epsilon = 0)), /m\/config\.json: "layer_norm_epsilon" must be a positive number, got 0/);
  assert.throws(bad((c) => void (c.relative_attention_max_distance = 4)), /m\/config\.json: "relative_attention_max_distance" 4 must exceed relative_attention_num_buckets\/2 \(4\)/);
  assert.throws(bad((c) => void (c.decoder_start_token_id = 64)), /m\/config\.json: "decoder_start_token_id" 64 is outside the vocabulary \(vocab_size 64\)/);
  assert.throws(() => parseT5Config({ ...cfg, model_type: "mt5" }, "n/config.json"), /n\/config\.json: "model_type" must be "t5", got "mt5"/);
  // HF's defaults for the optional keys
  const minimal = parseT5Config({ model_type: "t5", vocab_size: 100, d_model: 8, d_kv: 4, d_ff: 16, num_layers: 3, num_heads: 2 });
  assert.deepEqual(
    [minimal.numDecoderLayers, minimal.relativeBuckets, minimal.relativeMaxDistance, minimal.layerNormEps, minimal.feedForwardProj, minimal.tieWordEmbeddings, minimal.padTokenId, minimal.eosTokenId, minimal.decoderStartTokenId],
    [3, 32, 128, 1e-6, "relu", true, 0, 1, 0],
  );
});

test("without model_type a T5 folder is recognised from architectures or its tensor names", async () => {
  const fromClass = await t5Model(variant("tiny-t5", (c) => void delete c.model_type));
  assert.match(fromClass.inferred ?? "", /model_type "t5" from architectures "T5ForConditionalGeneration"/);
  const fromTensors = await t5Model(variant("tiny-t5-v1_1", (c) => void (delete c.model_type, delete c.architectures)));
  assert.match(fromTensors.inferred ?? "", /model_type "t5" from the tensor name "shared\.weight"/);
  tree.dispose([fromClass.params, fromTensors.params]);
});

test("T5 has no sequence-classification head: the classification loaders say so, naming the file", async () => {
  const dir = modelFixtureDir("tiny-t5");
  await assert.rejects(loadModelDir(dir), /tiny-t5\/config\.json: model_type "t5" \(T5\) has no sequence-classification head; load its backbone with loadBackboneDir/);
  assert.throws(() => readEncoderConfig(path.join(dir, "config.json")), /tiny-t5\/config\.json: model_type "t5" \(T5\) is not supported here/);
});

test("the registry entry: two stacks, their hook sites, the projection behind each q/k/v site", () => {
  const arch = architectureFor("t5");
  const cfg = parseT5Config(fixtureConfig("tiny-t5"));
  assert.deepEqual(layerAddresses(arch, cfg).map((a) => `${a.stack}.${a.layer}`), ["encoder.0", "encoder.1", "decoder.0", "decoder.1"]);
  assert.deepEqual(arch.sites("encoder"), ["query", "key", "value", "prefix", "attentionOutput", "ffnOutput"]);
  assert.deepEqual(arch.sites("decoder"), ["query", "key", "value", "prefix", "attentionOutput", "ffnOutput", "crossQuery", "crossKey", "crossValue", "crossPrefix", "crossAttentionOutput"]);
  assert.deepEqual(arch.projectionPath({ stack: "decoder", layer: 1 }, "crossValue"), ["decoder", "layers", 1, "crossAttention", "v"]);
  assert.deepEqual(arch.projectionPath({ stack: "encoder", layer: 0 }, "query"), ["encoder", "layers", 0, "selfAttention", "q"]);
  assert.equal(arch.projectionPath({ stack: "encoder", layer: 0 }, "crossKey"), null);
  assert.equal(arch.projectionPath({ stack: "encoder", layer: 0 }, "ffnOutput"), null);
  assert.equal(arch.head, null);
  // the checkpoint summary's keys parse back into the same shapes
  const json = arch.configToJson(cfg);
  const summary = Object.fromEntries(arch.summaryKeys.map((k) => [k, json[k]]));
  const back = parseModelConfig({ model_type: "t5", ...summary }).config;
  assert.deepEqual(arch.backboneSlots(back).map((s) => s.shape), arch.backboneSlots(cfg).filter((s) => s.hfName !== "lm_head.weight").map((s) => s.shape));
});

test("a fresh T5 (HF initialisation) saves under HF names and loads back identical; config.json round-trips", async () => {
  for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
    const cfg = parseT5Config(fixtureConfig(name));
    assert.deepEqual(parseT5Config(t5ConfigToJson(cfg)), cfg);
    const arch = architectureFor("t5");
    const fresh = arch.initBackbone(cfg, 5) as T5Params;
    const dir = mkdtempSync(path.join(tmpdir(), "propetl-t5-fresh-"));
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(t5ConfigToJson(cfg)));
    const tensors = await exportHfTensors(cfg, fresh, null);
    assert.deepEqual(Object.keys(tensors), arch.backboneSlots(cfg).map((s) => s.hfName));
    writeSafetensorsFileSync(path.join(dir, "model.safetensors"), tensors);
    const back = await t5Model(dir);
    const again = await exportHfTensors(back.cfg, back.params, null);
    for (const [n, t] of Object.entries(tensors)) assert.deepEqual(again[n].data, t.data, n);
    // HF's scales: q N(0, (d_model·d_kv)^-1/2), norms 1
    const q = tensors["encoder.block.0.layer.0.SelfAttention.q.weight"].data as Float32Array;
    const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
    assert.ok(Math.abs(std - (cfg.dModel * cfg.dKv) ** -0.5) < 0.01, `q std ${std}`);
    assert.ok((tensors["decoder.final_layer_norm.weight"].data as Float32Array).every((v) => v === 1));
    const batch = makeT5Batch(cfg, { batchSize: 1, encoderLength: 3, inputIds: Int32Array.from([5, 6, 1]), attentionMask: Int32Array.from([1, 1, 1]), decoderLength: 2, decoderInputIds: Int32Array.from([0, 7]) });
    const logits = t5LmLogits(cfg, back.params, t5Forward(cfg, back.params, batch));
    assert.deepEqual(logits.shape, [1, 2, cfg.vocabSize]);
    assert.ok(((await logits.data()) as Float32Array).every(Number.isFinite));
    disposeT5Batch(batch);
    tree.dispose([fresh, back.params]);
  }
});
