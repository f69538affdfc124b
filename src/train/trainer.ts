/**
 * The training loop, independent of what is trained: fine-tuning a PETL module with a
 * classification head (finetune.ts) and MLM pretraining both plug in an `Objective`.
 *
 * What it does: epochs of seeded micro-batches, gradient accumulation (gradients weighted by
 * example count, so an accumulated step equals one big batch), global-norm clipping, AdamW
 * with parameter groups under a schedule (default linear warmup 0.1 + linear decay), an
 * evaluation after every epoch (and optionally every N steps) keeping the best parameters by
 * the main metric, optional early
 * stopping, a NaN/inf loss check that stops with the step named, progress events, and atomic
 * resume checkpoints (params + AdamW moments + best params + loop position) at every epoch
 * end and every `checkpoint.everySteps` steps. A resumed run makes exactly the updates the
 * uninterrupted run would have made: batches are a pure function of (seed, epoch) and the
 * checkpoint holds everything else.
 *
 * The step itself is one function over trees (`trainStep`): it takes the params and optimizer
 * state, consumes them, and returns new ones; every intermediate array is freed. The loss
 * and its gradient can be compiled with `jit` (option `jit`).
 */
import { blockUntilReady, jit, tree, valueAndGrad } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { AdamW, clipCoefficient, globalNorm } from "./optimizer.js";
import type { AdamWOptions, AdamWState } from "./optimizer.js";
import { linearWarmupDecay } from "./schedule.js";
import type { Schedule } from "./schedule.js";
import { loadStoredTrainState, readStoredPosition, storeTrainState, TRAIN_STATE_FORMAT, TRAIN_STATE_VERSION } from "./train-state-store.js";
import type { EvalRecord, LoopPosition, TrainStateStore } from "./train-state-store.js";

/**
 * How a batch becomes a loss. `P` is the trainable tree, `B` a host batch, `D` its device
 * form: a tree of arrays only (static sizes are read from the arrays' shapes), so that the
 * loss can be traced once per input shape by `jit`.
 */
export interface Objective<P, B, D> {
  /** Move a host batch to the device. */
  toDevice(batch: B): D;
  /**
   * Mean loss over the batch as a scalar. CONSUMES `params` (traced) and `inputs`. Must be a
   * pure function of its arguments (and of closed-over frozen arrays) when jit is used.
   */
  loss(params: P, inputs: D): JArray;
  /** Number of examples in a host batch (weights gradient accumulation). */
  size(batch: B): number;
  /**
   * Leaf paths of the trainable tree a batch cannot change (e.g. another task's head): an
   * optimizer step whose every micro-batch names a leaf leaves it and its moments untouched,
   * as torch skips parameters without a gradient. Default none.
   */
  frozen?(batch: B): readonly string[];
  /**
   * The loss and its gradient w.r.t. `params` computed by the objective itself (e.g. layer by
   * layer with rematerialisation, finetune-remat.ts), in place of `valueAndGrad(loss)`. Same
   * ownership as `loss`: CONSUMES `params` and `inputs`; returns an owned loss and gradient
   * tree. Must equal `valueAndGrad(loss)` up to float rounding. Not used under jit (it awaits
   * the engine between layers, which a trace cannot). When present, eager steps call it and
   * not `loss`: an objective built by spreading another and replacing `loss` must replace or
   * drop this too.
   */
  valueAndGrad?(params: P, inputs: D): Promise<[JArray, P]>;
}

/** What an evaluation returns to `trainLoop`. */
export interface EvalResult {
  /** Model-selection score (the task's main metric, or e.g. -loss). */
  main: number;
  /** Every score reported, by name (recorded in the history). */
  scores: Record<string, number>;
}

/**
 * Progress of `trainLoop`, by `type`. Steps count optimiser steps; times are in ms since the
 * loop (re)started.
 */
