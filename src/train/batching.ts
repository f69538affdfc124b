/**
 * From examples to padded host batches: tokenization (once per run), dynamic padding (each
 * batch is padded to its own longest sequence), length bucketing and seeded shuffling.
 *
 * Shuffling is a pure function of (seed, epoch): the batches of epoch `e` are the same in
 * every run and after a resume, so "RNG state" is just the epoch and the position in it.
 *
 * Length bucketing (HF `LengthGroupedSampler`-style): each epoch the examples are shuffled,
 * cut into "mega-batches" of `bucketBatches` batches, each mega-batch is sorted by length and
 * cut into batches, and the batch order is shuffled again. Batches then hold examples of
 * similar length (little padding) while their composition still changes every epoch.
 */
import type { Example } from "../data/read-examples.js";
import { mulberry32 } from "../data/splits.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { HostBatch } from "../models/bert/encoder.js";

/** One tokenized example. */
export interface EncodedExample {
  /** Token ids, special tokens included. */
  inputIds: Int32Array;
  /** Segment ids, one per token. */
  tokenTypeIds: Int32Array;
  /** Class index or regression score (-1 for unlabelled classification rows). */
  label: number;
  /** Position in the source example list (predictions are returned in this order). */
  index: number;
  /** Task index in multi-task training. */
  taskId?: number;
}

/** Tokenize examples once (truncated to `maxLength` tokens including special tokens). */
export function encodeExamples(tokenizer: Tokenizer, examples: readonly Example[], opts: { maxLength: number; taskId?: number }): EncodedExample[] {
  if (!Number.isInteger(opts.maxLength) || opts.maxLength < 2) throw new RangeError(`maxLength must be an integer >= 2, got ${opts.maxLength}`);
  return examples.map((ex, index) => {
    const enc = tokenizer.encode(ex.text, ex.textPair, { maxLength: opts.maxLength });
    const out: EncodedExample = {
      inputIds: Int32Array.from(enc.inputIds),
      tokenTypeIds: Int32Array.from(enc.tokenTypeIds),
      label: ex.label,
      index,
    };
    if (opts.taskId !== undefined) out.taskId = opts.taskId;
    return out;
  });
}

/** A padded batch on the host, with its labels and the examples' source positions. */
export interface PaddedBatch extends HostBatch {
  /** int32 class indices, or float32 scores for regression. */
  labels: Int32Array | Float32Array;
  /** `EncodedExample.index` of each row. */
  indices: number[];
  /** Task index per row (multi-task), else undefined. */
  taskIds?: Int32Array;
}

/** Options of `padBatch`. */
export interface PadOptions {
  /** The id padding positions get. */
  padTokenId: number;
  /** Float labels (regression) instead of int32 class indices. */
  regression: boolean;
  /** Round the padded length up to a multiple of this (default 1: pure dynamic padding). */
  padToMultipleOf?: number;
  /** Rounding up never goes beyond this (e.g. max_position_embeddings); default no cap. */
  maxLength?: number;
}

/** Pad `items` to the longest one (dynamic padding). */
export function padBatch(items: readonly EncodedExample[], opts: PadOptions): PaddedBatch {
  if (items.length === 0) throw new RangeError("padBatch: empty batch");
  let longest = 0;
  for (const it of items) longest = Math.max(longest, it.inputIds.length);
  const mult = opts.padToMultipleOf ?? 1;
  let seqLen = mult > 1 ? Math.ceil(longest / mult) * mult : longest;
  if (opts.maxLength !== undefined) seqLen = Math.max(longest, Math.min(seqLen, opts.maxLength));
  const B = items.length;
  const inputIds = new Int32Array(B * seqLen).fill(opts.padTokenId);
  const attentionMask = new Int32Array(B * seqLen);
  const tokenTypeIds = new Int32Array(B * seqLen);
  const labels = opts.regression ? new Float32Array(B) : new Int32Array(B);
  const indices: number[] = [];
  const hasTasks = items.some((it) => it.taskId !== undefined);
  const taskIds = hasTasks ? new Int32Array(B) : undefined;
  items.forEach((it, b) => {
    const n = it.inputIds.length;
    inputIds.set(it.inputIds, b * seqLen);
    tokenTypeIds.set(it.tokenTypeIds, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + n);
    labels[b] = it.label;
    indices.push(it.index);
    if (taskIds) taskIds[b] = it.taskId ?? 0;
  });
  const batch: PaddedBatch = { batchSize: B, seqLen, inputIds, attentionMask, tokenTypeIds, labels, indices };
  if (taskIds) batch.taskIds = taskIds;
  return batch;
}

/** A 32-bit seed for (seed, epoch, stream): splitmix-style mixing, stable across platforms. */
export function mixSeed(seed: number, ...parts: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Uniform integer in [0, m) (rejection sampling, no modulo bias). */
export function uniformInt(next: () => number, m: number): number {
  const limit = 0x100000000 - (0x100000000 % m);
  for (;;) {
    const x = next();
    if (x < limit) return x % m;
  }
}

/** Fisher–Yates shuffle in place driven by a uint32 generator. */
export function shuffleInPlace<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = uniformInt(next, i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** Options of `planBatches`. */
export interface BatchPlanOptions {
  /** Examples per batch. */
  batchSize: number;
  /** The run's seed; with `epoch` it seeds the shuffle. */
  seed: number;
  /** 0-based epoch (each epoch shuffles differently). */
  epoch: number;
  /** Default true. false: examples in order (no bucketing). */
  shuffle?: boolean;
  /** Batches per length bucket (mega-batch); default 50. 1 disables bucketing. */
  bucketBatches?: number;
  /** Drop a final incomplete batch (default false). */
  dropLast?: boolean;
}

/** The training batches of one epoch as lists of example positions. Pure in (lengths, options). */
export function planBatches(lengths: readonly number[], opts: BatchPlanOptions): number[][] {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = lengths.map((_, i) => i);
  const batches: number[][] = [];
  if (opts.shuffle === false) {
    for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  } else {
    const next = mulberry32(mixSeed(opts.seed, opts.epoch, 1));
    shuffleInPlace(order, next);
    const mega = batchSize * Math.max(1, opts.bucketBatches ?? 50);
    for (let start = 0; start < order.length; start += mega) {
      const chunk = order.slice(start, start + mega);
      if ((opts.bucketBatches ?? 50) > 1) chunk.sort((a, b) => lengths[b] - lengths[a] || a - b);
      for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
    }
    shuffleInPlace(batches, next);
  }
  if (opts.dropLast) return batches.filter((b) => b.length === batchSize);
  return batches;
}

/** Evaluation batches: examples sorted by length (least padding), deterministic. */
export function evalBatches(lengths: readonly number[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
