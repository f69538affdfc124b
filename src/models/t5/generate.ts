/**
 * Text generation with T5: greedy search and beam search over the incremental decoder
 * (decode-cache.ts), with Hugging Face transformers' semantics (v4.40 `generate` with
 * `num_beams` 1 → `_greedy_search`, > 1 → `_beam_search` + `BeamSearchScorer`; no logits
 * processors, as for T5's generation config):
 *
 *   - Every input's decoder starts from `decoder_start_token_id`; at most `maxNewTokens`
 *     tokens follow (HF's `max_new_tokens`; `max_length` = 1 + maxNewTokens).
 *   - Greedy: the argmax of the logits (the first on ties); a row that emitted EOS continues
 *     with pad tokens until every row has finished or the length is reached.
 *   - Beam search: beam b of input i carries the float32 sum of its tokens' log-softmax
 *     scores (beams 1.. start at -1e9 so that the first step expands beam 0 only). Each step
 *     takes the top max(2, 1 + #eos)·num_beams of beam score + log-prob over all beams ×
 *     vocabulary; walking them best first, an EOS candidate among the first num_beams ranks
 *     closes a hypothesis (its tokens without EOS, scored sum_logprobs / generated_len **
 *     length_penalty, generated_len counting the EOS and not the start token), any other
 *     candidate continues as the next beam until num_beams are chosen. An input keeps the
 *     num_beams best hypotheses; it is done when it has num_beams and, with early_stopping
 *     true, at once; false, when the best candidate's sum / (cur_len − 1) ** length_penalty
 *     cannot beat the worst kept one; "never", the same against the longest possible length
 *     when length_penalty > 0. Done inputs feed pad tokens. At the length limit every open
 *     beam becomes a hypothesis (generated_len = maxNewTokens) and the best one is returned,
 *     followed by EOS when it ended by EOS.
 *
 * Results are per input: the generated ids without the start token, up to and including the
 * EOS when one ended it (HF's padded output rows without their padding).
 *
 * `hooks` are called at every step and, for beam search, see B·num_beams rows (each input
 * repeated num_beams times, as HF expands the inputs): use batch-independent hooks such as
 * materialised modules (`materializedHooks`, `checkpointHooks`).
 *
 * Memory: the encoder runs block by block (`t5EncodeAsync`: one block's intermediates at a
 * time), and so does every decoding step (`t5DecodeStepAsync`: one block's intermediates,
 * cache update and pending beam reorder at a time); the live-array count is the same after
 * every step (the cache's arrays are replaced, not accumulated), the live bytes grow by the
 * self-attention cache's new position alone; `onStep` lets a caller watch it. Host work per step is O(rows ·
 * vocab) for the scores.
 */
import { blockUntilReady, np, nn } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import type { ModelHooks } from "../hooks.js";
import { disposeT5EncoderBatch, makeT5EncoderBatch } from "./batch.js";
import type { T5Config } from "./config.js";
import { disposeT5DecoderCache, reorderT5DecoderCache, startT5Decoding, t5DecodeStepAsync } from "./decode-cache.js";
import type { T5DecoderCache } from "./decode-cache.js";
import { t5EncodeAsync, t5LmLogits } from "./model.js";
import type { T5Params } from "./params.js";

/** The encoder inputs: a padded batch of token ids, row-major [B, S]. */
export interface T5GenerateSource {
  /** B: inputs in the batch. */
  batchSize: number;
  /** S: tokens per input (padded). */
  encoderLength: number;
  /** Token ids, [B*S]. */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
}

/** Options of `t5Generate`; the defaults are those of HF's `generate`. */
export interface T5GenerateOptions {
  /** The most tokens to generate per input (EOS included), ≥ 1. */
  maxNewTokens: number;
  /** 1: greedy search (default); more: beam search. */
  numBeams?: number;
  /** Beam search: hypotheses score sum_logprobs / generated_len ** lengthPenalty (default 1.0). */
  lengthPenalty?: number;
  /** Beam search: HF's `early_stopping` (default false). */
  earlyStopping?: boolean | "never";
  /** The token(s) that end a sequence (default the config's eos_token_id); null: none, run to maxNewTokens. */
  eosTokenId?: number | readonly number[] | null;
  /** Fed to finished rows (default the config's pad_token_id). */
  padTokenId?: number;
  /** The decoder's first input (default the config's decoder_start_token_id). */
  decoderStartTokenId?: number;
  /** Called after each decoding step with the step index (0-based): progress, memory checks. */
  onStep?: (step: number) => void;
}

/** What `t5Generate` returns. */
export interface T5GenerateResult {
  /** Per input: generated ids without the start token, up to and including EOS. */
  sequences: number[][];
}

interface Resolved {
  maxNewTokens: number;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | "never";
  eos: number[];
  pad: number;
  start: number;
  onStep: (step: number) => void;
}

function checkTokenId(cfg: T5Config, id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize) throw new Error(`t5Generate: ${what} ${id} is not a token id of the model (0..${cfg.vocabSize - 1})`);
  return id;
}

