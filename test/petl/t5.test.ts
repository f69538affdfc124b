/**
 * PETL methods on T5 (tiny-t5, the padded encoder and decoder batch of its fixture): where
 * each method places its modules in the two stacks, that masked training hooks and their
 * materialised (and stored) modules give the same decoder states, and that merged LoRA
 * weights (self- and cross-attention) equal the LoRA hooks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import type { ModelHooks } from "../../src/models/hooks.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { disposeT5Batch, makeT5Batch, shiftRight } from "../../src/models/t5/batch.js";
import type { T5Batch } from "../../src/models/t5/batch.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { t5Forward } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CheckpointError, checkpointHooks, loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { mergeLora } from "../../src/petl/lora.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodState } from "../../src/petl/method.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { modelFixtureDir, readExpected } from "../helpers/fixtures.js";

let cfg: T5Config;
let params: T5Params;
let batch: T5Batch;

before(async () => {
  await initEngine();
  const model = await loadBackboneDir(modelFixtureDir("tiny-t5"));
  if (!isT5Config(model.config)) throw new Error("tiny-t5 is not a T5 model");
  cfg = model.config;
  params = model.encoder as T5Params;
  const exp = readExpected("tiny-t5");
  const [B, S] = exp.shape("input_ids");
  const T = exp.shape("labels")[1];
  batch = makeT5Batch(cfg, {
    batchSize: B,
    encoderLength: S,
    inputIds: exp.i32("input_ids"),
    attentionMask: exp.i32("attention_mask"),
    decoderLength: T,
    decoderInputIds: shiftRight(cfg, exp.i32("labels"), B),
    decoderAttentionMask: exp.i32("decoder_attention_mask"),
  });
});

after(() => {
  disposeT5Batch(batch);
  tree.dispose(params);
});

async function decoderStates(hooks: ModelHooks | undefined, p: T5Params = params): Promise<Float32Array> {
  return (await t5Forward(cfg, p, batch, hooks).data()) as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A random state of the method's stored shapes (masks: seeded bits with about half kept). */
function randomState(spec: { tensors: Map<string, number[]>; masks: Map<string, number[]> }, seed: number, zero?: (name: string) => boolean): MethodState {
  const rng = new HostRng(seed);
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  for (const [name, shape] of spec.tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.normalArray(n, 0.1);
    state.tensors.set(name, { shape, data: zero?.(name) ? new Float32Array(n) : data });
  }
  for (const [name, shape] of spec.masks) {
    const n = shape.reduce((a, b) => a * b, 1);
    state.masks.set(name, { shape, bits: Uint8Array.from(rng.uniformArray(n, 0, 1), (u) => (u < 0.5 ? 1 : 0)) });
  }
  return state;
}

describe("placement on T5 (encoder + decoder blocks)", () => {
  const positionsOf = (method: string): string[] => {
    const m = createMethod({ method: method as "adapter" }, cfg);
    const names = [...m.stateSpec(cfg).masks.keys(), ...m.stateSpec(cfg).tensors.keys()];
    m.dispose();
    return [...new Set(names.filter((n) => !n.startsWith("prototype.")).map((n) => n.replace(/^mask\./, "").split(".").slice(0, 4).join(".")))].sort();
  };
  const layers = (stack: string, n: number, pos: string): string[] => Array.from({ length: n }, (_, i) => `${stack}.layer.${i}.${pos}`);

  test("adapter: after the FFN of every encoder and decoder block", () => {
    assert.deepEqual(positionsOf("adapter"), [...layers("decoder", cfg.numDecoderLayers, "ffn_output"), ...layers("encoder", cfg.numLayers, "ffn_output")].sort());
  });
  test("Houlsby: after self-attention and the FFN (no cross-attention adapter, as AdapterHub's Houlsby)", () => {
    const want = ["attention_output", "ffn_output"].flatMap((p) => [...layers("encoder", cfg.numLayers, p), ...layers("decoder", cfg.numDecoderLayers, p)]);
    assert.deepEqual(positionsOf("houlsby"), want.sort());
  });
  test("LoRA: self-attention q,v in both stacks, cross-attention q,v in the decoder", () => {
    const want = [...layers("encoder", cfg.numLayers, "self_attention"), ...layers("decoder", cfg.numDecoderLayers, "self_attention"), ...layers("decoder", cfg.numDecoderLayers, "cross_attention")];
    assert.deepEqual(positionsOf("lora"), want.sort());
  });
  test("prefix: self-attention of both stacks", () => {
    assert.deepEqual(positionsOf("prefix"), [...layers("encoder", cfg.numLayers, "prefix"), ...layers("decoder", cfg.numDecoderLayers, "prefix")].sort());
  });
  test("ProPETL-adapter: one prototype, one mask per block (L = encoder + decoder)", () => {
    const m = createMethod({ method: "propetl-adapter" }, cfg);
    const spec = m.stateSpec(cfg);
    m.dispose();
    assert.deepEqual([...spec.tensors.keys()].sort(), ["prototype.down_bias", "prototype.down_weight", "prototype.up_bias", "prototype.up_weight"]);
    assert.equal(spec.masks.size, 2 * (cfg.numLayers + cfg.numDecoderLayers));
    // The widths come from the architecture: d_model for the adapter.
    assert.deepEqual(spec.tensors.get("prototype.down_weight"), [64, cfg.dModel]);
  });
  test("LoRA and prefix widths: the attention's inner width num_heads·d_kv", () => {
    const lora = createMethod({ method: "propetl-lora" }, cfg);
    assert.deepEqual(lora.stateSpec(cfg).tensors.get("prototype.value_lora_B"), [32, 0].map((_, i) => (i === 0 ? cfg.numHeads * cfg.dKv : 32)));
    lora.dispose();
    const prefix = createMethod({ method: "prefix", prefixLength: 3 }, cfg);
    assert.deepEqual(prefix.stateSpec(cfg).tensors.get("encoder.layer.0.prefix.key_value"), [3, 2 * cfg.numHeads * cfg.dKv]);
    prefix.dispose();
  });
});

