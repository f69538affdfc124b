/**
 * Train a PETL method on one task end to end, as `propetl train` does: read the task's files,
 * apply the paper's split protocol, tokenize, fine-tune per seed with evaluation every epoch,
 * keep the best checkpoint (the bit-packed task folder of petl/checkpoint.ts), score the test
 * split with it, and write `metrics.json` (metrics, history, config, data sizes, storage,
 * versions) next to the checkpoint. Several seeds run one after another, each in
 * `<output>/seed-<seed>/`, with the mean and standard deviation in `<output>/metrics.json`.
 *
 * Resume: every run keeps `train_state.safetensors` (written atomically) until it finishes;
 * `resume: true` continues an interrupted run exactly, and skips seeds already finished.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { tree } from "../engine/jax.js";
import type { Example } from "../data/read-examples.js";
import { checkTokenizerFitsModel } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { TaskSpec } from "../data/tasks.js";
import { cleanStaleTempFiles, writeFileAtomic } from "../io/atomic-write.js";
import { checkWritableFolder } from "../io/output-path.js";
import { encoderConfigToJson } from "../models/bert/config.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { loadModelDir } from "../models/load.js";
import { CONFIG_FILE, MODEL_FILE, saveTaskCheckpoint } from "../petl/checkpoint.js";
import type { MethodConfig, PetlMethod } from "../petl/method.js";
import { createMethod } from "../petl/registry.js";
import { computeStorage, countBackboneParams } from "../petl/storage.js";
import type { StorageReport } from "../petl/storage.js";
import { encodeExamples } from "./batching.js";
import type { EncodedExample } from "./batching.js";
import { evaluateTask, finetune } from "./finetune.js";
import type { FinetuneHyper, TaskInfo, Trainable } from "./finetune.js";
import type { EvalRecord } from "./train-state.js";
import type { TrainEvent } from "./trainer.js";
import { versions } from "./versions.js";
import { trainStateFile } from "./train-state.js";

/** The results file a run writes (per seed, and the summary over seeds). */
export const METRICS_FILE = "metrics.json";
/** The resume file a run keeps until it finishes. */
export const TRAIN_STATE_FILE = "train_state.safetensors";
export const METRICS_FORMAT = "propetl-metrics";

/** Train / validation / test examples of one seed. */
export interface TaskSplits {
  /** Training examples. */
  train: Example[];
  /** Validation examples (model selection). */
  validation: Example[];
  /** Test examples (the reported scores). */
  test: Example[];
  /** How they were made, e.g. "dev-halves", "train-holdout", "fixed". */
  protocol: string;
}

