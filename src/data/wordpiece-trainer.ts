/**
 * Offline training of an uncased BERT WordPiece vocabulary (vocab.txt).
 *
 * Pipeline, matching what the tokenizer does at inference
 * (`tokenizerFromVocabTxt`: BertNormalizer + BertPreTokenizer + WordPiece):
 *   1. normalize every line with `bertNormalize` (clean text, isolate CJK
 *      ideographs, strip accents, lowercase; the exact port of the Rust
 *      normalizer the tokenizer uses);
 *   2. pre-tokenize like BertPreTokenizer: runs of non-space,
 *      non-punctuation characters, and every punctuation character alone
 *      (the same regular expression as @huggingface/tokenizers);
 *   3. count words; words longer than `maxInputCharsPerWord` (100) code
 *      points are skipped (WordPiece maps them to [UNK] anyway);
 *   4. the alphabet: every character of the counted words plus
 *      `initialAlphabet` (default: printable ASCII, normalized), both as a
 *      word-initial token "c" and as a continuation "##c", so any word made
 *      of seen characters or ASCII can be tokenized (no [UNK] on the
 *      training text, none on ASCII text);
 *   5. BPE merges with the "##" continuing-subword prefix, as Hugging Face
 *      tokenizers' `WordPieceTrainer` does: words start as
 *      ["w", "##o", "##r", "##d"], and the most frequent adjacent pair
 *      (counted over word frequencies) is merged into a new token
 *      ("w" + "##o" -> "wo", "##o" + "##r" -> "##or") until the vocabulary
 *      reaches `vocabSize` or no pair occurs `minFrequency` times. Ties are
 *      broken by the pair's strings (smaller first), so the result does not
 *      depend on hash or insertion order: training is deterministic.
 *
 * The vocabulary: the special tokens first ([PAD]=0 [UNK]=1 [CLS]=2
 * [SEP]=3 [MASK]=4 by default), then the alphabet (initial characters,
 * then "##" characters, each in code point order), then merged tokens in
 * merge order. A merge whose string already exists adds nothing.
 */
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { bertNormalize, type BertNormalizerOptions } from "./tokenizer-normalizer.js";

/** Uncased BERT normalization (bert-base-uncased's). */
export const UNCASED_NORMALIZER: Readonly<BertNormalizerOptions> = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };

export const DEFAULT_SPECIAL_TOKENS: readonly string[] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** Printable ASCII, "!" to "~". */
export const PRINTABLE_ASCII: string = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join("");

export interface WordPieceTrainerOptions {
  /** Target vocabulary size, special tokens and alphabet included (default 8000). */
  vocabSize?: number;
  /** Tokens placed first, in this order (default [PAD] [UNK] [CLS] [SEP] [MASK]). */
  specialTokens?: readonly string[];
  /** A pair must occur at least this often (summed word frequencies) to be merged (default 2). */
  minFrequency?: number;
  /** Words longer than this many code points are not counted (default 100, WordPiece's max_input_chars_per_word). */
  maxInputCharsPerWord?: number;
  /** Default "##". */
  continuingSubwordPrefix?: string;
  /**
   * Characters always in the alphabet even when the corpus lacks them
   * (normalized first; default printable ASCII "!".."~"). Pass "" for none.
   */
  initialAlphabet?: string;
  /** Normalizer options (default uncased: `UNCASED_NORMALIZER`). */
  normalizer?: BertNormalizerOptions;
}

export interface WordPieceTrainStats {
  /** Whitespace+punctuation words counted (after pre-tokenization). */
  words: number;
  /** Distinct words. */
  distinctWords: number;
  /** Words skipped for being longer than maxInputCharsPerWord. */
  skippedLongWords: number;
  /** Distinct characters (corpus + initial alphabet); the vocab holds each as "c" and "##c". */
  alphabet: number;
  /** Merges performed (including those that produced an existing string). */
  merges: number;
  vocabSize: number;
  /** Why training stopped. */
  stoppedBy: "vocabSize" | "minFrequency" | "noPairs";
}

export interface WordPieceTrainResult {
  /** Tokens in id order (line i of vocab.txt = id i). */
  vocab: string[];
  stats: WordPieceTrainStats;
}

const PUNCTUATION = "\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E";
/** BertPreTokenizer's pattern in @huggingface/tokenizers (same split as the Rust one). */
const PRE_TOKEN_RE = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, "gu");

/** BERT pre-tokenization of an already normalized text: words and single punctuation characters. */
export function bertPreTokenize(normalized: string): string[] {
  return normalized.trim().match(PRE_TOKEN_RE) ?? [];
}

