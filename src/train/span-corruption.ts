/**
 * T5's span-corruption objective, exactly as Hugging Face's `run_t5_mlm_flax.py`
 * (`compute_input_and_target_lengths`, `FlaxDataCollatorForT5MLM`) defines it, which copies
 * T5's `random_spans_helper` / `random_spans_noise_mask`:
 *
 *   - a raw chunk of `tokensLength` tokens gets a noise mask of round(L·density) noise tokens
 *     in round(min(noise, non-noise)/meanSpan) spans (at least one), spans alternating
 *     non-noise / noise and starting with non-noise; every such mask is equally likely;
 *   - the input keeps the non-noise tokens and replaces each noise span by one sentinel; the
 *     target is each sentinel followed by the span it hid; both end with EOS;
 *   - sentinel k (k = 1, 2, ... in order of the spans) is id `len(tokenizer) - k`: the first
 *     span gets the highest id, `<extra_id_0>` in a T5 vocabulary (extra ids at the top, in
 *     reverse order); "len(tokenizer)" is `sentinelTop` here.
 *
 * Rounding is Python's (`round`, `np.round`): halves go to the even integer. Randomness comes
 * from a uint32 generator (mulberry32 in the pretraining), used for the two Fisher–Yates
 * shuffles of `_random_segmentation` (non-noise after noise, as HF draws them).
 */
import { uniformInt } from "./batching.js";

/** A span-corruption setting that cannot work (the message says which value and why). */
export class SpanCorruptionError extends Error {}

/** Python's `round(x)` to an integer: round half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function checkSetting(noiseDensity: number, meanNoiseSpanLength: number): void {
  if (!(noiseDensity > 0 && noiseDensity < 1)) throw new SpanCorruptionError(`noise density must be in (0, 1), got ${noiseDensity}`);
  if (!(meanNoiseSpanLength >= 1) || !Number.isFinite(meanNoiseSpanLength)) throw new SpanCorruptionError(`mean noise span length must be a number >= 1, got ${meanNoiseSpanLength}`);
}

/** Input and target lengths (EOS included) of a chunk of `tokensLength` raw tokens. */
export function inputAndTargetLengthsOf(tokensLength: number, noiseDensity: number, meanNoiseSpanLength: number): { inputsLength: number; targetsLength: number } {
  const noise = roundHalfEven(tokensLength * noiseDensity);
  const nonNoise = tokensLength - noise;
  const spans = roundHalfEven(noise / meanNoiseSpanLength);
  return { inputsLength: nonNoise + spans + 1, targetsLength: noise + spans + 1 };
}

/**
 * HF's `compute_input_and_target_lengths`: the longest raw chunk whose corrupted input (EOS
 * included) fits in `inputsLength` tokens, and the target length it gives. With noise density
 * 0.5 the targets are shortened by one when longer than the inputs (as HF does). For 128, 0.15,
 * 3: 141 raw tokens, 29 targets.
 */
export function computeInputAndTargetLengths(inputsLength: number, noiseDensity: number, meanNoiseSpanLength: number): {
  /** Raw tokens per chunk. */
  tokensLength: number;
  /** Target length of a corrupted chunk (EOS included). */
  targetsLength: number;
} {
  if (!Number.isInteger(inputsLength) || inputsLength < 2) throw new SpanCorruptionError(`input length must be an integer >= 2, got ${inputsLength}`);
  checkSetting(noiseDensity, meanNoiseSpanLength);
  let tokensLength = inputsLength;
  while (inputAndTargetLengthsOf(tokensLength + 1, noiseDensity, meanNoiseSpanLength).inputsLength <= inputsLength) tokensLength++;
  let { targetsLength } = inputAndTargetLengthsOf(tokensLength, noiseDensity, meanNoiseSpanLength);
  const inputs = inputAndTargetLengthsOf(tokensLength, noiseDensity, meanNoiseSpanLength).inputsLength;
  if (noiseDensity === 0.5 && targetsLength > inputs) {
    tokensLength--;
    targetsLength--;
  }
  return { tokensLength, targetsLength };
}

/** The noise-token and span counts `randomSpansNoiseMask` uses for a chunk of `length`. */
export function noiseCounts(length: number, noiseDensity: number, meanNoiseSpanLength: number): { noiseTokens: number; nonNoiseTokens: number; spans: number } {
  let noiseTokens = roundHalfEven(length * noiseDensity);
  const nonNoiseTokens = length - noiseTokens;
  noiseTokens = Math.min(Math.max(noiseTokens, 1), length - 1);
  const spans = Math.max(roundHalfEven(Math.min(noiseTokens, nonNoiseTokens) / meanNoiseSpanLength), 1);
  return { noiseTokens, nonNoiseTokens, spans };
}

