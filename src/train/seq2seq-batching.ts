/**
 * From (source, target) text pairs to padded encoder–decoder host batches, as Hugging Face's
 * `DataCollatorForSeq2Seq` builds them for T5:
 *   - the source is the task prefix plus the text, encoded with the tokenizer's template (T5:
 *     EOS appended) and truncated to `maxSourceLength` tokens including EOS;
 *   - the target is encoded the same way (EOS appended) and truncated to `maxTargetLength`;
 *   - a batch is padded to its longest source and longest target; label padding is -100
 *     (ignored by the loss), the decoder input is the labels shifted right behind
 *     `decoder_start_token_id` (`shiftRight`).
 *
 * Truncation is counted, not silent: `encodePairs` returns how many sources and targets were
 * cut so that callers can say so. An empty target is an error (nothing to learn or score).
 */
import type { Tokenizer } from "../data/tokenizer.js";
import { IGNORE_LABEL, shiftRight } from "../models/t5/batch.js";
import type { T5HostBatch } from "../models/t5/batch.js";
import type { T5Config } from "../models/t5/config.js";

/** One text-to-text example. */
export interface TextPair {
  source: string;
  target: string;
}

/** One tokenized pair. */
export interface EncodedPair {
  /** Source ids with the template's special tokens (T5: EOS last). */
  inputIds: Int32Array;
  /** Target ids with EOS: the teacher-forcing labels. */
  labels: Int32Array;
  /** Position in the pair list (outputs are returned in this order). */
  index: number;
}

export interface EncodePairsOptions {
  /** Longest source in tokens, special tokens included. */
  maxSourceLength: number;
  /** Longest target in tokens, EOS included. */
  maxTargetLength: number;
  /** Prepended to every source (T5 task prefix, e.g. "translate Spanish to English: "). */
  prefix?: string;
  /** Where the pairs come from, for error messages (e.g. "bible-es-en train"). */
  what?: string;
}

export interface EncodedPairs {
  pairs: EncodedPair[];
  /** Sources / targets cut to the maximum length. */
  truncatedSources: number;
  truncatedTargets: number;
}

function checkMax(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`${name} must be an integer >= 2 (room for a token and EOS), got ${n}`);
}

/** Tokenize pairs once. */
export function encodePairs(tokenizer: Tokenizer, pairs: readonly TextPair[], opts: EncodePairsOptions): EncodedPairs {
  checkMax(opts.maxSourceLength, "maxSourceLength");
  checkMax(opts.maxTargetLength, "maxTargetLength");
  const prefix = opts.prefix ?? "";
  const what = opts.what ?? "pairs";
  let truncatedSources = 0;
  let truncatedTargets = 0;
  const out = pairs.map((p, index): EncodedPair => {
    if (p.target.trim() === "") throw new Error(`${what}: example ${index + 1} has an empty target`);
    const full = tokenizer.encode(prefix + p.source, undefined, { maxLength: Infinity }).inputIds;
    const source = full.length > opts.maxSourceLength ? tokenizer.encode(prefix + p.source, undefined, { maxLength: opts.maxSourceLength }).inputIds : full;
    if (source !== full) truncatedSources++;
    const fullTarget = tokenizer.encode(p.target, undefined, { maxLength: Infinity }).inputIds;
    const target = fullTarget.length > opts.maxTargetLength ? tokenizer.encode(p.target, undefined, { maxLength: opts.maxTargetLength }).inputIds : fullTarget;
    if (target !== fullTarget) truncatedTargets++;
    return { inputIds: Int32Array.from(source), labels: Int32Array.from(target), index };
  });
  return { pairs: out, truncatedSources, truncatedTargets };
}

/** A padded encoder–decoder batch with its labels and the pairs' positions. */
export interface Seq2seqHostBatch {
  host: T5HostBatch;
  /** [B*T] label ids, -100 at padding. */
  labels: Int32Array;
  /** `EncodedPair.index` of each row. */
  indices: number[];
}

/** Pad `items` to their longest source and longest target. */
export function padPairs(cfg: Pick<T5Config, "padTokenId" | "decoderStartTokenId">, items: readonly EncodedPair[]): Seq2seqHostBatch {
  if (items.length === 0) throw new RangeError("padPairs: empty batch");
  const B = items.length;
  let S = 0;
  let T = 0;
  for (const it of items) {
    S = Math.max(S, it.inputIds.length);
    T = Math.max(T, it.labels.length);
  }
  const inputIds = new Int32Array(B * S).fill(cfg.padTokenId);
  const attentionMask = new Int32Array(B * S);
  const labels = new Int32Array(B * T).fill(IGNORE_LABEL);
  items.forEach((it, b) => {
    inputIds.set(it.inputIds, b * S);
    attentionMask.fill(1, b * S, b * S + it.inputIds.length);
    labels.set(it.labels, b * T);
  });
  const decoderInputIds = shiftRight(cfg, labels, B);
  return {
    host: { batchSize: B, encoderLength: S, inputIds, attentionMask, decoderLength: T, decoderInputIds },
    labels,
    indices: items.map((it) => it.index),
  };
}
