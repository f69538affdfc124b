/**
 * Assembling a line-per-paragraph pretraining corpus from sources, with its
 * manifest (per-source counts, line ranges, licences, sha256).
 */
import { basename } from "node:path";
import { sha256Hex } from "./sha256.js";
import { cleanLine, countWords } from "./text/clean.js";

export interface CorpusSourceInfo {
  /** Short id, e.g. "moby-dick". */
  id: string;
  title: string;
  /** Licence / copyright status in a few words. */
  licence: string;
  /** Where it came from (package and version, path). */
  origin: string;
  note?: string;
}

export interface CorpusPart {
  info: CorpusSourceInfo;
  lines: readonly string[];
}

export interface CorpusStats {
  lines: number;
  /** Whitespace-separated tokens. */
  tokens: number;
  /** Unicode code points, newlines excluded. */
  characters: number;
  /** UTF-8 bytes, newlines included. */
  bytes: number;
}

export interface CorpusSourceEntry extends CorpusSourceInfo, CorpusStats {
  /** 1-based line range of this source in the corpus file (inclusive); 0/0 when empty. */
  firstLine: number;
  lastLine: number;
  /** Lines dropped as duplicates of an earlier line (any source). */
  duplicates: number;
  /** Lines dropped for having fewer than `minWords` words. */
  tooShort: number;
}

export interface CorpusOptions {
  /** Drop exact duplicate lines, keeping the first (default true). */
  dedupe?: boolean;
  /** Drop lines with fewer whitespace tokens (default 3). */
  minWords?: number;
  /** Drop whitespace tokens longer than this many characters (default 100: WordPiece maps longer words to [UNK]). */
  maxTokenChars?: number;
}

export interface CorpusManifest {
  format: "propetl-corpus";
  version: 1;
  /** Corpus file name (relative to the manifest). */
  file: string;
  sha256: string;
  description: string;
  total: CorpusStats;
  sources: CorpusSourceEntry[];
  options: Required<CorpusOptions>;
}

export function corpusStats(lines: readonly string[]): CorpusStats {
  let tokens = 0;
  let characters = 0;
  let bytes = 0;
  for (const l of lines) {
    tokens += countWords(l);
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) characters++; // count a surrogate pair once
    }
    bytes += Buffer.byteLength(l, "utf8") + 1;
  }
  return { lines: lines.length, tokens, characters, bytes };
}

/**
 * Concatenate sources (in the given order) into one line-per-paragraph
 * corpus: every line cleaned (`cleanLine`), over-long tokens removed, short
 * lines and exact duplicates dropped. Returns the lines and a manifest
 * (without the file name and hash, filled in by `corpusFile`).
 */
export function assembleCorpus(parts: readonly CorpusPart[], opts: CorpusOptions = {}): { lines: string[]; manifest: Omit<CorpusManifest, "file" | "sha256" | "description"> } {
  const options: Required<CorpusOptions> = { dedupe: opts.dedupe ?? true, minWords: opts.minWords ?? 3, maxTokenChars: opts.maxTokenChars ?? 100 };
  const seen = new Set<string>();
  const lines: string[] = [];
  const sources: CorpusSourceEntry[] = [];
  for (const part of parts) {
    const kept: string[] = [];
    let duplicates = 0;
    let tooShort = 0;
    for (const raw of part.lines) {
      let line = cleanLine(raw);
      if (line.split(" ").some((w) => [...w].length > options.maxTokenChars)) {
        line = line
          .split(" ")
          .filter((w) => [...w].length <= options.maxTokenChars)
          .join(" ");
      }
      if (countWords(line) < options.minWords) {
        tooShort++;
        continue;
      }
      if (options.dedupe) {
        if (seen.has(line)) {
          duplicates++;
          continue;
        }
        seen.add(line);
      }
      kept.push(line);
    }
    const firstLine = kept.length > 0 ? lines.length + 1 : 0;
    for (const l of kept) lines.push(l);
    sources.push({ ...part.info, ...corpusStats(kept), firstLine, lastLine: kept.length > 0 ? lines.length : 0, duplicates, tooShort });
  }
  return { lines, manifest: { format: "propetl-corpus", version: 1, total: corpusStats(lines), sources, options } };
}

/** The text of a corpus file (lines joined by "\n", final newline) and its completed manifest. */
export function corpusFile(
  assembled: { lines: readonly string[]; manifest: Omit<CorpusManifest, "file" | "sha256" | "description"> },
  file: string,
  description: string,
): { text: string; manifest: CorpusManifest } {
  const text = assembled.lines.length === 0 ? "" : `${assembled.lines.join("\n")}\n`;
  const m = assembled.manifest;
  return {
    text,
    manifest: { format: m.format, version: m.version, file: basename(file), sha256: sha256Hex(text), description, total: m.total, sources: m.sources, options: m.options },
  };
}
