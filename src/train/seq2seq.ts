/**
 * Fine-tuning a PETL method on a text-to-text task with an encoder–decoder (T5), as Hugging
 * Face's `Seq2SeqTrainer` does it with `predict_with_generate`:
 *   - the loss is teacher-forced cross-entropy over the target tokens, padded label positions
 *     ignored (`padPairs`: -100);
 *   - evaluation generates from the sources (greedy or beam search, `t5Generate`), decodes the
 *     ids without special tokens and scores the texts with the task's metric: sacreBLEU's
 *     corpus BLEU, or ROUGE-1/2/L F-measures (rouge-score, stemmer on) ×100; the best
 *     checkpoint is the one with the highest main metric.
 *
 * The trainable tree is `{ method: T }`: a T5 has no classification head. The backbone is
 * frozen and closed over, except under full fine-tuning, whose tree is the whole backbone
 * (`encoderOverride`). Optimizer groups are the method's ("module", "scores").
 */
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { Seq2SeqMetric } from "../data/seq2seq.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { corpusBleu } from "../metrics/bleu.js";
import { rouge } from "../metrics/rouge.js";
import { asT5Params } from "../models/architecture.js";
import { disposeT5Batch, makeT5Batch, makeT5Labels } from "../models/t5/batch.js";
import type { T5Batch } from "../models/t5/batch.js";
import type { T5Config } from "../models/t5/config.js";
import { t5Generate } from "../models/t5/generate.js";
import { t5Forward, t5LmLogits, t5Loss } from "../models/t5/model.js";
import type { T5Params } from "../models/t5/params.js";
import type { Method, PetlMethod } from "../petl/method.js";
import { disposeMaterialized, materializedHooks } from "../petl/propetl.js";
import { evalBatches, planBatches } from "./batching.js";
import type { FinetuneHyper } from "./finetune.js";
import { padPairs } from "./seq2seq-batching.js";
import type { EncodedPair } from "./seq2seq-batching.js";
import { rematEncoderDecoderValueAndGrad } from "./remat.js";
import { t5RematPlan } from "./remat-choice.js";
import type { RematChoice, RematPlan } from "./remat-choice.js";
import { seq2seqRematStack } from "./seq2seq-remat.js";
import type { Schedule } from "./schedule.js";
import { linearWarmupDecay } from "./schedule.js";
import type { EvalRecord, TrainStateStore } from "./train-state-store.js";
import { trainLoop } from "./trainer.js";
import type { EvalResult, Objective, TrainEvent, TrainLoopResult } from "./trainer.js";

/** The trainable tree of a text-to-text run. */
export type Seq2seqTrainable<T> = { method: T };

/** The frozen encoder–decoder. */
export interface Seq2seqBackbone {
  config: T5Config;
  /** Frozen weights (borrowed). */
  params: T5Params;
}

/**
 * A padded batch on the device as a tree of arrays only: sizes are read back from the masks'
 * shapes (encoderMaskBias [B,1,1,S], decoderMaskBias [B,1,T,T]).
 */
export type Seq2seqDeviceInputs = {
  inputIds: JArray;
  decoderInputIds: JArray;
  encoderMaskBias: JArray;
  decoderMaskBias: JArray;
  /** int32 [B*T] label ids (0 at ignored positions). */
  targets: JArray;
  /** float32 [B*T]: 1/n at the n labelled positions. */
  weights: JArray;
};

function batchOf(d: Seq2seqDeviceInputs): T5Batch {
  const [B, , , S] = d.encoderMaskBias.shape;
  const T = d.decoderMaskBias.shape[2];
  return { batchSize: B, encoderLength: S, decoderLength: T, inputIds: d.inputIds, decoderInputIds: d.decoderInputIds, encoderMaskBias: d.encoderMaskBias, decoderMaskBias: d.decoderMaskBias };
}

