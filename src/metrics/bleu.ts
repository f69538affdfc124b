/**
 * BLEU as sacreBLEU (2.x) computes it, for translation (the paper reports WMT16 Ro-En BLEU).
 *
 * Defaults are sacreBLEU's `corpus_bleu` / `BLEU()`: the 13a tokenizer (mteval-v13a), mixed
 * case, n-grams up to 4, "exp" smoothing (NIST's: the k-th n-gram order with no match counts
 * 1 / (2^k · total) instead of 0), no effective order. `sentenceBleu` uses `sentence_bleu`'s
 * defaults, which differ in one point: effective order on (only the n-gram orders that the
 * hypothesis has are averaged).
 *
 * Per segment: the hypothesis and each reference are lowercased (option), right-stripped of
 * whitespace and tokenized; the hypothesis n-gram counts are clipped by the largest count of
 * that n-gram in any one reference; the reference length is the one closest to the hypothesis
 * length (the shorter on a tie). Corpus statistics are the sums over segments; the score is
 * `BP · exp(mean over orders of log p_n)` with the precisions p_n in percent and the brevity
 * penalty `BP = exp(1 - ref_len / hyp_len)` when the hypotheses are shorter (0 when they are
 * empty), else 1. A corpus with no matching n-gram at all scores 0. Scores are in 0-100.
 *
 * Whitespace is Python's (`str.split`, `str.rstrip`): the Unicode spaces plus U+001C-U+001F and
 * U+0085, without U+FEFF; `lowercase` uses `toLowerCase` (Python's `str.lower` up to
 * Unicode-version differences).
 */
import { checkText, checkTextList, describeType } from "./validate.js";

/** Tokenizers: "13a" (sacreBLEU's default), "none" (split on whitespace only), "char" (characters). */
export type BleuTokenizer = "13a" | "none" | "char";
/** sacreBLEU's smoothing methods (Chen & Cherry 2014): "exp" (sacreBLEU's default), "floor", "add-k", or none. */
export type BleuSmoothMethod = "exp" | "floor" | "add-k" | "none";

export const BLEU_TOKENIZERS: readonly BleuTokenizer[] = ["13a", "none", "char"];
export const BLEU_SMOOTH_METHODS: readonly BleuSmoothMethod[] = ["exp", "floor", "add-k", "none"];

/** sacreBLEU's default values of `smooth_value` (Chen & Cherry 2014). */
const SMOOTH_DEFAULTS: Readonly<Record<BleuSmoothMethod, number | undefined>> = { exp: undefined, floor: 0.1, "add-k": 1, none: undefined };

/** Options of `corpusBleu` and `sentenceBleu`, named after sacreBLEU's. */
export interface BleuOptions {
  /** Default "13a". */
  tokenize?: BleuTokenizer;
  /** Lowercase hypotheses and references first (sacreBLEU `lowercase`, `-lc`). Default false. */
  lowercase?: boolean;
  /** Default "exp". */
  smoothMethod?: BleuSmoothMethod;
  /** The value of "floor" (default 0.1) and "add-k" (default 1); unused by "exp" and "none". */
  smoothValue?: number;
  /** Largest n-gram order (default 4). */
  maxNgramOrder?: number;
  /** Average only the orders up to the last with a non-zero total (corpus default false, sentence default true). */
  effectiveOrder?: boolean;
}

/** Sufficient statistics: matched and total n-grams per order (index 0 = unigrams), lengths. */
export interface BleuStatistics {
  /** Matched (clipped) n-grams per order. */
  correct: number[];
  /** Hypothesis n-grams per order. */
  total: number[];
  /** Hypothesis length in tokens. */
  sysLen: number;
  /** Reference length in tokens (the closest reference's, per sentence). */
  refLen: number;
}

