/**
 * experiments/pretrain-t5/export-f16.ts (run by run.sh after every stop): a T5 folder copied
 * with F16 weights that load back close to the F32 ones, the metadata carried over, and its
 * errors.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { readSafetensorsFile, toFloat32 } from "../../src/io/safetensors.js";
import { initT5 } from "../../src/models/t5/init.js";
import { saveT5ModelDir, t5ArchitectureConfig } from "../../src/train/pretrain-t5.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { tinyT5Tokenizer } from "../helpers/t5-tokenizer.js";
import { tempDir } from "../train/helpers.js";

const SCRIPT = path.join(REPO_ROOT, "dist", "experiments", "pretrain-t5", "export-f16.js");
let work: string;

before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-export-f16-");
});
after(() => rmSync(work, { recursive: true, force: true }));

test("copies a T5 folder with F16 weights close to the F32 ones", async () => {
  const tok = tinyT5Tokenizer();
  const cfg = { ...t5ArchitectureConfig({ dModel: 16, dFf: 32, layers: 1, heads: 2, dKv: 8, ffn: "gated-gelu" }), vocabSize: tok.vocabSize };
  const params = initT5(cfg, 3);
  const src = path.join(work, "f32");
  try {
    await saveT5ModelDir(src, cfg, params, tok, { metadata: { propetl_pretrain_step: "7" } });
  } finally {
    tree.dispose(params);
  }
  const dst = path.join(work, "f16");
  const r = spawnSync(process.execPath, [SCRIPT, src, dst], { encoding: "utf8", env: { ...process.env, PROPETL_THREADS: "1" } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /F16 copy of .* \(\d+ tensors; largest \|F32 - F16\| /);
  for (const f of ["config.json", "generation_config.json", "tokenizer.json", "special_tokens_map.json"]) assert.ok(existsSync(path.join(dst, f)), f);
  const a = await readSafetensorsFile(path.join(src, "model.safetensors"));
  const b = await readSafetensorsFile(path.join(dst, "model.safetensors"));
  assert.equal(b.metadata.propetl_pretrain_step, "7");
  assert.ok(b.tensors.has("lm_head.weight"), "the untied LM head of a gated-gelu T5");
  for (const [name, e] of a.tensors) {
    const h = b.tensors.get(name);
    assert.equal(h?.dtype, "F16", name);
    const x = toFloat32(e, name, "a");
    const y = toFloat32(h as NonNullable<typeof h>, name, "b");
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= Math.abs(x[i]) * 1e-3 + 1e-7, `${name}[${i}]`);
  }
  const bad = spawnSync(process.execPath, [SCRIPT, path.join(work, "nope"), dst], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /nope: no config\.json \(not a model folder\)/);
});
