/**
 * How training takes its gradient (train/remat.ts): over the whole network, or layer by layer
 * rematerialising all layers or only those the activation budget cannot keep. Decided from the
 * step's size before the run ("auto"), or forced on (every layer rematerialised) or off. No
 * engine import: the CLI's help reads it.
 */

/**
 * Width units of activation memory the whole-network gradient keeps per token per layer, where
 * a unit is (hidden + FFN + heads × sequence length) × 4 bytes, the widths of one layer's
 * activations: measured about 21 on small models (test/train/remat-memory.test.ts) and 26-30 on a
 * BERT-base-sized one (bench/RESULTS.md, "Training memory per token").
 */
export const PLAIN_UNITS_PER_TOKEN_LAYER = 24;

/**
 * Width units (as `PLAIN_UNITS_PER_TOKEN_LAYER`'s) per token that a layer kept by the
 * layer-by-layer gradient holds from its forward pass to its backward pass: its residuals (the
 * `vjp` pullback, `keepLayers`), once its pending work has run. Measured 2026-12-02 with
 * ProPETL-adapter (bench/RESULTS.md, "Partial rematerialisation"): each further kept layer
 * added 77 MiB to the peak of a BERT-base-sized model at 8 × 128 (3.7 U per token) from 2 to
 * 6 kept layers; 2.3 U on average over 3 kept layers of a small model
 * (test/train/remat-memory.test.ts). A sixth of what a layer of the whole-network gradient
 * holds, which also keeps every intermediate still waiting to run.
 */
export const KEPT_UNITS_PER_TOKEN_LAYER = 4;

/**
 * Width units per token of the rematerialised gradient's own work beside the kept layers: one
 * layer's forward and backward and every layer's kept input. Measured 14.1 U (0.30 MB per
 * token above the weights) on a BERT-base-sized model at 8 × 128 and 15.7 U at 32 × 128, 13.8 U
 * on a small one (bench/RESULTS.md, "Training memory per token"; test/train/remat-memory.test.ts).
 */
export const REMAT_WORK_UNITS_PER_TOKEN = 16;

/**
 * The activation budget of `remat: "auto"`: half the wasm engine's 4 GiB heap, the rest left to
 * weights, optimizer state and the allocator's slack. When the whole-network gradient's
 * activations fit in it, the run takes the whole-network gradient (one forward pass less: 1.5x
 * the step time with every layer rematerialised on propetl-mini at 32 x 64, measured
 * 2026-12-02); otherwise it keeps as many layers' residuals as fit and rematerialises the rest
 * (`rematPlan`).
 */
export const REMAT_AUTO_BYTES = 2 * 1024 ** 3;

/** A run's rematerialisation choice: always (every layer), never, or "auto" (`rematPlan`). */
export type RematChoice = boolean | "auto";

/**
 * How a run takes its gradient: the whole network's (`valueAndGrad`, `remat: false`), or layer
 * by layer with the top `keepLayers` layers keeping their residuals and the others
 * rematerialised (`rematValueAndGrad`'s option). The objectives take it as their options.
 */
export type RematPlan =
  | {
      /** The whole-network gradient. */
      remat: false;
    }
  | {
      /** Layer by layer. */
      remat: true;
      /** Top layers that keep their residuals; the others are rematerialised (0 … numLayers). */
      keepLayers: number;
    };

/** The whole-network gradient's estimated activation bytes for a micro-batch of `batchSize` × `seqLen` tokens. */
export function plainActivationBytes(cfg: { hiddenSize: number; intermediateSize: number; numHeads: number; numLayers: number }, batchSize: number, seqLen: number): number {
  const unit = (cfg.hiddenSize + cfg.intermediateSize + cfg.numHeads * seqLen) * 4;
  return batchSize * seqLen * cfg.numLayers * PLAIN_UNITS_PER_TOKEN_LAYER * unit;
}

/**
 * Layers whose residuals (`perLayer` bytes each) fit in `REMAT_AUTO_BYTES` beside the
 * rematerialised gradient's own work (`work` bytes: one layer's forward or backward is running
 * while the kept layers' residuals are live). At most `layers`, at least 0.
 */
function layersThatFit(perLayer: number, work: number, layers: number): number {
  const n = Math.floor((REMAT_AUTO_BYTES - work) / perLayer);
  return Math.max(0, Math.min(layers, n));
}