export type TrainEvent =
  | {
      /** The loop starts (or resumes): its plan. */
      type: "start";
      /** Epochs planned. */
      epochs: number;
      /** Optimiser steps per epoch. */
      stepsPerEpoch: number;
      /** Optimiser steps in total (`maxSteps` included). */
      totalSteps: number;
      /** Steps already done (a resumed run's). */
      startStep: number;
      /** Whether it resumed from the resume file. */
      resumed: boolean;
      /** Examples per epoch. */
      trainExamples: number;
    }
  | {
      /** An optimiser step was taken. */
      type: "step";
      /** Steps done (1-based). */
      step: number;
      /** Steps planned. */
      totalSteps: number;
      /** The epoch (1-based). */
      epoch: number;
      /** Epochs planned. */
      epochs: number;
      /** Example-weighted mean loss of the step. */
      loss: number;
      /** The schedule's learning-rate multiplier. */
      lrScale: number;
      /** Global gradient norm before clipping. */
      gradNorm: number;
      /** Examples in the step. */
      examples: number;
      /** Time since the loop started. */
      elapsedMs: number;
    }
  | {
      /** An evaluation ran. */
      type: "eval";
      /** The epoch it ran in (1-based). */
      epoch: number;
      /** Steps done. */
      step: number;
      /** Its model-selection score. */
      main: number;
      /** Every score, by name. */
      scores: Record<string, number>;
      /** Whether it beat the best so far. */
      improved: boolean;
      /** The best main score so far (this one included). */
      best: number;
      /** Mean training loss of the epoch so far. */
      trainLoss?: number;
      /** Time since the loop started. */
      elapsedMs: number;
    }
  | {
      /** The resume file was written. */
      type: "checkpoint";
      /** Steps done. */
      step: number;
      /** Epochs completed. */
      epoch: number;
      /** The resume file. */
      file: string;
    }
  | {
      /** Early stopping ended the run. */
      type: "early-stop";
      /** The epoch it stopped after (1-based). */
      epoch: number;
      /** The patience that ran out (evaluations without improvement). */
      patience: number;
    }
  | {
      /** The signal aborted the run; its state is saved. */
      type: "interrupted";
      /** Steps done. */
      step: number;
      /** The resume file, when the loop has one. */
      file?: string;
    }
  | {
      /** The run finished. */
      type: "done";
      /** Steps done in total. */
      steps: number;
      /** The best evaluation, or null without evaluation. */
      best: EvalRecord | null;
      /** Whether early stopping ended it. */
      stoppedEarly: boolean;
      /** Time since the loop started. */
      elapsedMs: number;
    };

/**
 * Options of `trainLoop`: `P` is the trainable tree, `B` a host micro-batch, `D` the device
 * inputs the objective's loss takes.
 */
export interface TrainLoopOptions<P, B, D> {
  /** Initial trainable tree; OWNED by the loop from here on (ignored arrays are freed on resume). */
  params: P;
  /** Tree shaped like `params` whose leaves are optimizer group names. */
  labels: unknown;
  /** The optimiser's options (groups by label). */
  optimizer: AdamWOptions;
  /** Clip the global gradient norm to this (default 1.0, HF Trainer's default); 0 disables. */
  maxGradNorm?: number;
  /** Epochs to run. */
  epochs: number;
  /** The micro-batches of an epoch; must be a pure function of `epoch` (resume relies on it). */
  epochBatches: (epoch: number) => B[];
  /** Micro-batches per optimizer step (default 1). */
  gradAccumSteps?: number;
  /** How batches go to the device and what the loss is. */
  objective: Objective<P, B, D>;
  /** LR multiplier per step, built from the total step count (default linear warmup 0.1 + decay). */
  schedule?: (totalSteps: number) => Schedule;
  /** Also evaluate every N optimizer steps inside an epoch (default: only at epoch ends). */
  evalEverySteps?: number;
  /** Evaluate after every epoch, and every `evalEverySteps` steps (params borrowed). */
  evaluate?: (params: P, at: { epoch: number; step: number }) => Promise<EvalResult>;
  /** "max" (default): higher main score is better; "min" for losses. */
  metricMode?: "max" | "min";
  /** Stop after this many evaluations without improvement (default: never). */
  earlyStopPatience?: number;
  /** Called with the new best params (borrowed) when an evaluation improves. */
  onBest?: (params: P, record: EvalRecord) => Promise<void>;
  /**
   * Resume checkpoint: written at every epoch end and every `everySteps` steps into `store`
   * (on Node `trainStateFile(path)`, train-state.ts).
   */
  checkpoint?: {
    /** Where the checkpoint is written (replacing the previous one) and, with `resume`, read back from. */
    store: TrainStateStore;
    /**
     * Also write it every this many optimizer steps, counted over the whole run (a resumed
     * run's earlier steps included). Absent or 0: only at epoch ends, after a step-interval
     * evaluation (`evalEverySteps`) and on abort (`signal`).
     */
    everySteps?: number;
  };
  /**
   * Continue from `checkpoint.store` when it holds a checkpoint; its fingerprint must equal
   * `fingerprint` (else `ResumeMismatchError`, and `params` are freed). An empty store starts
   * afresh; without `checkpoint` this does nothing. Default false: start afresh, and the first
   * save replaces what the store held.
   */
  resume?: boolean;
  /** Identifies the run's settings; a resume with another fingerprint is refused. */
  fingerprint?: string;
  /**
   * Compile the loss and its gradient with jax-js `jit` (one trace per distinct input shape;
   * much faster steps after the first batch of each shape). Default false.
   */
  jit?: boolean;
  /** Stop after this many optimizer steps in total (the schedule is sized to it). */
  maxSteps?: number;
  /** Called with every progress event. */
  onEvent?: (event: TrainEvent) => void;
  /** Abort: the loop saves a checkpoint after the current step and throws TrainingInterrupted. */
  signal?: AbortSignal;
}

