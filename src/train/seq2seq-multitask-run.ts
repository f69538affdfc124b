/**
 * Multi-task ProPETL on an encoder–decoder (T5), as `propetl train --tasks A,B,... --model
 * <T5>` runs it (paper Sec. 3.4, Tables 2–3; the authors' T5 code):
 *
 * - Every task is text-to-text: text-to-text tasks as they are (bible-es-en: BLEU), and
 *   classification tasks cast to text (data/text-to-text.ts: "<task> sentence1: …" → the label's
 *   name; scored with the task's own metrics). Each task's source prefix is stored in the
 *   checkpoint (`task_prefixes`), so `propetl generate --task NAME` runs it.
 * - ONE method: its layer masks and one task mask per task, each task mask shared by every
 *   encoder and decoder block (the authors tie each task's mask across all blocks); hybrid =
 *   layer OR task (or AND). There are no heads: the LM head is the backbone's.
 * - Batches, epochs and sampling as multitask-run.ts: each step's batch comes from one task
 *   drawn with p ∝ N^(1/T); an epoch is ⌈Σ N_i / B⌉ batches; a batch of task t trains through
 *   task t's hybrid masks, the other tasks' task scores are frozen for that step.
 * - Validation of every task by generation (every epoch and every `evalSteps` steps); the best
 *   checkpoint has the highest mean of the tasks' main metrics (all ×100); it is tested on every
 *   task, writing `test_predictions.<task>.txt` per task.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { tree } from "../engine/jax.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { checkTokenizerFitsModel, loadTokenizer } from "../data/tokenizer.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { loadBackboneDir } from "../models/load.js";
import { t5ConfigToJson } from "../models/t5/config.js";
import type { T5Config } from "../models/t5/config.js";
import type { T5Params } from "../models/t5/params.js";
import { saveTaskCheckpoint } from "../petl/checkpoint.js";
import type { MethodConfig, PetlMethod } from "../petl/method.js";
import { createMethod, resolveMethodConfig } from "../petl/registry.js";
import { sharedAndTaskParts } from "../petl/storage.js";
import type { StorageReport } from "../petl/storage.js";
import { checkTaskNames, drawsUpTo, methodForTask, MultiTaskError, multiTaskStorage, otherTaskLeaves, scoreEveryTask, taskScoresOf } from "./multitask-run.js";
import { DEFAULT_TEMPERATURE, planMultiTaskBatches, temperatureProbabilities } from "./multitask.js";
import type { TaskBatch } from "./multitask.js";
import { encodePairs } from "./seq2seq-batching.js";
import type { EncodedPair, TextPair } from "./seq2seq-batching.js";
import { generateIds, seq2seqDeviceInputs, seq2seqLoss, seq2seqRemat, seq2seqRematValueAndGrad, withoutRemat } from "./seq2seq.js";
import type { Seq2seqBackbone, Seq2seqDeviceInputs, Seq2seqHyper, Seq2seqTrainable } from "./seq2seq.js";
import { linearWarmupDecay } from "./schedule.js";
import { checkpointBytes, finishSeed, METRICS_FORMAT, mustRewriteCheckpoint, rewriteCheckpoint, runSeeds, TRAIN_STATE_FILE } from "./task-run.js";
import type { SeedResult, TrainTaskResult } from "./task-run.js";
import { trainLoop } from "./trainer.js";
import type { EvalResult, Objective, TrainEvent } from "./trainer.js";
import { namedLeaves } from "./tree-util.js";
import { versions } from "./versions.js";
import { trainStateFile } from "./train-state.js";

/** One task of a text-to-text multi-task run. */
export interface TextTaskSource {
  name: string;
  /** Put before every source (T5 style), stored in the checkpoint. */
  prefix: string;
  /** The main metric's name (metrics.json). */
  mainMetric: string;
  /** Scores of generated texts against reference texts, ×100 (main and all). */
  score: (predictions: readonly string[], references: readonly string[]) => { main: number; scores: Record<string, number> };
  splits: (seed: number) => Promise<{ train: TextPair[]; validation: TextPair[]; test: TextPair[]; protocol: string }>;
  /** Where its data came from (metrics.json). */
  source?: string;
}

export interface TrainSeq2seqMultiTaskOptions {
  /** Hugging Face T5ForConditionalGeneration folder. */
  modelDir: string;
  tasks: TextTaskSource[];
  method: MethodConfig;
  hyper: Omit<Seq2seqHyper, "seed">;
  temperature?: number;
  seeds: number[];
  outputDir: string;
  maxSourceLength: number;
  maxTargetLength: number;
  maxTrainExamples?: number;
  maxEvalExamples?: number;
  resume?: boolean;
  saveSteps?: number;
  keepTrainState?: boolean;
  checkpointDtype?: "F32" | "F16";
  extra?: Record<string, unknown>;
  onEvent?: (seed: number, event: TrainEvent) => void;
  log?: (message: string) => void;
  signal?: AbortSignal;
  tokenizer?: Tokenizer;
}