/** Pad `items` and move them (with their labels) to the device. */
export function seq2seqDeviceInputs(cfg: T5Config, items: readonly EncodedPair[]): Seq2seqDeviceInputs {
  const host = padPairs(cfg, items);
  const b = makeT5Batch(cfg, host.host);
  let labels;
  try {
    labels = makeT5Labels(cfg, host.labels);
  } catch (e) {
    disposeT5Batch(b);
    throw e;
  }
  return { inputIds: b.inputIds, decoderInputIds: b.decoderInputIds, encoderMaskBias: b.encoderMaskBias, decoderMaskBias: b.decoderMaskBias, targets: labels.targets, weights: labels.weights };
}

/** Mean teacher-forced cross-entropy of a device batch. Borrows everything. */
export function seq2seqLoss<T>(backbone: Seq2seqBackbone, method: Method<T>, params: Seq2seqTrainable<T>, d: Seq2seqDeviceInputs, training: boolean): JArray {
  const batch = batchOf(d);
  const hooks = method.hooks(params.method, { batchSize: batch.batchSize, training });
  const weights = method.encoderOverride ? asT5Params(method.encoderOverride(params.method)) : backbone.params;
  const logits = t5LmLogits(backbone.config, weights, t5Forward(backbone.config, weights, batch, hooks));
  return t5Loss(backbone.config, logits, { targets: d.targets, weights: d.weights });
}

/**
 * The loss and gradient of `seq2seqLoss` block by block with rematerialisation
 * (`rematEncoderDecoderValueAndGrad`, train/seq2seq-remat.ts): the memory of one block's work
 * plus each block's input instead of the whole network's; the top `keepLayers` blocks in the
 * backward pass's order (decoder first) keep their residuals instead. CONSUMES `params` and `d`.
 * Not for full fine-tuning (`canRemat`).
 */
export async function seq2seqRematValueAndGrad<T>(backbone: Seq2seqBackbone, method: Method<T>, params: Seq2seqTrainable<T>, d: Seq2seqDeviceInputs, keepLayers = 0): Promise<[JArray, Seq2seqTrainable<T>]> {
  let stack: ReturnType<typeof seq2seqRematStack<T>> | null = null;
  try {
    stack = seq2seqRematStack(method, { backbone, batch: batchOf(d), labels: { targets: d.targets, weights: d.weights } });
    const [loss, g] = await rematEncoderDecoderValueAndGrad(stack, params.method, { keepLayers });
    return [loss, { method: g }];
  } catch (e) {
    if (stack === null) tree.dispose(params);
    throw e;
  } finally {
    stack?.dispose();
    tree.dispose(d);
  }
}

/**
 * The loss of a text-to-text task over batches given as pair positions in `data`. With
 * `remat` (default true) the objective also supplies its own gradient, block by block with
 * rematerialisation (`seq2seqRematValueAndGrad`, keeping `keepLayers` blocks' residuals, default
 * 0); the trainer uses it for eager steps. Full fine-tuning never uses it.
 */