/** Word frequencies of some text, accumulated into `counts`. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  words = 0;
  private readonly normalizer: BertNormalizerOptions;
  constructor(normalizer: BertNormalizerOptions = UNCASED_NORMALIZER) {
    this.normalizer = normalizer;
  }
  add(text: string): void {
    for (const w of bertPreTokenize(bertNormalize(text, this.normalizer))) {
      this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
      this.words++;
    }
  }
}

// ---------------------------------------------------------------------------
// A binary max-heap of (count, pair) with a deterministic tie-break.
// ---------------------------------------------------------------------------

interface HeapEntry {
  count: number;
  key: number;
}

class PairHeap {
  private readonly items: HeapEntry[] = [];
  constructor(private readonly before: (a: HeapEntry, b: HeapEntry) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(e: HeapEntry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i] as HeapEntry, a[p] as HeapEntry)) break;
      [a[i], a[p]] = [a[p] as HeapEntry, a[i] as HeapEntry];
      i = p;
    }
  }
  pop(): HeapEntry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l] as HeapEntry, a[m] as HeapEntry)) m = l;
        if (r < a.length && this.before(a[r] as HeapEntry, a[m] as HeapEntry)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as HeapEntry, a[i] as HeapEntry];
        i = m;
      }
    }
    return top;
  }
}

/** Pair keys: a * 2^22 + b (token ids stay below 2^22 = 4M). */
const KEY_BASE = 4_194_304;

/**
 * Train a WordPiece vocabulary from word frequencies (e.g. a `WordCounter`'s
 * `counts`; keys must already be normalized and pre-tokenized).
 */