/** The test generations of one task, next to metrics.json. */
export function taskPredictionsFile(task: string): string {
  return `test_predictions.${task}.txt`;
}

/** Train one method on several text-to-text tasks for every seed (see the module comment). */
export async function trainSeq2seqMultiTask(opts: TrainSeq2seqMultiTaskOptions): Promise<TrainTaskResult> {
  const names = opts.tasks.map((t) => t.name);
  checkTaskNames(names);
  const temperature = opts.temperature ?? DEFAULT_TEMPERATURE;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new MultiTaskError(`temperature must be a finite number > 0, got ${temperature}`);
  const method = resolveMethodConfig({ ...opts.method, tasks: names });
  if (method.method === "full") throw new MultiTaskError("multi-task training needs a PETL method (the tasks share a backbone); full fine-tuning trains one model per task");
  let tokenizer = opts.tokenizer;
  return runSeeds(
    { taskName: names.join(","), method, seeds: opts.seeds, outputDir: opts.outputDir, ...(opts.resume !== undefined ? { resume: opts.resume } : {}), ...(opts.log ? { log: opts.log } : {}) },
    async (seed, dir) => {
      tokenizer ??= await loadTokenizer(opts.modelDir);
      return trainOneSeed({ ...opts, method }, temperature, tokenizer, seed, dir);
    },
  );
}

function fingerprint(parts: unknown, data: readonly (readonly EncodedPair[])[]): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(parts));
  data.forEach((pairs, t) => {
    h.update(`task ${t}`);
    for (const p of pairs) {
      h.update(new Uint8Array(p.inputIds.buffer, p.inputIds.byteOffset, p.inputIds.byteLength));
      h.update(new Uint8Array(p.labels.buffer, p.labels.byteOffset, p.labels.byteLength));
    }
  });
  return h.digest("hex").slice(0, 32);
}

/** A task-`t` batch on the device, keyed by the task index (a key survives tracing, a number leaf would not). */
export type TaskKeyedInputs = Record<string, Seq2seqDeviceInputs>;

/**
 * The loss of one-task batches over a multi-task tree: task t's batch runs through task t's
 * masks. With `remat` (default true) it also supplies its own gradient, block by block with
 * rematerialisation (`seq2seqRematValueAndGrad`, keeping `keepLayers` blocks' residuals,
 * default 0).
 */