/** A BLEU score with its parts, as sacreBLEU's `BLEUScore` reports them. */
export interface BleuResult {
  /** BLEU in 0-100. */
  score: number;
  /** Matched n-grams per order (after add-k smoothing when that is used, as sacreBLEU reports them). */
  counts: number[];
  /** Hypothesis n-grams per order (likewise). */
  totals: number[];
  /** n-gram precisions in percent (smoothed; 0 for orders not used). */
  precisions: number[];
  /** Brevity penalty. */
  bp: number;
  /** Hypothesis tokens (all segments). */
  sysLen: number;
  /** Reference tokens, the closest reference of each segment. */
  refLen: number;
  /** sysLen / refLen (0 when refLen is 0). */
  ratio: number;
}

// Python's str.isspace() characters.
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1C-\\x20\\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
const SPACES = new RegExp(`[${PY_SPACE}]+`, "u");
const TRAILING_SPACES = new RegExp(`[${PY_SPACE}]+$`, "u");

/** Python's `str.split()`: the non-empty runs between whitespace. */
function splitWords(s: string): string[] {
  return s.split(SPACES).filter((w) => w !== "");
}

// mteval-v13a's language-dependent rules (sacreBLEU tokenizer_re.py), in order.
const RE_SYMBOLS = /([\x7B-\x7E\x5B-\x60\x20-\x26\x28-\x2B\x3A-\x40\x2F])/gu; // { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
const RE_PERIOD_COMMA_AFTER = /([^0-9])([.,])/gu; // period and comma unless preceded by a digit
const RE_PERIOD_COMMA_BEFORE = /([.,])([^0-9])/gu; // period and comma unless followed by a digit
const RE_DASH_AFTER_DIGIT = /([0-9])(-)/gu;

/**
 * sacreBLEU's 13a tokenizer (mteval-v13a): drop "<skipped>" and "-\n", newlines become
 * spaces, unescape &quot; &amp; &lt; &gt; (in that order), then split off punctuation and
 * symbols: every ASCII symbol but the apostrophe, hyphen, period and comma; a period or comma
 * unless it sits between digits; a hyphen after a digit. Tokens are joined by single spaces.
 */
export function tokenize13a(line: string): string {
  checkText("tokenize13a", line, "line");
  let s = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (s.includes("&")) s = s.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  s = ` ${s} `;
  s = s.replace(RE_SYMBOLS, " $1 ");
  s = s.replace(RE_PERIOD_COMMA_AFTER, "$1 $2 ");
  s = s.replace(RE_PERIOD_COMMA_BEFORE, " $1 $2");
  s = s.replace(RE_DASH_AFTER_DIGIT, "$1 $2 ");
  return splitWords(s).join(" ");
}

/** A segment as sacreBLEU preprocesses it: lowercased (option), right-stripped, tokenized. */
export function bleuTokenize(line: string, options: Pick<BleuOptions, "tokenize" | "lowercase"> = {}): string {
  checkText("bleuTokenize", line, "line");
  const o = resolveOptions("bleuTokenize", options, false);
  return preprocess(line, o);
}

function preprocess(line: string, o: Resolved): string {
  let s = o.lowercase ? line.toLowerCase() : line;
  s = s.replace(TRAILING_SPACES, "");
  if (o.tokenize === "13a") return tokenize13a(s);
  if (o.tokenize === "char") return Array.from(s).join(" ");
  return s;
}

interface Resolved {
  tokenize: BleuTokenizer;
  lowercase: boolean;
  smoothMethod: BleuSmoothMethod;
  smoothValue: number | undefined;
  maxNgramOrder: number;
  effectiveOrder: boolean;
}

