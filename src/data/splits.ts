/**
 * The paper's train / validation / test protocol (ProPETL, Section 4
 * "Evaluation", following Zhang et al. 2021 and Mao et al. 2022). GLUE test
 * labels are not public, so:
 *
 * - small tasks (< 10k training examples: RTE, MRPC, STS-B, CoLA; also
 *   WNLI): the official dev set is split in halves. With n dev examples,
 *   validation = dev[0 : floor(n/2)] and test = dev[floor(n/2) : n] — the
 *   `dev[:n//2]` / `dev[n//2:]` slicing of the HF-datasets-based reference
 *   code, so an odd n gives the extra example to test (RTE: 277 -> 138/139).
 *   train = the full training set. The seed is not used.
 * - large tasks (SST-2, QNLI, QQP, MNLI): 1000 training examples drawn
 *   uniformly without replacement (seeded) form the validation set; the
 *   remaining training examples are the training set; test = the dev set
 *   (for MNLI pass dev_matched; evaluate dev_mismatched separately).
 *   Both train and validation keep the original file order.
 *
 * Randomness: mulberry32 (a small 32-bit PRNG by Tommy Ettinger, public
 * domain) seeded with `seed >>> 0`, driving a partial Fisher–Yates shuffle
 * with rejection sampling (no modulo bias). The result is deterministic
 * across platforms and Node versions, but it does not reproduce the indices
 * that Python/numpy would draw for the same seed.
 */
import { resolveSizeClass, type SizeClass, type TaskSpec } from "./tasks.js";

/** A task's train / validation / test examples under the paper's protocol (`makeSplits`). */
export interface Splits<T> {
  /** Training examples. */
  train: T[];
  /** Validation examples (model selection). */
  validation: T[];
  /** Test examples (the reported scores). */
  test: T[];
  /** Which rule produced the splits. */
  protocol: "dev-halves" | "train-holdout";
  /** The task's size class, which chose the protocol. */
  sizeClass: SizeClass;
}

/** Options of `makeSplits`. */
export interface SplitOptions {
  /** Validation examples held out from train for large tasks (default `LARGE_TASK_VALIDATION_SIZE`). */
  validationSize?: number;
}

/** Default number of training examples held out for validation on large tasks. */
export const LARGE_TASK_VALIDATION_SIZE = 1000;

/**
 * mulberry32: returns a generator of uniformly distributed unsigned 32-bit
 * integers. `seed` is reduced to 32 bits (`seed >>> 0`).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, m) from a uint32 generator, by rejection (no modulo bias). */
function uniformBelow(next: () => number, m: number): number {
  const limit = 0x100000000 - (0x100000000 % m);
  for (;;) {
    const x = next();
    if (x < limit) return x % m;
  }
}

/**
 * `k` distinct indices drawn uniformly from [0, n) (partial Fisher–Yates
 * driven by mulberry32(seed)), in draw order.
 */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleIndices: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`sampleIndices: k must be an integer in [0, ${n}], got ${k}`);
  checkSeed(seed);
  const next = mulberry32(seed);
  // Sparse Fisher–Yates: only touched positions are stored.
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + uniformBelow(next, n - i);
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    out.push(vj);
    swapped.set(j, vi);
  }
  return out;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
}

/**
 * Build train / validation / test splits for `task` from its official train
 * and dev examples, following the paper's protocol (see module comment).
 * Custom tasks with sizeClass "auto" are small when train has < 10k examples.
 */
export function makeSplits<T>(
  task: Pick<TaskSpec, "name" | "sizeClass">,
  data: { train: readonly T[]; dev: readonly T[] },
  seed: number,
  options: SplitOptions = {},
): Splits<T> {
  checkSeed(seed);
  const sizeClass = resolveSizeClass(task, data.train.length);
  if (sizeClass === "small") {
    const half = Math.floor(data.dev.length / 2);
    if (half === 0) throw new RangeError(`makeSplits(${task.name}): dev set has ${data.dev.length} examples; need at least 2 to halve`);
    return {
      train: [...data.train],
      validation: data.dev.slice(0, half),
      test: data.dev.slice(half),
      protocol: "dev-halves",
      sizeClass,
    };
  }
  const k = options.validationSize ?? LARGE_TASK_VALIDATION_SIZE;
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`makeSplits(${task.name}): validationSize must be a positive integer, got ${k}`);
  if (data.train.length <= k) {
    throw new RangeError(`makeSplits(${task.name}): train has ${data.train.length} examples; need more than ${k} to hold out ${k} for validation`);
  }
  const held = new Uint8Array(data.train.length);
  for (const i of sampleIndices(data.train.length, k, seed)) held[i] = 1;
  const train: T[] = [];
  const validation: T[] = [];
  data.train.forEach((ex, i) => (held[i] ? validation : train).push(ex));
  return { train, validation, test: [...data.dev], protocol: "train-holdout", sizeClass };
}
