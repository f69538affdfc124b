/**
 * Train a PETL method on one text-to-text task end to end, as `propetl train --task
 * bible-es-en` does: tokenize the (prefixed) sources and the targets once, fine-tune per seed
 * with teacher forcing, evaluate by generation on the validation split (every epoch and every
 * `evalSteps` steps), keep the checkpoint with the best main metric (BLEU or ROUGE-2) as a
 * task folder (petl/checkpoint.ts, with the task prefix in adapter_config.json), then generate
 * for the test split with it and write `metrics.json` and `test_predictions.txt` next to it.
 *
 * Seeds, resume and the refusal to overwrite runs are task-run.ts's (`runSeeds`).
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { tree } from "../engine/jax.js";
import type { Seq2SeqTask } from "../data/seq2seq.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { checkTokenizerFitsModel, loadTokenizer } from "../data/tokenizer.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { loadBackboneDir } from "../models/load.js";
import { t5ConfigToJson } from "../models/t5/config.js";
import type { T5Config } from "../models/t5/config.js";
import type { T5Params } from "../models/t5/params.js";
import { saveTaskCheckpoint } from "../petl/checkpoint.js";
import type { MethodConfig, PetlMethod } from "../petl/method.js";
import { createMethod } from "../petl/registry.js";
import { computeStorage } from "../petl/storage.js";
import type { StorageReport } from "../petl/storage.js";
import { encodePairs } from "./seq2seq-batching.js";
import type { EncodedPair, TextPair } from "./seq2seq-batching.js";
import { evaluateSeq2seq, seq2seqFinetune, withoutRemat } from "./seq2seq.js";
import type { Seq2seqHyper, Seq2seqTrainable } from "./seq2seq.js";
import { checkpointBytes, finishSeed, METRICS_FORMAT, mustRewriteCheckpoint, rewriteCheckpoint, runSeeds, TRAIN_STATE_FILE, TrainTaskError } from "./task-run.js";
import type { SeedResult, TrainTaskResult } from "./task-run.js";
import type { TrainEvent } from "./trainer.js";
import { versions } from "./versions.js";
import { trainStateFile } from "./train-state.js";

/** The test split's generations, one per line, next to metrics.json. */
export const PREDICTIONS_FILE = "test_predictions.txt";

/** What the runner needs to know about a text-to-text task (data/seq2seq.ts `Seq2SeqTask`). */
export type Seq2seqTaskInfo = Pick<Seq2SeqTask, "name" | "prefix" | "metric">;

export interface TrainSeq2seqOptions {
  /** Hugging Face T5ForConditionalGeneration folder (config.json, model.safetensors, tokenizer.json). */
  modelDir: string;
  task: Seq2seqTaskInfo;
  data: { train: readonly TextPair[]; validation: readonly TextPair[]; test: readonly TextPair[] };
  method: MethodConfig;
  hyper: Omit<Seq2seqHyper, "seed">;
  seeds: number[];
  outputDir: string;
  /** Longest source / target in tokens (EOS included); longer ones are truncated and counted. */
  maxSourceLength: number;
  maxTargetLength: number;
  /** Use only the first N training / evaluation pairs (quick runs). */
  maxTrainExamples?: number;
  maxEvalExamples?: number;
  resume?: boolean;
  saveSteps?: number;
  keepTrainState?: boolean;
  checkpointDtype?: "F32" | "F16";
  /** Extra fields recorded in metrics.json. */
  extra?: Record<string, unknown>;
  onEvent?: (seed: number, event: TrainEvent) => void;
  log?: (message: string) => void;
  signal?: AbortSignal;
  tokenizer?: Tokenizer;
}

/** The storage report of a method on an encoder–decoder (null when it cannot be counted). */
export function seq2seqStorage(cfg: T5Config, method: MethodConfig): StorageReport | null {
  try {
    return computeStorage({ config: cfg }, method);
  } catch {
    return null;
  }
}

function fingerprint(parts: unknown, data: readonly EncodedPair[]): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(parts));
  for (const p of data) {
    h.update(new Uint8Array(p.inputIds.buffer, p.inputIds.byteOffset, p.inputIds.byteLength));
    h.update(new Uint8Array(p.labels.buffer, p.labels.byteOffset, p.labels.byteLength));
  }
  return h.digest("hex").slice(0, 32);
}

/** Train on every seed; see the module comment. */
export async function trainSeq2seqTask(opts: TrainSeq2seqOptions): Promise<TrainTaskResult> {
  let tokenizer: Tokenizer | undefined = opts.tokenizer;
  return runSeeds(
    { taskName: opts.task.name, method: opts.method, seeds: opts.seeds, outputDir: opts.outputDir, ...(opts.resume !== undefined ? { resume: opts.resume } : {}), ...(opts.log ? { log: opts.log } : {}) },
    async (seed, dir) => {
      tokenizer ??= await loadTokenizer(opts.modelDir);
      return trainOneSeed(opts, tokenizer, seed, dir);
    },
  );
}

