/**
 * The byte and URL loaders against the folder loaders: propetl-mini served by a local HTTP
 * server gives the same backbone and, with two task checkpoints (a single-task one and a
 * multi-task one), exactly the same logits as `loadPredictor`, switching tasks without loading
 * the backbone again; bad input (a truncated model.safetensors, an edited adapter_config.json)
 * gives the folder loader's error class and message, and HTTP errors name the URL and status.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { ModelLoadError } from "../../src/models/load.js";
import { CheckpointError, loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { loadTaskCheckpointFromBytes, loadTaskCheckpointFromUrl } from "../../src/petl/checkpoint-bytes.js";
import { loadBackboneFromBytes, loadBackboneFromUrl } from "../../src/train/backbone-bytes.js";
import { loadPredictionBackbone, loadPredictor, taskClassifier } from "../../src/train/predictor.js";
import type { PredictionBackbone } from "../../src/train/predictor.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir } from "../train/helpers.js";
import { makeCheckpoint, TEXTS } from "../serve/helpers.js";

const MODEL_DIR = path.join(REPO_ROOT, "models", "propetl-mini");
const work = tempDir("propetl-browser-loaders-");
const tasksDir = path.join(work, "tasks");
let server: Server;
let base = "";
const requests: string[] = [];

/** Serves REPO_ROOT under /repo/ and the test's folder under /work/; /fail/ answers 500. */
function serve(): Promise<string> {
  server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(url);
    if (url.startsWith("/fail/")) {
      res.writeHead(500, "Internal Server Error").end();
      return;
    }
    const root = url.startsWith("/repo/") ? REPO_ROOT : url.startsWith("/work/") ? work : null;
    const rel = url.replace(/^\/(repo|work)\//, "");
    try {
      if (root === null || rel.split("/").includes("..")) throw new Error("outside");
      const body = readFileSync(path.join(root, rel));
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404, "Not Found").end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected an error");
}

before(async () => {
  await initEngine({ threads: 1 });
  await makeCheckpoint(MODEL_DIR, path.join(tasksDir, "sentiment"), "propetl-adapter", [["neg", "pos"]], 1);
  await makeCheckpoint(MODEL_DIR, path.join(tasksDir, "mt"), "propetl-lora", [["no", "yes"], ["x", "y", "z"]], 4, ["alpha", "beta"]);
  base = await serve();
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("loaders from URLs", () => {
  test("propetl-mini and two task checkpoints from URLs predict exactly as the folder loaders, switching tasks on one backbone", async () => {
    const live = await trackLiveBuffers();
    const before0 = live();
    // What one backbone load leaves after its dispose (the folder loader; measured: 4 buffers).
    (await loadPredictionBackbone(MODEL_DIR)).dispose();
    const perLoad = live() - before0;
    const bb = await loadBackboneFromUrl(`${base}/repo/models/propetl-mini`);
    const fileBb = await loadPredictionBackbone(MODEL_DIR);
    assert.deepEqual(bb.config, fileBb.config);
    assert.equal(bb.padTokenId, fileBb.padTokenId);
    assert.deepEqual(bb.tokenizer.encode(TEXTS[0]).inputIds, fileBb.tokenizer.encode(TEXTS[0]).inputIds);
    fileBb.dispose();
    const backboneRequests = requests.length;

    const sentiment = await loadTaskCheckpointFromUrl(`${base}/work/tasks/sentiment/`, { encoderConfig: bb.config });
    const mt = await loadTaskCheckpointFromUrl(`${base}/work/tasks/mt/`, { encoderConfig: bb.config });
    assert.equal(sentiment.source, `${base}/work/tasks/sentiment`);
    const classifiers = [taskClassifier(bb, sentiment), taskClassifier(bb, mt, { task: "alpha" }), taskClassifier(bb, mt, { task: "beta" })];
    const expected: Float32Array[] = [];
    for (const [dir, task] of [["sentiment", undefined], ["mt", "alpha"], ["mt", "beta"]] as const) {
      const p = await loadPredictor(MODEL_DIR, path.join(tasksDir, dir), task !== undefined ? { task } : {});
      expected.push(await p.logits(p.encode(TEXTS.map((text) => ({ text })), classifiers[0].maxLength)));
      p.dispose();
    }
    // Switch back and forth: every call gives the folder loader's logits, bit for bit.
    for (const i of [0, 1, 2, 0, 2, 1]) {
      const got = await classifiers[i].logits(TEXTS);
      assert.deepEqual([...got], [...expected[i]], `task ${classifiers[i].taskName}`);
    }
    const preds = await classifiers[2].predict(TEXTS);
    assert.equal(preds.length, TEXTS.length);
    for (const p of preds) assert.ok(p.kind === "classification" && ["x", "y", "z"].includes(p.label));
    assert.deepEqual(classifiers.map((c) => c.taskName), ["default", "alpha", "beta"]);
    // The backbone was fetched once: only checkpoint files were requested after it.
    assert.ok(requests.slice(backboneRequests).every((r) => r.startsWith("/work/tasks/")), requests.slice(backboneRequests).join(", "));

    for (const c of classifiers) c.dispose();
    sentiment.dispose();
    mt.dispose();
    bb.dispose();
    // 6 backbone loads in all (1 above, from the URL, 1 from the folder, 3 in loadPredictor):
    // the URL loader and the classifiers leave nothing beyond what each folder load leaves.
    assert.equal(live() - before0, 6 * perLoad, "the URL loaders and classifiers free what they make");
  });

  test("a missing file is an error naming its URL and HTTP 404; another status names it too", async () => {
    const noModel = await rejection(loadBackboneFromUrl(`${base}/repo/models/no-such-model/`));
    assert.ok(noModel instanceof ModelLoadError);
    assert.match(noModel.message, new RegExp(`^${base}/repo/models/no-such-model/(config\\.json|model\\.safetensors): not found \\(HTTP 404 Not Found\\)`));
    const noCkpt = await rejection(loadTaskCheckpointFromUrl(`${base}/work/tasks/no-such-task`));
    assert.ok(noCkpt instanceof CheckpointError);
    assert.match(noCkpt.message, new RegExp(`^${base}/work/tasks/no-such-task/adapter_(config\\.json|model\\.safetensors): not found \\(HTTP 404 Not Found\\); a task checkpoint needs adapter_config.json and adapter_model.safetensors`));
    const failing = await rejection(loadTaskCheckpointFromUrl(`${base}/fail/task/`));
    assert.ok(failing instanceof CheckpointError);
    assert.match(failing.message, new RegExp(`^${base}/fail/task/adapter_(config\\.json|model\\.safetensors): HTTP 500 Internal Server Error$`));
    const unreachable = await rejection(loadBackboneFromUrl("http://127.0.0.1:9/model/", { fetch: () => Promise.reject(new Error("connection refused")) }));
    assert.ok(unreachable instanceof ModelLoadError);
    assert.match(unreachable.message, /^http:\/\/127\.0\.0\.1:9\/model\/(config\.json|model\.safetensors): fetch failed \(connection refused\)$/);
  });
});

describe("loaders from bytes: the folder loaders' errors", () => {
  const modelFiles = (dir: string) => ({
    config: readFileSync(path.join(dir, "config.json")),
    weights: readFileSync(path.join(dir, "model.safetensors")),
    tokenizer: readFileSync(path.join(dir, "tokenizer.json")),
    tokenizerConfig: readFileSync(path.join(dir, "tokenizer_config.json")),
  });

  test("a truncated model.safetensors: same error class and message as the folder loader", async () => {
    const dir = path.join(work, "truncated-model");
    cpSync(MODEL_DIR, dir, { recursive: true });
    const weights = readFileSync(path.join(dir, "model.safetensors"));
    writeFileSync(path.join(dir, "model.safetensors"), weights.subarray(0, weights.length - 1000));
    const fromFolder = await rejection(loadPredictionBackbone(dir));
    const fromBytes = await rejection(loadBackboneFromBytes(modelFiles(dir), { source: dir }));
    assert.equal(fromBytes.constructor, fromFolder.constructor);
    assert.equal(fromBytes.name, "SafetensorsError");
    assert.equal(fromBytes.message, fromFolder.message);
    assert.match(fromBytes.message, /model\.safetensors: /);
    // Same from the URL, naming the URL.
    const fromUrl = await rejection(loadBackboneFromUrl(`${base}/work/truncated-model/`));
    assert.equal(fromUrl.constructor, fromFolder.constructor);
    assert.equal(fromUrl.message, fromFolder.message.replace(dir, `${base}/work/truncated-model`));
  });

  test("a model from bytes equals the folder's (config and a forward pass)", async () => {
    const bb: PredictionBackbone = await loadBackboneFromBytes(modelFiles(MODEL_DIR), { source: MODEL_DIR });
    const ckpt = await loadTaskCheckpointFromBytes({ adapterConfig: readFileSync(path.join(tasksDir, "sentiment", "adapter_config.json")), weights: readFileSync(path.join(tasksDir, "sentiment", "adapter_model.safetensors")) }, { encoderConfig: bb.config });
    const c = taskClassifier(bb, ckpt);
    const p = await loadPredictor(MODEL_DIR, path.join(tasksDir, "sentiment"));
    assert.deepEqual([...(await c.logits(TEXTS))], [...(await p.logits(p.encode(TEXTS.map((text) => ({ text })), c.maxLength)))]);
    p.dispose();
    c.dispose();
    ckpt.dispose();
    bb.dispose();
  });

  const edits: [string, (json: Record<string, unknown>) => void, RegExp][] = [
    ["an unknown key", (j) => (j.extra_setting = 1), /unknown key "extra_setting"/],
    ["hook points of another layout", (j) => ((j.hook_points as string[]).reverse()), /"hook_points" .* do not match/],
    ["an edited k (mask counts)", (j) => (j.k = 0.25), /"k" is 0.25 but|keeps \d+ of \d+ entries/],
  ];
  for (const [what, edit, pattern] of edits) {
    test(`adapter_config.json with ${what}: same CheckpointError as loadTaskCheckpoint`, async () => {
      const dir = path.join(work, `edited-${what.replace(/\W+/g, "-")}`);
      mkdirSync(dir, { recursive: true });
      cpSync(path.join(tasksDir, "mt"), dir, { recursive: true });
      const json = JSON.parse(readFileSync(path.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      edit(json);
      writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify(json, null, 2));
      const fromFolder = await rejection(loadTaskCheckpoint(dir));
      assert.ok(fromFolder instanceof CheckpointError);
      assert.match(fromFolder.message, pattern);
      const files = { adapterConfig: readFileSync(path.join(dir, "adapter_config.json")), weights: readFileSync(path.join(dir, "adapter_model.safetensors")) };
      const fromBytes = await rejection(loadTaskCheckpointFromBytes(files, { source: dir }));
      assert.ok(fromBytes instanceof CheckpointError);
      assert.equal(fromBytes.message, fromFolder.message);
      const url = `${base}/work/${path.basename(dir)}`;
      const fromUrl = await rejection(loadTaskCheckpointFromUrl(url));
      assert.ok(fromUrl instanceof CheckpointError);
      assert.equal(fromUrl.message, fromFolder.message.split(dir).join(url));
    });
  }
});