/**
 * Resolve a `RematChoice` for an encoder's step of `batchSize` × `seqLen` tokens: `true` is
 * every layer rematerialised (`keepLayers` 0, the least memory), `false` the whole-network
 * gradient. "auto" (and `undefined`) takes the whole-network gradient when
 * `plainActivationBytes` fits in `REMAT_AUTO_BYTES`; otherwise the gradient layer by layer,
 * keeping the residuals of as many top layers as fit in that budget beside the layer-by-layer
 * gradient's own work: with U the width unit of `plainActivationBytes` times the tokens,
 * keepLayers = ⌊(budget − `REMAT_WORK_UNITS_PER_TOKEN` U) / (`KEPT_UNITS_PER_TOKEN_LAYER` U)⌋,
 * from 0 to numLayers. For BERT-base (U = 22 MB at 8 × 128): all 12 layers at 8 × 128
 * (nothing run twice), 8 at 16 × 128, 2 at 32 × 128, none from 64 × 128.
 */
export function rematPlan(choice: RematChoice | undefined, cfg: Parameters<typeof plainActivationBytes>[0], batchSize: number, seqLen: number): RematPlan {
  if (choice === false) return { remat: false };
  if (choice === true) return { remat: true, keepLayers: 0 };
  const plain = plainActivationBytes(cfg, batchSize, seqLen);
  if (plain <= REMAT_AUTO_BYTES) return { remat: false };
  const units = plain / (cfg.numLayers * PLAIN_UNITS_PER_TOKEN_LAYER); // one width unit over the step's tokens
  return { remat: true, keepLayers: layersThatFit(KEPT_UNITS_PER_TOKEN_LAYER * units, REMAT_WORK_UNITS_PER_TOKEN * units, cfg.numLayers) };
}

/** Whether `rematPlan` rematerialises any layer: "auto" is true when `plainActivationBytes` exceeds `REMAT_AUTO_BYTES`. */
export function resolveRemat(choice: RematChoice | undefined, cfg: Parameters<typeof plainActivationBytes>[0], batchSize: number, seqLen: number): boolean {
  return rematPlan(choice, cfg, batchSize, seqLen).remat;
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

/**
 * `rematPlan` for T5, `keepLayers` counted in the backward pass's order (the decoder's blocks
 * from the top, then the encoder's: `rematEncoderDecoderValueAndGrad`). "auto" takes the
 * whole-network gradient when `t5PlainActivationBytes` fits in `REMAT_AUTO_BYTES`; otherwise it
 * keeps as many decoder blocks' residuals as fit there beside one block's work, then, if every
 * decoder block fits, encoder blocks' likewise. T5's kept blocks have not been measured, so
 * both a kept block and the work are costed at the whole-network gradient's per-block figures
 * (`T5_PLAIN_UNITS`; the work the larger of an encoder and a decoder block): far more than
 * BERT's measured kept layers (`KEPT_UNITS_PER_TOKEN_LAYER`), so it keeps fewer blocks than
 * would fit. The LM head is not counted: the rematerialised gradient runs it in chunks of
 * `HEAD_CHUNK_BYTES` of logits (train/seq2seq-remat.ts).
 */
export function t5RematPlan(choice: RematChoice | undefined, cfg: T5Widths, batchSize: number, S: number, T: number): RematPlan {
  if (choice === false) return { remat: false };
  if (choice === true) return { remat: true, keepLayers: 0 };
  if (t5PlainActivationBytes(cfg, batchSize, S, T) <= REMAT_AUTO_BYTES) return { remat: false };
  const enc = batchSize * S * T5_PLAIN_UNITS.encoder * t5EncoderUnit(cfg, S);
  const dec = batchSize * T * T5_PLAIN_UNITS.decoder * t5DecoderUnit(cfg, S, T);
  const work = Math.max(enc, dec);
  const keepDec = layersThatFit(dec, work, cfg.numDecoderLayers);
  if (keepDec < cfg.numDecoderLayers) return { remat: true, keepLayers: keepDec };
  return { remat: true, keepLayers: keepDec + layersThatFit(enc, work + keepDec * dec, cfg.numLayers) };
}

/** Whether `t5RematPlan` rematerialises any block: "auto" is true when `t5PlainActivationBytes` exceeds `REMAT_AUTO_BYTES`. */
export function resolveT5Remat(choice: RematChoice | undefined, cfg: T5Widths, batchSize: number, S: number, T: number): boolean {
  return t5RematPlan(choice, cfg, batchSize, S, T).remat;
}