export function seq2seqObjective<T>(backbone: Seq2seqBackbone, method: Method<T>, data: readonly EncodedPair[], opts: { remat?: boolean; keepLayers?: number } = {}): Objective<Seq2seqTrainable<T>, number[], Seq2seqDeviceInputs> {
  const objective: Objective<Seq2seqTrainable<T>, number[], Seq2seqDeviceInputs> = {
    size: (indices) => indices.length,
    toDevice: (indices) => seq2seqDeviceInputs(backbone.config, indices.map((i) => data[i])),
    loss: (params, d) => {
      const loss = seq2seqLoss(backbone, method, params, d, true);
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
  if ((opts.remat ?? true) && !method.encoderOverride) objective.valueAndGrad = (params, d) => seq2seqRematValueAndGrad(backbone, method, params, d, opts.keepLayers ?? 0);
  return objective;
}

/**
 * `t5RematPlan` for a text-to-text run: "auto" from `t5PlainActivationBytes` at the batch
 * size and the longest training source and target (labels: the decoder's length).
 */
export function seq2seqRemat(choice: RematChoice | undefined, cfg: T5Config, batchSize: number, pairs: readonly (readonly EncodedPair[])[]): RematPlan {
  let S = 1;
  let T = 1;
  for (const d of pairs) for (const p of d) {
    S = Math.max(S, p.inputIds.length);
    T = Math.max(T, p.labels.length);
  }
  return t5RematPlan(choice, cfg, batchSize, S, T);
}

/** How evaluation generates (HF `generate` arguments). */
export interface GenerationSettings {
  /** Most tokens generated per input, EOS included. */
  maxNewTokens: number;
  /** 1: greedy. */
  numBeams: number;
  /** Beam search's length penalty (default 1.0). */
  lengthPenalty?: number;
}

/**
 * Generate for every pair's source with the trainable method on the backbone: ids per pair, in
 * `data` order. Batches are sorted by source length (least padding). The method is
 * materialised once for the whole run (masks applied; `task`: which task of a multi-task tree,
 * default 0), so no score work happens per token. `params` is borrowed.
 */
export async function generateIds<T>(backbone: Seq2seqBackbone, method: PetlMethod<T>, params: Seq2seqTrainable<T>, data: readonly EncodedPair[], opts: { batchSize: number; generation: GenerationSettings; task?: number; onBatch?: (done: number, total: number) => void }): Promise<number[][]> {
  const cfg = backbone.config;
  const out: number[][] = new Array<number[]>(data.length);
  const m = method.materialize(params.method, opts.task ?? 0);
  try {
    // Full fine-tuning runs its tuned weights; every other method the frozen backbone.
    const run = m.encoder ? asT5Params(m.encoder) : backbone.params;
    const hooks = materializedHooks(m);
    let done = 0;
    for (const indices of evalBatches(data.map((p) => p.inputIds.length), opts.batchSize)) {
      const items = indices.map((i) => data[i]);
      const S = Math.max(...items.map((p) => p.inputIds.length));
      const inputIds = new Int32Array(items.length * S).fill(cfg.padTokenId);
      const attentionMask = new Int32Array(items.length * S);
      items.forEach((p, b) => {
        inputIds.set(p.inputIds, b * S);
        attentionMask.fill(1, b * S, b * S + p.inputIds.length);
      });
      const res = await t5Generate(cfg, run, hooks, { batchSize: items.length, encoderLength: S, inputIds, attentionMask }, {
        maxNewTokens: opts.generation.maxNewTokens,
        numBeams: opts.generation.numBeams,
        ...(opts.generation.lengthPenalty !== undefined ? { lengthPenalty: opts.generation.lengthPenalty } : {}),
      });
      indices.forEach((row, b) => {
        out[row] = res.sequences[b];
      });
      done += items.length;
      opts.onBatch?.(done, data.length);
    }
  } finally {
    disposeMaterialized(m);
  }
  return out;
}

/** The task's scores of generated texts against their references (all ×100, as the paper reports them). */
export function scoreGenerations(metric: Seq2SeqMetric, predictions: readonly string[], references: readonly string[]): { main: number; scores: Record<string, number> } {
  if (predictions.length !== references.length) throw new RangeError(`${predictions.length} predictions for ${references.length} references`);
  if (predictions.length === 0) throw new RangeError("no examples to score");
  if (metric === "bleu") {
    const b = corpusBleu(predictions, [references]);
    return { main: b.score, scores: { bleu: b.score, bp: b.bp, sysLen: b.sysLen, refLen: b.refLen } };
  }
  const r = rouge(predictions, references, ["rouge1", "rouge2", "rougeL"]);
  const f = (t: "rouge1" | "rouge2" | "rougeL"): number => 100 * (r.scores[t]?.fmeasure ?? Number.NaN);
  return { main: f("rouge2"), scores: { rouge1: f("rouge1"), rouge2: f("rouge2"), rougeL: f("rougeL") } };
}

/** Generate, decode and score (params borrowed); also returns the decoded texts. */
export async function evaluateSeq2seq<T>(
  backbone: Seq2seqBackbone,
  method: PetlMethod<T>,
  params: Seq2seqTrainable<T>,
  tokenizer: Pick<Tokenizer, "decode">,
  data: readonly EncodedPair[],
  references: readonly string[],
  opts: { metric: Seq2SeqMetric; batchSize: number; generation: GenerationSettings; onBatch?: (done: number, total: number) => void },
): Promise<{ main: number; scores: Record<string, number>; predictions: string[] }> {
  const ids = await generateIds(backbone, method, params, data, opts);
  const predictions = ids.map((s) => tokenizer.decode(s, { skipSpecialTokens: true }));
  return { ...scoreGenerations(opts.metric, predictions, references), predictions };
}

/**
 * The hyper-parameters a resume fingerprint covers: not `remat`, which changes how the gradient
 * is computed (to float rounding), not the training, so that runs started before T5 had it (and
 * runs that switch it) resume.
 */
export function withoutRemat<H extends { remat?: unknown }>(hyper: H): Omit<H, "remat"> {
  const out: H = { ...hyper };
  delete out.remat;
  return out;
}

/** Hyper-parameters of a text-to-text run: the fine-tuning ones (no head) and generation. */
export interface Seq2seqHyper extends Omit<FinetuneHyper, "headLr" | "jit" | "padToMultipleOf"> {
  generation: GenerationSettings;
  /** Also evaluate every N optimizer steps (default: at epoch ends only). */
  evalSteps?: number;
}

export interface Seq2seqFinetuneOptions<T> {
  backbone: Seq2seqBackbone;
  method: PetlMethod<T>;
  /** Decodes the generations for scoring. */
  tokenizer: Pick<Tokenizer, "decode">;
  metric: Seq2SeqMetric;
  train: readonly EncodedPair[];
  validation: readonly EncodedPair[];
  /** The validation pairs' target texts (scored against the generations). */
  validationReferences: readonly string[];
  hyper: Seq2seqHyper;
  /** Initial method tree (owned); default `method.init(config, params, hyper.seed)`. */
  methodParams?: T;
  checkpoint?: { store: TrainStateStore; everySteps?: number };
  resume?: boolean;
  fingerprint?: string;
  onBest?: (params: Seq2seqTrainable<T>, record: EvalRecord) => Promise<void>;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
  schedule?: (totalSteps: number) => Schedule;
}

/** Train a method on a text-to-text task, evaluating by generation on `validation` after every epoch. */
export async function seq2seqFinetune<T>(opts: Seq2seqFinetuneOptions<T>): Promise<TrainLoopResult<Seq2seqTrainable<T>>> {
  const { backbone, method, hyper } = opts;
  if (opts.validation.length !== opts.validationReferences.length) throw new RangeError(`${opts.validation.length} validation pairs but ${opts.validationReferences.length} references`);
  const params: Seq2seqTrainable<T> = { method: opts.methodParams ?? method.init(backbone.config, backbone.params, hyper.seed) };
  // Batches are bucketed by source + target length: both sides are padded.
  const lengths = opts.train.map((p) => p.inputIds.length + p.labels.length);
  return trainLoop<Seq2seqTrainable<T>, number[], Seq2seqDeviceInputs>({
    params,
    labels: { method: method.groups(params.method) },
    optimizer: {
      groups: {
        module: { lr: hyper.lr, weightDecay: hyper.weightDecay },
        scores: { lr: hyper.maskLr, weightDecay: hyper.weightDecay },
      },
    },
    maxGradNorm: hyper.maxGradNorm,
    epochs: hyper.epochs,
    gradAccumSteps: hyper.gradAccumSteps,
    epochBatches: (epoch) => planBatches(lengths, { batchSize: hyper.batchSize, seed: hyper.seed, epoch, ...(hyper.bucketBatches !== undefined ? { bucketBatches: hyper.bucketBatches } : {}) }),
    objective: seq2seqObjective(backbone, method, opts.train, seq2seqRemat(hyper.remat, backbone.config, hyper.batchSize, [opts.train])),
    evaluate: opts.validation.length
      ? async (p): Promise<EvalResult> => {
          const r = await evaluateSeq2seq(backbone, method, p, opts.tokenizer, opts.validation, opts.validationReferences, { metric: opts.metric, batchSize: hyper.evalBatchSize, generation: hyper.generation });
          return { main: r.main, scores: r.scores };
        }
      : undefined,
    ...(hyper.evalSteps !== undefined ? { evalEverySteps: hyper.evalSteps } : {}),
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
