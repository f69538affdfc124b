/**
 * Multi-task ProPETL end to end (paper Sec. 3.4, App. C.2), as `propetl train --tasks` runs
 * it: ONE method over several classification/regression tasks, with one head per task.
 *
 * - Batches: each step's micro-batch comes from ONE task, task i drawn with probability
 *   ∝ N_i^(1/T) (temperature T, default 10; `planMultiTaskBatches`). An "epoch" here is
 *   ⌈Σ_i N_i / B⌉ micro-batches (the number of batches one pass over every training set
 *   would take): evaluation, checkpoints and the schedule count epochs of that size. The
 *   plan is a pure function of (seed, epoch), so a resumed run sees the same batches.
 * - Masks: a method with masks is configured with the task names, so it learns layer masks
 *   (k) and one task mask per task (taskK), combined OR / AND into each task's hybrid mask, or
 *   (the combine rules "layer" / "task", paper Table 11) only the layer masks, shared by every
 *   task, or only the task masks (petl/combine-rule.ts).
 * - Trainable tree `{ method, heads: [head of task 0, ...] }`; learning-rate groups as
 *   single-task (module, scores, head). A batch of task t differentiates through task t's
 *   hybrid masks and head only: the other tasks' heads and task scores are frozen for that
 *   step (values and AdamW moments untouched, as torch skips parameters without a gradient;
 *   the bias correction uses the shared step count, where torch counts per parameter).
 * - Validation of every task after each epoch; the model-selection score is the mean of the
 *   tasks' main metrics; the best parameters are saved as ONE multi-task checkpoint (the
 *   prototype once, the layer masks, a task mask per task — those the rule has —, a head per task) and scored on
 *   every task's test split.
 * - metrics.json: per-task test and validation results, the sampling probabilities, and the
 *   batches and examples drawn from each task in each epoch up to its evaluation. The seed loop (folders, resume, mean ± std) is
 *   task-run.ts's `runSeeds`.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { Example } from "../data/read-examples.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { TaskSpec } from "../data/tasks.js";
import { encoderConfigToJson } from "../models/bert/config.js";
import { sequenceLoss } from "../models/bert/encoder.js";
import { loadModelDir } from "../models/load.js";
import { initHead } from "../models/bert/init.js";
import type { HeadParams } from "../models/bert/params.js";
import { saveTaskCheckpoint } from "../petl/checkpoint.js";
import type { HookContext, Method, MethodConfig, PetlMethod } from "../petl/method.js";
import { createMethod, resolveMethodConfig } from "../petl/registry.js";
import { computeStorage, countBackboneParams, sharedAndTaskParts } from "../petl/storage.js";
import type { StorageReport } from "../petl/storage.js";
import { encodeExamples, padBatch } from "./batching.js";
import type { EncodedExample, PadOptions } from "./batching.js";
import { canRemat, encoderRematStack, evaluateTask, forwardLogits, toDeviceInputs } from "./finetune.js";
import { rematValueAndGrad } from "./remat.js";
import { rematPlan } from "./remat-choice.js";
import type { RematStack } from "./remat.js";
import type { Backbone, DeviceInputs, FinetuneHyper, PadSettings, TaskInfo, Trainable } from "./finetune.js";
import { DEFAULT_TEMPERATURE, planMultiTaskBatches, temperatureProbabilities } from "./multitask.js";
import type { TaskBatch } from "./multitask.js";
import { checkpointBytes, finishSeed, METRICS_FORMAT, mustRewriteCheckpoint, rewriteCheckpoint, runSeeds, TRAIN_STATE_FILE, TrainTaskError } from "./task-run.js";
import type { SeedResult, TaskSplits, TrainTaskResult } from "./task-run.js";
import { linearWarmupDecay } from "./schedule.js";
import { trainLoop } from "./trainer.js";
import type { EvalResult, Objective, TrainEvent } from "./trainer.js";
import { versions } from "./versions.js";
import { namedLeaves } from "./tree-util.js";
import { architectureOf } from "../models/registry.js";
import type { ModelConfig } from "../models/architecture.js";
import { trainStateFile } from "./train-state.js";

/** One task of a multi-task run: its spec and its splits per seed. */
export interface MultiTaskSource {
  /** The task. */
  task: TaskSpec;
  /** Its splits for a seed. */
  splits: (seed: number) => TaskSplits | Promise<TaskSplits>;
  /** Where its data came from (metrics.json). */
  source?: string;
}