/** Options of `trainTask`. */
export interface TrainTaskOptions {
  /** Hugging Face model dir (config.json, model.safetensors, tokenizer files). */
  modelDir: string;
  /** The task. */
  task: TaskSpec;
  /** The splits for a seed (the paper's protocol: `makeSplits(task, {train, dev}, seed)`). */
  splits: (seed: number) => TaskSplits | Promise<TaskSplits>;
  /** The method to train. */
  method: MethodConfig;
  /** Training hyper-parameters (the seed comes from `seeds`). */
  hyper: Omit<FinetuneHyper, "seed">;
  /** One run per seed, in order. */
  seeds: number[];
  /** The run folder: `<outputDir>/seed-<seed>/` per seed and the summary metrics.json. */
  outputDir: string;
  /** Use only the first N training examples (quick runs). */
  maxTrainExamples?: number;
  /** Use only the first N validation and test examples. */
  maxEvalExamples?: number;
  /** Longest input in tokens, special tokens included (`resolveMaxLength`). */
  maxLength: number;
  /** Continue interrupted runs and skip finished seeds (default false: refuse existing runs). */
  resume?: boolean;
  /** Also write a resume checkpoint every N optimizer steps (always at each epoch end). */
  saveSteps?: number;
  /** Keep train_state.safetensors after a run finishes (default false). */
  keepTrainState?: boolean;
  /** Store the module's float tensors as F16 in the task checkpoint (default F32). */
  checkpointDtype?: "F32" | "F16";
  /** Extra fields recorded in metrics.json (e.g. the command line, data counts). */
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

/** One seed's run. */
export interface SeedResult {
  /** The seed. */
  seed: number;
  /** Its folder (task checkpoint and metrics.json). */
  dir: string;
  /** The best validation evaluation, whose parameters the checkpoint holds. */
  validation: EvalRecord | null;
  /** The test split scored with the best parameters. */
  test: {
    /** The main metric's score. */
    main: number;
    /** Every metric's score (fractions). */
    scores: Record<string, number>;
    /** Test examples scored. */
    examples: number;
  };
  /** The seed's metrics.json. */
  metricsFile: string;
  /** Optimiser step the run resumed from, when it did. */
  resumedAtStep?: number;
  /** True when the seed had finished before (`resume`) and was not run again. */
  skipped?: boolean;
}

/** What `trainTask` returns. */
export interface TrainTaskResult {
  /** Each seed's run, in order. */
  seeds: SeedResult[];
  /** Mean and sample standard deviation (n − 1) of each test score over the seeds. */
  summary: Record<string, {
    /** Mean over the seeds. */
    mean: number;
    /** Sample standard deviation (0 for one seed). */
    std: number;
  }>;
  /** The summary metrics.json in `outputDir`. */
  metricsFile: string;
  /** The method's bit-level storage on this backbone; null where it cannot be counted. */
  storage: StorageReport | null;
}

/** A run that cannot start: no or repeated seeds, an output folder holding a run (without `resume`), an empty training split, ...; the message says what to change. */
export class TrainTaskError extends Error {}

/** `mean ± sample std` of each key over several score records. */
export function summarize(records: readonly Record<string, number>[]): Record<string, {
  /** Mean over the records. */
  mean: number;
  /** Sample standard deviation (n − 1; 0 for one record). */
  std: number;
}> {
  const out: Record<string, { mean: number; std: number }> = {};
  if (records.length === 0) return out;
  for (const key of Object.keys(records[0])) {
    const xs = records.map((r) => r[key]);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
    out[key] = { mean, std: Math.sqrt(variance) };
  }
  return out;
}

/** The storage report of a method on a backbone (counted from its state; null when it cannot be counted). */
export function storageFor(cfg: EncoderConfig, method: MethodConfig, numLabels: number): StorageReport | null {
  try {
    return computeStorage({ config: cfg, numLabels }, method);
  } catch {
    return null;
  }
}

function taskInfo(task: TaskSpec): TaskInfo {
  return { kind: task.kind, numLabels: task.numLabels, metrics: task.metrics, mainMetric: task.mainMetric };
}

function labelNamesOf(task: TaskSpec): string[] {
  return task.kind === "regression" ? ["score"] : [...task.labels];
}

/** A stable hash of what decides a run's updates (resume refuses other settings). */
function fingerprint(parts: unknown, data: readonly EncodedExample[]): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(parts));
  for (const e of data) {
    h.update(new Uint8Array(e.inputIds.buffer, e.inputIds.byteOffset, e.inputIds.byteLength));
    h.update(String(e.label));
  }
  return h.digest("hex").slice(0, 32);
}

/**
 * Fail early (before any training) when `dir` cannot be created or written (bounded mkdir,
 * probe file). Given `log` (a run about to write there), also remove the temporary files an
 * earlier run killed mid-write left there (`cleanStaleTempFiles`), telling `log` which.
 */
export async function checkWritableDir(dir: string, log?: (message: string) => void): Promise<void> {
  try {
    checkWritableFolder(dir);
  } catch (e) {
    throw new TrainTaskError((e as Error).message);
  }
  if (log === undefined) return;
  const removed = cleanStaleTempFiles(dir);
  if (removed.length > 0) log(`removed ${removed.length} temporary file(s) left by an interrupted write: ${removed.map((f) => path.relative(dir, f)).join(", ")}`);
}

/** Refuse to clobber a finished or unfinished run unless resuming. */
export function checkExistingRun(dir: string, resume: boolean): "fresh" | "resume" | "finished" {
  const hasMetrics = existsSync(path.join(dir, METRICS_FILE));
  const hasState = existsSync(path.join(dir, TRAIN_STATE_FILE));
  if (hasState) {
    if (!resume) throw new TrainTaskError(`${dir} holds an unfinished run (${TRAIN_STATE_FILE}); pass --resume to continue it, or choose another --output`);
    return "resume";
  }
  if (hasMetrics) {
    if (!resume) throw new TrainTaskError(`${dir} already holds a finished run (${METRICS_FILE}); choose another --output`);
    return "finished";
  }
  return "fresh";
}

