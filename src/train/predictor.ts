/**
 * Prediction from a saved task checkpoint: the backbone from its model folder, the method's
 * modules materialised once (masks already applied, no score work per batch), the head from
 * the checkpoint, and batched logits in input order.
 */
import { asEncoderParams } from "../models/architecture.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
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

/** A backbone and a task checkpoint loaded together for prediction (`loadPredictor`; owned: `dispose`). */
export interface Predictor {
  /** The backbone's config. */
  config: EncoderConfig;
  /** How the model type was found when the model's config.json names none (else null). */
  modelTypeInferred: string | null;
  /** The tokenizer inputs are encoded with. */
  tokenizer: Tokenizer;
  /** The loaded checkpoint. */
  checkpoint: LoadedCheckpoint;
  /** Task name inside the checkpoint. */
  taskName: string;
  /** Its label names in id order ("score" for regression). */
  labelNames: string[];
  /** Outputs per example (1 for regression). */
  numLabels: number;
  /** Logits N × numLabels for encoded examples, in their order (row-major). */
  logits(data: readonly EncodedExample[], opts?: {
    /** Examples per forward pass (default 64). */
    batchSize?: number;
  }): Promise<Float32Array>;
  /** Tokenize texts (and optional pairs) with the model's tokenizer. */
  encode(items: readonly {
    /** The (first) text. */
    text: string;
    /** The second text of a pair. */
    textPair?: string;
    /** A label to carry along (default -1). */
    label?: number;
  }[], maxLength: number): EncodedExample[];
  /** Free the backbone, the modules and the head. */
  dispose(): void;
}

/** Options of `loadPredictor`. */
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

/** A backbone loaded for prediction: tokenizer, config and frozen encoder (owned; `dispose`). */
export interface PredictionBackbone {
  /** The backbone's config. */
  config: EncoderConfig;
  /** How the model type was found when the model's config.json names none (else null). */
  modelTypeInferred: string | null;
  /** The tokenizer inputs are encoded with. */
  tokenizer: Tokenizer;
  /** The frozen encoder's weights. */
  encoder: EncoderParams;
  /** The id padding uses (the tokenizer's, else the config's). */
  padTokenId: number;
  /** Free the encoder. */
  dispose(): void;
}

/** Load a model folder's tokenizer and encoder for prediction (its pretraining head is freed). */
export async function loadPredictionBackbone(modelDir: string, opts: {
  /** A tokenizer instead of the folder's. */
  tokenizer?: Tokenizer;
} = {}): Promise<PredictionBackbone> {
  const tokenizer = opts.tokenizer ?? (await (await import("../data/tokenizer.js")).loadTokenizer(modelDir));
  const model = await loadModelDir(modelDir);
  tree.dispose(model.head);
  try {
    checkTokenizerFitsModel(tokenizer, model.config.vocabSize, modelDir);
  } catch (e) {
    tree.dispose(model.encoder);
    throw e;
  }
  return {
    config: model.config,
    modelTypeInferred: model.modelTypeInferred,
    tokenizer,
    encoder: model.encoder,
    padTokenId: tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId,
    dispose: () => tree.dispose(model.encoder),
  };
}

/** One task of a checkpoint ready to predict on a (borrowed) backbone: its modules materialised once and its head. */
export interface TaskPredictor {
  /** Task name inside the checkpoint. */
  taskName: string;
  /** Its label names in id order ("score" for regression). */
  labelNames: string[];
  /** Outputs per example (1 for regression). */
  numLabels: number;
  /** Logits N × numLabels for encoded examples, in their order (row-major). */
  logits(data: readonly EncodedExample[], opts?: {
    /** Examples per forward pass (default 64). */
    batchSize?: number;
  }): Promise<Float32Array>;
  /** Device bytes this task holds (materialised modules and head). */
  bytes: number;
  /** Free the modules and the head (the backbone is the caller's). */
  dispose(): void;
}

const arrayBytes = (x: { size: number; dtype: string }): number => x.size * (x.dtype === "float16" ? 2 : 4);

/**
 * Task `ti` of a loaded checkpoint on a backbone, for prediction. The checkpoint is borrowed
 * (its head is referenced, so the checkpoint may be disposed afterwards); the backbone too.
 */