/** What `trainLoop` returns. */
export interface TrainLoopResult<P> {
  /** Parameters after the last step (owned by the caller). */
  params: P;
  /** Best parameters by the evaluation (owned), or null without evaluation. */
  best: P | null;
  /** The best evaluation, or null without evaluation. */
  bestRecord: EvalRecord | null;
  /** Every evaluation (or, without evaluation, each epoch's training loss), in order. */
  history: EvalRecord[];
  /** Optimiser steps taken in total (a resumed run's included). */
  steps: number;
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /** Optimizer step the run resumed from, when it did. */
  resumedAtStep?: number;
}

/** A NaN or infinite loss (or gradient norm); the message names the step. */
export class NonFiniteLossError extends Error {
  constructor(
    message: string,
    /** The optimiser step (1-based) whose loss or gradient was not finite. */
    readonly step: number,
    /** The epoch (1-based) it was in. */
    readonly epoch: number,
  ) {
    super(message);
    this.name = "NonFiniteLossError";
  }
}

/** The loop's `signal` aborted: the state was saved after the current step (resume from `checkpointFile`). */
export class TrainingInterrupted extends Error {
  constructor(
    /** Optimiser steps done. */
    readonly step: number,
    /** The resume file written, when the loop has one. */
    readonly checkpointFile?: string,
  ) {
    super(`training interrupted after step ${step}${checkpointFile ? `; resume from ${checkpointFile}` : ""}`);
    this.name = "TrainingInterrupted";
  }
}

/** A resume file that does not belong to this run (another fingerprint, format or tree); the message says what differs. */
export class ResumeMismatchError extends Error {}

/**
 * A function returning the loss and its gradient w.r.t. the first argument; consumes both
 * arguments. Synchronous for `valueAndGrad` (and jit), a promise for an objective's own
 * (`Objective.valueAndGrad`).
 */
export type LossAndGrad<P, D> = (params: P, inputs: D) => [JArray, P] | Promise<[JArray, P]>;

/** `valueAndGrad` (optionally jitted) of an objective's loss. */
export function makeLossAndGrad<P, D>(loss: (params: P, inputs: D) => JArray, useJit: boolean): LossAndGrad<P, D> {
  const vg = valueAndGrad(loss as unknown as (p: JArray, d: JArray) => JArray);
  return (useJit ? jit(vg) : vg) as unknown as LossAndGrad<P, D>;
}

/**
 * The loss-and-gradient function a training loop uses for an objective: the objective's own
 * `valueAndGrad` when it has one and the step is eager, else `valueAndGrad` of its loss
 * (jitted on request).
 */
export function objectiveLossAndGrad<P, B, D>(objective: Objective<P, B, D>, useJit: boolean): LossAndGrad<P, D> {
  const own = objective.valueAndGrad;
  if (own && !useJit) return (params, inputs) => own.call(objective, params, inputs);
  return makeLossAndGrad(objective.loss, useJit);
}

/** Group consecutive micro-batches into optimizer steps. */
function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The trainable parameters and the optimiser's state, as one optimiser step consumes and returns them. */
export interface StepState<P> {
  /** The trainable parameters. */
  params: P;
  /** The optimiser's state. */
  opt: AdamWState<P>;
}