/** Options of `trainMultiTask` (as `TrainTaskOptions`, for several tasks). */
export interface TrainMultiTaskOptions {
  /** Hugging Face model dir (config.json, model.safetensors, tokenizer files). */
  modelDir: string;
  /** Two or more tasks with distinct names (the names go into the checkpoint's tensor names). */
  tasks: MultiTaskSource[];
  /** The method; its `tasks` are set to the task names here. */
  method: MethodConfig;
  /** Training hyper-parameters (the seed comes from `seeds`). */
  hyper: Omit<FinetuneHyper, "seed">;
  /** Sampling temperature T (> 0; default `DEFAULT_TEMPERATURE`). */
  temperature?: number;
  /** One run per seed, in order. */
  seeds: number[];
  /** The run folder: `<outputDir>/seed-<seed>/` per seed and the summary metrics.json. */
  outputDir: string;
  /** Use only the first N training examples of each task (quick runs). */
  maxTrainExamples?: number;
  /** Use only the first N validation and test examples of each task. */
  maxEvalExamples?: number;
  /** Longest input in tokens, special tokens included. */
  maxLength: number;
  /** Continue interrupted runs and skip finished seeds (default false: refuse existing runs). */
  resume?: boolean;
  /** Also write a resume checkpoint every N optimizer steps (always at each epoch end). */
  saveSteps?: number;
  /** Keep train_state.safetensors after a run finishes (default false). */
  keepTrainState?: boolean;
  /** Store the module's float tensors as F16 in the task checkpoint (default F32). */
  checkpointDtype?: "F32" | "F16";
  /** Extra fields recorded in metrics.json. */
  extra?: Record<string, unknown>;
  /** Called with every progress event of every seed's loop. */
  onEvent?: (seed: number, event: TrainEvent) => void;
  /** Called with each progress line meant for people (seeds, resumes, files written). */
  log?: (message: string) => void;
  /** Abort: the current run saves its state after the step it is in and `TrainingInterrupted` is thrown. */
  signal?: AbortSignal;
  /** A tokenizer to use instead of the model dir's. */
  tokenizer?: Tokenizer;
}

/** The trainable tree of a multi-task run: the method's tree and one head per task. */
export type MultiTrainable<T> = {
  /** The method's trainable tree. */
  method: T;
  /** One classification head per task, in task order. */
  heads: HeadParams[];
};

/** The labels of a task-`t` batch on the device, keyed by the task index (the key survives tracing). */
export type MultiTaskInputs = {
  /** The batch's device inputs. */
  inputs: Omit<DeviceInputs, "labels">;
  /** Its labels under the key of its task index. */
  labels: Record<string, JArray>;
};

/** Test result of one task in a multi-task run. */
export interface TaskTestRecord {
  mainMetric: string;
  main: number;
  scores: Record<string, number>;
  examples: number;
}

/** A multi-task run that cannot start: fewer than two tasks, a task listed twice, a bad temperature, an empty training split, ...; the message names what is wrong. */
export class MultiTaskError extends TrainTaskError {}

function taskInfo(task: TaskSpec): TaskInfo {
  return { kind: task.kind, numLabels: task.numLabels, metrics: task.metrics, mainMetric: task.mainMetric };
}

function labelNamesOf(task: TaskSpec): string[] {
  return task.kind === "regression" ? ["score"] : [...task.labels];
}

/**
 * The method as it serves ONE task of a multi-task tree: every forward pass is told that all
 * its examples belong to task `t` (the method's single-task path through task t's hybrid masks).
 */
export function methodForTask<T>(method: Method<T>, t: number): Method<T> {
  const m: Method<T> = {
    config: method.config,
    init: (cfg, backbone, seed) => method.init(cfg, backbone, seed),
    hooks: (params: T, ctx: HookContext) => method.hooks(params, { ...ctx, taskIdsHost: new Int32Array(ctx.batchSize).fill(t) }),
    groups: (params: T) => method.groups(params),
  };
  if (method.encoderOverride) {
    const override = method.encoderOverride.bind(method);
    m.encoderOverride = (params: T) => override(params);
  }
  return m;
}