async function trainOneSeed(opts: TrainSeq2seqOptions, tokenizer: Tokenizer, seed: number, dir: string): Promise<{ result: SeedResult; storage: StorageReport | null }> {
  const log = opts.log ?? (() => undefined);
  const task = opts.task;
  const cut = <T>(xs: readonly T[], n: number | undefined): readonly T[] => (n !== undefined ? xs.slice(0, n) : xs);
  const trainPairs = cut(opts.data.train, opts.maxTrainExamples);
  const valPairs = cut(opts.data.validation, opts.maxEvalExamples);
  const testPairs = cut(opts.data.test, opts.maxEvalExamples);
  if (trainPairs.length === 0) throw new TrainTaskError(`task ${task.name}: the training split is empty`);
  const lengths = { maxSourceLength: opts.maxSourceLength, maxTargetLength: opts.maxTargetLength, prefix: task.prefix };
  const enc = (xs: readonly TextPair[], split: string): EncodedPair[] => {
    const r = encodePairs(tokenizer, xs, { ...lengths, what: `${task.name} ${split}` });
    if (r.truncatedSources || r.truncatedTargets) {
      log(`${task.name} ${split}: ${r.truncatedSources} source(s) cut to ${opts.maxSourceLength} tokens, ${r.truncatedTargets} target(s) cut to ${opts.maxTargetLength} tokens`);
    }
    return r.pairs;
  };
  const train = enc(trainPairs, "train");
  const validation = enc(valPairs, "validation");
  const test = enc(testPairs, "test");

  const model = await loadBackboneDir(opts.modelDir);
  const cfg = model.config;
  if (cfg.modelType !== "t5") {
    tree.dispose(model.encoder);
    throw new TrainTaskError(`${path.join(opts.modelDir, "config.json")}: text-to-text tasks need an encoder–decoder (T5) model, but model_type is "${cfg.modelType}"`);
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
  const backbone = { config: t5, params };
  const storage = seq2seqStorage(t5, method.config);
  const stateFile = path.join(dir, TRAIN_STATE_FILE);
  const fp = fingerprint(
    { task: task.name, prefix: task.prefix, method: method.config, hyper: withoutRemat(hyper), lengths, config: t5ConfigToJson(t5), weights: statSync(path.join(opts.modelDir, "model.safetensors")).size, nVal: validation.length },
    train,
  );
  log(`seed ${seed}: ${train.length} train / ${validation.length} validation / ${test.length} test pairs; ${method.config.method} -> ${dir}`);
  const save = (p: Seq2seqTrainable<unknown>) =>
    saveTaskCheckpoint(dir, { method, params: p.method, encoderConfig: t5, taskPrefixes: [task.prefix], ...(opts.checkpointDtype ? { dtype: opts.checkpointDtype } : {}) });
  const started = Date.now();
  let res;
  try {
    res = await seq2seqFinetune<unknown>({
      backbone,
      method,
      tokenizer,
      metric: task.metric,
      train,
      validation,
      validationReferences: valPairs.map((p) => p.target),
      hyper,
      checkpoint: { store: trainStateFile(stateFile), ...(opts.saveSteps ? { everySteps: opts.saveSteps } : {}) },
      resume: opts.resume ?? false,
      fingerprint: fp,
      onBest: async (p) => {
        await save(p);
      },
      ...(opts.onEvent ? { onEvent: (e: TrainEvent) => opts.onEvent?.(seed, e) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    tree.dispose(params);
    method.dispose();
    throw e;
  }
  try {
    const finalParams = res.best ?? res.params;
    if (mustRewriteCheckpoint(dir, res)) await rewriteCheckpoint(dir, res.resumedAtStep !== undefined, log, () => save(finalParams), res.best !== null);
    let testRecord: SeedResult["test"] = { main: Number.NaN, scores: {}, examples: 0 };
    if (test.length) {
      log(`seed ${seed}: generating for ${test.length} test sources`);
      const r = await evaluateSeq2seq(backbone, method, finalParams, tokenizer, test, testPairs.map((p) => p.target), { metric: task.metric, batchSize: hyper.evalBatchSize, generation: hyper.generation });
      testRecord = { main: r.main, scores: r.scores, examples: test.length };
      await writeFileAtomic(path.join(dir, PREDICTIONS_FILE), r.predictions.map((t) => t.replace(/\r?\n/g, " ")).join("\n") + "\n");
    }
    const ckptBytes = checkpointBytes(dir);
    const doc = {
      format: METRICS_FORMAT,
      version: 1,
      task: task.name,
      taskKind: "text-to-text",
      prefix: task.prefix,
      seed,
      mainMetric: task.metric,
      test: testRecord,
      validation: res.bestRecord,
      history: res.history,
      stoppedEarly: res.stoppedEarly,
      steps: res.steps,
      ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
      method: method.config,
      hyper: { ...hyper, maxSourceLength: opts.maxSourceLength, maxTargetLength: opts.maxTargetLength },
      data: { train: train.length, validation: validation.length, test: test.length },
      model: { dir: path.resolve(opts.modelDir), modelType: t5.modelType, dModel: t5.dModel, encoderLayers: t5.numLayers, decoderLayers: t5.numDecoderLayers },
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
    tree.dispose(params);
    method.dispose();
  }
}
