/**
 * ROUGE-N and ROUGE-L as Google's `rouge-score` package (`rouge_scorer.RougeScorer`) computes
 * them, for summarization (the paper reports XSum ROUGE-2).
 *
 * Tokenization (rouge-score's default tokenizer): lowercase the text, turn every run of
 * characters other than a-z and 0-9 into one space (so every non-ASCII letter separates
 * words: "café" gives "caf"), split on whitespace; with the stemmer, Porter-stem
 * (NLTK_EXTENSIONS, porter-stemmer.ts) each token longer than 3 characters; keep only the
 * non-empty tokens of [a-z0-9]+.
 *
 * Scores per (prediction, reference) pair, as rouge-score's `score(target, prediction)`:
 * - ROUGE-N: clipped n-gram overlap `o` (each reference n-gram counted at most as often as it
 *   occurs in the prediction); precision `o / max(prediction n-grams, 1)`, recall
 *   `o / max(reference n-grams, 1)`.
 * - ROUGE-L: the longest common subsequence of the two token lists; precision `lcs / prediction
 *   tokens`, recall `lcs / reference tokens`; all three 0 when either has no token. (Not
 *   rougeLsum, the summary-level variant over newline-separated sentences.)
 * - F-measure `2·p·r / (p + r)`, 0 when p + r = 0.
 * An empty prediction or reference (or one with no a-z/0-9 character) is valid and scores 0.
 *
 * The corpus score is the mean of the per-pair precision, recall and F-measure. (rouge-score's
 * BootstrapAggregator reports as "mid" the median of 1000 bootstrap means, a random estimate
 * of this mean; Hugging Face `evaluate`'s rouge reports that mid F-measure by default.)
 *
 * All scores are fractions in [0, 1].
 */
import { porterStem } from "./porter-stemmer.js";
import { checkText, checkTexts } from "./validate.js";

/** ROUGE-1 ... ROUGE-9 (n-gram overlap) and ROUGE-L (longest common subsequence). */
export type RougeType = "rouge1" | "rouge2" | "rouge3" | "rouge4" | "rouge5" | "rouge6" | "rouge7" | "rouge8" | "rouge9" | "rougeL";

export const ROUGE_TYPES: readonly RougeType[] = ["rouge1", "rouge2", "rouge3", "rouge4", "rouge5", "rouge6", "rouge7", "rouge8", "rouge9", "rougeL"];

/** One ROUGE score, each part a fraction in [0, 1]. */
export interface RougeScore {
  /** Matched units over the prediction's units. */
  precision: number;
  /** Matched units over the reference's units. */
  recall: number;
  /** F1 of precision and recall. */
  fmeasure: number;
}

/** Options of `rouge` and `rougePair`. */
export interface RougeOptions {
  /**
   * Porter-stem tokens longer than 3 characters (rouge-score's `use_stemmer`). Default true,
   * as summarization papers and Hugging Face's run_summarization use it; rouge-score's own
   * RougeScorer defaults to false, so pass `useStemmer: false` to match a plain
   * `RougeScorer([...])`.
   */
  useStemmer?: boolean;
}

export function isRougeType(name: string): name is RougeType {
  return (ROUGE_TYPES as readonly string[]).includes(name);
}

function checkRougeTypes(fn: string, types: readonly string[]): readonly RougeType[] {
  if (!Array.isArray(types) || types.length === 0) throw new RangeError(`${fn}: no ROUGE types given (known: ${ROUGE_TYPES.join(", ")})`);
  for (const t of types) {
    if (typeof t !== "string" || !isRougeType(t)) {
      throw new RangeError(`${fn}: unknown ROUGE type ${JSON.stringify(t)} (known: ${ROUGE_TYPES.join(", ")}; rougeLsum is not implemented)`);
    }
  }
  return types as readonly RougeType[];
}

/** Tokens of `text` as rouge-score's default tokenizer makes them (see the module comment). */
export function rougeTokenize(text: string, options: RougeOptions = {}): string[] {
  if (typeof text !== "string") throw new TypeError(`rougeTokenize: text is not a string (${text === null ? "null" : typeof text})`);
  return tokenize(text, options.useStemmer ?? true, undefined);
}

