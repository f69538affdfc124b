/**
 * Task checkpoints: save → load gives identical predictions for every method, files meet the
 * size bound (BLS bytes + head, within 1% + 4 KiB), masks are bit-packed and no scores are
 * stored, F16 storage, multi-task checkpoints, LoRA merging, and loading rejects damaged
 * files with errors that name the problem.
 */
import { asEncoderParams } from "../../src/models/architecture.js";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { BERT_ARCHITECTURE } from "../../src/models/bert/architecture.js";
import { classify, encode } from "../../src/models/bert/encoder.js";
import { initHead } from "../../src/models/bert/init.js";
import { loadModelDir } from "../../src/models/load.js";
import { CHECKPOINT_VERSION, CheckpointError, checkpointBudget, loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { mergeLora } from "../../src/petl/lora.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodConfig, PetlMethod } from "../../src/petl/method.js";
import { disposeMaterialized } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { ALL_METHODS, SMALL, leaves, lossOf, materializedLogits, setLeafAt, tinyBert } from "./petl-helpers.js";
import type { Setup } from "./petl-helpers.js";

let s: Setup;
let dir: string;
before(async () => {
  await initEngine();
  s = await tinyBert();
  dir = mkdtempSync(path.join(tmpdir(), "propetl-ckpt-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A trained-looking tree: init, then every module tensor moved by N(0, 0.1²). */
function trainedParams<T>(method: PetlMethod<T>, seed: number): T {
  const params = method.init(s.model.config, s.model.encoder, seed);
  const rng = new HostRng(seed + 100);
  for (const [p, leaf] of leaves(params)) {
    if (p.startsWith("source.")) setLeafAt(params, p, leaf.ref.add(np.array(rng.normalArray(leaf.size, 0.1)).reshape(leaf.shape)));
  }
  return params;
}

async function host(x: JArray): Promise<Float32Array> {
  return (await x.data()) as Float32Array;
}

describe("round trip and size for every method", () => {
  for (const name of ALL_METHODS) {
    test(name, async () => {
      const config = { method: name, ...SMALL } as MethodConfig;
      const method = createMethod(config);
      const params = trainedParams(method, 5);
      const out = path.join(dir, name);
      const saved = await saveTaskCheckpoint(out, { method, params, encoderConfig: s.model.config, heads: [s.model.head] });

      // adapter_config.json
      const json = JSON.parse(readFileSync(saved.configFile, "utf8")) as Record<string, unknown>;
      assert.equal(json.format_version, CHECKPOINT_VERSION);
      assert.ok((json.hook_points as string[]).every((h) => h.startsWith("encoder.layer.")), "hook points are addressed by stack");
      assert.equal(json.method, name);
      assert.deepEqual(json.tasks, ["default"]);
      assert.deepEqual(json.label_names, { default: ["LABEL_0", "LABEL_1", "LABEL_2"] });
      assert.equal((json.backbone as Record<string, unknown>).num_hidden_layers, 2);
      assert.equal(json.k, method.config.k ?? null);
      const hp = method.hookSites(BERT_ARCHITECTURE.sites("encoder"));
      assert.equal((json.hook_points as string[]).length, name === "full" ? 0 : 2 * hp.length);

      // Contents: bit-packed U8 masks with shapes in the metadata, no scores, the head.
      const st = parseSafetensors(readFileSync(saved.modelFile), saved.modelFile);
      for (const [tn, e] of st.tensors) {
        assert.ok(!/score/i.test(tn), `no scores stored (${tn})`);
        if (tn.startsWith("mask.")) {
          assert.equal(e.dtype, "U8", tn);
          const shape = JSON.parse(st.metadata[tn]) as number[];
          assert.equal(e.shape[0], Math.ceil(shape.reduce((a, b) => a * b, 1) / 8), `${tn} is 1 bit per entry`);
        } else {
          assert.equal(e.dtype, "F32", tn);
        }
      }
      assert.ok(st.tensors.has("head.out_proj.weight"));
      const hasMasks = [...st.tensors.keys()].some((k) => k.startsWith("mask."));
      assert.equal(hasMasks, /^propetl|only-mask|random-mask/.test(name));

      // Size: the state's BLS bytes (storage.ts) + head, within 1% + 4 KiB.
      const budget = checkpointBudget(s.model.config, config, [s.model.config.numLabels]);
      assert.equal(saved.bytes, statSync(saved.modelFile).size);
      assert.ok(saved.bytes <= budget.maxBytes, `${name}: ${saved.bytes} bytes > bound ${budget.maxBytes} (BLS ${budget.blsBytes} + head ${budget.headBytes})`);
      assert.ok(saved.bytes >= budget.blsBytes + budget.headBytes, `${name}: ${saved.bytes} bytes < BLS + head`);

      // Save → load → identical predictions.
      const loaded = await loadTaskCheckpoint(out, { encoderConfig: s.model.config });
      const m1 = loaded.materialize();
      const fromFile = await host(materializedLogits(s, m1, s.batch, loaded.tasks[0].head));
      const m0 = method.materialize(params);
      const fromParams = await host(materializedLogits(s, m0, s.batch));
      assert.deepEqual(Array.from(fromFile), Array.from(fromParams), "loaded checkpoint predicts exactly as the trained tree");
      // ... and as the training-time forward (straight-through masks, reparametrised prefix).
      const enc = method.encoderOverride ? asEncoderParams(method.encoderOverride(params)) : s.model.encoder;
      const training = await host(classify(s.model.head, encode(s.model.config, enc, s.batch, method.hooks(params, { batchSize: s.B, training: false }))));
      training.forEach((v, i) => assert.ok(Math.abs(v - fromFile[i]) <= 1e-6, `training forward differs at ${i}: ${v} vs ${fromFile[i]}`));
      disposeMaterialized(m0);
      disposeMaterialized(m1);
      loaded.dispose();
      tree.dispose(params as never);
      method.dispose();
    });
  }
});

describe("checkpoint options", () => {
  test("F16 storage halves the prototype and predicts within F16 error", async () => {
    const method = createMethod({ method: "propetl-adapter", ...SMALL });
    const params = trainedParams(method, 9);
    const f32 = await saveTaskCheckpoint(path.join(dir, "f32"), { method, params, encoderConfig: s.model.config, heads: [s.model.head] });
    const f16 = await saveTaskCheckpoint(path.join(dir, "f16"), { method, params, encoderConfig: s.model.config, heads: [s.model.head], dtype: "F16" });
    const protoBytes = 4 * (2 * 8 * 32 + 8 + 32);
    assert.ok(Math.abs(f32.bytes - f16.bytes - protoBytes / 2) < 64, `F16 saves about ${protoBytes / 2} bytes: ${f32.bytes} vs ${f16.bytes}`);
    const a = await loadTaskCheckpoint(path.join(dir, "f32"));
    const b = await loadTaskCheckpoint(path.join(dir, "f16"));
    assert.equal(b.config.dtype, "F16");
    const ma = a.materialize();
    const mb = b.materialize();
    const la = await host(materializedLogits(s, ma, s.batch, a.tasks[0].head));
    const lb = await host(materializedLogits(s, mb, s.batch, b.tasks[0].head));
    la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) < 1e-2, `logit ${i}: ${v} vs ${lb[i]}`));
    for (const x of [ma, mb]) disposeMaterialized(x);
    a.dispose();
    b.dispose();
    tree.dispose(params as never);
  });

  test("multi-task: one prototype, layer and task masks, a head per task; per-task predictions survive the round trip", async () => {
    const method = createMethod({ method: "propetl-adapter", ...SMALL, tasks: ["sst2", "rte"] });
    assert.equal(method.config.k, 0.3);
    assert.equal(method.config.taskK, 0.3);
    assert.equal(method.config.combine, "or");
    const params = trainedParams(method, 21);
    const cfg2 = { ...s.model.config, numLabels: 2 };
    const heads = [initHead(s.model.config, 1), initHead(cfg2, 2)];
    const out = path.join(dir, "multi");
    const saved = await saveTaskCheckpoint(out, { method, params, encoderConfig: s.model.config, heads, labelNames: [["a", "b", "c"], ["entailment", "not_entailment"]] });
    const budget = checkpointBudget(s.model.config, method.config, [3, 2]);
    assert.ok(saved.bytes <= budget.maxBytes && saved.bytes >= budget.blsBytes + budget.headBytes, `${saved.bytes} vs ${budget.blsBytes}+${budget.headBytes}`);
    const loaded = await loadTaskCheckpoint(out, { encoderConfig: s.model.config });
    assert.deepEqual(loaded.tasks.map((t) => t.name), ["sst2", "rte"]);
    assert.deepEqual(loaded.tasks[1].labelNames, ["entailment", "not_entailment"]);
    assert.ok(loaded.state.masks.has("mask.task.rte.up_weight"));
    const logits: Float32Array[] = [];
    for (const [t, name] of ["sst2", "rte"].entries()) {
      const mf = loaded.materialize(name);
      const mp = method.materialize(params, t);
      const a = await host(materializedLogits(s, mf, s.batch, loaded.tasks[t].head));
      const b = await host(materializedLogits(s, mp, s.batch, heads[t]));
      assert.deepEqual(Array.from(a), Array.from(b), `task ${name}`);
      logits.push(a);
      disposeMaterialized(mf);
      disposeMaterialized(mp);
    }
    assert.throws(() => loaded.materialize("mnli"), /unknown task "mnli"; this checkpoint has: sst2, rte/);
    loaded.dispose();
    tree.dispose([params as never, heads]);
  });

  test("a fresh method bound to the backbone (no init) runs a tree made elsewhere, e.g. on resume", async () => {
    for (const name of ["propetl-prefix", "random-mask", "only-share"] as const) {
      const config = { method: name, ...SMALL } as MethodConfig;
      const a = createMethod(config);
      const params = trainedParams(a, 8);
      const b = createMethod(config);
      assert.throws(() => b.hooks(params, { batchSize: s.B, training: true }), /call init\(cfg, encoder, seed\) or bind\(cfg\) first/);
      const bound = createMethod(config, s.model.config);
      const la = await host(lossOf(s, a, params, s.batch, s.labels, { batchSize: s.B, training: true }));
      const lb = await host(lossOf(s, bound, params, s.batch, s.labels, { batchSize: s.B, training: true }));
      assert.deepEqual(Array.from(lb), Array.from(la), name);
      for (const m of [a, b, bound]) m.dispose();
      tree.dispose(params as never);
    }
  });

  test("LoRA merged into the frozen weights predicts as the LoRA hooks", async () => {
    for (const name of ["lora", "propetl-lora"] as const) {
      const method = createMethod({ method: name, ...SMALL });
      const params = trainedParams(method, 4);
      const m = method.materialize(params);
      const hooked = await host(materializedLogits(s, m, s.batch));
      const merged = mergeLora(s.model.config, s.model.encoder, m);
      const plain = await host(classify(s.model.head, encode(s.model.config, merged, s.batch)));
      hooked.forEach((v, i) => assert.ok(Math.abs(v - plain[i]) < 1e-5, `${name} logit ${i}: ${v} vs ${plain[i]}`));
      const base = await host(classify(s.model.head, encode(s.model.config, s.model.encoder, s.batch)));
      assert.ok(base.some((v, i) => Math.abs(v - plain[i]) > 1e-4), "the merge changed the model");
      tree.dispose(merged);
      disposeMaterialized(m);
      tree.dispose(params as never);
    }
  });
});

describe("paper-scale size", () => {
  test("a RoBERTa-base-sized ProPETL-adapter checkpoint is 136,000 words (544,000 bytes) + head, within 1% + 4 KiB", async () => {
    const cfg = { ...s.model.config, modelType: "roberta" as const, vocabSize: 50265, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 514, typeVocabSize: 1, padTokenId: 1, numLabels: 2 };
    delete (cfg as { labelNames?: string[] }).labelNames;
    const method = createMethod({ method: "propetl-adapter" });
    const params = method.init(cfg, s.model.encoder, 1); // the modules do not read the backbone
    const head = initHead(cfg, 0);
    const saved = await saveTaskCheckpoint(path.join(dir, "roberta-base"), { method, params, encoderConfig: cfg, heads: [head] });
    const budget = checkpointBudget(cfg, { method: "propetl-adapter" }, [2]);
    assert.equal(budget.blsBytes, 136000 * 4);
    assert.equal(budget.headBytes, 4 * (768 * 768 + 768 + 2 * 768 + 2));
    const exact = budget.blsBytes + budget.headBytes;
    assert.ok(saved.bytes >= exact && saved.bytes <= budget.maxBytes, `${saved.bytes} bytes vs BLS + head ${exact} (bound ${budget.maxBytes})`);
    assert.ok((saved.bytes - exact) / exact < 0.01, "header and padding stay under 1%");
    tree.dispose([params as never, head]);
  });
});

describe("loading validates the checkpoint", () => {
  let good: string;
  before(async () => {
    const method = createMethod({ method: "propetl-adapter", ...SMALL });
    const params = trainedParams(method, 2);
    good = path.join(dir, "good");
    await saveTaskCheckpoint(good, { method, params, encoderConfig: s.model.config, heads: [s.model.head] });
    tree.dispose(params as never);
  });

  /** A copy of the good checkpoint with its config and/or tensors edited. */
  function variant(label: string, edit: { config?: (c: Record<string, unknown>) => void; tensors?: (t: Record<string, TensorInput>, meta: Record<string, string>) => void }): string {
    const d = path.join(dir, `bad-${label}`);
    rmSync(d, { recursive: true, force: true });
    const c = JSON.parse(readFileSync(path.join(good, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    edit.config?.(c);
    const st = parseSafetensors(readFileSync(path.join(good, "adapter_model.safetensors")), "good");
    const tensors: Record<string, TensorInput> = {};
    for (const [n, e] of st.tensors) tensors[n] = { dtype: e.dtype, shape: e.shape, data: new Uint8Array(e.data) };
    const meta = { ...st.metadata };
    edit.tensors?.(tensors, meta);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, "adapter_config.json"), JSON.stringify(c));
    writeFileSync(path.join(d, "adapter_model.safetensors"), serializeSafetensors(tensors, meta));
    return d;
  }

  const cases: [string, Parameters<typeof variant>[1], RegExp][] = [
    ["version", { config: (c) => (c.format_version = 3) }, /unsupported "format_version" 3/],
    ["method", { config: (c) => (c.method = "adaptor") }, /"method": unknown method "adaptor"; accepted: adapter, houlsby, lora/],
    ["k", { config: (c) => (c.k = null) }, /"k" is null but propetl-adapter/],
    ["bottleneck", { config: (c) => ((c.module as Record<string, unknown>).bottleneck = 16) }, /tensor "prototype.down_weight" has shape \[8,32\], expected \[16,32\]/],
    ["hooks", { config: (c) => (c.hook_points = ["encoder.layer.0.ffn_output"]) }, /"hook_points" .* do not match/],
    ["backbone-type", { config: (c) => ((c.backbone as Record<string, unknown>).model_type = "gpt2") }, /"backbone.model_type" must be one of bert, roberta, t5, got "gpt2"/],
    ["backbone-key", { config: (c) => ((c.backbone as Record<string, unknown>).rope_theta = 1) }, /unknown key "backbone.rope_theta"/],
    ["backbone-missing", { config: (c) => delete (c.backbone as Record<string, unknown>).hidden_size }, /missing key "backbone.hidden_size"/],
    ["backbone-value", { config: (c) => ((c.backbone as Record<string, unknown>).hidden_act = "swish") }, /"backbone": "hidden_act" must be one of gelu, gelu_new, relu, got "swish"/],
    ["missing", { tensors: (t) => delete t["mask.encoder.layer.1.ffn_output.up_weight"] }, /missing tensor "mask.encoder.layer.1.ffn_output.up_weight"/],
    ["extra", { tensors: (t) => (t["scores.0.down_weight"] = { dtype: "F32", shape: [1], data: [0] }) }, /unexpected tensor\(s\) for propetl-adapter: scores.0.down_weight/],
    ["dtype", { tensors: (t) => (t["prototype.up_bias"] = { dtype: "F16", shape: [32], data: new Float32Array(32) }) }, /tensor "prototype.up_bias" has dtype F16, expected F32/],
    ["mask-shape", { tensors: (_, m) => (m["mask.encoder.layer.0.ffn_output.down_weight"] = "[32,8]") }, /mask "mask.encoder.layer.0.ffn_output.down_weight" has shape \[32,8\] in __metadata__, expected \[8,32\]/],
    ["head", { tensors: (t) => (t["head.out_proj.bias"] = { dtype: "F32", shape: [2], data: [0, 0] }) }, /tensor "head.out_proj.bias" has shape \[2\], expected \[3\]/],
  ];
  for (const [label, edit, re] of cases) {
    test(`rejects: ${label}`, async () => {
      const d = variant(label, edit);
      await assert.rejects(loadTaskCheckpoint(d, { encoderConfig: s.model.config }), (e: Error) => {
        assert.ok(e instanceof CheckpointError || e.name === "CheckpointError", `${e.name}: ${e.message}`);
        assert.match(e.message, re);
        return true;
      });
    });
  }

  test("rejects a backbone mismatch, naming the field", async () => {
    const relu = await loadModelDir(modelFixtureDir("tiny-bert-relu"));
    await assert.rejects(loadTaskCheckpoint(good, { encoderConfig: relu.config }), /"backbone.num_hidden_layers" is 2 in the checkpoint but 1 in the model/);
    tree.dispose([relu.encoder, relu.head]);
  });

  test("a loaded checkpoint predicts on the backbone it was checked against", async () => {
    const loaded = await loadTaskCheckpoint(good, { encoderConfig: s.model.config });
    const m = loaded.materialize();
    const logits = materializedLogits(s, m, s.batch, loaded.tasks[0].head);
    assert.deepEqual(logits.shape, [s.B, 3]);
    logits.dispose();
    disposeMaterialized(m);
    loaded.dispose();
    // Also usable as the loss of a method tree: lossOf on a fresh method of the same config.
    const method = createMethod(loaded.method.config);
    const params = method.init(s.model.config, s.model.encoder, 0);
    const l = lossOf(s, method, params, s.batch, s.labels, { batchSize: s.B, training: true });
    assert.ok(Number.isFinite(((await l.data()) as Float32Array)[0]));
    tree.dispose(params as never);
  });
});