/** Task names must be distinct and usable in tensor names. */
export function checkTaskNames(names: readonly string[]): void {
  if (names.length < 2) throw new MultiTaskError(`multi-task training needs at least two tasks, got ${names.length}${names.length ? ` (${names.join(", ")})` : ""}`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new MultiTaskError(`task "${n}" is listed twice; each task may appear once`);
    seen.add(n);
  }
}

/**
 * The loss of one-task micro-batches over a multi-task tree (no jit: the task picks the head).
 * `opts` as `classificationObjective`'s: with `remat` (default true) its own gradient, layer by
 * layer, the top `keepLayers` (default 0) layers keeping their residuals.
 */
export function multiTaskObjective<T>(backbone: Backbone, method: Method<T>, data: readonly (readonly EncodedExample[])[], infos: readonly TaskInfo[], pad: PadSettings, leafPaths: readonly string[] = [], opts: { remat?: boolean; keepLayers?: number } = {}): Objective<MultiTrainable<T>, TaskBatch, MultiTaskInputs> {
  const perTask = infos.map((_, t) => methodForTask(method, t));
  const padOpts = (t: number): PadOptions => ({ padTokenId: pad.padTokenId, regression: infos[t].kind === "regression", ...(pad.padToMultipleOf && pad.padToMultipleOf > 1 ? { padToMultipleOf: pad.padToMultipleOf, maxLength: architectureOf(backbone.config).maxInputLength(backbone.config) } : {}) });
  const frozen = infos.map((_, t) => otherTaskLeaves(leafPaths, infos.length, t));
  const taskOf = (d: MultiTaskInputs): { t: number; labels: JArray } => {
    const keys = Object.keys(d.labels);
    if (keys.length !== 1) throw new Error(`multiTaskObjective: a batch must hold one task's labels, got ${keys.length}`);
    return { t: Number(keys[0]), labels: d.labels[keys[0]] };
  };
  const objective: Objective<MultiTrainable<T>, TaskBatch, MultiTaskInputs> = {
    size: (b) => b.indices.length,
    frozen: (b) => frozen[b.task],
    toDevice: (b) => {
      const { labels, ...inputs } = toDeviceInputs(backbone.config, padBatch(b.indices.map((i) => data[b.task][i]), padOpts(b.task)));
      return { inputs, labels: { [String(b.task)]: labels } };
    },
    loss: (params, d) => {
      const { t, labels } = taskOf(d);
      const trainable: Trainable<T> = { method: params.method, head: params.heads[t] };
      const logits = forwardLogits(backbone, perTask[t], trainable, { ...d.inputs, labels }, true);
      const loss = sequenceLoss(logits, labels.ref, infos[t].numLabels);
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
  if ((opts.remat ?? true) && canRemat(method)) {
    // Layer by layer (train/remat.ts); the gradient of every head (zero but task t's), as valueAndGrad's.
    objective.valueAndGrad = async (params, d) => {
      try {
        const { t, labels } = taskOf(d);
        const one = encoderRematStack(backbone, perTask[t], { ...d.inputs, labels }, infos[t].numLabels);
        const stack: RematStack<T, HeadParams[]> = { ...one, loss: (h, heads) => one.loss(h, heads[t]) };
        const [loss, g] = await rematValueAndGrad(stack, { method: params.method, head: params.heads }, { keepLayers: opts.keepLayers ?? 0 });
        return [loss, { method: g.method, heads: g.head }];
      } finally {
        tree.dispose(d);
      }
    };
  }
  return objective;
}

/**
 * The leaves (dotted paths of a `{ method, heads }` tree) a batch of task `t` does not reach:
 * the other tasks' heads (`heads.<u>.…`) and task-mask scores (`method.taskScores.<u>.…`).
 */
export function otherTaskLeaves(paths: readonly string[], taskCount: number, t: number): string[] {
  const prefixes: string[] = [];
  for (let u = 0; u < taskCount; u++) if (u !== t) prefixes.push(`heads.${u}.`, `method.taskScores.${u}.`);
  return paths.filter((p) => prefixes.some((x) => p.startsWith(x)));
}

/** A stable hash of what decides a run's updates (resume refuses other settings). */
function fingerprint(parts: unknown, data: readonly (readonly EncodedExample[])[]): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(parts));
  data.forEach((examples, t) => {
    h.update(`task ${t}`);
    for (const e of examples) {
      h.update(new Uint8Array(e.inputIds.buffer, e.inputIds.byteOffset, e.inputIds.byteLength));
      h.update(String(e.label));
    }
  });
  return h.digest("hex").slice(0, 32);
}

