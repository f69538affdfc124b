/**
 * Prediction from a saved task checkpoint on Node: the backbone from its model folder
 * (`loadPredictionBackbone`), the checkpoint from its folder, and `taskPredictor`
 * (task-predictor.ts, platform-free, re-exported here) on them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkJsonDepth } from "../io/json-depth.js";
import { loadTokenizer } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { loadModelDir } from "../models/load.js";
import { CheckpointError, CONFIG_FILE, loadTaskCheckpoint } from "../petl/checkpoint.js";
import type { LoadedCheckpoint } from "../petl/checkpoint.js";
import type { EncodedExample } from "./batching.js";
import { encodeForPrediction, predictionBackboneOf, taskPredictor } from "./task-predictor.js";
import type { PredictionBackbone, TaskPredictor } from "./task-predictor.js";

export * from "./task-predictor.js";

/**
 * A backbone and a task checkpoint loaded together for prediction (`loadPredictor`; owned:
 * `dispose`): the task's `TaskPredictor` fields on its own backbone.
 */
export interface Predictor extends Pick<TaskPredictor, "taskName" | "labelNames" | "numLabels" | "logits"> {
  /** The backbone's config. */
  config: EncoderConfig;
  /** How the model type was found when the model's config.json names none (else null). */
  modelTypeInferred: string | null;
  /** The tokenizer inputs are encoded with. */
  tokenizer: Tokenizer;
  /** The loaded checkpoint. */
  checkpoint: LoadedCheckpoint;
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

/** Load a model folder's tokenizer and encoder for prediction (its pretraining head is freed). */
export async function loadPredictionBackbone(modelDir: string, opts: { tokenizer?: Tokenizer } = {}): Promise<PredictionBackbone> {
  const tokenizer = opts.tokenizer ?? (await loadTokenizer(modelDir));
  return predictionBackboneOf(await loadModelDir(modelDir), tokenizer, modelDir);
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