/** What `trainStep` returns. */
export interface StepOutput<P> {
  /** The next state (owned by the caller). */
  state: StepState<P>;
  /** Example-weighted mean loss of the step. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Examples in the step's micro-batches. */
  examples: number;
}

/**
 * One optimizer step over one or more micro-batches: consumes `state`, returns the next one.
 * On a NaN/inf loss or gradient norm it frees its intermediates and throws
 * NonFiniteLossError; `state` is then untouched and still owned by the caller.
 */
export async function trainStep<P, B, D>(
  state: StepState<P>,
  microBatches: readonly B[],
  ctx: {
    /** The objective (device transfer, batch sizes, frozen leaves). */
    objective: Objective<P, B, D>;
    /** The loss and its gradient (`makeLossAndGrad`). */
    lossAndGrad: LossAndGrad<P, D>;
    /** The optimiser. */
    optimizer: AdamW<P>;
    /** The schedule's learning-rate multiplier for this step. */
    lrScale: number;
    /** Clip the global gradient norm to this; 0 or absent: no clipping. */
    maxGradNorm?: number;
    /** Builds the error thrown on a non-finite loss, naming where it happened. */
    where: (what: string) => NonFiniteLossError;
  },
): Promise<StepOutput<P>> {
  const { objective } = ctx;
  const total = microBatches.reduce((s, b) => s + objective.size(b), 0);
  let gradSum: P | null = null;
  let lossSum = 0;
  const fail = (err: NonFiniteLossError): never => {
    if (gradSum) tree.dispose(gradSum);
    throw err;
  };
  for (const mb of microBatches) {
    const weight = objective.size(mb) / total;
    const [loss, grads] = await ctx.lossAndGrad(tree.ref(state.params), objective.toDevice(mb));
    const scaled: P = weight === 1 ? grads : (tree.map((g: JArray) => g.mul(weight), grads as never) as P);
    gradSum = gradSum === null ? scaled : (tree.map((a: JArray, b: JArray) => a.add(b), gradSum as never, scaled as never) as P);
    const value = (await loss.data())[0];
    if (!Number.isFinite(value)) fail(ctx.where(`loss is ${value}`));
    lossSum += value * weight;
  }
  if (gradSum === null) throw new Error("trainStep: no micro-batches");
  const gradNorm = (await globalNorm(gradSum).data())[0];
  if (!Number.isFinite(gradNorm)) fail(ctx.where(`gradient norm is ${gradNorm}`));
  const coef = clipCoefficient(gradNorm, ctx.maxGradNorm);
  // Frozen in this step: named by every micro-batch.
  let frozen: Set<string> | undefined;
  if (objective.frozen) {
    for (const mb of microBatches) {
      const f = new Set(objective.frozen(mb));
      frozen = frozen === undefined ? f : new Set([...frozen].filter((p) => f.has(p)));
    }
  }
  const next = ctx.optimizer.update(state.params, gradSum, state.opt, ctx.lrScale, coef, frozen);
  await blockUntilReady([next.params, next.state.mu, next.state.nu]);
  return { state: { params: next.params, opt: next.state }, loss: lossSum, gradNorm, examples: total };
}

function better(a: number, b: number, mode: "max" | "min"): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return mode === "max" ? a > b : a < b;
}

