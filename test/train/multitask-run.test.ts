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
import { computeStorage, sharedAndTaskParts } from "../../src/petl/storage.js";
import { checkTaskNames, otherTaskLeaves, trainMultiTask } from "../../src/train/multitask-run.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { readSafetensorsFile, toFloat32 } from "../../src/io/safetensors.js";
import { initHead } from "../../src/models/bert/init.js";
import type { HeadParams } from "../../src/models/bert/params.js";
import { loadModelDir } from "../../src/models/load.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
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

  test("a step on one task leaves the other task's head and task scores as they were", async () => {
    const dir = path.join(work, "one-step");
    const res = await trainMultiTask(options(dir, { keepTrainState: true, hyper: { ...options(dir).hyper, epochs: 1, maxSteps: 1, warmupRatio: 0 } }));
    const m = JSON.parse(readFileSync(res.metricsFile, "utf8")) as { sampling: { draws: { step: number; batches: Record<string, number> }[] } };
    assert.equal(m.sampling.draws.length, 1);
    assert.equal(m.sampling.draws[0].step, 1);
    const drawn = Object.entries(m.sampling.draws[0].batches).filter(([, n]) => n === 1).map(([t]) => t);
    assert.equal(drawn.length, 1, JSON.stringify(m.sampling.draws[0]));
    const other = drawn[0] === "spam" ? 1 : 0;
    // The initial heads, as trainMultiTask makes them (seed 3): the model file's dense layer, a fresh output layer.
    const model = await loadModelDir(modelDir, { numLabels: 2, seed: 3 });
    const fresh = initHead({ ...model.config, numLabels: 2 }, 3);
    const init = other === 0 ? model.head : { dense: model.head.dense, out: fresh.out };
    const ckpt = await loadTaskCheckpoint(dir);
    const head = ckpt.tasks[other].head as HeadParams;
    const moved = ckpt.tasks[1 - other].head as HeadParams;
    const data = async (a: JArray): Promise<number[]> => Array.from((await a.ref.data()) as Float32Array);
    for (const part of ["dense", "out"] as const) {
      assert.deepEqual(await data(head[part].w), await data(init[part].w), `${ckpt.tasks[other].name} head ${part}.w unchanged`);
    }
    assert.notDeepEqual(await data(moved.out.w), await data((1 - other === 0 ? model.head : { out: fresh.out }).out.w), "the drawn task's head moved");
    // The train state: the absent task's task scores and their moments are untouched (moments zero).
    const st = await readSafetensorsFile(path.join(dir, "train_state.safetensors"));
    const nu = [...st.tensors.keys()].filter((k) => k.startsWith(`nu.method.taskScores.${other}.`) || k.startsWith(`nu.heads.${other}.`));
    assert.ok(nu.length > 0);
    for (const k of nu) assert.ok(toFloat32(st.tensors.get(k) as never, k, "state").every((x) => x === 0), `${k} is zero`);
    const nuDrawn = [...st.tensors.keys()].filter((k) => k.startsWith(`nu.heads.${1 - other}.`));
    assert.ok(nuDrawn.some((k) => toFloat32(st.tensors.get(k) as never, k, "state").some((x) => x !== 0)), "the drawn head has moments");
    ckpt.dispose();
    tree.dispose([model.encoder, model.head, fresh] as never);
  });

  test("otherTaskLeaves: the other tasks' heads and task scores, by whole path segment", () => {
    const paths = ["heads.0.dense.b", "heads.1.out.w", "heads.10.out.w", "method.taskScores.1.down_weight", "method.taskScores.0.up_weight", "method.scores.1.down_weight", "method.source.0.down_weight"];
    assert.deepEqual(otherTaskLeaves(paths, 11, 0), ["heads.1.out.w", "heads.10.out.w", "method.taskScores.1.down_weight"]);
    assert.deepEqual(otherTaskLeaves(paths, 2, 1), ["heads.0.dense.b", "method.taskScores.0.up_weight"]);
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
