/**
 * Prediction from a loaded task checkpoint on a loaded backbone, platform-free: the method's
 * modules materialised once (masks already applied, no score work per batch), the head from
 * the checkpoint, and batched logits in input order (`taskPredictor`); texts to predictions
 * (`taskClassifier`). The backbone and checkpoint come from folders (predictor.ts, Node) or
 * from bytes and URLs (backbone-bytes.ts, petl/checkpoint-bytes.ts).
 */
import { asEncoderParams } from "../models/architecture.js";
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { checkTokenizerFitsModel } from "../data/tokenizer-core.js";
import type { Tokenizer } from "../data/tokenizer-core.js";
import type { EncoderConfig } from "../models/bert/config.js";
import type { LoadedModel } from "../models/load-tensors.js";
import type { EncoderParams, HeadParams } from "../models/bert/params.js";
import { CheckpointError } from "../petl/checkpoint-format.js";
import type { LoadedCheckpoint } from "../petl/checkpoint-format.js";
import type { Materialized, Method } from "../petl/method.js";
import { disposeMaterialized, materializedHooks } from "../petl/propetl.js";
import { encodeExamples } from "./batching.js";
import type { EncodedExample } from "./batching.js";
import { makeLogitsFn, predictLogits, predictionsFromLogits } from "./finetune.js";
import type { Backbone, LogitsFn, Trainable } from "./finetune.js";
import { resolveMaxLength } from "./hyper-defaults.js";

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

/** A backbone loaded for prediction: tokenizer, config and frozen encoder (owned; `dispose`). */
export interface PredictionBackbone {
  /** The model's config.json, parsed: an encoder with a classification head's architecture (BERT, RoBERTa). */
  config: EncoderConfig;
  /** How the model type was found when the model's config.json names none (else null). */
  modelTypeInferred: string | null;
  /** The model's tokenizer (or the caller's), checked to fit: every id it makes is below `config.vocabSize`. */
  tokenizer: Tokenizer;
  /** The frozen encoder's weights (owned by the backbone; task predictors borrow them). */
  encoder: EncoderParams;
  /** The id padding uses (the tokenizer's, else the config's). */
  padTokenId: number;
  /** Free the encoder's arrays; predictors and classifiers built on this backbone must not be used afterwards. */
  dispose(): void;
}

/**
 * A loaded classification model as a prediction backbone: its head is freed (a task checkpoint
 * brings its own) and the tokenizer is checked against the model's vocabulary (`where` names
 * the model in that error). The model is consumed: on an error its arrays are freed.
 */
export function predictionBackboneOf(model: LoadedModel, tokenizer: Tokenizer, where: string): PredictionBackbone {
  tree.dispose(model.head);
  try {
    checkTokenizerFitsModel(tokenizer, model.config.vocabSize, where);
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

/** A text to classify: the text alone, or with its pair (sentence-pair tasks). */
export type ClassifierInput =
  | string
  | {
      /** The text (the first segment of a pair). */
      text: string;
      /**
       * The second segment for sentence-pair tasks (MRPC, RTE, ...), encoded after `text` by
       * the tokenizer's pair template; "" counts as no pair. Truncation (longest first) keeps the
       * two within `TaskClassifier.maxLength` tokens.
       */
      textPair?: string;
    };

/** One task of a checkpoint as a text classifier (`taskClassifier`). */
export interface TaskClassifier {
  /** The task's name inside the checkpoint (adapter_config.json `tasks`). */
  taskName: string;
  /** Its label names in id order, from the checkpoint (`Prediction.label`); one name for regression ("score" from `trainTask`). */
  labelNames: string[];
  /** Outputs per input: the columns of `logits` (1 for regression). */
  numLabels: number;
  /** The token limit inputs are truncated to. */
  maxLength: number;
  /** Device bytes this task holds (materialised modules and head). */
  bytes: number;
  /** Predictions for texts, in their order (tokenized with the backbone's tokenizer). */
  predict(inputs: readonly ClassifierInput[]): Promise<Prediction[]>;
  /** Logits N × numLabels for texts, in their order. */
  logits(inputs: readonly ClassifierInput[]): Promise<Float32Array>;
  /** Free the task's modules and head (the backbone and the checkpoint stay the caller's). */
  dispose(): void;
}

/** Options of `taskClassifier`. */
export interface TaskClassifierOptions {
  /** Task inside a multi-task checkpoint (name or index; default the first). */
  task?: string | number;
  /** Token limit; default min(128, the model's limit), as `propetl predict`. */
  maxLength?: number;
  /** Rows per forward pass (default 64). */
  batchSize?: number;
  /** Compile the forward pass with jit (default false). */
  jit?: boolean;
  /** Round padded lengths up to a multiple of this (default 8 with jit, else 1). */
  padToMultipleOf?: number;
}

/**
 * One task of a loaded checkpoint on a loaded backbone as a text classifier: texts in,
 * predictions out, with exactly `propetl predict`'s numbers (the same `taskPredictor`). Both
 * are borrowed, so one backbone serves several tasks: build a classifier per task and switch
 * between them without loading the backbone again.
 */
export function taskClassifier(bb: PredictionBackbone, ckpt: LoadedCheckpoint, opts: TaskClassifierOptions = {}): TaskClassifier {
  const maxLength = resolveMaxLength(opts.maxLength, bb.config);
  const tp = taskPredictor(bb, ckpt, ckpt.taskIndex(opts.task ?? 0), ckpt.source, {
    ...(opts.jit !== undefined ? { jit: opts.jit } : {}),
    ...(opts.padToMultipleOf !== undefined ? { padToMultipleOf: opts.padToMultipleOf } : {}),
  });
  const batchSize = opts.batchSize ?? 64;
  const logits = (inputs: readonly ClassifierInput[]): Promise<Float32Array> => {
    const items = inputs.map((x) => (typeof x === "string" ? { text: x } : x));
    return tp.logits(encodeForPrediction(bb.tokenizer, items, maxLength), { batchSize });
  };
  return {
    taskName: tp.taskName,
    labelNames: tp.labelNames,
    numLabels: tp.numLabels,
    maxLength,
    bytes: tp.bytes,
    logits,
    predict: async (inputs) => {
      const out = await logits(inputs);
      return inputs.map((_, row) => predictionOf(tp.labelNames, tp.numLabels, out, row));
    },
    dispose: () => tp.dispose(),
  };
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