function resolveOptions(cfg: T5Config, o: T5GenerateOptions): Resolved {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) throw new Error(`t5Generate: maxNewTokens must be an integer ≥ 1, got ${o.maxNewTokens}`);
  const numBeams = o.numBeams ?? 1;
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new Error(`t5Generate: numBeams must be an integer ≥ 1, got ${numBeams}`);
  const lengthPenalty = o.lengthPenalty ?? 1.0;
  if (!Number.isFinite(lengthPenalty)) throw new Error(`t5Generate: lengthPenalty must be a finite number, got ${lengthPenalty}`);
  const earlyStopping = o.earlyStopping ?? false;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== "never") throw new Error(`t5Generate: earlyStopping must be true, false or "never", got ${JSON.stringify(earlyStopping)}`);
  const eosOpt = o.eosTokenId === undefined ? cfg.eosTokenId : o.eosTokenId;
  const eos = eosOpt === null ? [] : typeof eosOpt === "number" ? [eosOpt] : [...eosOpt];
  eos.forEach((id) => checkTokenId(cfg, id, "eosTokenId"));
  const pad = checkTokenId(cfg, o.padTokenId ?? cfg.padTokenId, "padTokenId");
  const start = checkTokenId(cfg, o.decoderStartTokenId ?? cfg.decoderStartTokenId, "decoderStartTokenId");
  if (numBeams * cfg.vocabSize < Math.max(2, 1 + eos.length) * numBeams) throw new Error(`t5Generate: a vocabulary of ${cfg.vocabSize} is too small for beam search`);
  return { maxNewTokens: o.maxNewTokens, numBeams, lengthPenalty, earlyStopping, eos, pad, start, onStep: o.onStep ?? (() => {}) };
}

/** Each row of [B, ...] (consumed) repeated n times in place: row i·n + j is row i. */
function repeatRows(x: JArray, n: number): JArray {
  if (n === 1) return x;
  const B = x.shape[0];
  const idx = np.array(Int32Array.from({ length: B * n }, (_, r) => Math.floor(r / n)), { dtype: np.int32 });
  return np.take(x, idx, 0);
}

/**
 * Generate from a padded batch of inputs. `params` and `hooks` are borrowed; `hooks` may be
 * undefined (the plain backbone).
 */
export async function t5Generate(cfg: T5Config, params: T5Params, hooks: ModelHooks | undefined, source: T5GenerateSource, opts: T5GenerateOptions): Promise<T5GenerateResult> {
  const o = resolveOptions(cfg, opts);
  if (!Number.isInteger(source.batchSize) || source.batchSize < 1) throw new Error(`t5Generate: batchSize must be an integer ≥ 1, got ${source.batchSize}`);
  if (!Number.isInteger(source.encoderLength) || source.encoderLength < 1) throw new Error(`t5Generate: encoderLength must be an integer ≥ 1, got ${source.encoderLength}`);
  const enc = makeT5EncoderBatch(cfg, source);
  let cache: T5DecoderCache;
  try {
    const states = repeatRows(await t5EncodeAsync(cfg, params, enc, hooks), o.numBeams);
    const mask = repeatRows(enc.encoderMaskBias.ref, o.numBeams);
    try {
      cache = startT5Decoding(cfg, params, states, mask, hooks);
    } finally {
      mask.dispose();
    }
  } finally {
    disposeT5EncoderBatch(enc);
  }
  try {
    return o.numBeams === 1 ? await greedy(cfg, params, cache, source.batchSize, o) : await beamSearch(cfg, params, cache, source.batchSize, o);
  } finally {
    disposeT5DecoderCache(cache);
  }
}

/** HF `_greedy_search`: argmax per row; finished rows feed pad tokens. */
async function greedy(cfg: T5Config, p: T5Params, cache: T5DecoderCache, B: number, o: Resolved): Promise<T5GenerateResult> {
  const sequences: number[][] = Array.from({ length: B }, () => []);
  const finished = new Array<boolean>(B).fill(false);
  let tokens = new Int32Array(B).fill(o.start);
  for (let step = 0; step < o.maxNewTokens; step++) {
    const logits = t5LmLogits(cfg, p, await t5DecodeStepAsync(cfg, p, cache, tokens));
    const best = (await np.argmax(logits.reshape([B, cfg.vocabSize]), 1).data()) as Int32Array;
    tokens = new Int32Array(B);
    for (let r = 0; r < B; r++) {
      if (finished[r]) {
        tokens[r] = o.pad;
        continue;
      }
      tokens[r] = best[r];
      sequences[r].push(best[r]);
      if (o.eos.includes(best[r])) finished[r] = true;
    }
    o.onStep(step);
    if (finished.every((f) => f)) break;
  }
  return { sequences };
}

/** One input's finished hypotheses (HF `BeamHypotheses`): the num_beams best by score. */
class Hypotheses {
  /** [score, tokens (generated, incl. a closing EOS)] in insertion order. */
  readonly beams: { score: number; tokens: number[] }[] = [];
  worstScore = 1e9;
  constructor(private readonly o: Resolved) {}

