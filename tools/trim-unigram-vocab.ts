/**
 * Trim a T5 SentencePiece Unigram tokenizer.json (t5-small's: 32,000 pieces + 100 sentinels)
 * to a smaller vocabulary fitted to a corpus, for pretraining a small T5 from scratch:
 *
 *   node dist/tools/trim-unigram-vocab.js --tokenizer t5-small/tokenizer.json --size 8000 \
 *     --out DIR corpus.txt [more.txt ...]
 *
 * The new vocabulary (N ids): <pad> 0, </s> 1, <unk> 2 (as T5), then N-103 pieces of the
 * original in their original order (scores kept), then the 100 sentinels at the top ids,
 * `<extra_id_99>` at N-100 .. `<extra_id_0>` at N-1 (so <extra_id_0> is the highest id, as in
 * T5 and as span corruption's sentinel rule `len(tokenizer) - k` needs). The pieces kept:
 *   1. every single-character piece of a character the corpus uses (after the tokenizer's
 *      normalizer), so that each character the original covers stays covered;
 *   2. "▁", the word-boundary piece;
 *   3. the most used pieces when the original tokenizes the corpus (ties: the lower id).
 * Characters the original maps to <unk> stay <unk>, unless `--add-unk-chars MIN` is given:
 * then every such character used at least MIN times gets a single-character piece of its
 * own (t5-small has no í, ñ, ú, ¿, ¡: Spanish needs them), placed after the kept pieces, with
 * the mean score of the kept single-character pieces; these count in the N-103 pieces.
 * Characters that would become <unk> only in the new vocabulary (none when step 1 fits) are
 * listed in the report.
 *
 * Writes DIR/tokenizer.json, DIR/tokenizer_config.json (the original's, beside it, if any)
 * and DIR/trim-report.json (sizes, corpus sha256, token counts before/after, <unk> characters).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { tokenizerFromFiles } from "../src/data/tokenizer.js";
import { writeFileAtomicSync } from "../src/io/atomic-write.js";
import type { Tokenizer } from "../src/data/tokenizer.js";
import { sha256Hex } from "./sha256.js";

/** Special ids kept at the bottom, and sentinels at the top. */
export const T5_SPECIAL_PIECES = ["<pad>", "</s>", "<unk>"] as const;
export const T5_SENTINEL_COUNT = 100;
const WORD_BOUNDARY = "\u2581";

type Json = Record<string, unknown>;

export interface TrimOptions {
  /** Size of the new id space (specials + pieces + 100 sentinels). */
  size: number;
  /** Give characters the original maps to <unk> a piece when used at least this often (default: never). */
  addUnkChars?: number;
}

export interface TrimReport {
  format: "propetl-unigram-trim";
  version: 1;
  size: number;
  originalSize: number;
  keptPieces: number;
  /** Single-character pieces kept for coverage. */
  characterPieces: number;
  /** Corpus documents (non-empty lines). */
  lines: number;
  /** Tokens (EOS excluded) on the corpus, with the original and the trimmed tokenizer. */
  tokensOriginal: number;
  tokensTrimmed: number;
  /** Fraction of the original tokenization's tokens whose piece is kept. */
  originalTokenCoverage: number;
  /** Characters the original tokenizer already maps to <unk>, with counts. */
  unkCharactersOriginal: Record<string, number>;
  /** Characters that become <unk> only with the trimmed vocabulary, with counts. */
  unkCharactersNew: Record<string, number>;
  /** Pieces added for characters the original maps to <unk> (`addUnkChars`), with their corpus counts. */
  addedPieces: Record<string, number>;
  /** Characters still <unk> with the trimmed vocabulary, with counts. */
  unkCharactersTrimmed: Record<string, number>;
  unkTokensOriginal: number;
  unkTokensTrimmed: number;
}

export interface TrimResult {
  tokenizerJson: Json;
  report: TrimReport;
}

