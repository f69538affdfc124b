/**
 * Multi-task batch sampling with a temperature (paper App. C.2, following Mahabadi et al.
 * 2021): each batch comes from ONE task, task i drawn with probability
 *
 *     p_i = N_i^(1/T) / Σ_j N_j^(1/T),   T = 10 by default,
 *
 * where N_i is the task's training-set size. T = 1 is proportional sampling; T → ∞ is
 * uniform. An epoch has as many batches as the tasks have together (Σ ceil(N_i / B)); each
 * task's batches come from its own seeded, length-bucketed stream, which starts a new
 * shuffled pass when it runs out (small tasks are revisited, large ones not exhausted).
 * Like `planBatches`, the plan is a pure function of (sizes, seed, epoch), so a resumed run
 * sees the same batches.
 */
import { mulberry32 } from "../data/splits.js";
import { mixSeed, planBatches } from "./batching.js";

/** The sampling temperature T of multi-task batches (p_i ∝ N_i^(1/T)) when none is given. */
export const DEFAULT_TEMPERATURE = 10;

/** Sampling probabilities p_i ∝ N_i^(1/T). */
export function temperatureProbabilities(sizes: readonly number[], temperature = DEFAULT_TEMPERATURE): number[] {
  if (sizes.length === 0) throw new RangeError("temperatureProbabilities: no tasks");
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  for (const n of sizes) if (!Number.isInteger(n) || n < 1) throw new RangeError(`task sizes must be positive integers, got ${n}`);
  const w = sizes.map((n) => Math.pow(n, 1 / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** A batch of one task: positions into that task's example list. */
export interface TaskBatch {
  /** Task index. */
  task: number;
  /** Positions in that task's example list. */
  indices: number[];
}

/** Options of `planMultiTaskBatches`. */
export interface MultiTaskPlanOptions {
  /** Examples per batch. */
  batchSize: number;
  /** The run's seed. */
  seed: number;
  /** 0-based epoch. */
  epoch: number;
  /** Sampling temperature (default `DEFAULT_TEMPERATURE`). */
  temperature?: number;
  /** Batches per length bucket within a task, as `BatchPlanOptions.bucketBatches`. */
  bucketBatches?: number;
  /** Batches in the epoch (default Σ ceil(N_i / batchSize)). */
  batchesPerEpoch?: number;
}

/** Draw an index from a discrete distribution with a uint32 generator. */
function draw(probs: readonly number[], next: () => number): number {
  const u = next() / 4294967296;
  let acc = 0;
  for (let i = 0; i < probs.length; i++) {
    acc += probs[i];
    if (u < acc) return i;
  }
  return probs.length - 1;
}

/**
 * The batches of one multi-task epoch. `lengths[i]` are task i's example lengths (for
 * bucketing). Pure in its arguments.
 */
export function planMultiTaskBatches(lengths: readonly (readonly number[])[], opts: MultiTaskPlanOptions): TaskBatch[] {
  const sizes = lengths.map((l) => l.length);
  const probs = temperatureProbabilities(sizes, opts.temperature ?? DEFAULT_TEMPERATURE);
  const count = opts.batchesPerEpoch ?? sizes.reduce((s, n) => s + Math.ceil(n / opts.batchSize), 0);
  const next = mulberry32(mixSeed(opts.seed, opts.epoch, 2));
  const streams = lengths.map(() => ({ pass: 0, batches: [] as number[][], pos: 0 }));
  const out: TaskBatch[] = [];
  for (let b = 0; b < count; b++) {
    const task = draw(probs, next);
    const s = streams[task];
    if (s.pos >= s.batches.length) {
      // A new pass over this task: its own seed per (epoch, task, pass).
      s.batches = planBatches(lengths[task], {
        batchSize: opts.batchSize,
        seed: mixSeed(opts.seed, task, s.pass),
        epoch: opts.epoch,
        ...(opts.bucketBatches !== undefined ? { bucketBatches: opts.bucketBatches } : {}),
      });
      s.pass++;
      s.pos = 0;
    }
    out.push({ task, indices: s.batches[s.pos++] });
  }
  return out;
}
