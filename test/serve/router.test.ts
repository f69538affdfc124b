/**
 * The task router without HTTP: the catalog names every task (single-task folders, each task of
 * a multi-task folder); results equal what `predict`'s code path gives (loadPredictor + the same
 * JSON rounding), bit for bit; concurrent requests for mixed tasks are micro-batched and give
 * the results they give one at a time; bad inputs name the field; an unknown task is its own
 * error; a zero-byte cache evicts and still answers right; reload sees added and removed
 * folders; closing frees every device buffer the router allocated.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, rmSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { createTaskRouter, RouterInputError, UnknownTaskError } from "../../src/serve/router.js";
import type { ClassifyInput, TaskRouter } from "../../src/serve/router.js";
import { loadPredictionBackbone, loadPredictor, predictionOf } from "../../src/train/predictor.js";
import type { Prediction } from "../../src/train/predictor.js";
import { tempDir } from "../train/helpers.js";
import { TEXTS, tinyServeSetup } from "./helpers.js";

let work: string;
let modelDir: string;
let tasksDir: string;
let live: () => number;
before(async () => {
  await initEngine({ threads: 1 });
  live = await trackLiveBuffers();
  work = tempDir("propetl-serve-");
  ({ modelDir, tasksDir } = await tinyServeSetup(work));
});
after(() => rmSync(work, { recursive: true, force: true }));

const TASKS: [string, string, string | undefined][] = [
  ["sentiment", "sentiment", undefined],
  ["similarity", "similarity", undefined],
  ["topic", "topic", undefined],
  ["mt/alpha", "mt", "alpha"],
  ["mt/beta", "mt", "beta"],
];

/** What predict's code path gives for `inputs` (one call, as `propetl predict --input` does). */
let predictResidue = 0;
async function viaPredict(dir: string, task: string | undefined, inputs: readonly ClassifyInput[]): Promise<Prediction[]> {
  const b0 = live();
  try {
    return await viaPredictInner(dir, task, inputs);
  } finally {
    predictResidue += live() - b0;
  }
}
async function viaPredictInner(dir: string, task: string | undefined, inputs: readonly ClassifyInput[]): Promise<Prediction[]> {
  const p = await loadPredictor(modelDir, path.join(tasksDir, dir), { requireTask: true, ...(task !== undefined ? { task } : {}) });
  try {
    const enc = p.encode(inputs.map((x) => (typeof x === "string" ? { text: x } : { text: x[0], textPair: x[1] })), 128);
    const logits = await p.logits(enc, { batchSize: 64 });
    return inputs.map((_, i) => predictionOf(p.labelNames, p.numLabels, logits, i));
  } finally {
    p.dispose();
  }
}

/**
 * Buffers a bare backbone load + free leaves live (4 on the tiny BERT, also with main's
 * loadPredictor: a defect of model loading, not of the router), measured so the router's own
 * allocations are checked exactly.
 */
async function backboneResidue(): Promise<number> {
  const b0 = live();
  (await loadPredictionBackbone(modelDir)).dispose();
  return live() - b0;
}

describe("task router", () => {
  let router: TaskRouter;
  let baseline: number;
  before(async () => {
    baseline = live();
    predictResidue = 0;
    router = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 20 });
  });

  test("lists every task: single-task folders and each task of a multi-task folder", () => {
    const tasks = router.listTasks();
    assert.deepEqual(tasks.map((t) => t.name).sort(), ["mt/alpha", "mt/beta", "sentiment", "similarity", "topic"]);
    const s = tasks.find((t) => t.name === "sentiment");
    assert.equal(s?.kind, "classification");
    assert.deepEqual(s?.labels, ["neg", "pos"]);
    assert.equal(s?.method, "propetl-adapter");
    assert.ok((s?.fileBytes ?? 0) > 0);
    assert.ok((s?.storageBits ?? 0) > 0);
    assert.equal(tasks.find((t) => t.name === "similarity")?.kind, "regression");
  });

  test("results equal predict's for every task (texts and pairs)", async () => {
    const inputs: ClassifyInput[] = [...TEXTS, ["the cat", "a hat"]];
    for (const [name, dir, task] of TASKS) {
      const got = await router.classify({ task: name, inputs });
      assert.equal(got.task, name);
      assert.deepEqual(got.results, await viaPredict(dir, task, inputs), name);
    }
  });

  const REQS = TEXTS.flatMap((t, i) => TASKS.map(([name]) => ({ task: name, inputs: [t, TEXTS[(i + 3) % TEXTS.length]] })));

  test("concurrent requests for mixed tasks are batched; fused results equal one-at-a-time ones (labels exactly, numbers to 1e-6)", async () => {
    const one: Prediction[][] = [];
    for (const r of REQS) one.push((await router.classify(r)).results);
    const before = router.stats().batches;
    const together = await Promise.all(REQS.map((r) => router.classify(r)));
    const batches = router.stats().batches - before;
    assert.ok(batches < REQS.length / 2, `${REQS.length} concurrent requests ran in ${batches} batches`);
    together.forEach((r, i) => r.results.forEach((p, k) => assertClose(p, one[i][k], `request ${i} (${REQS[i].task}) input ${k}`)));
  });

  test("bad inputs name the field; an unknown task is UnknownTaskError", async () => {
    const cases: [unknown, string][] = [
      [{ task: "", inputs: ["a"] }, "task"],
      [{ task: "sentiment" }, "inputs"],
      [{ task: "sentiment", inputs: [] }, "inputs"],
      [{ task: "sentiment", inputs: ["ok", 3] }, "inputs[1]"],
      [{ task: "sentiment", inputs: ["ok", ["a"]] }, "inputs[1]"],
      [{ task: "sentiment", inputs: [["a", 5]] }, "inputs[0][1]"],
      [{ task: "sentiment", inputs: ["  "] }, "inputs[0]"],
    ];
    for (const [req, field] of cases) {
      await assert.rejects(router.classify(req as never), (e: unknown) => e instanceof RouterInputError && e.field === field, JSON.stringify(req));
    }
    await assert.rejects(router.classify({ task: "nosuch", inputs: ["a"] }), UnknownTaskError);
  });

  test("reload sees an added and a removed task folder", async () => {
    cpSync(path.join(tasksDir, "sentiment"), path.join(tasksDir, "group", "copy"), { recursive: true });
    let r = await router.reload();
    assert.deepEqual(r.added, ["group/copy"]);
    const a = await router.classify({ task: "group/copy", inputs: TEXTS });
    const b = await router.classify({ task: "sentiment", inputs: TEXTS });
    assert.deepEqual(a.results, b.results);
    rmSync(path.join(tasksDir, "group"), { recursive: true });
    r = await router.reload();
    assert.deepEqual(r.removed, ["group/copy"]);
    assert.equal(await router.hasTask("group/copy"), false);
  });

  test("close frees every buffer the router allocated (beyond what loading the backbone alone leaves)", async () => {
    await router.close();
    assert.equal(live() - baseline - predictResidue, await backboneResidue());
  });
});

