/**
 * When training takes its gradient layer by layer (train/remat.ts): always, never, or "auto",
 * decided from the step's size before the run. No engine import: the CLI's help reads it.
 */

/**
 * Width units of activation memory the whole-network gradient keeps per token per layer, where
 * a unit is (hidden + FFN + heads × sequence length) × 4 bytes, the widths of one layer's
 * activations: measured about 21 on small models (test/train/remat-memory.test.ts) and 26-30 on a
 * BERT-base-sized one (bench/RESULTS.md, "Training memory per token").
 */
export const PLAIN_UNITS_PER_TOKEN_LAYER = 24;

/**
 * `remat: "auto"` rematerialises when the whole-network gradient's activations would need more
 * than this: half the wasm engine's 4 GiB heap, the rest left to weights, optimizer state and
 * the allocator's slack. Below it the whole-network gradient fits and is faster (one forward
 * pass less: 1.5x the step time with remat on propetl-mini at 32 x 64, measured 2026-12-02).
 */
export const REMAT_AUTO_BYTES = 2 * 1024 ** 3;

/** A run's rematerialisation choice: always, never, or "auto" (`rematPays`). */
export type RematChoice = boolean | "auto";

/** The whole-network gradient's estimated activation bytes for a micro-batch of `batchSize` × `seqLen` tokens. */
export function plainActivationBytes(cfg: { hiddenSize: number; intermediateSize: number; numHeads: number; numLayers: number }, batchSize: number, seqLen: number): number {
  const unit = (cfg.hiddenSize + cfg.intermediateSize + cfg.numHeads * seqLen) * 4;
  return batchSize * seqLen * cfg.numLayers * PLAIN_UNITS_PER_TOKEN_LAYER * unit;
}

/** Resolve a `RematChoice`: "auto" is true when `plainActivationBytes` exceeds `REMAT_AUTO_BYTES`. */
export function resolveRemat(choice: RematChoice | undefined, cfg: Parameters<typeof plainActivationBytes>[0], batchSize: number, seqLen: number): boolean {
  if (choice === true || choice === false) return choice;
  return plainActivationBytes(cfg, batchSize, seqLen) > REMAT_AUTO_BYTES;
}
