/** The README's library example runs as written (on a fixture model with a WordPiece vocab). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { modelFixtureDir, REPO_ROOT } from "./helpers/fixtures.js";

test("README library example runs and prints numLabels scores", () => {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const m = /## Library\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, "README has a ## Library ts block");
  const dir = mkdtempSync(path.join(os.tmpdir(), "propetl-readme-"));
  const model = path.join(dir, "model");
  execFileSync("mkdir", ["-p", model]);
  for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(modelFixtureDir("tiny-bert"), f), path.join(model, f));
  // A WordPiece vocab of exactly the model's 120 ids.
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...Array.from({ length: 115 }, (_, i) => (i < 26 ? String.fromCharCode(97 + i) : i < 52 ? "##" + String.fromCharCode(71 + i) : `tok${i}`))];
  writeFileSync(path.join(model, "vocab.txt"), vocab.join("\n") + "\n");
  const code = m[1]
    .replaceAll('"propetl"', JSON.stringify(path.join(REPO_ROOT, "dist", "src", "index.js")))
    .replaceAll('"path/to/model"', JSON.stringify(model));
  const file = path.join(dir, "example.mjs");
  writeFileSync(file, code);
  const out = execFileSync(process.execPath, [file], { encoding: "utf8", timeout: 60_000 });
  const nums = out.match(/-?\d+\.\d+(e-?\d+)?/g) ?? [];
  assert.ok(/Float32Array\(3\)/.test(out) && nums.length >= 3, `expected 3 logits, got: ${out}`);
});