function assertClose(a: Prediction, b: Prediction, what: string): void {
  assert.equal(a.kind, b.kind, what);
  if (a.kind === "regression" && b.kind === "regression") return assert.ok(Math.abs(a.value - b.value) <= 1e-6, `${what}: ${a.value} vs ${b.value}`);
  if (a.kind === "classification" && b.kind === "classification") {
    assert.equal(a.label, b.label, what);
    a.probs.forEach((x, c) => assert.ok(Math.abs(x - b.probs[c]) <= 1e-6, `${what}: probs ${a.probs} vs ${b.probs}`));
  }
}

describe("tasks of one multi-task checkpoint in one batch", () => {
  test("share one encoder pass (stacked per-task modules) and agree with one-at-a-time results", async () => {
    const router = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 30 });
    const reqs = TEXTS.map((t, i) => ({ task: i % 2 ? "mt/alpha" : "mt/beta", inputs: [t, [t, TEXTS[(i + 1) % TEXTS.length]] as [string, string]] }));
    const one: Prediction[][] = [];
    for (const r of reqs) one.push((await router.classify(r)).results);
    assert.equal(router.stats().mixedTaskGroups, 0);
    const together = await Promise.all(reqs.map((r) => router.classify(r)));
    assert.ok(router.stats().mixedTaskGroups >= 1);
    together.forEach((r, i) => r.results.forEach((p, k) => assertClose(p, one[i][k], `request ${i} (${reqs[i].task}) input ${k}`)));
    await router.close();
  });
});

describe("rescanOnMissMs", () => {
  test("a task folder added after start is found when a request names it", async () => {
    const router = await createTaskRouter({ modelDir, tasksDir, rescanOnMissMs: 1 });
    cpSync(path.join(tasksDir, "topic"), path.join(tasksDir, "late"), { recursive: true });
    try {
      await new Promise((r) => setTimeout(r, 5));
      const got = await router.classify({ task: "late", inputs: TEXTS });
      assert.deepEqual(got.results, (await router.classify({ task: "topic", inputs: TEXTS })).results);
    } finally {
      rmSync(path.join(tasksDir, "late"), { recursive: true });
      await router.close();
    }
  });
});

describe("fuseRequests: false", () => {
  test("concurrent requests are still batched, and each result is exactly predict's for that request", async () => {
    const router = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 20, fuseRequests: false });
    assert.equal(router.stats().mixedTaskGroups, 0);
    const reqs = TEXTS.flatMap((t, i) => TASKS.map(([name, dir, task]) => ({ name, dir, task, inputs: [t, TEXTS[(i + 5) % TEXTS.length]] })));
    const before = router.stats().batches;
    const together = await Promise.all(reqs.map((r) => router.classify({ task: r.name, inputs: r.inputs })));
    assert.ok(router.stats().batches - before < reqs.length / 2);
    for (const [i, r] of reqs.entries()) assert.deepEqual(together[i].results, await viaPredict(r.dir, r.task, r.inputs), `request ${i} (${r.name})`);
    assert.equal(router.stats().mixedTaskGroups, 0);
    await router.close();
  });
});

describe("task cache budget", () => {
  test("a zero-byte cache keeps one task at a time, evicts, and answers as a large one", async () => {
    const baseline = live();
    const small = await createTaskRouter({ modelDir, tasksDir, cacheMb: 0, batchWindowMs: 0 });
    const big = await createTaskRouter({ modelDir, tasksDir, cacheMb: 64, batchWindowMs: 0 });
    for (let round = 0; round < 2; round++) {
      for (const [name] of TASKS) assert.deepEqual((await small.classify({ task: name, inputs: TEXTS })).results, (await big.classify({ task: name, inputs: TEXTS })).results, name);
    }
    const s = small.stats().cache;
    assert.equal(s.entries, 1);
    assert.equal(s.hits, 0);
    assert.ok(s.evictions >= 2 * TASKS.length - 1);
    const b = big.stats().cache;
    assert.equal(b.entries, TASKS.length);
    assert.equal(b.hits, TASKS.length);
    await small.close();
    await big.close();
    assert.equal(live() - baseline, 2 * (await backboneResidue()));
  });
});
