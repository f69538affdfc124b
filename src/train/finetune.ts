/**
 * Fine-tuning a PETL method (or full fine-tuning) with a sequence-classification /
 * regression head on a task: the `Objective` for the training loop, batched prediction, and
 * evaluation with the task's metrics.
 *
 * The trainable tree is `{ method: T, head: HeadParams }`; the backbone is frozen and closed
 * over (for "full", the method's `encoderOverride` supplies the encoder). Optimizer groups:
 * the method labels its leaves "module" or "scores"; the head is "head".
 */
import { asEncoderParams } from "../models/architecture.js";
import { jit, np, tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { computeTaskMetrics } from "../metrics/index.js";
import type { MainMetric, MetricName, TaskMetricsResult } from "../metrics/index.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { architectureOf } from "../models/registry.js";
import { classify, embed, encode, encoderLayer, makeBatch, sequenceLoss } from "../models/bert/encoder.js";
import type { DeviceBatch } from "../models/bert/encoder.js";
import { encodeAsync } from "../models/bert/encode-async.js";
import type { ModelHooks } from "../models/hooks.js";
import type { EncoderParams, HeadParams } from "../models/bert/params.js";
import type { HookContext, Method } from "../petl/method.js";
import { evalBatches, padBatch, planBatches } from "./batching.js";
import type { EncodedExample, PadOptions, PaddedBatch } from "./batching.js";
import { rematValueAndGrad } from "./remat.js";
import type { RematStack } from "./remat.js";
import { rematPlan } from "./remat-choice.js";
import type { RematChoice } from "./remat-choice.js";
import { trainLoop } from "./trainer.js";
import type { EvalResult, Objective, TrainEvent, TrainLoopResult } from "./trainer.js";
import type { EvalRecord, TrainStateStore } from "./train-state-store.js";
import type { Schedule } from "./schedule.js";
import { linearWarmupDecay } from "./schedule.js";

/** The trainable tree of a fine-tuning run. */
export type Trainable<T> = {
  /** The method's trainable tree. */
  method: T;
  /** The classification head. */
  head: HeadParams;
};

/** The frozen parts a forward pass needs. */
export interface Backbone {
  /** The backbone's config. */
  config: EncoderConfig;
  /** Frozen encoder weights (borrowed). */
  encoder: EncoderParams;
}

/** What the metrics need to know about a task. */
export interface TaskInfo {
  /** Classification (argmax of the logits) or regression (one score). */
  kind: "classification" | "regression";
  /** Outputs of the head (1 for regression). */
  numLabels: number;
  /** Metrics to report. */
  metrics: readonly MetricName[];
  /** The model-selection score. */
  mainMetric: MainMetric;
}

/**
 * A batch on the device as a tree of arrays only (jit-friendly): the batch size and length
 * are read back from `maskBias`'s shape [B, 1, 1, T].
 */
export type DeviceInputs = {
  /** int32 [B*T] token ids. */
  inputIds: JArray;
  /** int32 [B*T] position ids. */
  positionIds: JArray;
  /** int32 [B*T] segment ids. */
  tokenTypeIds: JArray;
  /** float32 [B,1,1,T]: 0 where attended, float32 min where masked. */
  maskBias: JArray;
  /** int32 [B] class indices, or float32 [B] scores for regression. */
  labels: JArray;
  /** int32 [B] task index per example (multi-task only). */
  taskIds?: JArray;
};

function deviceBatchOf(d: DeviceInputs): DeviceBatch {
  const [B, , , T] = d.maskBias.shape;
  return { batchSize: B, seqLen: T, inputIds: d.inputIds, positionIds: d.positionIds, tokenTypeIds: d.tokenTypeIds, maskBias: d.maskBias };
}

/** What one forward pass runs: the encoder (the method's override or the frozen one), the batch and the hooks. */
function forwardParts<T>(backbone: Backbone, method: Method<T>, params: Trainable<T>, d: DeviceInputs, training: boolean, taskIdsHost?: Int32Array): { encoder: EncoderParams; batch: DeviceBatch; hooks: ModelHooks } {
  const batch = deviceBatchOf(d);
  const ctx: HookContext = { batchSize: batch.batchSize, training };
  if (d.taskIds) ctx.taskIds = d.taskIds;
  if (taskIdsHost) ctx.taskIdsHost = taskIdsHost;
  const hooks: ModelHooks = method.hooks(params.method, ctx);
  const encoder = method.encoderOverride ? asEncoderParams(method.encoderOverride(params.method)) : backbone.encoder;
  return { encoder, batch, hooks };
}

/**
 * Logits [B, numLabels] of a device batch. Borrows everything. `taskIdsHost` is passed to
 * the method only outside jit (host data would be frozen into a trace).
 */
export function forwardLogits<T>(backbone: Backbone, method: Method<T>, params: Trainable<T>, d: DeviceInputs, training: boolean, taskIdsHost?: Int32Array): JArray {
  const { encoder, batch, hooks } = forwardParts(backbone, method, params, d, training, taskIdsHost);
  const hidden = encode(backbone.config, encoder, batch, hooks);
  return classify(params.head, hidden);
}

/**
 * `forwardLogits` for inference (eval mode), layer by layer (`encodeAsync`): the pass holds
 * one layer's intermediates instead of all of them; the logits are byte-identical. Borrows
 * everything; the arrays must stay alive until it resolves.
 */
export async function forwardLogitsAsync<T>(backbone: Backbone, method: Method<T>, params: Trainable<T>, d: DeviceInputs, taskIdsHost?: Int32Array): Promise<JArray> {
  const { encoder, batch, hooks } = forwardParts(backbone, method, params, d, false, taskIdsHost);
  const hidden = await encodeAsync(backbone.config, encoder, batch, hooks);
  return classify(params.head, hidden);
}

/** Move a padded host batch to the device (validated against the config by makeBatch). */
export function toDeviceInputs(config: EncoderConfig, host: PaddedBatch): DeviceInputs {
  const b = makeBatch(config, host);
  const labels = host.labels instanceof Float32Array ? np.array(host.labels) : np.array(host.labels, { dtype: np.int32 });
  const d: DeviceInputs = { inputIds: b.inputIds, positionIds: b.positionIds, tokenTypeIds: b.tokenTypeIds, maskBias: b.maskBias, labels };
  if (host.taskIds) d.taskIds = np.array(host.taskIds, { dtype: np.int32 });
  return d;
}

/** How evaluation batches are padded. */
export interface PadSettings {
  /** The id padding positions get. */
  padTokenId: number;
  /** Round padded lengths up to a multiple of this (default 1). */
  padToMultipleOf?: number;
}

function padOptions(backbone: Backbone, pad: PadSettings, regression: boolean): PadOptions {
  const o: PadOptions = { padTokenId: pad.padTokenId, regression };
  if (pad.padToMultipleOf && pad.padToMultipleOf > 1) {
    o.padToMultipleOf = pad.padToMultipleOf;
    o.maxLength = architectureOf(backbone.config).maxInputLength(backbone.config);
  }
  return o;
}

/**
 * The encoder of a training forward pass as a stack for per-layer rematerialisation: the
 * embeddings (frozen), each layer with its hooks alone (`HookContext.onlyLayers`), the head
 * and the task loss. Computes what `forwardLogits` + `sequenceLoss` compute. Borrows `d`.
 */
export function encoderRematStack<T>(backbone: Backbone, method: Method<T>, d: DeviceInputs, numLabels: number): RematStack<T, HeadParams> {
  const batch = deviceBatchOf(d);
  const { config: cfg, encoder } = backbone;
  const ctx: HookContext = { batchSize: batch.batchSize, training: true };
  if (d.taskIds) ctx.taskIds = d.taskIds;
  return {
    layers: cfg.numLayers,
    input: () => embed(cfg, encoder.embeddings, batch),
    layer: (i, x, m) => {
      const hooks = method.hooks(m, { ...ctx, onlyLayers: [i] });
      if (hooks.decoder !== undefined) throw new Error(`${cfg.modelType} has no decoder: hooks were given for decoder layers`);
      return encoderLayer(cfg, encoder.layers[i], x, batch, hooks.encoder?.[i]);
    },
    loss: (h, head) => sequenceLoss(classify(head, h), d.labels.ref, numLabels),
  };
}

/** Whether a method can train with per-layer rematerialisation (not full fine-tuning: its backbone is the trainable tree). */
export function canRemat<T>(method: Method<T>): boolean {
  return method.encoderOverride === undefined;
}

/**
 * The loss of a classification/regression task over batches given as example positions in
 * `data`. Inputs are padded per batch (dynamic padding). With `remat` (default true) the
 * objective also supplies its own gradient, layer by layer with rematerialisation
 * (train/remat.ts: the memory of one layer's work plus the top `keepLayers` (default 0)
 * layers' residuals instead of the whole network's, for one more forward pass of the other
 * layers; `rematPlan` gives both options); the trainer uses it for eager steps. Full
 * fine-tuning never uses it.
 */
export function classificationObjective<T>(backbone: Backbone, method: Method<T>, data: readonly EncodedExample[], task: Pick<TaskInfo, "kind" | "numLabels">, pad: PadSettings, opts: { remat?: boolean; keepLayers?: number } = {}): Objective<Trainable<T>, number[], DeviceInputs> {
  const po = padOptions(backbone, pad, task.kind === "regression");
  const objective: Objective<Trainable<T>, number[], DeviceInputs> = {
    size: (indices) => indices.length,
    toDevice: (indices) => toDeviceInputs(backbone.config, padBatch(indices.map((i) => data[i]), po)),
    loss: (params, d) => {
      const logits = forwardLogits(backbone, method, params, d, true);
      const loss = sequenceLoss(logits, d.labels.ref, task.numLabels);
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
  if ((opts.remat ?? true) && canRemat(method)) {
    objective.valueAndGrad = async (params, d) => {
      try {
        return await rematValueAndGrad(encoderRematStack(backbone, method, d, task.numLabels), params, { keepLayers: opts.keepLayers ?? 0 });
      } finally {
        tree.dispose(d);
      }
    };
  }
  return objective;
}

/**
 * A prediction function (params and inputs consumed): jitted (synchronous), or eager and
 * layer by layer (async, `forwardLogitsAsync`).
 */
export type LogitsFn<T> = (params: Trainable<T>, inputs: DeviceInputs) => JArray | Promise<JArray>;

/**
 * The forward pass as a function of (params, inputs), consuming both. Eager (the default) it
 * runs layer by layer, so its peak memory is one layer's intermediates for the batch; with
 * `useJit` it is jitted, which needs the synchronous, traceable forward.
 */
export function makeLogitsFn<T>(backbone: Backbone, method: Method<T>, useJit: boolean): LogitsFn<T> {
  if (useJit) {
    const f = (params: Trainable<T>, d: DeviceInputs): JArray => {
      const logits = forwardLogits(backbone, method, params, d, false);
      tree.dispose(params);
      tree.dispose(d);
      return logits;
    };
    return jit(f as unknown as (p: JArray, d: JArray) => JArray) as unknown as LogitsFn<T>;
  }
  return async (params: Trainable<T>, d: DeviceInputs): Promise<JArray> => {
    try {
      return await forwardLogitsAsync(backbone, method, params, d);
    } finally {
      tree.dispose(params);
      tree.dispose(d);
    }
  };
}

/**
 * Logits for every example, in `data` order: a Float32Array of N × numLabels. Batches are
 * sorted by length (least padding). `params` is borrowed.
 */
export async function predictLogits<T>(backbone: Backbone, method: Method<T>, params: Trainable<T>, data: readonly EncodedExample[], opts: PadSettings & { batchSize: number; logitsFn?: LogitsFn<T> }): Promise<Float32Array> {
  const numLabels = params.head.out.w.shape[0];
  const out = new Float32Array(data.length * numLabels);
  const lengths = data.map((e) => e.inputIds.length);
  const po = padOptions(backbone, opts, numLabels === 1);
  const fn = opts.logitsFn ?? makeLogitsFn(backbone, method, false);
  for (const indices of evalBatches(lengths, opts.batchSize)) {
    const d = toDeviceInputs(backbone.config, padBatch(indices.map((i) => data[i]), po));
    const logits = (await (await fn(tree.ref(params), d)).data()) as Float32Array;
    indices.forEach((row, b) => out.set(logits.subarray(b * numLabels, (b + 1) * numLabels), row * numLabels));
  }
  checkFiniteLogits(out, numLabels, data);
  return out;
}

/** Outputs that are NaN or infinite: no label, probability or metric may come from them. */
export class NonFiniteOutputError extends Error {
  constructor(
    message: string,
    /** `EncodedExample.index` of the first example affected. */
    readonly example: number,
  ) {
    super(message);
    this.name = "NonFiniteOutputError";
  }
}

/** Throw `NonFiniteOutputError` naming the first example (1-based, input order) whose logits are not all finite. */
export function checkFiniteLogits(logits: Float32Array, numLabels: number, data: readonly EncodedExample[]): void {
  let bad = -1;
  let count = 0;
  for (let row = 0; row < data.length; row++) {
    for (let c = 0; c < numLabels; c++) {
      const x = logits[row * numLabels + c];
      if (x - x !== 0) {
        if (bad < 0 || data[row].index < data[bad].index) bad = row;
        count++;
        break;
      }
    }
  }
  if (bad >= 0) {
    const example = data[bad].index;
    throw new NonFiniteOutputError(`the model's outputs are not finite (NaN or infinity) for example ${example + 1} of the input${count > 1 ? ` and ${count - 1} more` : ""}: no label or score can be given; check the weights and the input`, example);
  }
}

/** Class index (argmax) per row, or the score itself for regression. */
export function predictionsFromLogits(logits: Float32Array, numLabels: number): Float64Array {
  const n = logits.length / numLabels;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (numLabels === 1) {
      out[i] = logits[i];
      continue;
    }
    let best = 0;
    for (let c = 1; c < numLabels; c++) if (logits[i * numLabels + c] > logits[i * numLabels + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** The task's metrics for logits against the examples' labels. */
export function scoreLogits(task: TaskInfo, logits: Float32Array, data: readonly EncodedExample[]): TaskMetricsResult {
  const preds = predictionsFromLogits(logits, task.numLabels);
  const labels = Float64Array.from(data, (e) => e.label);
  return computeTaskMetrics(task.metrics, preds, labels, task.mainMetric);
}

/** Predict and score (params borrowed). */
export async function evaluateTask<T>(backbone: Backbone, method: Method<T>, params: Trainable<T>, task: TaskInfo, data: readonly EncodedExample[], opts: PadSettings & { batchSize: number; logitsFn?: LogitsFn<T> }): Promise<TaskMetricsResult> {
  if (data.length === 0) throw new RangeError("evaluateTask: no examples");
  const logits = await predictLogits(backbone, method, params, data, opts);
  return scoreLogits(task, logits, data);
}

/** Hyper-parameters of a fine-tuning run. */
export interface FinetuneHyper {
  /** Epochs to train (`defaultEpochs` gives the paper's). */
  epochs: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimiser step. */
  gradAccumSteps: number;
  /** Learning rate of the module ("module" group: prototype, adapter/LoRA/prefix weights). */
  lr: number;
  /** Learning rate of the mask scores ("scores" group). */
  maskLr: number;
  /** Learning rate of the head (default `lr`). */
  headLr?: number;
  /** AdamW weight decay. */
  weightDecay: number;
  /** Fraction of the steps spent warming up the learning rate linearly (then linear decay to 0). */
  warmupRatio: number;
  /** Clip the global gradient norm to this; 0 disables. */
  maxGradNorm: number;
  /** Seeds the method's and head's initialisation and the batch order. */
  seed: number;
  /** Examples per evaluation forward pass. */
  evalBatchSize: number;
  /** Stop after this many epochs without a better validation score (default: never). */
  earlyStopPatience?: number;
  /** Stop after this many optimiser steps (the schedule is sized to it). */
  maxSteps?: number;
  /** Batches per length bucket (default 50; 1 = no bucketing). */
  bucketBatches?: number;
  /** Round padded lengths up to a multiple of this (default 1; 8 bounds the shapes jit compiles). */
  padToMultipleOf?: number;
  /** Compile the training step and the evaluation forward pass with jit (default false). */
  jit?: boolean;
  /**
   * Eager steps take their gradient layer by layer with rematerialisation (train/remat.ts):
   * `true`, every layer rematerialised (the memory of one layer's work instead of the whole
   * network's, for about one more forward pass). Default "auto": the whole-network gradient
   * where it fits comfortably, else only the layers whose residuals do not fit are
   * rematerialised (`rematPlan`, from the batch size and the longest training example).
   * Ignored under jit and for full fine-tuning.
   */
  remat?: RematChoice;
}

/** Options of `finetune`. (`TRAIN_DEFAULTS` holds the defaults `trainTask` uses.) */
export interface FinetuneOptions<T> {
  /** The frozen backbone. */
  backbone: Backbone;
  /** The method to train. */
  method: Method<T>;
  /** Initial head (owned by the run from here on). */
  head: HeadParams;
  /** Initial method tree (owned); default `method.init(config, encoder, hyper.seed)`. */
  methodParams?: T;
  /** What the metrics need to know about the task. */
  task: TaskInfo;
  /** Training examples. */
  train: readonly EncodedExample[];
  /** Validation examples (evaluated after every epoch). */
  validation: readonly EncodedExample[];
  /** The id padding positions get. */
  padTokenId: number;
  /** Hyper-parameters. */
  hyper: FinetuneHyper;
  /**
   * Resume checkpoint, passed to `trainLoop` (`TrainLoopOptions.checkpoint`): written at every
   * epoch end and every `everySteps` steps into `store`.
   */
  checkpoint?: {
    /** Where the checkpoint is written (replacing the previous one) and, with `resume`, read back from (on Node `trainStateFile(path)`). */
    store: TrainStateStore;
    /**
     * Also write it every this many optimizer steps, counted over the whole run. Absent or 0:
     * only at epoch ends and on abort (`signal`).
     */
    everySteps?: number;
  };
  /**
   * Continue from `checkpoint.store` when it holds a checkpoint made with the same
   * `fingerprint` (another is a `ResumeMismatchError`); an empty store or no `checkpoint` starts
   * afresh. Default false (`TrainLoopOptions.resume`).
   */
  resume?: boolean;
  /** Identifies the run's settings; a resume with another is refused. */
  fingerprint?: string;
  /** Called with the new best parameters (borrowed) when validation improves. */
  onBest?: (params: Trainable<T>, record: EvalRecord) => Promise<void>;
  /** Called with every progress event. */
  onEvent?: (e: TrainEvent) => void;
  /** Abort: the state is saved after the current step and `TrainingInterrupted` is thrown. */
  signal?: AbortSignal;
  /** Learning-rate multiplier per step (default `linearWarmupDecay` with `hyper.warmupRatio`). */
  schedule?: (totalSteps: number) => Schedule;
}

/** Optimizer group labels for a trainable tree. */
export function groupLabels<T>(method: Method<T>, params: Trainable<T>): unknown {
  return { method: method.groups(params.method), head: tree.map(() => "head", params.head as never) };
}

/** Train a method + head on a task, evaluating on `validation` after every epoch. */
export async function finetune<T>(opts: FinetuneOptions<T>): Promise<TrainLoopResult<Trainable<T>>> {
  const { backbone, method, hyper, task } = opts;
  const methodParams = opts.methodParams ?? method.init(backbone.config, backbone.encoder, hyper.seed);
  const params: Trainable<T> = { method: methodParams, head: opts.head };
  const lengths = opts.train.map((e) => e.inputIds.length);
  const pad: PadSettings = { padTokenId: opts.padTokenId, ...(hyper.padToMultipleOf ? { padToMultipleOf: hyper.padToMultipleOf } : {}) };
  const logitsFn = makeLogitsFn(backbone, method, hyper.jit ?? false);
  return trainLoop<Trainable<T>, number[], DeviceInputs>({
    params,
    labels: groupLabels(method, params),
    optimizer: {
      groups: {
        module: { lr: hyper.lr, weightDecay: hyper.weightDecay },
        scores: { lr: hyper.maskLr, weightDecay: hyper.weightDecay },
        head: { lr: hyper.headLr ?? hyper.lr, weightDecay: hyper.weightDecay },
      },
    },
    maxGradNorm: hyper.maxGradNorm,
    epochs: hyper.epochs,
    gradAccumSteps: hyper.gradAccumSteps,
    epochBatches: (epoch) => planBatches(lengths, { batchSize: hyper.batchSize, seed: hyper.seed, epoch, ...(hyper.bucketBatches !== undefined ? { bucketBatches: hyper.bucketBatches } : {}) }),
    objective: classificationObjective(backbone, method, opts.train, task, pad, rematPlan(hyper.remat, backbone.config, hyper.batchSize, lengths.reduce((a, b) => Math.max(a, b), 1))),
    jit: hyper.jit ?? false,
    evaluate: opts.validation.length
      ? async (p): Promise<EvalResult> => {
          const r = await evaluateTask(backbone, method, p, task, opts.validation, { ...pad, batchSize: hyper.evalBatchSize, logitsFn });
          return { main: r.main, scores: r.scores as Record<string, number> };
        }
      : undefined,
    ...(hyper.earlyStopPatience !== undefined ? { earlyStopPatience: hyper.earlyStopPatience } : {}),
    ...(hyper.maxSteps !== undefined ? { maxSteps: hyper.maxSteps } : {}),
    ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
    ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint } : {}),
    ...(opts.onBest ? { onBest: opts.onBest } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    // The run's warmup ratio (the trainer's own default is 0.1 whatever the hyper-parameters say).
    schedule: opts.schedule ?? ((totalSteps: number) => linearWarmupDecay({ totalSteps, warmupRatio: hyper.warmupRatio })),
  });
}
