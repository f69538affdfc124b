/**
 * The packed package, installed as a consumer installs it, behaves as the repository does.
 *
 * `npm pack`s this repository (built: run through `npm run test:consumer`, which builds first),
 * installs the tarball into a fresh project with plain `npm install` (no flags, no install
 * scripts of ours to run), and there runs: the engine-defect reproductions on `propetl/engine`,
 * 2 steps of `propetl pretrain` and `propetl train --task spam --max-steps 2` (each compared with
 * the same command run from the repository: same losses, scores and checkpoint bytes), a
 * TypeScript file compiled with `strict` and without `skipLibCheck` that then runs the README's
 * example on the bundled model, and checks that every source map points at a shipped file.
 *
 * Needs the npm registry (or npm's cache) for propetl's dependencies and @types/node. Not part
 * of `npm test`; CI runs it after the test suite (.ci/run).
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defectProblems, type DefectReport } from "../bench/engine-defects.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, "../..");
const REPO_CLI = path.join(ROOT, "dist/src/cli/main.js");
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");

let work = "";
let app = "";
let installed = "";
let packFiles: { path: string; size: number }[] = [];

function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PROPETL_THREADS: "1" } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, "utf8")) as unknown;
}

before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-consumer-"));
  const t0 = Date.now();
  const packed = JSON.parse(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: { path: string; size: number }[];
  }[];
  const p = packed[0];
  assert.ok(p, "npm pack reported no tarball");
  packFiles = p.files;
  console.log(`# packed ${p.filename}: ${(p.size / 1e6).toFixed(1)} MB, ${(p.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${p.entryCount} files (${Date.now() - t0} ms)`);
  app = path.join(work, "app");
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), `${JSON.stringify({ name: "propetl-consumer-check", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`);
  const typesNode = (readJson(path.join(ROOT, "node_modules/@types/node/package.json")) as { version: string }).version;
  const t1 = Date.now();
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(work, p.filename), `@types/node@${typesNode}`], app, 600_000);
  console.log(`# installed into ${app} (${Date.now() - t1} ms)`);
  installed = path.join(app, "node_modules/propetl");
});

test("the tarball carries the vendored engine with its licence, no install scripts, no GLUE text", () => {
  const names = new Set(packFiles.map((f) => f.path));
  for (const f of ["dist/vendor/jax-js/index.js", "dist/vendor/jax-js/index.d.ts", "dist/vendor/jax-js/LICENSE", "dist/vendor/jax-js/propetl.patch", "dist/src/index.js", "models/propetl-mini/model.safetensors", "data/spam/train.tsv"]) {
    assert.ok(names.has(f), `the tarball lacks ${f}`);
  }
  for (const f of names) {
    assert.ok(!f.startsWith("data/glue/") && !f.startsWith("patches/") && !f.startsWith("scripts/") && !f.startsWith("dist/test/"), `the tarball should not carry ${f}`);
  }
  const pkg = readJson(path.join(installed, "package.json")) as { scripts?: Record<string, string>; dependencies?: Record<string, string> };
  for (const hook of ["preinstall", "install", "postinstall"]) assert.equal(pkg.scripts?.[hook], undefined, `the package has a ${hook} script`);
  assert.equal(pkg.dependencies?.["@jax-js/jax"], undefined, "@jax-js/jax is vendored, not a dependency");
  assert.ok(!existsSync(path.join(app, "node_modules/@jax-js")), "an unpatched @jax-js/jax was installed next to propetl");
  // Dawn's Node binding (~21 MB native) is an optional peer dependency: only `--backend webgpu` needs it.
  assert.ok(!existsSync(path.join(app, "node_modules/webgpu")), "the optional peer dependency webgpu was installed with propetl");
});

test("the engine-defect reproductions behave as in the repository (fixed) on the installed propetl/engine", () => {
  copyFileSync(path.join(ROOT, "dist/bench/engine-defects.js"), path.join(app, "engine-defects.js"));
  writeFileSync(
    path.join(app, "defects.mjs"),
    `import * as engine from "propetl/engine";
import { checkEngineDefects } from "./engine-defects.js";
const report = await checkEngineDefects(engine, { threads: 1 });
console.log(JSON.stringify({ engine: import.meta.resolve("propetl/engine"), report }));
process.exit(0);
`,
  );
  const out = JSON.parse(run(process.execPath, ["defects.mjs"], app).trim().split("\n").pop() ?? "{}") as { engine: string; report: DefectReport };
  console.log(`# consumer engine: ${JSON.stringify(out.report)}`);
  assert.ok(fileURLToPath(out.engine).startsWith(installed), `propetl/engine resolved outside the installed package: ${out.engine}`);
  assert.deepEqual(defectProblems(out.report), []);
});

test("propetl pretrain, 2 steps on tiny settings: the same losses and model bytes as the repository", () => {
  const corpus = readFileSync(path.join(installed, "data/sotu-party/train.tsv"), "utf8")
    .split("\n")
    .slice(1, 401)
    .map((line) => line.split("\t")[2] ?? "")
    .join("\n");
  writeFileSync(path.join(work, "corpus.txt"), `${corpus}\n`);
  const args = (out: string): string[] =>
    ["pretrain", path.join(work, "corpus.txt"), "--output", out, "--layers", "1", "--hidden", "32", "--heads", "2", "--vocab-size", "300", "--steps", "2", "--eval-every", "2", "--batch-size", "4", "--seq-len", "32", "--threads", "1", "--json"];
  run(path.join(app, "node_modules/.bin/propetl"), args(path.join(app, "pretrain")), app);
  run(process.execPath, [REPO_CLI, ...args(path.join(work, "repo-pretrain"))], work);
  const log = (dir: string): unknown[] =>
    readFileSync(path.join(dir, "pretrain_log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => {
        const { elapsedMs: _elapsed, ...rest } = JSON.parse(l) as Record<string, unknown>;
        return rest;
      });
  const mine = log(path.join(app, "pretrain"));
  assert.equal(mine.filter((r) => (r as { loss?: unknown }).loss !== undefined).length, 2, "two steps logged");
  assert.deepEqual(mine, log(path.join(work, "repo-pretrain")));
  assert.equal(sha256(path.join(app, "pretrain/model.safetensors")), sha256(path.join(work, "repo-pretrain/model.safetensors")));
});

test("propetl train --task spam --max-steps 2 with the bundled backbone: the same scores and checkpoint as the repository", () => {
  // --max-eval-examples / --eval-batch-size keep the check to seconds; the trained steps are the task's own.
  const args = (out: string): string[] => ["train", "--task", "spam", "--max-steps", "2", "--output", out, "--threads", "1", "--max-eval-examples", "64", "--eval-batch-size", "16", "--json"];
  run(path.join(app, "node_modules/.bin/propetl"), args(path.join(app, "spam")), app);
  run(process.execPath, [REPO_CLI, ...args(path.join(work, "repo-spam"))], work);
  const pick = (dir: string): unknown => {
    const m = readJson(path.join(dir, "metrics.json")) as Record<string, unknown>;
    return { test: m.test, validation: m.validation, steps: m.steps, method: m.method, storage: m.storage };
  };
  const mine = readJson(path.join(app, "spam/metrics.json")) as { steps?: unknown; model?: { dir?: unknown }; versions?: Record<string, unknown> };
  assert.equal(mine.steps, 2);
  assert.equal(mine.versions?.["@jax-js/jax"], "0.1.25", "the vendored engine's version is recorded");
  assert.equal(mine.model?.dir, path.join(installed, "models/propetl-mini"), "the bundled backbone of the installed package");
  assert.deepEqual(pick(path.join(app, "spam")), pick(path.join(work, "repo-spam")));
  assert.equal(sha256(path.join(app, "spam/adapter_model.safetensors")), sha256(path.join(work, "repo-spam/adapter_model.safetensors")));
});

test("installed, a GLUE built-in without its text asks for --data-dir", () => {
  const r = spawnSync(path.join(app, "node_modules/.bin/propetl"), ["train", "--task", "rte", "--max-steps", "1", "--output", path.join(app, "rte")], { cwd: app, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /the npm package does not carry GLUE's text .*Give --data-dir, a folder holding GLUE's RTE\/ \(train.tsv, dev.tsv\)/);
});

const CONSUMER_TS = `import { bundledModelDir, initEngine, loadModelDir, loadTokenizer, makeBatch, encode, classify } from "propetl";
import { np, type JArray } from "propetl/engine";

await initEngine({ threads: 1 });
const dir: string = bundledModelDir();
const model = await loadModelDir(dir);
const tok = await loadTokenizer(dir);
const e = tok.encode("A man is playing a guitar.", "Someone plays music.", { maxLength: 128 });
const batch = makeBatch(model.config, { batchSize: 1, seqLen: e.inputIds.length,
  inputIds: Int32Array.from(e.inputIds), attentionMask: Int32Array.from(e.attentionMask),
  tokenTypeIds: Int32Array.from(e.tokenTypeIds) });
const logits: JArray = classify(model.head, encode(model.config, model.encoder, batch));
const probs = await np.exp(logits).data();
console.log(JSON.stringify({ labels: probs.length, head: model.headSource }));
process.exit(0);
`;

test("a TypeScript consumer compiles with strict and without skipLibCheck, and the README example runs on bundledModelDir()", () => {
  writeFileSync(path.join(app, "consumer.ts"), CONSUMER_TS);
  const base = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, types: ["node"] };
  // Default libs (ES2022 + DOM), a Node-only program (lib ES2022, no DOM), and a bundler's resolution.
  writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...base, outDir: "out" }, files: ["consumer.ts"] }, null, 2));
  writeFileSync(path.join(app, "tsconfig.nodom.json"), JSON.stringify({ compilerOptions: { ...base, lib: ["ES2022"], noEmit: true }, files: ["consumer.ts"] }, null, 2));
  writeFileSync(path.join(app, "tsconfig.bundler.json"), JSON.stringify({ compilerOptions: { ...base, module: "ESNext", moduleResolution: "Bundler", noEmit: true }, files: ["consumer.ts"] }, null, 2));
  for (const config of ["tsconfig.json", "tsconfig.nodom.json", "tsconfig.bundler.json"]) run(process.execPath, [TSC, "-p", config], app);
  const out = JSON.parse(run(process.execPath, ["out/consumer.js"], app).trim().split("\n").pop() ?? "{}") as { labels: number; head: string };
  // propetl-mini has no trained classifier: the README says the example's head is random.
  assert.deepEqual(out, { labels: 2, head: "initialized" });
});

test("every source map of the installed package points at files it ships", () => {
  const missing: string[] = [];
  let maps = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".map")) {
        maps++;
        const map = readJson(p) as { sources: string[]; sourceRoot?: string };
        for (const s of map.sources) {
          const src = path.resolve(path.dirname(p), map.sourceRoot ?? "", s);
          if (!existsSync(src)) missing.push(`${path.relative(installed, p)} -> ${s}`);
        }
      }
    }
  };
  walk(path.join(installed, "dist"));
  assert.ok(maps > 0, "no source maps shipped");
  assert.deepEqual(missing.slice(0, 5), []);
});