function resolveOptions(fn: string, options: BleuOptions, effectiveOrderDefault: boolean): Resolved {
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options is not an object (${describeType(options)})`);
  const tokenize = options.tokenize ?? "13a";
  if (!BLEU_TOKENIZERS.includes(tokenize)) throw new RangeError(`${fn}: unknown tokenizer ${JSON.stringify(tokenize)} (known: ${BLEU_TOKENIZERS.join(", ")})`);
  const smoothMethod = options.smoothMethod ?? "exp";
  if (!BLEU_SMOOTH_METHODS.includes(smoothMethod)) throw new RangeError(`${fn}: unknown smoothing method ${JSON.stringify(smoothMethod)} (known: ${BLEU_SMOOTH_METHODS.join(", ")})`);
  const smoothValue = options.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod];
  if (smoothValue !== undefined && (typeof smoothValue !== "number" || !Number.isFinite(smoothValue) || smoothValue < 0)) {
    throw new RangeError(`${fn}: smoothValue must be a finite number >= 0, got ${String(smoothValue)}`);
  }
  const maxNgramOrder = options.maxNgramOrder ?? 4;
  if (!Number.isInteger(maxNgramOrder) || maxNgramOrder < 1) throw new RangeError(`${fn}: maxNgramOrder must be an integer >= 1, got ${String(maxNgramOrder)}`);
  for (const key of ["lowercase", "effectiveOrder"] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== "boolean") throw new TypeError(`${fn}: ${key} must be true or false, got ${String(v)}`);
  }
  return { tokenize, lowercase: options.lowercase ?? false, smoothMethod, smoothValue, maxNgramOrder, effectiveOrder: options.effectiveOrder ?? effectiveOrderDefault };
}

/** n-gram counts of orders 1..maxOrder of a tokenized segment; keys are tokens joined by a space (tokens have none). */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = tokens.slice(i, i + n).join(" ");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The reference length closest to the hypothesis length; the shorter one on a tie. */
function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff) {
      bestDiff = diff;
      best = len;
    } else if (diff === bestDiff && len < best) {
      best = len;
    }
  }
  return best;
}

/** Add one segment's statistics (tokenized hypothesis and references) to `acc`. */
function addSegment(acc: BleuStatistics, hyp: string, refs: readonly string[], maxOrder: number): void {
  const refMax = new Map<string, number>();
  const refLens: number[] = [];
  for (const ref of refs) {
    const tokens = splitWords(ref);
    refLens.push(tokens.length);
    for (const [gram, count] of ngramCounts(tokens, maxOrder)) {
      const prev = refMax.get(gram);
      if (prev === undefined || count > prev) refMax.set(gram, count);
    }
  }
  const hypTokens = splitWords(hyp);
  for (const [gram, count] of ngramCounts(hypTokens, maxOrder)) {
    let order = 1;
    for (let i = 0; i < gram.length; i++) if (gram.charCodeAt(i) === 32) order++;
    acc.total[order - 1] += count;
    const r = refMax.get(gram);
    if (r !== undefined) acc.correct[order - 1] += Math.min(count, r);
  }
  acc.sysLen += hypTokens.length;
  acc.refLen += closestRefLength(hypTokens.length, refLens);
}

function statisticsOf(hypotheses: readonly string[], streams: readonly (readonly string[])[], o: Resolved): BleuStatistics {
  const acc: BleuStatistics = { correct: new Array<number>(o.maxNgramOrder).fill(0), total: new Array<number>(o.maxNgramOrder).fill(0), sysLen: 0, refLen: 0 };
  for (let i = 0; i < hypotheses.length; i++) {
    const refs = streams.map((s) => preprocess(s[i], o));
    addSegment(acc, preprocess(hypotheses[i], o), refs, o.maxNgramOrder);
  }
  return acc;
}

/** log, with log(0) floored to -9999999999 as sacreBLEU's my_log does. */
function floorLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from sufficient statistics (sacreBLEU's `BLEU.compute_bleu`). `options.smoothMethod`
 * defaults to "exp" here as in `corpusBleu` (sacreBLEU's static compute_bleu defaults to
 * "none"; pass it explicitly to match that).
 */
export function bleuFromStatistics(stats: BleuStatistics, options: BleuOptions = {}): BleuResult {
  const o = resolveOptions("bleuFromStatistics", options, false);
  const order = o.maxNgramOrder;
  if (stats === null || typeof stats !== "object") throw new TypeError(`bleuFromStatistics: stats is not an object (${describeType(stats)})`);
  for (const key of ["correct", "total"] as const) {
    const a = stats[key];
    if (!Array.isArray(a) || a.length !== order) throw new RangeError(`bleuFromStatistics: stats.${key} must be an array of ${order} counts (maxNgramOrder), got ${Array.isArray(a) ? `${a.length} entries` : describeType(a)}`);
    a.forEach((x, i) => {
      if (typeof x !== "number" || !Number.isFinite(x) || x < 0) throw new RangeError(`bleuFromStatistics: stats.${key}[${i}] is not a count (${String(x)})`);
    });
  }
  for (const key of ["sysLen", "refLen"] as const) {
    const x = stats[key];
    if (typeof x !== "number" || !Number.isFinite(x) || x < 0) throw new RangeError(`bleuFromStatistics: stats.${key} is not a length (${String(x)})`);
  }
  const correct = stats.correct.slice();
  const total = stats.total.slice();
  const { sysLen, refLen } = stats;
  let bp = 1.0;
  if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0.0;
  const precisions = new Array<number>(order).fill(0);
  const ratio = refLen ? sysLen / refLen : 0;
  if (!correct.some((c) => c !== 0)) return { score: 0.0, counts: correct, totals: total, precisions, bp, sysLen, refLen, ratio };
  const smoothValue = o.smoothValue ?? 0;
  let smoothMteval = 1.0;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (o.smoothMethod === "add-k" && n > 1) {
      correct[n - 1] += smoothValue;
      total[n - 1] += smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (o.effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      if (o.smoothMethod === "exp") {
        smoothMteval *= 2;
        precisions[n - 1] = 100.0 / (smoothMteval * total[n - 1]);
      } else if (o.smoothMethod === "floor") {
        precisions[n - 1] = (100.0 * smoothValue) / total[n - 1];
      }
    } else {
      precisions[n - 1] = (100.0 * correct[n - 1]) / total[n - 1];
    }
  }
  let logSum = 0;
  for (let i = 0; i < effOrder; i++) logSum += floorLog(precisions[i]);
  const score = bp * Math.exp(logSum / effOrder);
  return { score, counts: correct, totals: total, precisions, bp, sysLen, refLen, ratio };
}

function checkStreams(fn: string, streams: unknown, n: number, hypName: string): readonly (readonly string[])[] {
  if (!Array.isArray(streams)) throw new TypeError(`${fn}: references is not an array of reference streams (${describeType(streams)})`);
  if (streams.length === 0) throw new RangeError(`${fn}: references is empty (give at least one reference stream)`);
  streams.forEach((s: unknown, k) => {
    if (!Array.isArray(s)) throw new TypeError(`${fn}: references[${k}] is not an array of strings (${describeType(s)}); references[k][i] is the k-th reference of hypothesis i`);
    if (s.length !== n) throw new RangeError(`${fn}: references[${k}] has ${s.length} entries but ${hypName} has ${n}`);
    s.forEach((x: unknown, i) => {
      if (typeof x !== "string") throw new TypeError(`${fn}: references[${k}][${i}] is not a string (${describeType(x)})`);
    });
  });
  return streams as readonly (readonly string[])[];
}

/**
 * Corpus BLEU (sacreBLEU `corpus_bleu(hypotheses, references)`). `references` holds reference
 * streams as sacreBLEU takes them: `references[k][i]` is the k-th reference of hypothesis i,
 * so one stream per reference file; every stream is as long as `hypotheses`. Empty strings are
 * valid segments (they have no n-grams and length 0).
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly string[])[], options: BleuOptions = {}): BleuResult {
  const o = resolveOptions("corpusBleu", options, false);
  const n = checkTextList("corpusBleu", hypotheses, "hypotheses");
  const streams = checkStreams("corpusBleu", references, n, "hypotheses");
  return bleuFromStatistics(statisticsOf(hypotheses, streams, o), o);
}

/**
 * Sentence BLEU of one hypothesis against one or more references (sacreBLEU
 * `sentence_bleu(hypothesis, references)`): as `corpusBleu` on a one-segment corpus, with
 * effective order on by default.
 */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuResult {
  const o = resolveOptions("sentenceBleu", options, true);
  checkText("sentenceBleu", hypothesis, "hypothesis");
  checkTextList("sentenceBleu", references, "references");
  return bleuFromStatistics(statisticsOf([hypothesis], references.map((r) => [r]), o), o);
}