/** Examples and batches drawn from each task in one epoch's plan. */
export function epochDraws(plan: readonly TaskBatch[], taskCount: number): { batches: number[]; examples: number[] } {
  const batches = new Array<number>(taskCount).fill(0);
  const examples = new Array<number>(taskCount).fill(0);
  for (const b of plan) {
    batches[b.task]++;
    examples[b.task] += b.indices.length;
  }
  return { batches, examples };
}

/** What a multi-task run drew from each task (by name) up to an evaluation at (epoch, step). */
export interface TaskDraws {
  epoch: number;
  step: number;
  batches: Record<string, number>;
  examples: Record<string, number>;
}

/**
 * The draws up to an evaluation at (epoch, step): the micro-batches of that epoch's plan
 * (`plan(epoch - 1)`) run so far, `batchesPerEpoch` per epoch, `gradAccumSteps` per step.
 */
export function drawsUpTo(plan: (epoch: number) => readonly TaskBatch[], names: readonly string[], batchesPerEpoch: number, gradAccumSteps: number): (epoch: number, step: number) => TaskDraws {
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / gradAccumSteps);
  return (epoch, step) => {
    const ran = Math.min(batchesPerEpoch, (step - (epoch - 1) * stepsPerEpoch) * gradAccumSteps);
    const d = epochDraws(plan(epoch - 1).slice(0, ran), names.length);
    return { epoch, step, batches: Object.fromEntries(names.map((n, t) => [n, d.batches[t]])), examples: Object.fromEntries(names.map((n, t) => [n, d.examples[t]])) };
  };
}

/** A task's scores: its main metric and all of them. */
export interface TaskScores {
  main: number;
  scores: Record<string, number>;
}

/**
 * Score every task that has examples (`score(t)`, in task order) and combine them as the
 * model-selection and test records do: the mean of their main metrics (NaN when none has
 * examples) and every score as `<task>/<metric>`. `results[t]` is null for a task without examples.
 */
export async function scoreEveryTask<R extends TaskScores>(names: readonly string[], hasExamples: (t: number) => boolean, score: (t: number) => Promise<R>): Promise<TaskScores & { results: (R | null)[] }> {
  const scores: Record<string, number> = {};
  const results: (R | null)[] = [];
  let sum = 0;
  let counted = 0;
  for (let t = 0; t < names.length; t++) {
    if (!hasExamples(t)) {
      results.push(null);
      continue;
    }
    const r = await score(t);
    for (const [k, v] of Object.entries(r.scores)) scores[`${names[t]}/${k}`] = v;
    sum += r.main;
    counted++;
    results.push(r);
  }
  return { main: counted ? sum / counted : Number.NaN, scores, results };
}