/** sha256 of a task checkpoint's two files ("" for a missing file). */
export function checkpointDigest(dir: string): string {
  return [CONFIG_FILE, MODEL_FILE]
    .map((f) => {
      const file = path.join(dir, f);
      return existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : "";
    })
    .join(":");
}

/**
 * Write the final checkpoint with `save`; after a resume (`resumed`), compare with what was on
 * disk and log when the files were missing or different (they are now the state's best).
 */
export async function rewriteCheckpoint(dir: string, resumed: boolean, log: (m: string) => void, save: () => Promise<unknown>, savedDuringRun = false): Promise<void> {
  const before = checkpointDigest(dir);
  const missing = before.split(":").some((h) => h === "");
  await save();
  if (resumed && before !== checkpointDigest(dir)) {
    log(`${dir}: the task checkpoint on disk ${missing ? "was missing" : "did not match the resume state (another run's files?)"}; rewritten from the resume state's best parameters`);
  } else if (!resumed && missing && savedDuringRun) {
    log(`${dir}: the task checkpoint written during the run was missing (folder removed during the run?); rewritten from the best parameters`);
  }
}

/**
 * Whether the end of a run must write the task checkpoint again: nothing was saved during the
 * run (no evaluation), the run resumed (the files may not be the state's), or the files are
 * gone (the output folder was removed during the run; the trainer recreated it for its state).
 */
export function mustRewriteCheckpoint(dir: string, res: { best: unknown; resumedAtStep?: number }): boolean {
  return !res.best || res.resumedAtStep !== undefined || checkpointDigest(dir).split(":").some((h) => h === "");
}

/** Bytes of a task checkpoint's two files (0 for a missing one), as metrics.json records them. */
export function checkpointBytes(dir: string): number {
  return [CONFIG_FILE, MODEL_FILE].reduce((sum, f) => sum + (existsSync(path.join(dir, f)) ? statSync(path.join(dir, f)).size : 0), 0);
}

/**
 * The end of one seed's run, for every kind of task: `doc` written to `<dir>/metrics.json`
 * (atomically), the resume state removed unless kept, and the seed's result.
 */
export async function finishSeed(dir: string, doc: Record<string, unknown>, run: { res: { bestRecord: EvalRecord | null; resumedAtStep?: number }; test: SeedResult["test"]; seed: number; keepTrainState?: boolean }): Promise<SeedResult> {
  const metricsFile = path.join(dir, METRICS_FILE);
  await writeFileAtomic(metricsFile, JSON.stringify(doc, null, 2) + "\n", { createFolder: true });
  if (!run.keepTrainState) rmSync(path.join(dir, TRAIN_STATE_FILE), { force: true });
  return { seed: run.seed, dir, validation: run.res.bestRecord, test: run.test, metricsFile, ...(run.res.resumedAtStep !== undefined ? { resumedAtStep: run.res.resumedAtStep } : {}) };
}

/** What `runSeeds` needs to know about a multi-seed run. */
export interface SeedsRun {
  /** Task name recorded in the summary metrics.json. */
  taskName: string;
  method: MethodConfig;
  seeds: number[];
  outputDir: string;
  resume?: boolean;
  log?: (message: string) => void;
}

/**
 * The seed loop every kind of task shares: one folder per seed (`<output>/seed-<seed>/` when
 * there are several), refusing to clobber runs unless resuming, skipping finished seeds, and
 * the mean ± sample std over seeds in `<output>/metrics.json`. `runOne` trains one seed into
 * its folder.
 */
