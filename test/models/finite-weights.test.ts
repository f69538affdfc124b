/**
 * The one finite check at weight load (`weightsFloat32`): a NaN or infinite value in a
 * backbone, a task checkpoint's module or a head is refused with the file, the tensor, the
 * first bad index and the count named — and `predict` exits with that error instead of
 * printing a label from NaN probabilities.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { checkFinite, readSafetensorsFile, SafetensorsError, toFloat32, writeSafetensorsFile } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { loadModelDir } from "../../src/models/load.js";
import { loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { createMethod } from "../../src/petl/registry.js";
import { runCli } from "../helpers/cli.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { tinyModelDir } from "../train/helpers.js";

let work: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-finite-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Rewrite `file` with `name`'s flat element `index` set to `value` (every tensor as F32). */
async function poison(file: string, name: string, index: number, value: number, also?: number): Promise<void> {
  const st = await readSafetensorsFile(file);
  const out: Record<string, TensorInput> = {};
  for (const [n, e] of st.tensors) {
    if (e.dtype !== "F32" && e.dtype !== "F16") {
      out[n] = { dtype: e.dtype, shape: e.shape, data: e.data };
      continue;
    }
    const data = toFloat32(e, n, file);
    if (n === name) {
      data[index] = value;
      if (also !== undefined) data[also] = value;
    }
    out[n] = { dtype: "F32", shape: e.shape, data };
  }
  await writeSafetensorsFile(file, out, st.metadata);
}

test("checkFinite names the first bad index in row-major coordinates and counts the rest", () => {
  const v = new Float32Array([0, 1, 2, 3, Number.NaN, 5, Infinity]);
  assert.throws(() => checkFinite(v, [7], "t", "f.safetensors"), (e: Error) => e instanceof SafetensorsError && e.message === 'f.safetensors: tensor "t": NaN at index [4] (2 non-finite values in all): weights must be finite');
  assert.throws(() => checkFinite(new Float32Array([0, 0, 0, -Infinity]), [2, 2], "w", "x"), /-Infinity at index \[1,1\]: weights must be finite/);
  checkFinite(new Float32Array([0, -1, 3.4e38]), [3], "ok", "x");
});

test("a NaN in the backbone: loadModelDir refuses it, predict exits 1 naming the tensor", async () => {
  const dir = path.join(work, "nan-bert");
  mkdirSync(dir);
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(modelFixtureDir("tiny-bert"), f), path.join(dir, f));
  const st = await readSafetensorsFile(path.join(dir, "model.safetensors"));
  const name = [...st.tensors.keys()].find((n) => n.endsWith("attention.self.query.weight")) as string;
  await poison(path.join(dir, "model.safetensors"), name, 5, Number.NaN, 9);
  await assert.rejects(loadModelDir(dir, { numLabels: 2 }), (e: Error) => e.message.includes(`tensor "${name}": NaN at index [0,5] (2 non-finite values in all): weights must be finite`));
});

test("an infinity in a task checkpoint's prototype or head is refused at load", async () => {
  const m = await loadModelDir(modelFixtureDir("tiny-bert"), { numLabels: 2, seed: 1 });
  const method = createMethod({ method: "propetl-adapter", bottleneck: 4 });
  const p = method.init(m.config, m.encoder, 1);
  const dir = path.join(work, "ckpt");
  await saveTaskCheckpoint(dir, { method, params: p, encoderConfig: m.config, heads: [m.head] });
  tree.dispose(p);
  method.dispose();
  tree.dispose(m.encoder);
  tree.dispose(m.head);
  const file = path.join(dir, "adapter_model.safetensors");
  const st = await readSafetensorsFile(file);
  const proto = "prototype.down_weight";
  assert.ok(st.tensors.has(proto), [...st.tensors.keys()].join(", "));
  await poison(file, proto, 0, Infinity);
  await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e.message.includes(`tensor "${proto}": +Infinity at index [0,0]`));
  await poison(file, proto, 0, 0.5);
  await poison(file, "head.out_proj.bias", 1, Number.NaN);
  await assert.rejects(loadTaskCheckpoint(dir), (e: Error) => e.message.includes('tensor "head.out_proj.bias": NaN at index [1]'));
  const r = await runCli(["predict", "--model", tinyModelDir(path.join(work, "tiny-bert-vocab")), "--checkpoint", dir, "--text", "hello"]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /head\.out_proj\.bias.*NaN at index \[1\]/);
  assert.equal(r.stdout, "");
  // Finite weights whose outputs overflow: no label from infinite logits, an error naming the input.
  await poison(file, "head.out_proj.bias", 1, 0);
  for (let i = 0; i < 64; i++) await poison(file, "head.out_proj.weight", i, i % 2 ? 3e38 : -3e38);
  const input = path.join(work, "inputs.jsonl");
  writeFileSync(input, ['{"text": "the cat"}', '{"text": "a dog"}'].join("\n") + "\n");
  const inf = await runCli(["predict", "--model", path.join(work, "tiny-bert-vocab"), "--checkpoint", dir, "--input", input]);
  assert.equal(inf.code, 1, inf.stdout);
  assert.match(inf.stderr, /the model's outputs are not finite \(NaN or infinity\) for example 1 of the input and 1 more/);
});