  add(tokens: number[], sumLogprobs: number, generatedLength: number): void {
    const score = sumLogprobs / generatedLength ** this.o.lengthPenalty;
    if (this.beams.length < this.o.numBeams || score > this.worstScore) {
      this.beams.push({ score, tokens });
      if (this.beams.length > this.o.numBeams) {
        // Python's sorted([(s, idx)]): the lowest score, the earliest on ties, goes.
        const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(order[0][1], 1);
        this.worstScore = order[1][0];
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  /** `curLength` counts the decoder start token (HF's cur_len; the prompt length is 1). */
  isDone(bestSumLogprobs: number, curLength: number): boolean {
    if (this.beams.length < this.o.numBeams) return false;
    if (this.o.earlyStopping === true) return true;
    const length = this.o.earlyStopping === "never" && this.o.lengthPenalty > 0 ? this.o.maxNewTokens : curLength - 1;
    return this.worstScore >= bestSumLogprobs / length ** this.o.lengthPenalty;
  }

  /** The best hypothesis (Python's stable sort then pop: the latest added among equal scores). */
  best(): number[] {
    let best = this.beams[0];
    for (const b of this.beams) if (b.score >= best.score) best = b;
    return best.tokens;
  }
}

/** The indices of the k largest of `scores` (descending; lower index first on ties). */
function topK(scores: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (idx.length === k && !(s > scores[idx[k - 1]])) continue;
    let pos = idx.length === k ? k - 1 : idx.length;
    if (idx.length < k) idx.push(i);
    while (pos > 0 && s > scores[idx[pos - 1]]) {
      idx[pos] = idx[pos - 1];
      pos--;
    }
    idx[pos] = i;
  }
  return idx;
}

/** HF `_beam_search` with `BeamSearchScorer` (see the file comment). */
async function beamSearch(cfg: T5Config, p: T5Params, cache: T5DecoderCache, B: number, o: Resolved): Promise<T5GenerateResult> {
  const nb = o.numBeams;
  const V = cfg.vocabSize;
  const rows = B * nb;
  const k = Math.max(2, 1 + o.eos.length) * nb;
  let beamScores = new Float32Array(rows);
  for (let r = 0; r < rows; r++) beamScores[r] = r % nb === 0 ? 0 : -1e9;
  let histories: number[][] = Array.from({ length: rows }, () => []);
  let tokens = new Int32Array(rows).fill(o.start);
  const hyps = Array.from({ length: B }, () => new Hypotheses(o));
  const done = new Array<boolean>(B).fill(false);
  const candidates = new Float32Array(nb * V);
  for (let step = 0; step < o.maxNewTokens; step++) {
    const curLength = step + 2; // start token + the tokens so far + this one
    const logits = t5LmLogits(cfg, p, await t5DecodeStepAsync(cfg, p, cache, tokens)).reshape([rows, V]);
    const logp = (await nn.logSoftmax(logits, -1).data()) as Float32Array;
    const nextScores = new Float32Array(rows);
    const nextTokens = new Int32Array(rows);
    const nextRows = new Int32Array(rows);
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        for (let j = 0; j < nb; j++) {
          nextTokens[b * nb + j] = o.pad;
          nextRows[b * nb + j] = b * nb + j;
        }
        continue;
      }
      for (let j = 0; j < nb; j++) {
        const r = b * nb + j;
        const s = beamScores[r];
        for (let v = 0; v < V; v++) candidates[j * V + v] = logp[r * V + v] + s;
      }
      const top = topK(candidates, k);
      let chosen = 0;
      for (let rank = 0; rank < top.length && chosen < nb; rank++) {
        const flat = top[rank];
        const row = b * nb + Math.floor(flat / V);
        const token = flat % V;
        const score = candidates[flat];
        if (o.eos.includes(token)) {
          if (rank >= nb) continue;
          hyps[b].add([...histories[row], token], score, curLength - 1);
        } else {
          nextScores[b * nb + chosen] = score;
          nextTokens[b * nb + chosen] = token;
          nextRows[b * nb + chosen] = row;
          chosen++;
        }
      }
      if (chosen < nb) throw new Error(`t5Generate: beam search found ${chosen} continuations for ${nb} beams (at most ${k - nb} candidates may end in EOS)`);
      done[b] = hyps[b].isDone(candidates[top[0]], curLength);
    }
    reorderT5DecoderCache(cache, nextRows, "self");
    // Run the reorder now: until it runs, the old and the reordered cache are both held.
    await blockUntilReady(cache.self.flatMap((c) => (c.key !== null && c.value !== null ? [c.key, c.value] : [])) as never);
    histories = Array.from({ length: rows }, (_, r) => [...histories[nextRows[r]], nextTokens[r]]);
    beamScores = nextScores;
    tokens = nextTokens;
    o.onStep(step);
    if (done.every((d) => d)) break;
  }
  // The length limit: every open beam of an unfinished input becomes a hypothesis.
  for (let b = 0; b < B; b++) {
    if (done[b]) continue;
    for (let j = 0; j < nb; j++) {
      const r = b * nb + j;
      hyps[b].add(histories[r], beamScores[r], histories[r].length);
    }
  }
  return { sequences: hyps.map((h) => h.best()) };
}