function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The Unigram pieces of a tokenizer.json, checked to be a T5 layout. */
function unigramVocab(json: Json, source: string): [string, number][] {
  const model = json["model"];
  if (!isObject(model) || !Array.isArray(model["vocab"])) throw new Error(`${source}: "model.vocab" is not a list of [piece, score]: not a Unigram tokenizer.json`);
  if (model["type"] !== undefined && model["type"] !== "Unigram") throw new Error(`${source}: model.type is ${JSON.stringify(model["type"])}, expected "Unigram"`);
  const vocab = model["vocab"] as unknown[];
  vocab.forEach((e, i) => {
    if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number") throw new Error(`${source}: model.vocab[${i}] is not [piece, score]`);
  });
  const v = vocab as [string, number][];
  T5_SPECIAL_PIECES.forEach((p, i) => {
    if (v[i]?.[0] !== p) throw new Error(`${source}: id ${i} is ${JSON.stringify(v[i]?.[0])}, expected ${p} (the T5 layout: <pad> 0, </s> 1, <unk> 2)`);
  });
  for (let k = 0; k < T5_SENTINEL_COUNT; k++) {
    const id = v.length - 1 - k;
    if (v[id]?.[0] !== `<extra_id_${k}>`) throw new Error(`${source}: id ${id} is ${JSON.stringify(v[id]?.[0])}, expected <extra_id_${k}> (100 sentinels at the top ids, <extra_id_0> highest)`);
  }
  return v;
}

function countUnkCharacters(tok: Tokenizer, line: string, ids: readonly number[], into: Map<string, number>): void {
  if (!ids.includes(2)) return;
  // Which characters are <unk>: tokenize each distinct non-space character alone.
  for (const ch of new Set(Array.from(line))) {
    if (/\s/u.test(ch)) continue;
    const e = tok.encode(ch, undefined, { maxLength: Infinity }).inputIds;
    if (e.includes(2)) into.set(ch, (into.get(ch) ?? 0) + Array.from(line).filter((c) => c === ch).length);
  }
}

/**
 * Trim `tokenizerJson` (a T5 Unigram tokenizer.json) to `opts.size` ids fitted to `lines`.
 * `tokenizerConfig` is the original tokenizer_config.json (for loading; may be empty).
 */
