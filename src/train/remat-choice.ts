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

/**
 * Width units of activation memory T5's whole-network gradient keeps per token per block, for
 * the encoder's blocks (per source token) and the decoder's (per target token), where a unit
 * is `t5EncoderUnit` / `t5DecoderUnit`; and bytes per target token per vocabulary entry of the
 * LM head (logits, shifted logits, the one-hot targets, exp and their cotangents). Derived
 * 2026-12-02 with ProPETL-adapter (bench/RESULTS.md, "T5 training memory per token"):
 *   - the ratio of the terms on small random T5s (d_model 64, 4 heads, d_ff 256, batch 4),
 *     varying one stack's depth (2 → 6 blocks) or the vocabulary (200 → 3,200) at a time: an
 *     encoder block 17.0 U per source token (S = T = 32) and 15.4 (S = 64, T = 16); a decoder
 *     block 20.1 U per target token (S = T) and 24.4 (S = 4T: its cross-attention keys and
 *     values are per source token); the head 54 bytes;
 *   - the scale from a T5-base-sized model (12 + 12 blocks, d_model 768, vocabulary 32,128) at
 *     batch 2 × (64 + 64): 2,290 MiB above the weights, 1.69× what the small models' figures
 *     predict for its blocks (wider models keep more per unit, as BERT's did: 21 → 26-30).
 * Hence the blocks' figures are the small models' larger ones × 1.69, the head's as measured.
 */
export const T5_PLAIN_UNITS = {
  /** Encoder width units (`t5EncoderUnit`) per source token per encoder block. */
  encoder: 29,
  /** Decoder width units (`t5DecoderUnit`) per target token per decoder block. */
  decoder: 41,
  /** Bytes per target token per vocabulary entry of the LM head and loss. */
  vocabBytes: 54,
} as const;

/** The FFN's inner width: d_ff, twice for the gated FFN (two input projections). */
function ffnWidth(cfg: Pick<T5Widths, "dFf" | "feedForwardProj">): number {
  return cfg.feedForwardProj.startsWith("gated") ? 2 * cfg.dFf : cfg.dFf;
}

/** Bytes per source token of one encoder width unit: hidden state, FFN, attention row over S. */
export function t5EncoderUnit(cfg: Pick<T5Widths, "dModel" | "dFf" | "numHeads" | "feedForwardProj">, S: number): number {
  return (cfg.dModel + ffnWidth(cfg) + cfg.numHeads * S) * 4;
}

/** Bytes per target token of one decoder width unit: hidden state, FFN, self-attention row over T and cross-attention row over S. */
export function t5DecoderUnit(cfg: Pick<T5Widths, "dModel" | "dFf" | "numHeads" | "feedForwardProj">, S: number, T: number): number {
  return (cfg.dModel + ffnWidth(cfg) + cfg.numHeads * (S + T)) * 4;
}

/** The widths of a T5 config that its activation estimate reads. */
export interface T5Widths {
  /** d_model: the residual width. */
  dModel: number;
  /** d_ff: the FFN's inner width. */
  dFf: number;
  /** Attention heads. */
  numHeads: number;
  /** Encoder blocks. */
  numLayers: number;
  /** Decoder blocks. */
  numDecoderLayers: number;
  /** Vocabulary entries (the LM head's width). */
  vocabSize: number;
  /** "relu" or "gated-gelu" (the gated FFN has two inner projections). */
  feedForwardProj: string;
}

/** T5's whole-network gradient's estimated activation bytes for a micro-batch of `batchSize` pairs, sources of S tokens, targets of T. */
export function t5PlainActivationBytes(cfg: T5Widths, batchSize: number, S: number, T: number): number {
  const enc = S * cfg.numLayers * T5_PLAIN_UNITS.encoder * t5EncoderUnit(cfg, S);
  const dec = T * cfg.numDecoderLayers * T5_PLAIN_UNITS.decoder * t5DecoderUnit(cfg, S, T);
  const head = T * cfg.vocabSize * T5_PLAIN_UNITS.vocabBytes;
  return batchSize * (enc + dec + head);
}

/** `resolveRemat` for T5: "auto" is true when `t5PlainActivationBytes` exceeds `REMAT_AUTO_BYTES`. */
export function resolveT5Remat(choice: RematChoice | undefined, cfg: T5Widths, batchSize: number, S: number, T: number): boolean {
  if (choice === true || choice === false) return choice;
  return t5PlainActivationBytes(cfg, batchSize, S, T) > REMAT_AUTO_BYTES;
}