export function taskPredictor(bb: PredictionBackbone, ckpt: LoadedCheckpoint, ti: number, checkpointDir: string, opts: { jit?: boolean; padToMultipleOf?: number } = {}): TaskPredictor {
  const entry = ckpt.tasks[ti];
  if (entry.head === null) {
    throw new CheckpointError(`${checkpointDir}: a checkpoint of a ${bb.config.modelType} model has no classification head to predict labels with`);
  }
  const head: HeadParams = tree.ref(entry.head);
  let materialized: Materialized;
  try {
    materialized = ckpt.materialize(ti);
  } catch (e) {
    tree.dispose(head);
    throw e;
  }
  const method = materializedMethod(materialized);
  const backbone: Backbone = { config: bb.config, encoder: bb.encoder };
  const params: Trainable<Empty> = { method: {}, head };
  const useJit = opts.jit ?? false;
  const pad = opts.padToMultipleOf ?? (useJit ? 8 : 1);
  const fn: LogitsFn<Empty> = makeLogitsFn(backbone, method, useJit);
  let bytes = 0;
  for (const layer of materialized.units) for (const unit of layer) for (const t of Object.values(unit)) bytes += arrayBytes(t);
  if (materialized.encoder) for (const t of tree.leaves(materialized.encoder) as JArray[]) bytes += arrayBytes(t);
  for (const t of tree.leaves(head) as JArray[]) bytes += arrayBytes(t);
  return {
    taskName: entry.name,
    labelNames: entry.labelNames,
    numLabels: head.out.w.shape[0],
    bytes,
    logits: (data, o = {}) => predictLogits(backbone, method, params, data, { padTokenId: bb.padTokenId, batchSize: o.batchSize ?? 64, padToMultipleOf: pad, logitsFn: fn }),
    dispose: () => {
      disposeMaterialized(materialized);
      tree.dispose(head);
    },
  };
}

/** Tokenize texts (and optional pairs) with a tokenizer, as `predict` does. */
export function encodeForPrediction(tokenizer: Tokenizer, items: readonly { text: string; textPair?: string; label?: number }[], maxLength: number): EncodedExample[] {
  return encodeExamples(tokenizer, items.map((it, line) => ({ text: it.text, ...(it.textPair !== undefined ? { textPair: it.textPair } : {}), label: it.label ?? -1, line })), { maxLength });
}

/** Load a backbone and a task checkpoint for prediction. */
export async function loadPredictor(modelDir: string, checkpointDir: string, opts: PredictorOptions = {}): Promise<Predictor> {
  const bb = await loadPredictionBackbone(modelDir, opts.tokenizer ? { tokenizer: opts.tokenizer } : {});
  let ckpt: LoadedCheckpoint;
  try {
    ckpt = await loadTaskCheckpoint(checkpointDir, { encoderConfig: bb.config });
  } catch (e) {
    bb.dispose();
    throw e;
  }
  let tp: TaskPredictor;
  try {
    if (opts.task === undefined && opts.requireTask && ckpt.tasks.length > 1) {
      throw new CheckpointError(`${checkpointDir} is a multi-task checkpoint: name one of its tasks (--task): ${ckpt.tasks.map((t) => t.name).join(", ")}`);
    }
    const ti = ckpt.taskIndex(opts.task ?? 0);
    tp = taskPredictor(bb, ckpt, ti, checkpointDir, { ...(opts.jit !== undefined ? { jit: opts.jit } : {}), ...(opts.padToMultipleOf !== undefined ? { padToMultipleOf: opts.padToMultipleOf } : {}) });
  } catch (e) {
    ckpt.dispose();
    bb.dispose();
    throw e;
  }
  return {
    modelTypeInferred: bb.modelTypeInferred,
    config: bb.config,
    tokenizer: bb.tokenizer,
    checkpoint: ckpt,
    taskName: tp.taskName,
    labelNames: tp.labelNames,
    numLabels: tp.numLabels,
    logits: tp.logits,
    encode: (items, maxLength) => encodeForPrediction(bb.tokenizer, items, maxLength),
    dispose: () => {
      tp.dispose();
      ckpt.dispose();
      bb.dispose();
    },
  };
}

/** One input's prediction: a label with its probabilities, or a regression value. */
export type Prediction =
  | {
      /** A classification task's prediction. */
      kind: "classification";
      /** The argmax label's name. */
      label: string;
      /** Its id. */
      labelId: number;
      /** Softmax probabilities in label-id order, rounded to 6 decimals. */
      probs: number[];
    }
  | {
      /** A regression task's prediction. */
      kind: "regression";
      /** The predicted value. */
      value: number;
    };

/**
 * Row `row` of N × numLabels logits as a prediction: one output is a regression value, else
 * the argmax label with the softmax probabilities rounded to 6 decimals (what `predict` prints).
 */
export function predictionOf(labelNames: readonly string[], numLabels: number, logits: Float32Array, row: number): Prediction {
  if (numLabels === 1) return { kind: "regression", value: logits[row] };
  const probs = softmaxRow(logits, row, numLabels);
  const id = predictionsFromLogits(logits.subarray(row * numLabels, (row + 1) * numLabels), numLabels)[0];
  return { kind: "classification", label: labelNames[id] ?? String(id), labelId: id, probs: probs.map((x) => Number(x.toFixed(6))) };
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
