/**
 * trainMultiTask (the library side of `propetl train --tasks`) on a tiny BERT with the
 * built-in spam and sotu-party data: an interrupted run resumed with `resume: true` ends with
 * the same checkpoint bytes and test scores as the uninterrupted run; the epoch is
 * ⌈Σ n_i / B⌉ batches; the storage split; task-name checks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { loadBuiltinSplits, resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import { initEngine } from "../../src/engine/engine.js";
import { parseEncoderConfig } from "../../src/models/bert/config.js";
import { computeStorage } from "../../src/petl/storage.js";
import { checkTaskNames, sharedAndTaskParts, trainMultiTask } from "../../src/train/multitask-run.js";
import type { MultiTaskSource, TrainMultiTaskOptions } from "../../src/train/multitask-run.js";
import { TrainingInterrupted } from "../../src/train/trainer.js";
import type { TrainEvent } from "../../src/train/trainer.js";
import { tempDir, tinyModelDir } from "./helpers.js";

let work: string;
let modelDir: string;
let tasks: MultiTaskSource[];
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-mtrun-");
  modelDir = tinyModelDir(path.join(work, "model"));
  tasks = (["spam", "sotu-party"] as const).map((name) => ({ task: resolveBuiltinTask(name).task, splits: async (seed: number) => ({ ...(await loadBuiltinSplits(name, seed)), protocol: "fixed" }) }));
});
after(() => rmSync(work, { recursive: true, force: true }));

function options(outputDir: string, extra: Partial<TrainMultiTaskOptions> = {}): TrainMultiTaskOptions {
  return {
    modelDir,
    tasks,
    method: { method: "propetl-adapter", bottleneck: 4 },
    hyper: { epochs: 2, batchSize: 4, gradAccumSteps: 1, lr: 1e-3, maskLr: 1e-2, weightDecay: 0.1, warmupRatio: 0.1, maxGradNorm: 1, evalBatchSize: 16 },
    temperature: 2,
    seeds: [3],
    outputDir,
    maxTrainExamples: 10,
    maxEvalExamples: 6,
    maxLength: 24,
    ...extra,
  };
}

describe("trainMultiTask", () => {
  test("a resumed run equals the uninterrupted one (checkpoint bytes and test scores)", async () => {
    const starts: TrainEvent[] = [];
    const a = await trainMultiTask(options(path.join(work, "a"), { onEvent: (_s, e) => e.type === "start" && starts.push(e) }));
    // ⌈(10 + 10) / 4⌉ = 5 batches an epoch, 2 epochs.
    assert.deepEqual(starts.map((e) => e.type === "start" && [e.stepsPerEpoch, e.totalSteps]), [[5, 10]]);
    const ctl = new AbortController();
    const dirB = path.join(work, "b");
    await assert.rejects(
      trainMultiTask(options(dirB, { signal: ctl.signal, saveSteps: 1, onEvent: (_s, e) => e.type === "step" && e.step === 7 && ctl.abort() })),
      (e: unknown) => e instanceof TrainingInterrupted && e.step === 7,
    );
    await assert.rejects(trainMultiTask(options(dirB)), /holds an unfinished run/);
    const b = await trainMultiTask(options(dirB, { resume: true }));
    assert.equal(b.seeds[0].resumedAtStep, 7);
    const bytes = (d: string): Buffer => readFileSync(path.join(d, "adapter_model.safetensors"));
    assert.ok(bytes(path.join(work, "a")).equals(bytes(dirB)), "same checkpoint bytes");
    assert.deepEqual(b.seeds[0].test, a.seeds[0].test);
    const m = JSON.parse(readFileSync(a.metricsFile, "utf8")) as { tasks: Record<string, { samplingProbability: number }>; sampling: { draws: { epoch: number; batches: Record<string, number>; examples: Record<string, number> }[] } };
    assert.ok(Math.abs(m.tasks.spam.samplingProbability - 0.5) < 1e-12, "equal sizes: equal probabilities");
    assert.deepEqual(m.sampling.draws.map((d) => d.epoch), [1, 2]);
    // 5 batches an epoch; a task's last batch of a pass may be short (10 = 4 + 4 + 2).
    for (const d of m.sampling.draws) {
      assert.equal(d.batches.spam + d.batches["sotu-party"], 5);
      for (const t of ["spam", "sotu-party"]) assert.ok(d.examples[t] <= 4 * d.batches[t] && d.examples[t] >= 2 * d.batches[t], `${t}: ${d.examples[t]} examples in ${d.batches[t]} batches`);
    }
  });

  test("task names: two or more, each once", () => {
    assert.throws(() => checkTaskNames(["spam"]), /at least two tasks, got 1 \(spam\)/);
    assert.throws(() => checkTaskNames(["a", "b", "a"]), /task "a" is listed twice/);
    checkTaskNames(["a", "b"]);
  });

  test("storage: the shared part and each task's task mask", () => {
    const config = parseEncoderConfig(JSON.parse(readFileSync(path.join(modelDir, "config.json"), "utf8")));
    const r = computeStorage({ config, numLabels: 2 }, { method: "propetl-adapter", bottleneck: 4, tasks: ["x", "y", "z"] });
    const p = sharedAndTaskParts(r);
    const H = config.hiddenSize;
    assert.equal(p.perTask.bits, 2 * 4 * H, "one task mask: down and up weights, 1 bit each");
    assert.equal(p.shared.bits + 3 * p.perTask.bits, r.totalBits);
    const plain = computeStorage({ config, numLabels: 2 }, { method: "adapter", bottleneck: 4, tasks: 3 });
    const q = sharedAndTaskParts(plain);
    assert.equal(q.shared.bits, 0);
    assert.equal(q.perTask.bits * 3, plain.totalBits);
  });
});
