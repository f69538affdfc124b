/**
 * T5 batches: encoder ids with their padding mask, decoder input ids with theirs, and the
 * teacher-forcing labels, from host arrays to the device. Labels follow Hugging Face's
 * convention: -100 marks a position without a target; the decoder input is the labels
 * shifted right behind `decoder_start_token_id`, with -100 replaced by the pad token.
 */
import { np } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import type { T5Config } from "./config.js";

/** The label id of positions without a target (PyTorch's CrossEntropyLoss ignore_index). */
export const IGNORE_LABEL = -100;

/** float32 min: the additive bias of a masked key, as HF. */
const F32_MIN = -3.4028234663852886e38;

/** Host-side ids of a padded encoder–decoder batch (row-major [B, S] and [B, T]). */
export interface T5HostBatch {
  /** B: sequences in the batch. */
  batchSize: number;
  /** S: encoder tokens per sequence (padded). */
  encoderLength: number;
  /** Encoder token ids, [B*S]. */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** T: decoder tokens per sequence (padded). */
  decoderLength: number;
  /** Decoder input ids (the labels shifted right: `shiftRight`), [B*T]. */
  decoderInputIds: Int32Array;
  /** 1 for real decoder tokens, 0 for padding; all ones when absent (HF's default). */
  decoderAttentionMask?: Int32Array;
}

/** A batch on the device. */
export interface T5Batch {
  /** B: sequences in the batch. */
  batchSize: number;
  /** S: encoder tokens per sequence. */
  encoderLength: number;
  /** T: decoder tokens per sequence. */
  decoderLength: number;
  /** int32 [B*S] */
  inputIds: JArray;
  /** int32 [B*T] */
  decoderInputIds: JArray;
  /** float32 [B,1,1,S]: 0 for attended keys, float32 min for padding (encoder self- and cross-attention). */
  encoderMaskBias: JArray;
  /** float32 [B,1,T,T]: 0 where key t' <= query t and t' is not padding, else float32 min. */
  decoderMaskBias: JArray;
}

/** The encoder's part of a batch: all `t5Encode` reads (generation has no decoder ids up front). */
export type T5EncoderBatch = Pick<T5Batch, "batchSize" | "encoderLength" | "inputIds" | "encoderMaskBias">;

function checkIds(ids: Int32Array, cfg: T5Config, what: string): void {
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    if (id < 0 || id >= cfg.vocabSize) throw new Error(`${what}: token id ${id} at batch position ${k} is outside the vocabulary (size ${cfg.vocabSize})`);
  }
}

function checkLength(a: Int32Array, n: number, what: string, shape: string): void {
  if (a.length !== n) throw new Error(`${what} has ${a.length} entries, expected ${shape}=${n}`);
}

/** Validate host ids against the config and move a batch to the device. */
export function makeT5Batch(cfg: T5Config, b: T5HostBatch): T5Batch {
  const { batchSize: B, encoderLength: S, decoderLength: T } = b;
  checkLength(b.inputIds, B * S, "inputIds", `${B}x${S}`);
  checkLength(b.attentionMask, B * S, "attentionMask", `${B}x${S}`);
  checkLength(b.decoderInputIds, B * T, "decoderInputIds", `${B}x${T}`);
  if (b.decoderAttentionMask) checkLength(b.decoderAttentionMask, B * T, "decoderAttentionMask", `${B}x${T}`);
  checkIds(b.inputIds, cfg, "inputIds");
  checkIds(b.decoderInputIds, cfg, "decoderInputIds");
  const enc = new Float32Array(B * S);
  for (let k = 0; k < B * S; k++) enc[k] = b.attentionMask[k] ? 0 : F32_MIN;
  const dec = new Float32Array(B * T * T);
  for (let r = 0; r < B; r++) {
    for (let q = 0; q < T; q++) {
      for (let k = 0; k < T; k++) {
        const open = k <= q && (b.decoderAttentionMask === undefined || b.decoderAttentionMask[r * T + k] !== 0);
        dec[(r * T + q) * T + k] = open ? 0 : F32_MIN;
      }
    }
  }
  return {
    batchSize: B,
    encoderLength: S,
    decoderLength: T,
    inputIds: np.array(b.inputIds, { dtype: np.int32 }),
    decoderInputIds: np.array(b.decoderInputIds, { dtype: np.int32 }),
    encoderMaskBias: np.array(enc).reshape([B, 1, 1, S]),
    decoderMaskBias: np.array(dec).reshape([B, 1, T, T]),
  };
}