export function seq2seqMultiTaskObjective<T>(backbone: Seq2seqBackbone, method: PetlMethod<T>, data: readonly (readonly EncodedPair[])[], leafPaths: readonly string[], opts: { remat?: boolean; keepLayers?: number } = {}): Objective<Seq2seqTrainable<T>, TaskBatch, TaskKeyedInputs> {
  const perTask = data.map((_, t) => methodForTask(method, t));
  const frozen = data.map((_, t) => otherTaskLeaves(leafPaths, data.length, t));
  const taskOf = (d: TaskKeyedInputs): string => {
    const keys = Object.keys(d);
    if (keys.length !== 1) throw new Error(`seq2seqMultiTaskObjective: a batch must hold one task's inputs, got ${keys.length}`);
    return keys[0];
  };
  const objective: Objective<Seq2seqTrainable<T>, TaskBatch, TaskKeyedInputs> = {
    size: (b) => b.indices.length,
    frozen: (b) => frozen[b.task],
    toDevice: (b) => ({ [String(b.task)]: seq2seqDeviceInputs(backbone.config, b.indices.map((i) => data[b.task][i])) }),
    loss: (params, d) => {
      const key = taskOf(d);
      const loss = seq2seqLoss(backbone, perTask[Number(key)], params, d[key], true);
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
  if ((opts.remat ?? true) && !method.encoderOverride) {
    objective.valueAndGrad = async (params, d) => {
      let key: string;
      try {
        key = taskOf(d);
      } catch (e) {
        tree.dispose([params, d] as never);
        throw e;
      }
      return seq2seqRematValueAndGrad(backbone, perTask[Number(key)], params, d[key], opts.keepLayers ?? 0);
    };
  }
  return objective;
}

async function trainOneSeed(opts: TrainSeq2seqMultiTaskOptions, temperature: number, tokenizer: Tokenizer, seed: number, dir: string): Promise<{ result: SeedResult; storage: StorageReport | null }> {
  const log = opts.log ?? (() => undefined);
  const tasks = opts.tasks;
  const names = tasks.map((t) => t.name);
  const cut = <T>(xs: readonly T[], n: number | undefined): readonly T[] => (n !== undefined ? xs.slice(0, n) : xs);
  const lengths = { maxSourceLength: opts.maxSourceLength, maxTargetLength: opts.maxTargetLength };
  const train: EncodedPair[][] = [];
  const validation: EncodedPair[][] = [];
  const test: EncodedPair[][] = [];
  const references: { validation: string[]; test: string[] }[] = [];
  const protocols: string[] = [];
  for (let t = 0; t < tasks.length; t++) {
    const s = await tasks[t].splits(seed);
    const enc = (xs: readonly TextPair[], split: string): EncodedPair[] => {
      const r = encodePairs(tokenizer, xs, { ...lengths, prefix: tasks[t].prefix, what: `${names[t]} ${split}` });
      if (r.truncatedSources || r.truncatedTargets) log(`${names[t]} ${split}: ${r.truncatedSources} source(s) cut to ${opts.maxSourceLength} tokens, ${r.truncatedTargets} target(s) cut to ${opts.maxTargetLength} tokens`);
      return r.pairs;
    };
    const tr = cut(s.train, opts.maxTrainExamples);
    if (tr.length === 0) throw new MultiTaskError(`task ${names[t]}: the training split is empty`);
    const va = cut(s.validation, opts.maxEvalExamples);
    const te = cut(s.test, opts.maxEvalExamples);
    train.push(enc(tr, "train"));
    validation.push(enc(va, "validation"));
    test.push(enc(te, "test"));
    references.push({ validation: va.map((p) => p.target), test: te.map((p) => p.target) });
    protocols.push(s.protocol);
  }

  const model = await loadBackboneDir(opts.modelDir);
  const cfg = model.config;
  if (cfg.modelType !== "t5") {
    tree.dispose(model.encoder);
    throw new MultiTaskError(`${path.join(opts.modelDir, "config.json")}: text-to-text multi-task training needs an encoder–decoder (T5) model, but model_type is "${cfg.modelType}"`);
  }
  const t5 = cfg as T5Config;
  const params = model.encoder as T5Params;
  try {
    checkTokenizerFitsModel(tokenizer, t5.vocabSize, opts.modelDir);
  } catch (e) {
    tree.dispose(params);
    throw e;
  }
  const method = createMethod(opts.method) as PetlMethod<unknown>;
  const hyper: Seq2seqHyper = { ...opts.hyper, seed };
  const backbone: Seq2seqBackbone = { config: t5, params };
  const storage = multiTaskStorage(t5, method.config, names);
  const probs = temperatureProbabilities(train.map((d) => d.length), temperature);
  const totalTrain = train.reduce((s, d) => s + d.length, 0);
  const batchesPerEpoch = Math.ceil(totalTrain / hyper.batchSize);
  const pairLengths = train.map((d) => d.map((p) => p.inputIds.length + p.labels.length));
  const plan = (epoch: number): TaskBatch[] =>
    planMultiTaskBatches(pairLengths, { batchSize: hyper.batchSize, seed, epoch, temperature, batchesPerEpoch, ...(hyper.bucketBatches !== undefined ? { bucketBatches: hyper.bucketBatches } : {}) });
  const fp = fingerprint(
    { tasks: names, prefixes: tasks.map((t) => t.prefix), method: method.config, hyper: withoutRemat(hyper), temperature, lengths, config: t5ConfigToJson(t5), weights: statSync(path.join(opts.modelDir, "model.safetensors")).size, nVal: validation.map((v) => v.length) },
    train,
  );
  log(`seed ${seed}: ${method.config.method} on ${tasks.length} text-to-text tasks -> ${dir}; an epoch is ⌈${totalTrain} / ${hyper.batchSize}⌉ = ${batchesPerEpoch} batches, each from one task drawn with p ∝ n^(1/${temperature})`);
  for (let t = 0; t < tasks.length; t++) {
    log(`  ${names[t]} (prefix ${JSON.stringify(tasks[t].prefix)}, ${tasks[t].mainMetric}): ${train[t].length} train / ${validation[t].length} validation / ${test[t].length} test (${protocols[t]}); p = ${probs[t].toFixed(4)}`);
  }
  const drawsAt = drawsUpTo(plan, names, batchesPerEpoch, hyper.gradAccumSteps);
  /** Generate for task t's pairs with its masks, decode, score. */
  const scoreTask = async (p: Seq2seqTrainable<unknown>, t: number, data: readonly EncodedPair[], refs: readonly string[]): Promise<{ main: number; scores: Record<string, number>; predictions: string[] }> => {
    const ids = await generateIds(backbone, method, p, data, { batchSize: hyper.evalBatchSize, generation: hyper.generation, task: t });
    const predictions = ids.map((s) => tokenizer.decode(s, { skipSpecialTokens: true }));
    return { ...tasks[t].score(predictions, refs), predictions };
  };
  const evaluateAll = async (p: Seq2seqTrainable<unknown>): Promise<EvalResult> => {
    const r = await scoreEveryTask(names, (t) => validation[t].length > 0, (t) => scoreTask(p, t, validation[t], references[t].validation));
    return { main: r.main, scores: r.scores };
  };
  const save = (p: Seq2seqTrainable<unknown>) =>
    saveTaskCheckpoint(dir, { method, params: p.method, encoderConfig: t5, taskPrefixes: tasks.map((t) => t.prefix), ...(opts.checkpointDtype ? { dtype: opts.checkpointDtype } : {}) });

  const started = Date.now();
  const trainable: Seq2seqTrainable<unknown> = { method: method.init(t5, params, seed) };
  let res;
  try {
    res = await trainLoop<Seq2seqTrainable<unknown>, TaskBatch, TaskKeyedInputs>({
      params: trainable,
      labels: { method: method.groups(trainable.method) },
      optimizer: {
        groups: {
          module: { lr: hyper.lr, weightDecay: hyper.weightDecay },
          scores: { lr: hyper.maskLr, weightDecay: hyper.weightDecay },
        },
      },
      maxGradNorm: hyper.maxGradNorm,
      schedule: (totalSteps: number) => linearWarmupDecay({ totalSteps, warmupRatio: hyper.warmupRatio }),
      epochs: hyper.epochs,
      gradAccumSteps: hyper.gradAccumSteps,
      epochBatches: plan,
      objective: seq2seqMultiTaskObjective(backbone, method, train, namedLeaves(trainable).map(([p]) => p), seq2seqRemat(hyper.remat, t5, hyper.batchSize, train)),
      evaluate: validation.some((v) => v.length > 0) ? evaluateAll : undefined,
      ...(hyper.evalSteps !== undefined ? { evalEverySteps: hyper.evalSteps } : {}),
      ...(hyper.earlyStopPatience !== undefined ? { earlyStopPatience: hyper.earlyStopPatience } : {}),
      ...(hyper.maxSteps !== undefined ? { maxSteps: hyper.maxSteps } : {}),
      checkpoint: { store: trainStateFile(path.join(dir, TRAIN_STATE_FILE)), ...(opts.saveSteps ? { everySteps: opts.saveSteps } : {}) },
      resume: opts.resume ?? false,
      fingerprint: fp,
      onBest: (p: Seq2seqTrainable<unknown>) => save(p).then(() => undefined),
      onEvent: (e: TrainEvent) => {
        if (e.type === "eval") {
          const d = drawsAt(e.epoch, e.step);
          log(`epoch ${e.epoch} step ${e.step} drew ${names.map((n) => `${n} ${d.examples[n]} examples (${d.batches[n]} batches)`).join(", ")}`);
        }
        opts.onEvent?.(seed, e);
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    tree.dispose(params);
    method.dispose();
    throw e;
  }
  try {
    const finalParams = res.best ?? res.params;
    if (mustRewriteCheckpoint(dir, res)) await rewriteCheckpoint(dir, res.resumedAtStep !== undefined, log, () => save(finalParams).then(() => undefined), res.best !== null);
    const tested = await scoreEveryTask(names, (t) => test[t].length > 0, async (t) => {
      log(`seed ${seed}: generating for ${test[t].length} ${names[t]} test sources`);
      const r = await scoreTask(finalParams, t, test[t], references[t].test);
      await writeFileAtomic(path.join(dir, taskPredictionsFile(names[t])), r.predictions.map((x) => x.replace(/\r?\n/g, " ")).join("\n") + "\n");
      return r;
    });
    const perTask = Object.fromEntries(
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
      taskKind: "text-to-text",
      tasks: Object.fromEntries(
        tasks.map((task, t) => [
          task.name,
          {
            prefix: task.prefix,
            mainMetric: task.mainMetric,
            test: perTask[task.name],
            validation: taskScoresOf(res.bestRecord, task.name),
            data: { protocol: protocols[t], source: task.source ?? null, train: train[t].length, validation: validation[t].length, test: test[t].length },
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
      hyper: { ...hyper, maxSourceLength: opts.maxSourceLength, maxTargetLength: opts.maxTargetLength },
      model: { dir: path.resolve(opts.modelDir), modelType: t5.modelType, dModel: t5.dModel, encoderLayers: t5.numLayers, decoderLayers: t5.numDecoderLayers },
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
    tree.dispose(params);
    method.dispose();
  }
}