export function trimUnigramVocab(tokenizerJson: Json, tokenizerConfig: Json, lines: readonly string[], opts: TrimOptions, source = "tokenizer.json"): TrimResult {
  const vocab = unigramVocab(tokenizerJson, source);
  const N = opts.size;
  const fixed = T5_SPECIAL_PIECES.length + T5_SENTINEL_COUNT;
  if (!Number.isInteger(N) || N <= fixed) throw new Error(`--size must be an integer above ${fixed} (3 specials + 100 sentinels), got ${N}`);
  if (N > vocab.length) throw new Error(`--size ${N} exceeds the original vocabulary (${vocab.length} ids)`);
  const pieceSlots = N - fixed;
  const firstSentinel = vocab.length - T5_SENTINEL_COUNT;
  const original = tokenizerFromFiles({ "tokenizer.json": JSON.stringify(tokenizerJson), "tokenizer_config.json": JSON.stringify(tokenizerConfig) });

  // Usage of every piece, and the characters the corpus uses (normalized: seen in the pieces).
  const counts = new Float64Array(vocab.length);
  const chars = new Set<string>();
  const unkOriginal = new Map<string, number>();
  let tokensOriginal = 0;
  let unkTokensOriginal = 0;
  const docs = lines.filter((l) => l.trim() !== "");
  for (const line of docs) {
    const ids = original.encode(line, undefined, { maxLength: Infinity }).inputIds.slice(0, -1);
    tokensOriginal += ids.length;
    for (const id of ids) {
      counts[id]++;
      if (id === 2) unkTokensOriginal++;
      else for (const ch of Array.from(vocab[id][0])) if (ch !== WORD_BOUNDARY) chars.add(ch);
    }
    countUnkCharacters(original, line, ids, unkOriginal);
  }

  const keep = new Set<number>();
  const pieceId = new Map<string, number>();
  for (let i = T5_SPECIAL_PIECES.length; i < firstSentinel; i++) if (!pieceId.has(vocab[i][0])) pieceId.set(vocab[i][0], i);
  const boundary = pieceId.get(WORD_BOUNDARY);
  if (boundary !== undefined) keep.add(boundary);
  for (const ch of chars) {
    const id = pieceId.get(ch);
    if (id !== undefined) keep.add(id);
  }
  const characterPieces = keep.size - (boundary !== undefined ? 1 : 0);
  // New single-character pieces for characters the original cannot encode.
  const addedPieces = new Map<string, number>();
  if (opts.addUnkChars !== undefined) {
    for (const [ch, n] of [...unkOriginal].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
      if (n < opts.addUnkChars) continue;
      const piece = original.tokenize(ch).filter((t) => t !== WORD_BOUNDARY).join("").replace(new RegExp(`^${WORD_BOUNDARY}`), "");
      if (piece === "" || Array.from(piece).length !== 1 || pieceId.has(piece) || addedPieces.has(piece)) continue;
      addedPieces.set(piece, n);
    }
  }
  if (keep.size + addedPieces.size > pieceSlots) throw new Error(`the corpus uses ${characterPieces} distinct characters with their own piece; --size ${N} leaves only ${pieceSlots} piece slots`);
  const byUse = Array.from({ length: firstSentinel - T5_SPECIAL_PIECES.length }, (_, k) => k + T5_SPECIAL_PIECES.length)
    .filter((i) => counts[i] > 0 && !keep.has(i))
    .sort((a, b) => counts[b] - counts[a] || a - b);
  const charScores = [...keep].filter((i) => i !== boundary).map((i) => vocab[i][1]);
  const addedScore = charScores.length ? charScores.reduce((a, b) => a + b, 0) / charScores.length : -10;
  const slots = pieceSlots - addedPieces.size;
  for (const i of byUse) {
    if (keep.size >= slots) break;
    keep.add(i);
  }
  // Fill with unused pieces in original (score) order when the corpus uses fewer.
  for (let i = T5_SPECIAL_PIECES.length; i < firstSentinel && keep.size < slots; i++) keep.add(i);
  const kept = [...keep].sort((a, b) => a - b);

  const newVocab: [string, number][] = [
    ...vocab.slice(0, T5_SPECIAL_PIECES.length),
    ...kept.map((i) => vocab[i]),
    ...[...addedPieces.keys()].map((p): [string, number] => [p, addedScore]),
    ...vocab.slice(firstSentinel),
  ];
  const added = Array.isArray(tokenizerJson["added_tokens"]) ? (tokenizerJson["added_tokens"] as Json[]) : [];
  const newAdded = added.map((t) => {
    const content = t["content"];
    const idx = newVocab.findIndex(([p]) => p === content);
    if (idx < 0) throw new Error(`${source}: added token ${JSON.stringify(content)} is not in the trimmed vocabulary`);
    return { ...t, id: idx };
  });
  const model = tokenizerJson["model"] as Json;
  const out: Json = { ...tokenizerJson, added_tokens: newAdded, model: { ...model, unk_id: 2, vocab: newVocab } };

  const trimmed = tokenizerFromFiles({ "tokenizer.json": JSON.stringify(out), "tokenizer_config.json": JSON.stringify(tokenizerConfig) });
  let tokensTrimmed = 0;
  let unkTokensTrimmed = 0;
  const unkTrimmed = new Map<string, number>();
  let coveredTokens = 0;
  const keptSet = new Set(kept);
  for (let i = 0; i < T5_SPECIAL_PIECES.length; i++) keptSet.add(i);
  counts.forEach((c, i) => {
    if (keptSet.has(i)) coveredTokens += c;
  });
  for (const line of docs) {
    const ids = trimmed.encode(line, undefined, { maxLength: Infinity }).inputIds.slice(0, -1);
    tokensTrimmed += ids.length;
    for (const id of ids) if (id === 2) unkTokensTrimmed++;
    countUnkCharacters(trimmed, line, ids, unkTrimmed);
  }
  const unkNew: Record<string, number> = {};
  for (const [ch, n] of unkTrimmed) if (!unkOriginal.has(ch)) unkNew[ch] = n;
  const report: TrimReport = {
    format: "propetl-unigram-trim",
    version: 1,
    size: newVocab.length,
    originalSize: vocab.length,
    keptPieces: kept.length + addedPieces.size,
    characterPieces,
    lines: docs.length,
    tokensOriginal,
    tokensTrimmed,
    originalTokenCoverage: tokensOriginal ? coveredTokens / tokensOriginal : 1,
    unkCharactersOriginal: Object.fromEntries([...unkOriginal].sort((a, b) => b[1] - a[1])),
    unkCharactersNew: unkNew,
    addedPieces: Object.fromEntries(addedPieces),
    unkCharactersTrimmed: Object.fromEntries([...unkTrimmed].sort((a, b) => b[1] - a[1])),
    unkTokensOriginal,
    unkTokensTrimmed,
  };
  return { tokenizerJson: out, report };
}