/** Validate host encoder ids against the config and move them to the device (`disposeT5EncoderBatch` frees them). */
export function makeT5EncoderBatch(cfg: T5Config, b: Pick<T5HostBatch, "batchSize" | "encoderLength" | "inputIds" | "attentionMask">): T5EncoderBatch {
  const { batchSize: B, encoderLength: S } = b;
  checkLength(b.inputIds, B * S, "inputIds", `${B}x${S}`);
  checkLength(b.attentionMask, B * S, "attentionMask", `${B}x${S}`);
  checkIds(b.inputIds, cfg, "inputIds");
  const enc = new Float32Array(B * S);
  for (let k = 0; k < B * S; k++) enc[k] = b.attentionMask[k] ? 0 : F32_MIN;
  return { batchSize: B, encoderLength: S, inputIds: np.array(b.inputIds, { dtype: np.int32 }), encoderMaskBias: np.array(enc).reshape([B, 1, 1, S]) };
}

/** Free an encoder batch's arrays (`makeT5EncoderBatch` allocated them). */
export function disposeT5EncoderBatch(b: T5EncoderBatch): void {
  b.inputIds.dispose();
  b.encoderMaskBias.dispose();
}

/** Free a batch's arrays (`makeT5Batch` allocated them). */
export function disposeT5Batch(b: T5Batch): void {
  b.inputIds.dispose();
  b.decoderInputIds.dispose();
  b.encoderMaskBias.dispose();
  b.decoderMaskBias.dispose();
}

/**
 * Decoder input ids from labels [B, T] (HF `T5PreTrainedModel._shift_right`): each row starts
 * with `decoder_start_token_id` and continues with the labels but the last; -100 becomes the pad token.
 */
export function shiftRight(cfg: Pick<T5Config, "padTokenId" | "decoderStartTokenId">, labels: Int32Array, batchSize: number): Int32Array {
  const T = labels.length / batchSize;
  if (!Number.isInteger(T)) throw new Error(`labels have ${labels.length} entries, not a multiple of the batch size ${batchSize}`);
  const out = new Int32Array(labels.length);
  for (let r = 0; r < batchSize; r++) {
    out[r * T] = cfg.decoderStartTokenId;
    for (let t = 1; t < T; t++) {
      const v = labels[r * T + t - 1];
      out[r * T + t] = v === IGNORE_LABEL ? cfg.padTokenId : v;
    }
  }
  return out;
}

/** Teacher-forcing targets on the device. */
export interface T5Labels {
  /** int32 [B*T]: the label, 0 where it is -100. */
  targets: JArray;
  /** float32 [B*T]: 1/n at the n labelled positions, 0 at -100 (the loss is their weighted sum). */
  weights: JArray;
}

/** Labels [B*T] (ids, or -100 for no target) to the device; at least one position must have a target. */
export function makeT5Labels(cfg: T5Config, labels: Int32Array): T5Labels {
  let n = 0;
  for (let k = 0; k < labels.length; k++) {
    const v = labels[k];
    if (v === IGNORE_LABEL) continue;
    if (v < 0 || v >= cfg.vocabSize) throw new Error(`label ${v} at batch position ${k} is outside the vocabulary (size ${cfg.vocabSize}) and is not ${IGNORE_LABEL}`);
    n++;
  }
  if (n === 0) throw new Error(`every label is ${IGNORE_LABEL}: the batch has no target to score`);
  const targets = new Int32Array(labels.length);
  const weights = new Float32Array(labels.length);
  for (let k = 0; k < labels.length; k++) {
    if (labels[k] === IGNORE_LABEL) continue;
    targets[k] = labels[k];
    weights[k] = 1 / n;
  }
  return { targets: np.array(targets, { dtype: np.int32 }), weights: np.array(weights) };
}

/** Free the labels' arrays (`makeT5Labels` allocated them). */
export function disposeT5Labels(l: T5Labels): void {
  l.targets.dispose();
  l.weights.dispose();
}
