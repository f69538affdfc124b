/**
 * The fine-tuning defaults every entry shares (CLI, `trainTask`, the browser's `taskClassifier`),
 * platform-free; `defaults.ts` re-exports them with the Node-only defaults (bundled models,
 * output folders).
 */
import type { ClassifierConfig } from "../models/architecture.js";
import { architectureOf } from "../models/registry.js";

/** The fine-tuning defaults `propetl train` and `trainTask` use (defaults.ts says why). */
export const TRAIN_DEFAULTS = {
  /** AdamW weight decay (all groups). */
  weightDecay: 0.1,
  /** Fraction of the steps spent warming up the learning rate. */
  warmupRatio: 0.1,
  /** Global gradient-norm clip. */
  maxGradNorm: 1.0,
  /** Examples per optimiser step (before gradient accumulation). */
  batchSize: 32,
  /** Batches whose gradients are summed per optimiser step. */
  gradAccumSteps: 1,
  /** Longest input in tokens, special tokens included (capped by the model: `resolveMaxLength`). */
  maxLength: 128,
  /** Examples per evaluation forward pass. */
  evalBatchSize: 64,
  /** The first seed. */
  seed: 42,
  /** Compile the training step with jax-js's `jit`. */
  jit: true,
  /** With jit, padded lengths are rounded up to a multiple of this (fewer distinct shapes to compile). */
  padToMultipleOf: 8,
} as const;

/** The max length to use: the flag (checked against the model) or min(128, the model's limit). */
export function resolveMaxLength(flagValue: number | undefined, cfg: ClassifierConfig): number {
  const limit = architectureOf(cfg).maxInputLength(cfg);
  if (flagValue === undefined) return Math.min(TRAIN_DEFAULTS.maxLength, limit);
  if (flagValue > limit) throw new RangeError(`--max-length ${flagValue} exceeds what the model takes (${limit} tokens: max_position_embeddings ${cfg.maxPositions})`);
  return flagValue;
}