/** `_random_segmentation`: `numItems` split into `numSegments` non-empty runs, uniformly. */
function randomSegmentation(numItems: number, numSegments: number, next: () => number): number[] {
  // mask[i] (i < numItems-1): a new segment starts after item i; numSegments-1 of them, shuffled.
  const starts = new Uint8Array(Math.max(numItems - 1, 0));
  starts.fill(1, 0, Math.min(numSegments - 1, starts.length));
  for (let i = starts.length - 1; i > 0; i--) {
    const j = uniformInt(next, i + 1);
    const t = starts[i];
    starts[i] = starts[j];
    starts[j] = t;
  }
  const lengths: number[] = [1];
  for (let i = 0; i < starts.length; i++) {
    if (starts[i]) lengths.push(1);
    else lengths[lengths.length - 1]++;
  }
  return lengths;
}

/**
 * `random_spans_noise_mask(length)`: 1 marks a noise token. Spans alternate non-noise, noise,
 * starting with non-noise. `next` is a uint32 generator. (In the degenerate case where the
 * clamped counts exceed `length`, HF's indexing would fail; span starts past the end are
 * ignored here, which is its `is_noise[:orig_length]` truncation.)
 */
export function randomSpansNoiseMask(length: number, noiseDensity: number, meanNoiseSpanLength: number, next: () => number): Uint8Array {
  if (!Number.isInteger(length) || length < 2) throw new SpanCorruptionError(`chunk length must be an integer >= 2, got ${length}`);
  checkSetting(noiseDensity, meanNoiseSpanLength);
  const { noiseTokens, nonNoiseTokens, spans } = noiseCounts(length, noiseDensity, meanNoiseSpanLength);
  if (spans > noiseTokens || spans > nonNoiseTokens) throw new SpanCorruptionError(`${spans} noise spans do not fit ${noiseTokens} noise and ${nonNoiseTokens} non-noise tokens (length ${length})`);
  const noiseLengths = randomSegmentation(noiseTokens, spans, next);
  const nonNoiseLengths = randomSegmentation(nonNoiseTokens, spans, next);
  const mask = new Uint8Array(length);
  let pos = 0;
  for (let s = 0; s < spans; s++) {
    pos += nonNoiseLengths[s];
    const end = Math.min(pos + noiseLengths[s], length);
    if (pos < length) mask.fill(1, pos, end);
    pos = end;
  }
  return mask;
}

/** The sentinel ids and EOS of span corruption (`filterWithSentinels`, `spanCorrupt`). */
export interface SentinelOptions {
  /** HF's `len(tokenizer)`: sentinel k (1-based) is `sentinelTop - k`. */
  sentinelTop: number;
  /** How many sentinel ids the vocabulary has (100 in T5); more spans are refused. */
  numSentinels: number;
  /** The id appended to every sequence. */
  eosTokenId: number;
}

/**
 * HF's `create_sentinel_ids` + `filter_input_ids` for one row: every run of 1s in `mask`
 * becomes one sentinel (the k-th run: `sentinelTop - k`), the tokens where `mask` is 0 are
 * kept, and EOS is appended.
 */
export function filterWithSentinels(tokens: Int32Array, mask: Uint8Array, opts: SentinelOptions): Int32Array {
  if (tokens.length !== mask.length) throw new SpanCorruptionError(`${tokens.length} tokens but a mask of ${mask.length}`);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (!mask[i]) {
      out.push(tokens[i]);
    } else if (i === 0 || !mask[i - 1]) {
      k++;
      if (k > opts.numSentinels) throw new SpanCorruptionError(`a chunk needs more than ${opts.numSentinels} sentinels; use longer spans or a shorter input`);
      out.push(opts.sentinelTop - k);
    }
  }
  out.push(opts.eosTokenId);
  return Int32Array.from(out);
}

/** A corrupted chunk: encoder input and decoder target, both ending with EOS. */
export interface SpanCorrupted {
  /** Encoder input: the kept tokens, a sentinel for each noise span, EOS. */
  inputs: Int32Array;
  /** Decoder target: each noise span after its sentinel, EOS. */
  targets: Int32Array;
}

/** Corrupt one chunk with a fresh random mask (HF's collator for one row). */
export function spanCorrupt(tokens: Int32Array, noiseDensity: number, meanNoiseSpanLength: number, next: () => number, opts: SentinelOptions): SpanCorrupted {
  const mask = randomSpansNoiseMask(tokens.length, noiseDensity, meanNoiseSpanLength, next);
  const inverse = mask.map((m) => 1 - m);
  return { inputs: filterWithSentinels(tokens, mask, opts), targets: filterWithSentinels(tokens, inverse, opts) };
}
