/**
 * The browser bundle runs: esbuild bundles the browser entry for the browser (as a page would,
 * one ESM file), and a separate Node process imports that file with only what a browser page
 * has in its place (a `navigator`, no Node-specific setup; no `Worker`, not cross-origin
 * isolated): the engine starts on wasm with 1 thread (asking for 2 is the isolation error),
 * propetl-mini and a task checkpoint load from bytes and give exactly the Node entry's logits,
 * a few fine-tuning steps lower the loss, and the trained task round-trips through
 * `checkpointBytes`.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { initEngine } from "../../src/engine/engine.js";
import { loadPredictor } from "../../src/train/predictor.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir } from "../train/helpers.js";
import { makeCheckpoint, TEXTS } from "../serve/helpers.js";

const MODEL_DIR = path.join(REPO_ROOT, "models", "propetl-mini");
const work = tempDir("propetl-bundle-runs-");
const bundle = path.join(work, "propetl.js");
const ckptDir = path.join(work, "sentiment");

/** The page's script: it reads the files with Node only to hand their bytes to the bundle. */
const PAGE = `
import { readFileSync } from "node:fs";
if (typeof globalThis.navigator === "undefined") globalThis.navigator = { userAgent: "propetl-bundle-test" };
const [bundle, modelDir, ckptDir, textsJson] = process.argv.slice(2);
const p = await import(bundle);
const out = {};
try { await p.initEngine({ threads: 2 }); out.threadsError = null; } catch (e) { out.threadsError = e.message; }
out.info = await p.initEngine();
const read = (f) => new Uint8Array(readFileSync(f));
const bb = await p.loadBackboneFromBytes({ config: read(modelDir + "/config.json"), weights: read(modelDir + "/model.safetensors"), tokenizer: read(modelDir + "/tokenizer.json"), tokenizerConfig: read(modelDir + "/tokenizer_config.json") }, { source: modelDir });
const ckpt = await p.loadTaskCheckpointFromBytes({ adapterConfig: read(ckptDir + "/adapter_config.json"), weights: read(ckptDir + "/adapter_model.safetensors") }, { source: ckptDir, encoderConfig: bb.config });
const texts = JSON.parse(textsJson);
const c = p.taskClassifier(bb, ckpt);
out.maxLength = c.maxLength;
out.logits = [...(await c.logits(texts))];
c.dispose();
ckpt.dispose();

// A few fine-tuning steps on one repeated batch: the loss must go down.
const method = p.createMethod({ method: "propetl-adapter", bottleneck: 16 });
const train = p.encodeExamples(bb.tokenizer, texts.slice(0, 4).map((text, line) => ({ text, label: line % 2, line })), { maxLength: 16 });
const losses = [];
const r = await p.finetune({
  backbone: { config: bb.config, encoder: bb.encoder }, method, head: p.initHead({ ...bb.config, numLabels: 2 }, 0),
  task: { kind: "classification", numLabels: 2, metrics: ["accuracy"], mainMetric: "accuracy" },
  train, validation: [], padTokenId: bb.padTokenId,
  hyper: { epochs: 6, batchSize: 4, gradAccumSteps: 1, lr: 2e-3, maskLr: 2e-3, weightDecay: 0, warmupRatio: 0, maxGradNorm: 1, seed: 1, evalBatchSize: 8 },
  onEvent: (e) => { if (e.type === "step") losses.push(e.loss); },
});
out.losses = losses;
const files = await p.checkpointBytes({ method, params: r.params.method, encoderConfig: bb.config, heads: [r.params.head], labelNames: [["even", "odd"]] });
out.checkpointBytes = { adapterConfig: files.adapterConfig.length, weights: files.weights.length };
const trained = await p.loadTaskCheckpointFromBytes(files, { encoderConfig: bb.config });
const tc = p.taskClassifier(bb, trained);
out.trainedLabels = (await tc.predict(texts.slice(0, 4))).map((x) => x.label);
tc.dispose();
trained.dispose();
bb.dispose();
console.log(JSON.stringify(out));
`;

before(async () => {
  await initEngine({ threads: 1 });
  await makeCheckpoint(MODEL_DIR, ckptDir, "propetl-adapter", [["neg", "pos"]], 1);
  await esbuild.build({ entryPoints: [path.join(REPO_ROOT, "dist/src/browser.js")], bundle: true, platform: "browser", format: "esm", outfile: bundle, logLevel: "silent" });
});

test("the browser bundle, imported without Node setup, loads from bytes, predicts as Node does and fine-tunes", async () => {
  const page = path.join(work, "page.mjs");
  writeFileSync(page, PAGE);
  const stdout = execFileSync(process.execPath, [page, bundle, MODEL_DIR, ckptDir, JSON.stringify(TEXTS)], { encoding: "utf8", timeout: 300_000 });
  const out = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
    threadsError: string | null;
    info: { backend: string; threads: number };
    maxLength: number;
    logits: number[];
    losses: number[];
    checkpointBytes: { adapterConfig: number; weights: number };
    trainedLabels: string[];
  };
  assert.match(out.threadsError ?? "", /threads: 2 needs a cross-origin isolated page/);
  assert.deepEqual(out.info, { backend: "wasm", threads: 1 });

  const p = await loadPredictor(MODEL_DIR, ckptDir);
  const expected = await p.logits(p.encode(TEXTS.map((text) => ({ text })), out.maxLength));
  p.dispose();
  assert.deepEqual(out.logits, [...expected], "the bundle's logits are the Node entry's, bit for bit");

  assert.equal(out.losses.length, 6);
  assert.ok(out.losses.every(Number.isFinite));
  assert.ok(out.losses[5] < out.losses[0], `loss ${out.losses[0]} → ${out.losses[5]}`);
  console.log(`# bundle fine-tuning losses: ${out.losses.map((l) => l.toFixed(4)).join(" ")}; checkpoint bytes: ${JSON.stringify(out.checkpointBytes)}`);
  assert.ok(out.checkpointBytes.weights > 0 && out.checkpointBytes.adapterConfig > 0);
  assert.equal(out.trainedLabels.length, 4);
  for (const l of out.trainedLabels) assert.ok(l === "even" || l === "odd");
});