describe("T5 forward with PETL modules", () => {
  for (const method of ["adapter", "houlsby", "lora", "prefix", "propetl-adapter", "propetl-lora", "propetl-prefix", "only-share", "only-mask", "random-mask"] as const) {
    test(`${method}: evaluation hooks = materialised modules = modules from the stored state, and they change the output`, async () => {
      const m = createMethod({ method, bottleneck: 8, rank: 4, prefixLength: 3, prefixHidden: 16 }, cfg);
      const p = m.init(cfg, params, 7);
      const plain = await decoderStates(undefined);
      const viaHooks = await decoderStates(m.hooks(p, { batchSize: batch.batchSize, training: false }));
      const mat = m.materialize(p);
      const viaMat = await decoderStates(materializedHooks(mat));
      const stored = m.materializeState(cfg, await m.exportState(p));
      const viaState = await decoderStates(materializedHooks(stored));
      disposeMaterialized(mat);
      disposeMaterialized(stored);
      tree.dispose(p as JArray);
      m.dispose();
      assert.ok(maxAbsDiff(viaHooks, viaMat) < 1e-5, `hooks vs materialised: ${maxAbsDiff(viaHooks, viaMat)}`);
      assert.ok(maxAbsDiff(viaMat, viaState) < 1e-5, `materialised vs stored: ${maxAbsDiff(viaMat, viaState)}`);
      // LoRA's B starts at zero: a fresh LoRA is the identity; every other module changes the states.
      if (method === "lora" || method === "propetl-lora") assert.ok(maxAbsDiff(viaHooks, plain) < 1e-5);
      else assert.ok(maxAbsDiff(viaHooks, plain) > 1e-4, `${method} changes the decoder states`);
    });
  }
});

describe("LoRA merged into T5 weights (projectionPath)", () => {
  test("merged weights = LoRA hooks, and the cross-attention LoRA is in use", async () => {
    const m = createMethod({ method: "lora", rank: 4 }, cfg);
    const state = randomState(m.stateSpec(cfg), 11);
    const mat = m.materializeState(cfg, state);
    const viaHooks = await decoderStates(materializedHooks(mat));
    const merged = mergeLora(cfg, params, mat);
    const viaMerged = await decoderStates(undefined, merged);
    tree.dispose(merged);
    disposeMaterialized(mat);
    assert.ok(maxAbsDiff(viaHooks, viaMerged) < 1e-4, `hooks vs merged: ${maxAbsDiff(viaHooks, viaMerged)}`);
    // Without the cross-attention LoRA the states differ: the decoder's cross position is attached.
    const noCross = m.materializeState(cfg, randomState(m.stateSpec(cfg), 11, (n) => n.includes("cross_attention")));
    const viaNoCross = await decoderStates(materializedHooks(noCross));
    disposeMaterialized(noCross);
    m.dispose();
    assert.ok(maxAbsDiff(viaHooks, viaNoCross) > 1e-4, "the cross-attention LoRA changes the decoder states");
    assert.ok(maxAbsDiff(viaHooks, await decoderStates(undefined)) > 1e-4, "LoRA changes the decoder states");
  });
});