export function trainWordPieceFromCounts(counts: ReadonlyMap<string, number>, opts: WordPieceTrainerOptions = {}): WordPieceTrainResult {
  const vocabSize = opts.vocabSize ?? 8000;
  const specials = [...(opts.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  const minFrequency = opts.minFrequency ?? 2;
  const maxChars = opts.maxInputCharsPerWord ?? 100;
  const prefix = opts.continuingSubwordPrefix ?? "##";
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length) throw new RangeError(`vocabSize must be an integer >= ${specials.length}, got ${vocabSize}`);
  if (new Set(specials).size !== specials.length) throw new Error(`duplicate special tokens: ${specials.join(" ")}`);

  // Words in a deterministic order (by string), long ones skipped.
  const entries = [...counts.entries()].filter(([w, c]) => w !== "" && c > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let skippedLongWords = 0;
  let words = 0;
  const kept: [string[], number][] = [];
  const alphabet = new Set<string>();
  for (const [w, c] of entries) {
    words += c;
    const chars = [...w];
    if (chars.length > maxChars) {
      skippedLongWords += c;
      continue;
    }
    for (const ch of chars) alphabet.add(ch);
    kept.push([chars, c]);
  }
  const normalizer = opts.normalizer ?? UNCASED_NORMALIZER;
  for (const ch of bertNormalize(opts.initialAlphabet ?? PRINTABLE_ASCII, normalizer)) {
    if (!/\s/u.test(ch)) alphabet.add(ch);
  }
  const byCodePoint = (a: string, b: string): number => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0);
  const letters = [...alphabet].sort(byCodePoint);

  // Token table: specials, initial letters, continuation letters.
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const intern = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const s of specials) intern(s);
  for (const ch of letters) intern(ch);
  for (const ch of letters) intern(prefix + ch);

  const stats: WordPieceTrainStats = {
    words,
    distinctWords: counts.size,
    skippedLongWords,
    alphabet: letters.length,
    merges: 0,
    vocabSize: tokens.length,
    stoppedBy: "vocabSize",
  };
  if (tokens.length >= vocabSize) return { vocab: tokens, stats };

  // Words as symbol ids.
  const wordSyms: number[][] = kept.map(([chars]) => chars.map((ch, i) => ids.get(i === 0 ? ch : prefix + ch) as number));
  const wordCounts: number[] = kept.map(([, c]) => c);
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPair = (key: number, c: number, w: number): void => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
    let s = where.get(key);
    if (s === undefined) where.set(key, (s = new Set()));
    s.add(w);
  };
  wordSyms.forEach((syms, w) => {
    const c = wordCounts[w] as number;
    for (let i = 0; i + 1 < syms.length; i++) addPair((syms[i] as number) * KEY_BASE + (syms[i + 1] as number), c, w);
  });

  const before = (x: HeapEntry, y: HeapEntry): boolean => {
    if (x.count !== y.count) return x.count > y.count;
    const xa = tokens[Math.floor(x.key / KEY_BASE)] as string;
    const ya = tokens[Math.floor(y.key / KEY_BASE)] as string;
    if (xa !== ya) return xa < ya;
    return (tokens[x.key % KEY_BASE] as string) < (tokens[y.key % KEY_BASE] as string);
  };
  const heap = new PairHeap(before);
  for (const [key, count] of pairCounts) heap.push({ key, count });

  for (;;) {
    if (tokens.length >= vocabSize) {
      stats.stoppedBy = "vocabSize";
      break;
    }
    const top = heap.pop();
    if (top === undefined) {
      stats.stoppedBy = "noPairs";
      break;
    }
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) continue; // stale entry; the current count has its own entry
    if (current < minFrequency) {
      stats.stoppedBy = "minFrequency";
      break;
    }
    const a = Math.floor(top.key / KEY_BASE);
    const b = top.key % KEY_BASE;
    const right = tokens[b] as string;
    const merged = (tokens[a] as string) + (right.startsWith(prefix) ? right.slice(prefix.length) : right);
    const t = intern(merged);
    if (t >= KEY_BASE) throw new RangeError(`vocabulary too large (> ${KEY_BASE} tokens)`);
    stats.merges++;
    const affected = where.get(top.key);
    where.delete(top.key);
    const changed = new Set<number>();
    if (affected !== undefined) {
      for (const w of affected) {
        const syms = wordSyms[w] as number[];
        let has = false;
        for (let i = 0; i + 1 < syms.length; i++) {
          if (syms[i] === a && syms[i + 1] === b) {
            has = true;
            break;
          }
        }
        if (!has) continue;
        const c = wordCounts[w] as number;
        for (let i = 0; i + 1 < syms.length; i++) {
          const k = (syms[i] as number) * KEY_BASE + (syms[i + 1] as number);
          pairCounts.set(k, (pairCounts.get(k) as number) - c);
          changed.add(k);
        }
        const next: number[] = [];
        for (let i = 0; i < syms.length; ) {
          if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
            next.push(t);
            i += 2;
          } else {
            next.push(syms[i] as number);
            i += 1;
          }
        }
        wordSyms[w] = next;
        for (let i = 0; i + 1 < next.length; i++) {
          const k = (next[i] as number) * KEY_BASE + (next[i + 1] as number);
          addPair(k, c, w);
          changed.add(k);
        }
      }
    }
    pairCounts.delete(top.key);
    changed.delete(top.key);
    for (const k of changed) {
      const n = pairCounts.get(k) ?? 0;
      if (n > 0) heap.push({ key: k, count: n });
      else {
        pairCounts.delete(k);
        where.delete(k);
      }
    }
  }
  stats.vocabSize = tokens.length;
  return { vocab: tokens, stats };
}

/** Train from lines of raw text (normalized and pre-tokenized here). */
export function trainWordPiece(lines: Iterable<string>, opts: WordPieceTrainerOptions = {}): WordPieceTrainResult {
  const counter = new WordCounter(opts.normalizer ?? UNCASED_NORMALIZER);
  for (const l of lines) counter.add(l);
  const r = trainWordPieceFromCounts(counter.counts, opts);
  r.stats.words = counter.words;
  return r;
}

/** Train from text files, streamed line by line (in the order given). */
export async function trainWordPieceFromFiles(files: readonly string[], opts: WordPieceTrainerOptions = {}): Promise<WordPieceTrainResult> {
  const counter = new WordCounter(opts.normalizer ?? UNCASED_NORMALIZER);
  for (const f of files) {
    const rl = createInterface({ input: createReadStream(f, { encoding: "utf8" }), crlfDelay: Infinity });
    for await (const line of rl) counter.add(line);
  }
  const r = trainWordPieceFromCounts(counter.counts, opts);
  r.stats.words = counter.words;
  return r;
}

/** vocab.txt text: one token per line, final newline (transformers' `load_vocab` format). */
export function vocabTxt(vocab: readonly string[]): string {
  for (const t of vocab) if (/[\n\r]/.test(t) || t === "") throw new Error(`vocab token ${JSON.stringify(t)} cannot be written to vocab.txt`);
  return `${vocab.join("\n")}\n`;
}

export async function writeVocabTxt(file: string, vocab: readonly string[]): Promise<void> {
  await writeFile(file, vocabTxt(vocab), "utf8");
}
