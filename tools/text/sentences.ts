/**
 * Sentence splitting for running English text and grouping sentences into
 * paragraph-sized chunks (sources without paragraph breaks, over-long paragraphs).
 */
import { countWords, truncateWords } from "./clean.js";

/**
 * Words ending in "." that do not end a sentence (compared lowercased,
 * without the final period). Single letters (initials) are handled separately.
 */
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "messrs", "dr", "prof", "rev", "hon", "gen", "col", "capt", "lt", "maj", "sgt", "adm", "gov",
  "sen", "rep", "pres", "supt", "st", "ft", "mt", "jr", "sr", "esq", "co", "corp", "inc", "ltd", "bros", "no", "nos",
  "vol", "vols", "art", "arts", "sec", "secs", "ch", "chap", "p", "pp", "ibid", "cf", "vs", "viz", "approx", "est",
  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "i.e", "e.g", "a.m", "p.m",
  "u.s", "u.s.a", "d.c", "n.y", "h.r", "s.j", "h.j", "u.n", "u.k", "a.d", "b.c",
]);

const SENTENCE_END = /[.!?]["'\u2019\u201d)\]]*$/u;

/**
 * Split running text into sentences: after ".", "!" or "?" (and any closing
 * quotes or brackets) followed by whitespace and a token starting with an
 * uppercase letter, a digit or an opening quote/bracket. Not split after
 * known abbreviations ("Mr.", "Gen.", "U.S.", "Sept."), single-letter
 * initials ("H. Truman") or dotted acronyms. The input should be one line
 * (`cleanLine`); sentences keep their punctuation.
 */
export function splitSentences(text: string): string[] {
  const tokens = text.split(" ").filter((t) => t !== "");
  const out: string[] = [];
  let cur: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    cur.push(tok);
    const next = tokens[i + 1];
    if (next === undefined) break;
    if (!SENTENCE_END.test(tok)) continue;
    if (!/^["'\u2018\u201c(\[]?[\p{Lu}\p{N}]/u.test(next)) continue;
    if (tok.endsWith(".") || /\.["'\u2019\u201d)\]]+$/u.test(tok)) {
      const core = tok
        .replace(/["'\u2019\u201d)\]]+$/u, "")
        .replace(/\.$/, "")
        .replace(/^["'\u2018\u201c(\[]+/u, "")
        .toLowerCase();
      if (ABBREVIATIONS.has(core)) continue;
      if (/^\p{L}$/u.test(core)) continue; // an initial
      if (/^(?:\p{L}\.)+\p{L}$/u.test(core)) continue; // U.S, e.g, i.e
    }
    out.push(cur.join(" "));
    cur = [];
  }
  if (cur.length > 0) out.push(cur.join(" "));
  return out;
}

export interface ChunkOptions {
  /** Close a chunk once it has at least this many words (default 40). */
  targetWords?: number;
  /** A chunk never grows past this many words by adding a sentence; a longer single sentence is cut to it (default 80). */
  maxWords?: number;
  /** Chunks shorter than this are dropped (default 20). */
  minWords?: number;
}

/**
 * Group consecutive sentences into paragraph-sized chunks: sentences are
 * added until the chunk has `targetWords` words, never letting it pass
 * `maxWords` (a single sentence longer than `maxWords` becomes its own chunk,
 * cut to `maxWords` words). Chunks under `minWords` words are dropped.
 */
export function chunkSentences(sentences: readonly string[], opts: ChunkOptions = {}): string[] {
  const target = opts.targetWords ?? 40;
  const max = opts.maxWords ?? 80;
  const min = opts.minWords ?? 20;
  const out: string[] = [];
  let cur: string[] = [];
  let n = 0;
  const flush = (): void => {
    if (cur.length > 0 && n >= min) out.push(cur.join(" "));
    cur = [];
    n = 0;
  };
  for (const s of sentences) {
    const w = countWords(s);
    if (w === 0) continue;
    if (w > max) {
      flush();
      cur = [truncateWords(s, max)];
      n = max;
      flush();
      continue;
    }
    if (n + w > max) flush();
    cur.push(s);
    n += w;
    if (n >= target) flush();
  }
  flush();
  return out;
}

/** Split a long paragraph into pieces of at most `maxWords` words at sentence boundaries (one over-long sentence is cut). */
export function splitLongParagraph(text: string, maxWords: number): string[] {
  if (countWords(text) <= maxWords) return [text];
  return chunkSentences(splitSentences(text), { targetWords: maxWords, maxWords, minWords: 1 });
}