/** Task `name`'s scores in a record of `scoreEveryTask`'s (`<task>/<metric>` keys); null without a record. */
export function taskScoresOf(record: { scores: Record<string, number> } | null, name: string): Record<string, number> | null {
  if (!record) return null;
  const prefix = `${name}/`;
  return Object.fromEntries(Object.entries(record.scores).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * The multi-task storage report (prototype once, layer masks, a task mask per task, and the heads
 * of `numLabels` outputs where the backbone has them); null when it cannot be counted.
 */
export function multiTaskStorage(cfg: ModelConfig, method: MethodConfig, taskNames: string[], numLabels?: number): StorageReport | null {
  try {
    return computeStorage({ config: cfg, ...(numLabels !== undefined ? { numLabels } : {}) }, { ...method, tasks: taskNames });
  } catch {
    return null;
  }
}

/** Train one method on several tasks for every seed (see the module comment). */
export async function trainMultiTask(opts: TrainMultiTaskOptions): Promise<TrainTaskResult> {
  const names = opts.tasks.map((s) => s.task.name);
  checkTaskNames(names);
  const temperature = opts.temperature ?? DEFAULT_TEMPERATURE;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new MultiTaskError(`temperature must be a finite number > 0, got ${temperature}`);
  const method = resolveMethodConfig({ ...opts.method, tasks: names });
  const full = { ...opts, method };
  let tokenizer: Tokenizer | undefined = opts.tokenizer;
  return runSeeds(
    { taskName: names.join(","), method, seeds: opts.seeds, outputDir: opts.outputDir, ...(opts.resume !== undefined ? { resume: opts.resume } : {}), ...(opts.log ? { log: opts.log } : {}) },
    async (seed, dir) => {
      tokenizer ??= await (await import("../data/tokenizer.js")).loadTokenizer(opts.modelDir);
      return trainOneSeed(full, temperature, tokenizer, seed, dir);
    },
  );
}

async function trainOneSeed(opts: TrainMultiTaskOptions, temperature: number, tokenizer: Tokenizer, seed: number, dir: string): Promise<{ result: SeedResult; storage: StorageReport | null }> {
  const log = opts.log ?? (() => undefined);
  const tasks = opts.tasks.map((s) => s.task);
  const names = tasks.map((t) => t.name);
  const infos = tasks.map(taskInfo);
  const cut = <T>(xs: T[], n: number | undefined): T[] => (n !== undefined ? xs.slice(0, n) : xs);
  const enc = (xs: Example[], taskId: number): EncodedExample[] => encodeExamples(tokenizer, xs, { maxLength: opts.maxLength, taskId });
  const train: EncodedExample[][] = [];
  const validation: EncodedExample[][] = [];
  const test: EncodedExample[][] = [];
  const protocols: string[] = [];
  for (let t = 0; t < tasks.length; t++) {
    const s = await opts.tasks[t].splits(seed);
    const tr = cut(s.train, opts.maxTrainExamples);
    if (tr.length === 0) throw new MultiTaskError(`task ${names[t]}: the training split is empty`);
    train.push(enc(tr, t));
    validation.push(enc(cut(s.validation, opts.maxEvalExamples), t));
    test.push(enc(cut(s.test, opts.maxEvalExamples), t));
    protocols.push(s.protocol);
  }

  const model = await loadModelDir(opts.modelDir, { numLabels: tasks[0].numLabels, labelNames: labelNamesOf(tasks[0]), seed });
  if (model.modelTypeInferred !== null) log(`${path.join(opts.modelDir, "config.json")} names no model_type: ${model.modelTypeInferred}`);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    tree.dispose(model.encoder);
    tree.dispose(model.head);
    throw new MultiTaskError(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${model.config.vocabSize}`);
  }
  // One head per task, each as a single-task run of that task would start it: the model
  // file's dense layer (BERT's pretrained pooler, if any) and a fresh output layer for the
  // task's labels, seeded by the run's seed.
  const heads: HeadParams[] = [model.head];
  for (let t = 1; t < tasks.length; t++) {
    const fresh = initHead({ ...model.config, numLabels: tasks[t].numLabels }, seed);
    fresh.dense.w.dispose();
    fresh.dense.b.dispose();
    heads.push({ dense: { w: model.head.dense.w.ref, b: model.head.dense.b.ref }, out: fresh.out });
  }
  const method = createMethod(opts.method) as PetlMethod<unknown>;
  const hyper: FinetuneHyper = { ...opts.hyper, seed };
  const backbone: Backbone = { config: model.config, encoder: model.encoder };
  const storage = multiTaskStorage(model.config, method.config, names, tasks[0].numLabels);
  const probs = temperatureProbabilities(train.map((d) => d.length), temperature);
  const totalTrain = train.reduce((s, d) => s + d.length, 0);
  const batchesPerEpoch = Math.ceil(totalTrain / hyper.batchSize);
  const lengths = train.map((d) => d.map((e) => e.inputIds.length));
  const plan = (epoch: number): TaskBatch[] =>
    planMultiTaskBatches(lengths, { batchSize: hyper.batchSize, seed, epoch, temperature, batchesPerEpoch, ...(hyper.bucketBatches !== undefined ? { bucketBatches: hyper.bucketBatches } : {}) });
  const pad: PadSettings = { padTokenId: tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId, ...(hyper.padToMultipleOf ? { padToMultipleOf: hyper.padToMultipleOf } : {}) };
  const evalOpts = { ...pad, batchSize: hyper.evalBatchSize };
  const stateFile = path.join(dir, TRAIN_STATE_FILE);
  const fp = fingerprint(
    { tasks: names, method: method.config, hyper, temperature, maxLength: opts.maxLength, config: encoderConfigToJson(model.config), weights: statSync(path.join(opts.modelDir, "model.safetensors")).size, nVal: validation.map((v) => v.length) },
    train,
  );
  log(`seed ${seed}: ${method.config.method} on ${tasks.length} tasks -> ${dir}; an epoch is ⌈${totalTrain} / ${hyper.batchSize}⌉ = ${batchesPerEpoch} batches, each from one task drawn with p ∝ n^(1/${temperature})`);
  for (let t = 0; t < tasks.length; t++) {
    log(`  ${names[t]}: ${train[t].length} train / ${validation[t].length} validation / ${test[t].length} test (${protocols[t]}); p = ${probs[t].toFixed(4)}`);
  }
  const drawsAt = drawsUpTo(plan, names, batchesPerEpoch, hyper.gradAccumSteps);
  const logDraws = (epoch: number, step: number): void => {
    const d = drawsAt(epoch, step);
    log(`epoch ${epoch} drew ${names.map((n) => `${n} ${d.examples[n]} examples (${d.batches[n]} batches)`).join(", ")}`);
  };
  const perTask = tasks.map((_, t) => methodForTask(method, t));
  const taskParams = (p: MultiTrainable<unknown>, t: number): Trainable<unknown> => ({ method: p.method, head: p.heads[t] });
  /** Validation of every task: the mean main metric, and `<task>/<metric>` scores. */
  const scoreOn = async (p: MultiTrainable<unknown>, t: number, data: readonly EncodedExample[]): Promise<TaskScores> => {
    const r = await evaluateTask(backbone, perTask[t], taskParams(p, t), infos[t], data, evalOpts);
    return { main: r.main, scores: r.scores as Record<string, number> };
  };
  const evaluateAll = async (p: MultiTrainable<unknown>): Promise<EvalResult> => {
    const r = await scoreEveryTask(names, (t) => validation[t].length > 0, (t) => scoreOn(p, t, validation[t]));
    return { main: r.main, scores: r.scores };
  };
  const save = async (p: MultiTrainable<unknown>): Promise<void> => {
    await saveTaskCheckpoint(dir, { method, params: p.method, encoderConfig: model.config, heads: p.heads, labelNames: tasks.map(labelNamesOf), ...(opts.checkpointDtype ? { dtype: opts.checkpointDtype } : {}) });
  };

  const started = Date.now();
  const params: MultiTrainable<unknown> = { method: method.init(backbone.config, backbone.encoder, seed), heads };
  let res;
  try {
    res = await trainLoop<MultiTrainable<unknown>, TaskBatch, MultiTaskInputs>({
      params,
      labels: { method: method.groups(params.method), heads: params.heads.map((h) => tree.map(() => "head", h as never)) },
      optimizer: {
        groups: {
          module: { lr: hyper.lr, weightDecay: hyper.weightDecay },
          scores: { lr: hyper.maskLr, weightDecay: hyper.weightDecay },
          head: { lr: hyper.headLr ?? hyper.lr, weightDecay: hyper.weightDecay },
        },
      },
      maxGradNorm: hyper.maxGradNorm,
      schedule: (totalSteps: number) => linearWarmupDecay({ totalSteps, warmupRatio: hyper.warmupRatio }),
      epochs: hyper.epochs,
      gradAccumSteps: hyper.gradAccumSteps,
      epochBatches: plan,
      objective: multiTaskObjective(backbone, method, train, infos, pad, namedLeaves(params).map(([p]) => p), rematPlan(hyper.remat, backbone.config, hyper.batchSize, train.reduce((m, t) => t.reduce((a, e) => Math.max(a, e.inputIds.length), m), 1))),
      jit: false,
      evaluate: validation.some((v) => v.length > 0) ? evaluateAll : undefined,
      ...(hyper.earlyStopPatience !== undefined ? { earlyStopPatience: hyper.earlyStopPatience } : {}),
      ...(hyper.maxSteps !== undefined ? { maxSteps: hyper.maxSteps } : {}),
      checkpoint: { store: trainStateFile(stateFile), ...(opts.saveSteps ? { everySteps: opts.saveSteps } : {}) },
      resume: opts.resume ?? false,
      fingerprint: fp,
      onBest: (p: MultiTrainable<unknown>) => save(p),
      onEvent: (e: TrainEvent) => {
        if (e.type === "eval") logDraws(e.epoch, e.step);
        opts.onEvent?.(seed, e);
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    tree.dispose(model.encoder);
    method.dispose();
    throw e;
  }
  try {
    const finalParams = res.best ?? res.params;
    // As task-run.ts: without an evaluation nothing was saved yet; after a resume the files on
    // disk may not be the ones the resume state vouches for, so they are written again.
    if (mustRewriteCheckpoint(dir, res)) await rewriteCheckpoint(dir, res.resumedAtStep !== undefined, log, () => save(finalParams), res.best !== null);
    const tested = await scoreEveryTask(names, (t) => test[t].length > 0, (t) => scoreOn(finalParams, t, test[t]));
    const perTaskTest: Record<string, TaskTestRecord> = Object.fromEntries(
      names.map((n, t) => {
        const r = tested.results[t];
        return [n, { mainMetric: tasks[t].mainMetric, main: r ? r.main : Number.NaN, scores: r ? r.scores : {}, examples: test[t].length }];
      }),
    );
    const testRecord = { main: tested.main, scores: tested.scores, examples: test.reduce((s, d) => s + d.length, 0) };
    const ckptBytes = checkpointBytes(dir);
    const doc = {
      format: METRICS_FORMAT,
      version: 1,
      task: names.join(","),
      tasks: Object.fromEntries(
        tasks.map((task, t) => [
          task.name,
          {
            mainMetric: task.mainMetric,
            test: perTaskTest[task.name],
            validation: taskScoresOf(res.bestRecord, task.name),
            data: { protocol: protocols[t], source: opts.tasks[t].source ?? null, train: train[t].length, validation: validation[t].length, test: test[t].length },
            samplingProbability: probs[t],
          },
        ]),
      ),
      seed,
      mainMetric: "mean of the tasks' main metrics",
      test: testRecord,
      validation: res.bestRecord,
      history: res.history,
      sampling: { temperature, batchesPerEpoch, epoch: "⌈Σ train sizes / batch size⌉ batches", draws: res.history.map((r) => drawsAt(r.epoch, r.step)) },
      stoppedEarly: res.stoppedEarly,
      steps: res.steps,
      ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
      method: method.config,
      hyper: { ...hyper, maxLength: opts.maxLength },
      model: { dir: path.resolve(opts.modelDir), modelType: model.config.modelType, hiddenSize: model.config.hiddenSize, layers: model.config.numLayers, backboneParams: countBackboneParams(encoderConfigToJson(model.config)) },
      storage: storage
        ? { bits: storage.totalBits, bytes: storage.bytes, percentOfBackbone: storage.percentOfBackbone, ...sharedAndTaskParts(storage), checkpointBytes: ckptBytes }
        : { checkpointBytes: ckptBytes },
      engine: engineInfoOrNull(),
      versions: versions(),
      trainSeconds: (Date.now() - started) / 1000,
      createdAt: new Date().toISOString(),
      ...(opts.extra ?? {}),
    };
    return { result: await finishSeed(dir, doc, { res, test: testRecord, seed, ...(opts.keepTrainState !== undefined ? { keepTrainState: opts.keepTrainState } : {}) }), storage };
  } finally {
    tree.dispose(res.params);
    if (res.best) tree.dispose(res.best);
    tree.dispose(model.encoder);
    method.dispose();
  }
}