export async function runSeeds(run: SeedsRun, runOne: (seed: number, dir: string) => Promise<{ result: SeedResult; storage: StorageReport | null }>): Promise<TrainTaskResult> {
  if (run.seeds.length === 0) throw new TrainTaskError("no seeds given");
  if (new Set(run.seeds).size !== run.seeds.length) throw new TrainTaskError(`seeds ${run.seeds.join(",")} repeat a seed: each seed must be trained once`);
  const multi = run.seeds.length > 1;
  const log = run.log ?? (() => undefined);
  await checkWritableDir(run.outputDir, log);
  const seedDirs = run.seeds.map((s) => (multi ? path.join(run.outputDir, `seed-${s}`) : run.outputDir));
  const states = seedDirs.map((d) => checkExistingRun(d, run.resume ?? false));
  if (multi && !run.resume && existsSync(path.join(run.outputDir, METRICS_FILE))) {
    throw new TrainTaskError(`${run.outputDir} already holds a finished run (${METRICS_FILE}); choose another --output`);
  }
  for (const d of seedDirs) await checkWritableDir(d, log);

  const results: SeedResult[] = [];
  let storage: StorageReport | null = null;
  for (let si = 0; si < run.seeds.length; si++) {
    const seed = run.seeds[si];
    const dir = seedDirs[si];
    const metricsFile = path.join(dir, METRICS_FILE);
    if (states[si] === "finished") {
      const prev = JSON.parse(readFileSync(metricsFile, "utf8")) as { test: SeedResult["test"]; validation: EvalRecord | null };
      log(`seed ${seed}: already finished (${metricsFile})`);
      results.push({ seed, dir, validation: prev.validation, test: prev.test, metricsFile, skipped: true });
      continue;
    }
    const r = await runOne(seed, dir);
    storage = r.storage;
    results.push(r.result);
  }
  const summary = summarize(results.map((r) => ({ main: r.test.main, ...r.test.scores })));
  let metricsFile = results[0].metricsFile;
  if (multi) {
    metricsFile = path.join(run.outputDir, METRICS_FILE);
    const doc = {
      format: METRICS_FORMAT,
      version: 1,
      task: run.taskName,
      method: run.method,
      seeds: results.map((r) => ({ seed: r.seed, dir: path.relative(run.outputDir, r.dir), validation: r.validation, test: r.test })),
      test: summary,
      std: "sample standard deviation (n - 1) over seeds",
      versions: versions(),
      createdAt: new Date().toISOString(),
    };
    await writeFileAtomic(metricsFile, JSON.stringify(doc, null, 2) + "\n");
  }
  return { seeds: results, summary, metricsFile, storage };
}

/** Train on every seed (see the module comment). */
export async function trainTask(opts: TrainTaskOptions): Promise<TrainTaskResult> {
  const run: SeedsRun = { taskName: opts.task.name, method: opts.method, seeds: opts.seeds, outputDir: opts.outputDir, ...(opts.resume !== undefined ? { resume: opts.resume } : {}), ...(opts.log ? { log: opts.log } : {}) };
  let tokenizer: Tokenizer | undefined = opts.tokenizer;
  return runSeeds(run, async (seed, dir) => {
    tokenizer ??= await (await import("../data/tokenizer.js")).loadTokenizer(opts.modelDir);
    return trainOneSeed(opts, tokenizer, seed, dir);
  });
}