/** Run the loop (see the module comment). */
export async function trainLoop<P, B, D>(opts: TrainLoopOptions<P, B, D>): Promise<TrainLoopResult<P>> {
  const accum = opts.gradAccumSteps ?? 1;
  if (!Number.isInteger(accum) || accum < 1) throw new RangeError(`gradAccumSteps must be a positive integer, got ${accum}`);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new RangeError(`epochs must be a positive integer, got ${opts.epochs}`);
  const mode = opts.metricMode ?? "max";
  const maxGradNorm = opts.maxGradNorm ?? 1.0;
  const fingerprint = opts.fingerprint ?? "";
  const optimizer = new AdamW<P>(opts.params, opts.labels, opts.optimizer);
  const lossAndGrad = objectiveLossAndGrad(opts.objective, opts.jit ?? false);

  const firstEpoch = opts.epochBatches(0);
  if (firstEpoch.length === 0) throw new RangeError("no training batches (is the training set empty?)");
  const stepsPerEpoch = Math.ceil(firstEpoch.length / accum);
  const trainExamples = firstEpoch.reduce((s, b) => s + opts.objective.size(b), 0);
  let totalSteps = stepsPerEpoch * opts.epochs;
  if (opts.maxSteps !== undefined) totalSteps = Math.min(totalSteps, opts.maxSteps);
  const schedule = (opts.schedule ?? ((t: number) => linearWarmupDecay({ totalSteps: t })))(totalSteps);

  let state: StepState<P>;
  let best: P | null = null;
  let pos: LoopPosition;
  let resumedAtStep: number | undefined;
  const store = opts.checkpoint?.store;
  const ckptFile = store?.name;
  const existing = opts.resume && store ? await readStoredPosition(store) : null;
  if (existing && store) {
    if (existing.fingerprint !== fingerprint) {
      tree.dispose(opts.params);
      throw new ResumeMismatchError(`${ckptFile}: this checkpoint was made with different settings (data, method, hyper-parameters or seed); start a new run in another folder, or rerun with the original settings`);
    }
    const loaded = await loadStoredTrainState(store, opts.params);
    tree.dispose(opts.params);
    state = { params: loaded.trees.params, opt: { count: loaded.position.optCount, mu: loaded.trees.mu, nu: loaded.trees.nu } };
    best = loaded.trees.best;
    pos = loaded.position;
    resumedAtStep = pos.globalStep;
  } else {
    state = { params: opts.params, opt: optimizer.init(opts.params) };
    pos = {
      format: TRAIN_STATE_FORMAT,
      version: TRAIN_STATE_VERSION,
      fingerprint,
      epoch: 0,
      stepInEpoch: 0,
      globalStep: 0,
      optCount: 0,
      epochLossSum: 0,
      epochLossCount: 0,
      history: [],
      best: null,
      badEvals: 0,
      finished: false,
      stoppedEarly: false,
    };
  }

  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const emit = (e: TrainEvent): void => opts.onEvent?.(e);
  const save = async (): Promise<void> => {
    if (!store || ckptFile === undefined) return;
    pos.optCount = state.opt.count;
    await storeTrainState(store, { params: state.params, mu: state.opt.mu, nu: state.opt.nu, best }, pos);
    emit({ type: "checkpoint", step: pos.globalStep, epoch: pos.epoch, file: ckptFile });
  };

  /** Evaluate the current params, record them, keep the best (`epoch` 0-based). */
  const runEval = async (epoch: number, trainLoss: number | undefined): Promise<void> => {
    if (!opts.evaluate) return;
    const res = await opts.evaluate(state.params, { epoch: epoch + 1, step: pos.globalStep });
    const record: EvalRecord = { epoch: epoch + 1, step: pos.globalStep, main: res.main, scores: res.scores, ...(trainLoss !== undefined ? { trainLoss } : {}) };
    pos.history.push(record);
    const improved = pos.best === null || better(res.main, pos.best.main, mode);
    if (improved) {
      pos.best = record;
      pos.badEvals = 0;
      if (best) tree.dispose(best);
      best = tree.ref(state.params);
      if (opts.onBest) await opts.onBest(state.params, record);
    } else {
      pos.badEvals++;
    }
    emit({ type: "eval", epoch: epoch + 1, step: pos.globalStep, main: res.main, scores: res.scores, improved, best: pos.best?.main ?? res.main, ...(trainLoss !== undefined ? { trainLoss } : {}), elapsedMs: elapsed() });
  };

  try {
    emit({ type: "start", epochs: opts.epochs, stepsPerEpoch, totalSteps, startStep: pos.globalStep, resumed: resumedAtStep !== undefined, trainExamples });
    while (!pos.finished && pos.epoch < opts.epochs) {
      const epoch = pos.epoch;
      const groups = chunk(epoch === 0 ? firstEpoch : opts.epochBatches(epoch), accum);
      if (groups.length !== stepsPerEpoch) throw new Error(`epoch ${epoch + 1} has ${groups.length} steps but epoch 1 had ${stepsPerEpoch}; epochBatches must give the same number of batches every epoch`);
      let hitMax = false;
      while (pos.stepInEpoch < groups.length) {
        if (pos.globalStep >= totalSteps) {
          hitMax = true;
          break;
        }
        const stepNo = pos.globalStep + 1;
        const batchNo = pos.stepInEpoch + 1;
        const lrScale = schedule(pos.globalStep);
        const out = await trainStep(state, groups[pos.stepInEpoch], {
          objective: opts.objective,
          lossAndGrad,
          optimizer,
          lrScale,
          maxGradNorm,
          where: (what) =>
            new NonFiniteLossError(
              `training stopped: ${what} at step ${stepNo} (epoch ${epoch + 1}/${opts.epochs}, batch ${batchNo}/${groups.length})` +
                (ckptFile ? `; the last checkpoint (step ${pos.globalStep}) is ${ckptFile}` : "") +
                ". Try a lower learning rate.",
              stepNo,
              epoch + 1,
            ),
        });
        state = out.state;
        pos.globalStep++;
        pos.stepInEpoch++;
        pos.epochLossSum += out.loss * out.examples;
        pos.epochLossCount += out.examples;
        emit({
          type: "step",
          step: pos.globalStep,
          totalSteps,
          epoch: epoch + 1,
          epochs: opts.epochs,
          loss: out.loss,
          lrScale,
          gradNorm: out.gradNorm,
          examples: out.examples,
          elapsedMs: elapsed(),
        });
        const endOfEpoch = pos.stepInEpoch === groups.length || pos.globalStep >= totalSteps;
        // Let the event loop run (signal handlers: Ctrl-C, SIGTERM): on one engine thread a
        // step's awaits resolve as microtasks only, which never reach libuv's signal watchers.
        if (opts.signal) await new Promise((resolve) => setImmediate(resolve));
        if (opts.signal?.aborted) {
          await save();
          emit({ type: "interrupted", step: pos.globalStep, ...(ckptFile ? { file: ckptFile } : {}) });
          throw new TrainingInterrupted(pos.globalStep, ckptFile);
        }
        const evalEvery = opts.evalEverySteps;
        if (!endOfEpoch && evalEvery !== undefined && evalEvery > 0 && pos.globalStep % evalEvery === 0 && opts.evaluate) {
          // A step-interval evaluation (HF's eval_strategy "steps"): the train loss so far this epoch; state saved after it.
          await runEval(epoch, pos.epochLossCount > 0 ? pos.epochLossSum / pos.epochLossCount : undefined);
          await save();
          continue;
        }
        const every = opts.checkpoint?.everySteps;
        if (!endOfEpoch && every !== undefined && every > 0 && pos.globalStep % every === 0) await save();
      }
      if (pos.globalStep >= totalSteps) hitMax = true;
      // End of epoch (or of the run): evaluate, keep the best, maybe stop early.
      const trainLoss = pos.epochLossCount > 0 ? pos.epochLossSum / pos.epochLossCount : undefined;
      if (opts.evaluate) {
        // Skip when a step-interval evaluation has just run at this very step.
        const last = pos.history[pos.history.length - 1];
        if (last === undefined || last.step !== pos.globalStep) await runEval(epoch, trainLoss);
        if (opts.earlyStopPatience !== undefined && pos.badEvals >= opts.earlyStopPatience && epoch + 1 < opts.epochs && !hitMax) {
          pos.stoppedEarly = true;
          pos.finished = true;
          emit({ type: "early-stop", epoch: epoch + 1, patience: opts.earlyStopPatience });
        }
      } else if (trainLoss !== undefined) {
        pos.history.push({ epoch: epoch + 1, step: pos.globalStep, main: Number.NaN, scores: {}, trainLoss });
      }
      pos.epoch++;
      pos.stepInEpoch = 0;
      pos.epochLossSum = 0;
      pos.epochLossCount = 0;
      if (hitMax || pos.epoch >= opts.epochs) pos.finished = true;
      await save();
      if (opts.signal?.aborted && !pos.finished) {
        emit({ type: "interrupted", step: pos.globalStep, ...(ckptFile ? { file: ckptFile } : {}) });
        throw new TrainingInterrupted(pos.globalStep, ckptFile);
      }
    }
    emit({ type: "done", steps: pos.globalStep, best: pos.best, stoppedEarly: pos.stoppedEarly, elapsedMs: elapsed() });
    return {
      params: state.params,
      best,
      bestRecord: pos.best,
      history: pos.history,
      steps: pos.globalStep,
      stoppedEarly: pos.stoppedEarly,
      ...(resumedAtStep !== undefined ? { resumedAtStep } : {}),
    };
  } catch (e) {
    tree.dispose(state.params);
    tree.dispose(state.opt.mu);
    tree.dispose(state.opt.nu);
    if (best) tree.dispose(best);
    throw e;
  }
}
