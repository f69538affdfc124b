/**
 * The training loop on a tiny BERT with our own small method: determinism, resume after an
 * interruption (bit-identical to an uninterrupted run), gradient accumulation, NaN stop,
 * early stopping, fingerprint checks and a leak test (live buffers flat over steps).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadModelDir } from "../../src/models/load.js";
import type { LoadedModel } from "../../src/models/load.js";
import { classificationObjective, finetune, groupLabels } from "../../src/train/finetune.js";
import type { FinetuneHyper, TaskInfo, Trainable } from "../../src/train/finetune.js";
import { namedLeaves } from "../../src/train/tree-util.js";
import { NonFiniteLossError, ResumeMismatchError, TrainingInterrupted, trainLoop } from "../../src/train/trainer.js";
import type { TrainEvent } from "../../src/train/trainer.js";
import { constantSchedule } from "../../src/train/schedule.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import type { Method } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import { gatedAdapter, syntheticData, tempDir } from "./helpers.js";
import type { GatedAdapter } from "./helpers.js";
import { trainStateFile } from "../../src/train/train-state.js";

const task: TaskInfo = { kind: "classification", numLabels: 2, metrics: ["accuracy"], mainMetric: "accuracy" };
const train = syntheticData(48, 1);
const validation = syntheticData(24, 2);
const hyper: FinetuneHyper = {
  epochs: 3,
  batchSize: 8,
  gradAccumSteps: 1,
  lr: 3e-3,
  maskLr: 3e-2,
  weightDecay: 0.1,
  warmupRatio: 0.1,
  maxGradNorm: 1,
  seed: 42,
  evalBatchSize: 32,
  // One padded length: few distinct shapes keep kernel compilation (and this test) short.
  padToMultipleOf: 16,
};
let dir: string;

before(async () => {
  await initEngine();
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function model(): Promise<LoadedModel> {
  return loadModelDir(modelFixtureDir("tiny-bert"), { numLabels: 2, seed: 7 });
}

async function leafData(t: unknown): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [p, a] of namedLeaves(t)) out.set(p, (await a.ref.data()) as Float32Array);
  return out;
}

interface RunOut {
  history: unknown;
  params: Map<string, Float32Array>;
  best: Map<string, Float32Array>;
  events: TrainEvent[];
}

async function run(opts: { file?: string; abortAtStep?: number; resume?: boolean; jit?: boolean; accum?: number; batchSize?: number; fingerprint?: string }): Promise<RunOut> {
  const m = await model();
  const events: TrainEvent[] = [];
  const ctl = new AbortController();
  try {
    const res = await finetune<GatedAdapter>({
      backbone: { config: m.config, encoder: m.encoder },
      method: gatedAdapter(4),
      head: m.head,
      task,
      train,
      validation,
      padTokenId: 0,
      hyper: { ...hyper, jit: opts.jit ?? false, gradAccumSteps: opts.accum ?? 1, batchSize: opts.batchSize ?? hyper.batchSize },
      ...(opts.file ? { checkpoint: { store: trainStateFile(opts.file), everySteps: 2 } } : {}),
      resume: opts.resume ?? false,
      fingerprint: opts.fingerprint ?? "fp",
      signal: ctl.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "step" && e.step === opts.abortAtStep) ctl.abort();
      },
    });
    const out = { history: res.history, params: await leafData(res.params), best: await leafData(res.best), events };
    tree.dispose(res.params);
    tree.dispose(res.best);
    return out;
  } finally {
    tree.dispose(m.encoder);
  }
}

describe("trainLoop / finetune", () => {
  let reference: RunOut;

  test("a run is reproducible: same seed, same history and parameters", async () => {
    reference = await run({ file: path.join(dir, "ref.safetensors") });
    const again = await run({});
    assert.deepEqual(again.history, reference.history);
    assert.deepEqual(again.params, reference.params);
    const steps = reference.events.filter((e) => e.type === "step");
    assert.equal(steps.length, 18); // 48 examples / 8 = 6 steps x 3 epochs
    assert.equal(reference.events.filter((e) => e.type === "eval").length, 3);
    const losses = (reference.history as { trainLoss: number }[]).map((h) => h.trainLoss);
    assert.ok(losses[2] < losses[0], `training loss should fall: ${losses.join(", ")}`);
    assert.ok(existsSync(path.join(dir, "ref.safetensors")));
  });

  test("resume after an interruption gives exactly the uninterrupted run", async () => {
    const file = path.join(dir, "resume.safetensors");
    // Interrupted mid-epoch 2 (step 9 of 18): a checkpoint is saved, then TrainingInterrupted.
    await assert.rejects(run({ file, abortAtStep: 9 }), (e: Error) => e instanceof TrainingInterrupted && e.step === 9);
    const resumed = await run({ file, resume: true });
    const start = resumed.events.find((e) => e.type === "start");
    assert.ok(start && start.type === "start" && start.resumed && start.startStep === 9);
    assert.equal(resumed.events.filter((e) => e.type === "step").length, 9);
    assert.deepEqual(resumed.history, reference.history);
    assert.deepEqual(resumed.params, reference.params);
    assert.deepEqual(resumed.best, reference.best);
    // Resuming a finished run returns its result without training.
    const again = await run({ file, resume: true });
    assert.equal(again.events.filter((e) => e.type === "step").length, 0);
    assert.deepEqual(again.params, reference.params);
  });

  test("a resume with other settings is refused", async () => {
    const file = path.join(dir, "ref.safetensors");
    await assert.rejects(run({ file, resume: true, fingerprint: "other" }), (e: Error) => e instanceof ResumeMismatchError && /different settings/.test(e.message));
  });

  test("jit gives the same training as eager execution", async () => {
    const jitted = await run({ jit: true });
    assert.deepEqual(
      (jitted.history as { main: number }[]).map((h) => h.main),
      (reference.history as { main: number }[]).map((h) => h.main),
    );
    for (const [p, a] of reference.params) {
      const b = jitted.params.get(p) as Float32Array;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `${p}[${i}] ${a[i]} vs ${b[i]}`);
    }
  });
});

describe("trainStep details", () => {
  test("gradient accumulation: 2 x 4 examples = one batch of 8", async () => {
    const m = await model();
    const method = gatedAdapter(4);
    const results: Map<string, Float32Array>[] = [];
    for (const [plan, accum] of [[[[0, 1, 2, 3, 4, 5, 6, 7]], 1], [[[0, 1, 2, 3], [4, 5, 6, 7]], 2]] as const) {
      const params: Trainable<GatedAdapter> = { method: method.init(m.config, m.encoder, 3), head: tree.ref(m.head) };
      const res = await trainLoop({
        params,
        labels: groupLabels(method, params),
        optimizer: { groups: { module: { lr: 1e-2, weightDecay: 0.1 }, scores: { lr: 1e-2, weightDecay: 0.1 }, head: { lr: 1e-2, weightDecay: 0.1 } } },
        epochs: 2,
        gradAccumSteps: accum,
        epochBatches: () => plan.map((b) => [...b]),
        objective: classificationObjective({ config: m.config, encoder: m.encoder }, method, train, task, { padTokenId: 0, padToMultipleOf: 16 }),
        schedule: () => constantSchedule,
      });
      results.push(await leafData(res.params));
      tree.dispose(res.params);
    }
    for (const [p, a] of results[0]) {
      const b = results[1].get(p) as Float32Array;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${p}[${i}] ${a[i]} vs ${b[i]}`);
    }
    tree.dispose(m.encoder);
    tree.dispose(m.head);
  });

  test("a NaN loss stops training with a message naming the step", async () => {
    const m = await model();
    const method = gatedAdapter(4);
    const params: Trainable<GatedAdapter> = { method: method.init(m.config, m.encoder, 3), head: tree.ref(m.head) };
    // remat off: the test replaces `loss`, which an objective's own valueAndGrad would bypass.
    const base = classificationObjective({ config: m.config, encoder: m.encoder }, method, train, task, { padTokenId: 0, padToMultipleOf: 16 }, { remat: false });
    let calls = 0;
    await assert.rejects(
      trainLoop({
        params,
        labels: groupLabels(method, params),
        optimizer: { groups: { module: { lr: 1e-3, weightDecay: 0 }, scores: { lr: 1e-3, weightDecay: 0 }, head: { lr: 1e-3, weightDecay: 0 } } },
        epochs: 2,
        epochBatches: () => [[0, 1], [2, 3], [4, 5], [6, 7]],
        objective: { ...base, loss: (p, d) => (++calls === 7 ? base.loss(p, d).mul(Number.NaN) : base.loss(p, d)) },
      }),
      (e: Error) => e instanceof NonFiniteLossError && /loss is NaN at step 7 \(epoch 2\/2, batch 3\/4\)/.test(e.message) && e.step === 7,
    );
    tree.dispose(m.encoder);
    tree.dispose(m.head);
  });

  test("early stopping after `patience` evaluations without improvement", async () => {
    const m = await model();
    const method = gatedAdapter(4);
    const params: Trainable<GatedAdapter> = { method: method.init(m.config, m.encoder, 3), head: tree.ref(m.head) };
    const scores = [0.5, 0.6, 0.55, 0.58, 0.9];
    const events: TrainEvent[] = [];
    const res = await trainLoop({
      params,
      labels: groupLabels(method, params),
      optimizer: { groups: { module: { lr: 1e-3, weightDecay: 0 }, scores: { lr: 1e-3, weightDecay: 0 }, head: { lr: 1e-3, weightDecay: 0 } } },
      epochs: 5,
      epochBatches: () => [[0, 1]],
      objective: classificationObjective({ config: m.config, encoder: m.encoder }, method, train, task, { padTokenId: 0, padToMultipleOf: 16 }),
      evaluate: async (_p, at) => ({ main: scores[at.epoch - 1], scores: {} }),
      earlyStopPatience: 2,
      onEvent: (e) => events.push(e),
    });
    assert.equal(res.stoppedEarly, true);
    assert.equal(res.history.length, 4);
    assert.equal(res.bestRecord?.epoch, 2);
    assert.ok(events.some((e) => e.type === "early-stop"));
    tree.dispose([res.params, res.best]);
    tree.dispose(m.encoder);
    tree.dispose(m.head);
  });

  test("no leaks: live buffers stay flat over training steps (our adapter eagerly, ProPETL-adapter jitted)", async () => {
    const live = await trackLiveBuffers();
    const m = await model();
    const cases: [Method<unknown>, boolean][] = [
      [gatedAdapter(4) as Method<unknown>, false],
      [createMethod({ method: "propetl-adapter", bottleneck: 4 }), true],
    ];
    for (const [method, useJit] of cases) {
      const params: Trainable<unknown> = { method: method.init(m.config, m.encoder, 3), head: tree.ref(m.head) };
      const counts: number[] = [];
      const res = await trainLoop({
        params,
        labels: groupLabels(method, params),
        optimizer: { groups: { module: { lr: 1e-3, weightDecay: 0.1 }, scores: { lr: 1e-3, weightDecay: 0.1 }, head: { lr: 1e-3, weightDecay: 0.1 } } },
        epochs: 3,
        gradAccumSteps: 2,
        jit: useJit,
        // Same shapes every epoch, so jit compiles nothing after epoch 1.
        epochBatches: () => [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]],
        objective: classificationObjective({ config: m.config, encoder: m.encoder }, method, train, task, { padTokenId: 0, padToMultipleOf: 16 }),
        evaluate: async () => ({ main: 0, scores: {} }),
        onEvent: (e) => {
          if (e.type === "step") counts.push(live());
        },
      });
      tree.dispose([res.params, res.best]);
      const steady = counts.slice(2);
      assert.ok(Math.max(...steady) === Math.min(...steady), `${method.config.method} (jit ${useJit}): live buffers over steps: ${counts.join(", ")}`);
    }
    tree.dispose(m.encoder);
    tree.dispose(m.head);
  });
});
