/**
 * Prediction from a saved task checkpoint: the backbone from its model folder, the method's
 * modules materialised once (masks already applied, no score work per batch), the head from
 * the checkpoint, and batched logits in input order.
 */
import { asEncoderParams } from "../models/architecture.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { tree } from "../engine/jax.js";
import { checkJsonDepth } from "../io/json-depth.js";
import { checkTokenizerFitsModel } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { loadModelDir } from "../models/load.js";
import type { EncoderParams, HeadParams } from "../models/bert/params.js";
import { CheckpointError, CONFIG_FILE, loadTaskCheckpoint } from "../petl/checkpoint.js";
import type { LoadedCheckpoint } from "../petl/checkpoint.js";
import type { Materialized, Method } from "../petl/method.js";
import { disposeMaterialized, materializedHooks } from "../petl/propetl.js";
import { encodeExamples } from "./batching.js";
import type { EncodedExample } from "./batching.js";
import { makeLogitsFn, predictLogits, predictionsFromLogits } from "./finetune.js";
import type { Backbone, LogitsFn, Trainable } from "./finetune.js";

type Empty = Record<string, never>;

/** A Method whose forward runs materialised modules (no trainable tree). */
export function materializedMethod(m: Materialized): Method<Empty> {
  const method: Method<Empty> = {
    config: { method: "adapter" },
    init: () => ({}),
    hooks: () => materializedHooks(m),
    groups: () => ({}),
  };
  if (m.encoder) {
    const enc = m.encoder;
    method.encoderOverride = (): EncoderParams => asEncoderParams(enc);
  }
  return method;
}

export interface Predictor {
  config: EncoderConfig;
  /** How the model type was found when the model's config.json names none (else null). */
  modelTypeInferred: string | null;
  tokenizer: Tokenizer;
  checkpoint: LoadedCheckpoint;
  /** Task name inside the checkpoint and its label names ("score" for regression). */
  taskName: string;
  labelNames: string[];
  numLabels: number;
  /** Logits N × numLabels for encoded examples, in their order. */
  logits(data: readonly EncodedExample[], opts?: { batchSize?: number }): Promise<Float32Array>;
  /** Tokenize texts (and optional pairs) with the model's tokenizer. */
  encode(items: readonly { text: string; textPair?: string; label?: number }[], maxLength: number): EncodedExample[];
  dispose(): void;
}

export interface PredictorOptions {
  /** Task inside a multi-task checkpoint (name or index; default the first). */
  task?: string | number;
  /** A multi-task checkpoint without `task` is an error listing its tasks (the CLI's rule) instead of the first task. */
  requireTask?: boolean;
  /** A tokenizer instead of the model folder's. */
  tokenizer?: Tokenizer;
  /** Compile the forward pass with jit (default false: eager measured faster, bench/RESULTS.md). */
  jit?: boolean;
  /** Round padded lengths up to a multiple of this (default 8 with jit, else 1). */
  padToMultipleOf?: number;
}

/** Load a backbone and a task checkpoint for prediction. */
export async function loadPredictor(modelDir: string, checkpointDir: string, opts: PredictorOptions = {}): Promise<Predictor> {
  const tokenizer = opts.tokenizer ?? (await (await import("../data/tokenizer.js")).loadTokenizer(modelDir));
  const model = await loadModelDir(modelDir);
  tree.dispose(model.head);
  try {
    checkTokenizerFitsModel(tokenizer, model.config.vocabSize, modelDir);
  } catch (e) {
    tree.dispose(model.encoder);
    throw e;
  }
  let ckpt: LoadedCheckpoint;
  try {
    ckpt = await loadTaskCheckpoint(checkpointDir, { encoderConfig: model.config });
  } catch (e) {
    tree.dispose(model.encoder);
    throw e;
  }
  let ti: number;
  try {
    if (opts.task === undefined && opts.requireTask && ckpt.tasks.length > 1) {
      throw new CheckpointError(`${checkpointDir} is a multi-task checkpoint: name one of its tasks (--task): ${ckpt.tasks.map((t) => t.name).join(", ")}`);
    }
    ti = ckpt.taskIndex(opts.task ?? 0);
  } catch (e) {
    ckpt.dispose();
    tree.dispose(model.encoder);
    throw e;
  }
  const entry = ckpt.tasks[ti];
  const head: HeadParams | null = entry.head;
  if (head === null) {
    ckpt.dispose();
    tree.dispose(model.encoder);
    throw new CheckpointError(`${checkpointDir}: a checkpoint of a ${model.config.modelType} model has no classification head to predict labels with`);
  }
  const materialized = ckpt.materialize(ti);
  const method = materializedMethod(materialized);
  const backbone: Backbone = { config: model.config, encoder: model.encoder };
  const params: Trainable<Empty> = { method: {}, head };
  const useJit = opts.jit ?? false;
  const pad = opts.padToMultipleOf ?? (useJit ? 8 : 1);
  const fn: LogitsFn<Empty> = makeLogitsFn(backbone, method, useJit);
  const padTokenId = tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId;
  return {
    modelTypeInferred: model.modelTypeInferred,
    config: model.config,
    tokenizer,
    checkpoint: ckpt,
    taskName: entry.name,
    labelNames: entry.labelNames,
    numLabels: head.out.w.shape[0],
    logits: (data, o = {}) => predictLogits(backbone, method, params, data, { padTokenId, batchSize: o.batchSize ?? 64, padToMultipleOf: pad, logitsFn: fn }),
    encode: (items, maxLength) => encodeExamples(tokenizer, items.map((it, line) => ({ text: it.text, ...(it.textPair !== undefined ? { textPair: it.textPair } : {}), label: it.label ?? -1, line })), { maxLength }),
    dispose: () => {
      disposeMaterialized(materialized);
      ckpt.dispose();
      tree.dispose(model.encoder);
    },
  };
}

/**
 * The task names a checkpoint folder's adapter_config.json lists, or null when it cannot be
 * read (loading the checkpoint then reports the problem).
 */
export function checkpointTaskNames(checkpointDir: string): string[] | null {
  try {
    const file = path.join(checkpointDir, CONFIG_FILE);
    const text = readFileSync(file, "utf8");
    checkJsonDepth(text, file);
    const j = JSON.parse(text) as { tasks?: unknown };
    return Array.isArray(j.tasks) && j.tasks.every((t) => typeof t === "string") ? (j.tasks as string[]) : null;
  } catch {
    return null;
  }
}

/** Softmax of one row of logits. */
export function softmaxRow(logits: Float32Array, row: number, n: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, logits[row * n + c]);
  const e = Array.from({ length: n }, (_, c) => Math.exp(logits[row * n + c] - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export { predictionsFromLogits };