async function trainOneSeed(opts: TrainTaskOptions, tokenizer: Tokenizer, seed: number, dir: string): Promise<{ result: SeedResult; storage: StorageReport | null }> {
  const log = opts.log ?? (() => undefined);
  const task = opts.task;
  const info = taskInfo(task);
  const splits = await opts.splits(seed);
  const cut = <T>(xs: T[], n: number | undefined): T[] => (n !== undefined ? xs.slice(0, n) : xs);
  const trainEx = cut(splits.train, opts.maxTrainExamples);
  const valEx = cut(splits.validation, opts.maxEvalExamples);
  const testEx = cut(splits.test, opts.maxEvalExamples);
  if (trainEx.length === 0) throw new TrainTaskError(`task ${task.name}: the training split is empty`);
  const enc = (xs: Example[]): EncodedExample[] => encodeExamples(tokenizer, xs, { maxLength: opts.maxLength });
  const train = enc(trainEx);
  const validation = enc(valEx);
  const test = enc(testEx);

  const model = await loadModelDir(opts.modelDir, { numLabels: task.numLabels, labelNames: labelNamesOf(task), seed });
  if (model.modelTypeInferred !== null) log(`${path.join(opts.modelDir, "config.json")} names no model_type: ${model.modelTypeInferred}`);
  try {
    checkTokenizerFitsModel(tokenizer, model.config.vocabSize, opts.modelDir);
  } catch (e) {
    tree.dispose(model.encoder);
    tree.dispose(model.head);
    throw e;
  }
  const method = createMethod(opts.method) as PetlMethod<unknown>;
  const hyper: FinetuneHyper = { ...opts.hyper, seed };
  const backbone = { config: model.config, encoder: model.encoder };
  const labelNames = labelNamesOf(task);
  const storage = storageFor(model.config, method.config, task.numLabels);
  const stateFile = path.join(dir, TRAIN_STATE_FILE);
  const fp = fingerprint(
    { task: task.name, method: method.config, hyper, maxLength: opts.maxLength, config: encoderConfigToJson(model.config), weights: statSync(path.join(opts.modelDir, "model.safetensors")).size, nVal: validation.length },
    train,
  );
  log(`seed ${seed}: ${train.length} train / ${validation.length} validation / ${test.length} test examples (${splits.protocol}); ${method.config.method} -> ${dir}`);
  const started = Date.now();
  let res;
  try {
    res = await finetune<unknown>({
      backbone,
      method,
      head: model.head,
      task: info,
      train,
      validation,
      padTokenId: tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId,
      hyper,
      checkpoint: { store: trainStateFile(stateFile), ...(opts.saveSteps ? { everySteps: opts.saveSteps } : {}) },
      resume: opts.resume ?? false,
      fingerprint: fp,
      onBest: async (p: Trainable<unknown>) => {
        await saveTaskCheckpoint(dir, { method, params: p.method, encoderConfig: model.config, heads: [p.head], labelNames: [labelNames], ...(opts.checkpointDtype ? { dtype: opts.checkpointDtype } : {}) });
      },
      ...(opts.onEvent ? { onEvent: (e: TrainEvent) => opts.onEvent?.(seed, e) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    tree.dispose(model.encoder);
    method.dispose();
    throw e;
  }
  try {
    const finalParams = res.best ?? res.params;
    // Without an evaluation nothing was saved yet. After a resume, the files on disk may not be the
    // ones the resume state vouches for (deleted, or another run's): write them again from the
    // state's best parameters, and say so when they differed.
    if (mustRewriteCheckpoint(dir, res)) {
      await rewriteCheckpoint(dir, res.resumedAtStep !== undefined, log, () =>
        saveTaskCheckpoint(dir, { method, params: finalParams.method, encoderConfig: model.config, heads: [finalParams.head], labelNames: [labelNames], ...(opts.checkpointDtype ? { dtype: opts.checkpointDtype } : {}) }),
      res.best !== null);
    }
    const testMetrics = test.length
      ? await evaluateTask(backbone, method, finalParams, info, test, { padTokenId: tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId, batchSize: hyper.evalBatchSize, ...(hyper.padToMultipleOf ? { padToMultipleOf: hyper.padToMultipleOf } : {}) })
      : null;
    const testRecord = { main: testMetrics?.main ?? Number.NaN, scores: (testMetrics?.scores ?? {}) as Record<string, number>, examples: test.length };
    const ckptBytes = checkpointBytes(dir);
    const doc = {
      format: METRICS_FORMAT,
      version: 1,
      task: task.name,
      seed,
      mainMetric: task.mainMetric,
      test: testRecord,
      validation: res.bestRecord,
      history: res.history,
      stoppedEarly: res.stoppedEarly,
      steps: res.steps,
      ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
      method: method.config,
      hyper: { ...hyper, maxLength: opts.maxLength },
      data: { protocol: splits.protocol, train: train.length, validation: validation.length, test: test.length },
      model: { dir: path.resolve(opts.modelDir), modelType: model.config.modelType, hiddenSize: model.config.hiddenSize, layers: model.config.numLayers, backboneParams: countBackboneParams(encoderConfigToJson(model.config)) },
      storage: storage ? { bits: storage.totalBits, bytes: storage.bytes, percentOfBackbone: storage.percentOfBackbone, checkpointBytes: ckptBytes } : { checkpointBytes: ckptBytes },
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