describe("T5 task checkpoints (no classification head)", () => {
  for (const method of ["propetl-adapter", "lora", "propetl-prefix", "only-mask"] as const) {
    test(`${method}: save + load round trip gives the same decoder states through checkpointHooks`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "t5-ckpt-"));
      try {
        const m = createMethod({ method, bottleneck: 8, rank: 4, prefixLength: 3, prefixHidden: 16 }, cfg);
        const p = m.init(cfg, params, 3);
        const mat = m.materialize(p);
        const want = await decoderStates(materializedHooks(mat));
        disposeMaterialized(mat);
        await saveTaskCheckpoint(dir, { method: m, params: p, encoderConfig: cfg });
        tree.dispose(p as JArray);
        m.dispose();
        const json = JSON.parse(readFileSync(path.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
        assert.deepEqual(json.stacks, { encoder: cfg.numLayers, decoder: cfg.numDecoderLayers });
        assert.deepEqual(json.label_names, {});
        const points = json.hook_points as string[];
        assert.ok(points.includes("encoder.layer.0." + (method === "lora" ? "query" : method === "propetl-prefix" ? "prefix" : "ffn_output")));
        if (method === "lora") assert.ok(points.includes("decoder.layer.0.cross_value") && !points.includes("encoder.layer.0.cross_value"));
        const loaded = await loadTaskCheckpoint(dir, { encoderConfig: cfg });
        assert.equal(loaded.tasks[0].head, null);
        const run = checkpointHooks(loaded, params);
        const got = await decoderStates(run.hooks, run.params as T5Params);
        run.dispose();
        loaded.dispose();
        assert.ok(maxAbsDiff(want, got) < 1e-6, `round trip: ${maxAbsDiff(want, got)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("bad files: label names for a headless backbone, stacks that do not match the backbone", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t5-ckpt-"));
    try {
      const m = createMethod({ method: "adapter", bottleneck: 8 }, cfg);
      const p = m.init(cfg, params, 3);
      await saveTaskCheckpoint(dir, { method: m, params: p, encoderConfig: cfg });
      tree.dispose(p as JArray);
      m.dispose();
      const file = path.join(dir, "adapter_config.json");
      const good = readFileSync(file, "utf8");
      const json = JSON.parse(good) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...json, stacks: { encoder: cfg.numLayers, decoder: cfg.numDecoderLayers + 1 } }));
      await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e instanceof CheckpointError && /adapter_config\.json: "stacks" .* does not match the backbone's/.test(e.message));
      writeFileSync(file, JSON.stringify({ ...json, label_names: { default: ["a", "b"] } }));
      await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e instanceof CheckpointError && /"label_names" must be \{\} for a backbone without a classification head/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("task prefixes: stored in adapter_config.json, loaded per task, bad values named", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t5-ckpt-"));
    try {
      const m = createMethod({ method: "adapter", bottleneck: 8 }, cfg);
      const p = m.init(cfg, params, 3);
      await assert.rejects(saveTaskCheckpoint(dir, { method: m, params: p, encoderConfig: cfg, taskPrefixes: ["a: ", "b: "] }), /1 task\(s\) \(default\) but 2 task prefix\(es\)/);
      await saveTaskCheckpoint(dir, { method: m, params: p, encoderConfig: cfg, taskPrefixes: ["translate Spanish to English: "] });
      tree.dispose(p as JArray);
      m.dispose();
      const file = path.join(dir, "adapter_config.json");
      const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      assert.deepEqual(json.task_prefixes, { default: "translate Spanish to English: " });
      const ck = await loadTaskCheckpoint(dir);
      assert.equal(ck.tasks[0].prefix, "translate Spanish to English: ");
      ck.dispose();
      writeFileSync(file, JSON.stringify({ ...json, task_prefixes: { other: "x: " } }));
      await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e instanceof CheckpointError && /"task_prefixes" names an unknown task "other" \(tasks: default\)/.test(e.message));
      writeFileSync(file, JSON.stringify({ ...json, task_prefixes: { default: 3 } }));
      await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e instanceof CheckpointError && /"task_prefixes.default" must be a string, got 3/.test(e.message));
      const { task_prefixes: _drop, ...without } = json;
      writeFileSync(file, JSON.stringify(without));
      const ck2 = await loadTaskCheckpoint(dir);
      assert.equal(ck2.tasks[0].prefix, "");
      ck2.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
