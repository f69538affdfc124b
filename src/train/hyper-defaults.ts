/**
 * The fine-tuning defaults every entry shares (CLI, `trainTask`, the browser's `taskClassifier`),
 * platform-free; `defaults.ts` re-exports them with the Node-only defaults (bundled models,
 * output folders).
 */
import type { ClassifierConfig } from "../models/architecture.js";
import { architectureOf } from "../models/registry.js";

/** Default hyper-parameters of a fine-tuning run. */
export const TRAIN_DEFAULTS = {
  weightDecay: 0.1,
  warmupRatio: 0.1,
  maxGradNorm: 1.0,
  batchSize: 32,
  gradAccumSteps: 1,
  maxLength: 128,
  evalBatchSize: 64,
  seed: 42,
  jit: true,
  padToMultipleOf: 8,
} as const;

/** The max length to use: the flag (checked against the model) or min(128, the model's limit). */
export function resolveMaxLength(flagValue: number | undefined, cfg: ClassifierConfig): number {
  const limit = architectureOf(cfg).maxInputLength(cfg);
  if (flagValue === undefined) return Math.min(TRAIN_DEFAULTS.maxLength, limit);
  if (flagValue > limit) throw new RangeError(`--max-length ${flagValue} exceeds what the model takes (${limit} tokens: max_position_embeddings ${cfg.maxPositions})`);
  return flagValue;
}