function tokenize(text: string, useStemmer: boolean, cache: Map<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().replace(/[^a-z0-9]+/g, " ").split(" ")) {
    if (raw === "") continue;
    let token = raw;
    if (useStemmer && raw.length > 3) {
      const cached = cache?.get(raw);
      if (cached !== undefined) token = cached;
      else {
        token = porterStem(raw);
        cache?.set(raw, token);
      }
    }
    // rouge-score's last filter; a stem of an [a-z0-9]+ token is never empty, so it only
    // guards the invariant.
    if (/^[a-z0-9]+$/.test(token)) out.push(token);
  }
  return out;
}

function fmeasure(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    // Tokens never contain a space, so the joined key identifies the n-gram.
    const key = tokens.slice(i, i + n).join(" ");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function scoreNgrams(reference: readonly string[], prediction: readonly string[], n: number): RougeScore {
  const ref = ngramCounts(reference, n);
  const pred = ngramCounts(prediction, n);
  let overlap = 0;
  for (const [gram, count] of ref) overlap += Math.min(count, pred.get(gram) ?? 0);
  const refTotal = Math.max(reference.length - n + 1, 0);
  const predTotal = Math.max(prediction.length - n + 1, 0);
  const precision = overlap / Math.max(predTotal, 1);
  const recall = overlap / Math.max(refTotal, 1);
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

/** Length of the longest common subsequence of two sequences (dynamic programming, two rows). */
export function lcsLength<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = ai === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function scoreLcs(reference: readonly string[], prediction: readonly string[]): RougeScore {
  if (reference.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(reference, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / reference.length;
  return { precision, recall, fmeasure: fmeasure(precision, recall) };
}

function scoreTokens(type: RougeType, reference: readonly string[], prediction: readonly string[]): RougeScore {
  return type === "rougeL" ? scoreLcs(reference, prediction) : scoreNgrams(reference, prediction, Number(type.slice(5)));
}

/**
 * ROUGE scores of one prediction against its reference, one entry per requested type:
 * rouge-score's `RougeScorer(types, use_stemmer).score(reference, prediction)` (note its
 * argument order: target first).
 */
export function rougePair(prediction: string, reference: string, types: readonly RougeType[] = ["rouge1", "rouge2", "rougeL"], options: RougeOptions = {}): Partial<Record<RougeType, RougeScore>> {
  const checked = checkRougeTypes("rougePair", types);
  checkText("rougePair", prediction, "prediction");
  checkText("rougePair", reference, "reference");
  const useStemmer = options.useStemmer ?? true;
  const pred = tokenize(prediction, useStemmer, undefined);
  const ref = tokenize(reference, useStemmer, undefined);
  const out: Partial<Record<RougeType, RougeScore>> = {};
  for (const t of checked) out[t] = scoreTokens(t, ref, pred);
  return out;
}

/** What `rouge` returns: the corpus means and the per-pair scores. */
export interface RougeCorpusResult {
  /** Mean precision, recall and F-measure over the pairs, per requested type. */
  scores: Partial<Record<RougeType, RougeScore>>;
  /** Per-pair scores, per type, in input order. */
  pairs: Partial<Record<RougeType, RougeScore[]>>;
}

/**
 * ROUGE over a corpus of (prediction, reference) pairs: per-pair scores and their means (see
 * the module comment). `predictions` and `references` must be equally long, non-empty arrays
 * of strings; anything else throws an error naming the argument and the entry.
 */
export function rouge(predictions: readonly string[], references: readonly string[], types: readonly RougeType[] = ["rouge1", "rouge2", "rougeL"], options: RougeOptions = {}): RougeCorpusResult {
  const checked = checkRougeTypes("rouge", types);
  const n = checkTexts("rouge", predictions, "predictions", references, "references");
  const useStemmer = options.useStemmer ?? true;
  const cache = new Map<string, string>();
  const pairs: Partial<Record<RougeType, RougeScore[]>> = {};
  for (const t of checked) pairs[t] = [];
  for (let i = 0; i < n; i++) {
    const pred = tokenize(predictions[i], useStemmer, cache);
    const ref = tokenize(references[i], useStemmer, cache);
    for (const t of checked) (pairs[t] as RougeScore[]).push(scoreTokens(t, ref, pred));
  }
  const scores: Partial<Record<RougeType, RougeScore>> = {};
  for (const t of checked) {
    const list = pairs[t] as RougeScore[];
    let p = 0;
    let r = 0;
    let f = 0;
    for (const s of list) {
      p += s.precision;
      r += s.recall;
      f += s.fmeasure;
    }
    scores[t] = { precision: p / n, recall: r / n, fmeasure: f / n };
  }
  return { scores, pairs };
}