function readJsonFile(file: string): Json {
  let x: unknown;
  try {
    x = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(x)) throw new Error(`${file}: expected a JSON object`);
  return x;
}

function main(argv: readonly string[]): void {
  let tokFile: string | undefined;
  let out: string | undefined;
  let size = 8000;
  let addUnkChars: number | undefined;
  const corpora: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const take = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--tokenizer") tokFile = resolve(take());
    else if (a === "--out") out = resolve(take());
    else if (a === "--size") size = Number(take());
    else if (a === "--add-unk-chars") {
      addUnkChars = Number(take());
      if (!Number.isInteger(addUnkChars) || addUnkChars < 1) throw new Error(`--add-unk-chars needs a positive integer (minimum corpus count), got ${addUnkChars}`);
    }
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}; usage: trim-unigram-vocab --tokenizer tokenizer.json --size N [--add-unk-chars MIN] --out DIR corpus.txt...`);
    else corpora.push(resolve(a));
  }
  if (!tokFile || !out || corpora.length === 0) throw new Error("usage: trim-unigram-vocab --tokenizer tokenizer.json --size N --out DIR corpus.txt...");
  const json = readJsonFile(tokFile);
  const cfgFile = join(dirname(tokFile), "tokenizer_config.json");
  const cfg = existsSync(cfgFile) ? readJsonFile(cfgFile) : {};
  const lines: string[] = [];
  const corpusInfo: { file: string; sha256: string; lines: number }[] = [];
  for (const f of corpora) {
    if (!existsSync(f)) throw new Error(`${f}: corpus file not found`);
    const text = readFileSync(f, "utf8");
    const ls = text.split(/\r?\n/).filter((l) => l.trim() !== "");
    for (const l of ls) lines.push(l);
    corpusInfo.push({ file: basename(f), sha256: sha256Hex(text), lines: ls.length });
  }
  const t0 = Date.now();
  const r = trimUnigramVocab(json, cfg, lines, { size, ...(addUnkChars !== undefined ? { addUnkChars } : {}) }, tokFile);
  mkdirSync(out, { recursive: true });
  writeFileAtomicSync(join(out, "tokenizer.json"), JSON.stringify(r.tokenizerJson));
  if (Object.keys(cfg).length) writeFileAtomicSync(join(out, "tokenizer_config.json"), JSON.stringify(cfg, null, 2) + "\n");
  const report = { ...r.report, source: { file: tokFile, sha256: sha256Hex(readFileSync(tokFile)) }, corpus: corpusInfo, seconds: (Date.now() - t0) / 1000 };
  writeFileAtomicSync(join(out, "trim-report.json"), JSON.stringify(report, null, 2) + "\n");
  console.log(
    `${out}: ${r.report.size} ids (${r.report.keptPieces} pieces, ${r.report.characterPieces} for single characters); corpus tokens ${r.report.tokensOriginal} -> ${r.report.tokensTrimmed}; ` +
      `new <unk> characters: ${Object.keys(r.report.unkCharactersNew).length ? JSON.stringify(r.report.unkCharactersNew) : "none"}; <unk> already in the original: ${JSON.stringify(r.report.unkCharactersOriginal)}; ` +
      `pieces added for them: ${JSON.stringify(r.report.addedPieces)}; still <unk>: ${JSON.stringify(r.report.unkCharactersTrimmed)}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`trim-unigram-vocab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
