/**
 * What the fuzz test (fuzz.test.ts) found, each as its own regression test: an unknown key in
 * adapter_config.json passed silently, a config.json (or adapter_config.json) with invalid
 * UTF-8 was decoded with U+FFFD, and an integer tensor where weights belong was converted to
 * floats that merely looked like weights.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { loadModelDir } from "../../src/models/load.js";
import { readModelConfig } from "../../src/models/config-file.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { tempDir } from "../train/helpers.js";
import { CONFIG, editConfig, makeCheckpoint } from "./helpers.js";

let work: string;
let ck: string;
before(async () => {
  await initEngine();
  work = tempDir("propetl-findings-");
  ck = path.join(work, "ck");
  await makeCheckpoint(ck, "propetl-adapter");
});
after(() => rmSync(work, { recursive: true, force: true }));

function modelCopy(name: string): string {
  const d = path.join(work, name);
  mkdirSync(d);
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(modelFixtureDir("tiny-bert"), f), path.join(d, f));
  return d;
}

test("adapter_config.json: an unknown top-level key is refused, naming it", async () => {
  const d = path.join(work, "unknown");
  cpSync(ck, d, { recursive: true });
  editConfig(d, (j) => (j.combin = "and"));
  await assert.rejects(loadTaskCheckpoint(d), /adapter_config\.json: unknown key "combin" \(accepted: format, format_version, /);
});

test("config.json and adapter_config.json with invalid UTF-8: refused naming the file and the byte", async () => {
  const d = modelCopy("utf8");
  const file = path.join(d, "config.json");
  const text = readFileSync(file);
  const at = text.indexOf("LABEL_1") + 6;
  writeFileSync(file, Buffer.concat([text.subarray(0, at), Buffer.from([0xe9]), text.subarray(at + 1)]));
  assert.throws(() => readModelConfig(file), new RegExp(`config\\.json: invalid UTF-8 at byte ${at} \\(a JSON file must be UTF-8\\)`));
  await assert.rejects(loadModelDir(d), /config\.json: invalid UTF-8 at byte/);
  const c = path.join(work, "utf8-ck");
  cpSync(ck, c, { recursive: true });
  const cfg = readFileSync(path.join(c, CONFIG));
  const i = cfg.indexOf("default") + 2;
  writeFileSync(path.join(c, CONFIG), Buffer.concat([cfg.subarray(0, i), Buffer.from([0xff]), cfg.subarray(i + 1)]));
  await assert.rejects(loadTaskCheckpoint(c), /adapter_config\.json: invalid UTF-8 at byte/);
});

test("a weight stored as I32 (same byte size as F32): refused, naming the tensor and its dtype", async () => {
  const d = modelCopy("dtype");
  const file = path.join(d, "model.safetensors");
  const st = parseSafetensors(readFileSync(file), file);
  const tensors: Record<string, TensorInput> = {};
  for (const [n, e] of st.tensors) tensors[n] = { dtype: e.dtype, shape: e.shape, data: e.data.slice() };
  const name = "bert.encoder.layer.0.output.dense.bias";
  tensors[name] = { ...tensors[name], dtype: "I32" };
  writeFileSync(file, serializeSafetensors(tensors, st.metadata));
  await assert.rejects(loadModelDir(d), new RegExp(`tensor "${name.replace(/\./g, "\\.")}": dtype I32 is not a floating-point type; weights must be F32, F16, BF16, F64`));
});
