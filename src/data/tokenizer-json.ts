/**
 * The subset of the Hugging Face `tokenizer.json` format that we read and
 * write, plus converters that build the same `tokenizer.json` object that
 * `transformers` builds in memory (its `convert_slow_tokenizer.py`
 * `BertConverter` / `RobertaConverter`) from the "slow" vocabulary files:
 *
 *   - `vocab.txt`              -> WordPiece (BERT)
 *   - `vocab.json` + `merges.txt` -> byte-level BPE (RoBERTa / GPT-2)
 */
import { checkJsonDepth } from "../io/json-depth.js";

export interface JsonObject {
  [key: string]: unknown;
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface ComponentJson extends JsonObject {
  type: string;
}

export interface TokenizerJson extends JsonObject {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: AddedTokenJson[];
  normalizer: ComponentJson | null;
  pre_tokenizer: ComponentJson | null;
  post_processor: ComponentJson | null;
  decoder: ComponentJson | null;
  model: JsonObject;
}

/** Keys of tokenizer_config.json that we understand (others are kept as-is). */
export interface TokenizerConfigJson extends JsonObject {
  tokenizer_class?: string;
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  add_prefix_space?: boolean;
  model_max_length?: number;
}

export const SPECIAL_TOKEN_KEYS = ["unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token"] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** tokenizer_config.json stores special tokens either as strings or as AddedToken dicts `{content: ...}`. */
export function specialTokenFromConfig(config: JsonObject, key: SpecialTokenKey): string | undefined {
  const v = config[key];
  if (typeof v === "string") return v;
  if (isJsonObject(v) && typeof v["content"] === "string") return v["content"];
  return undefined;
}

/**
 * A tokenizer file that cannot be used (tokenizer.json, tokenizer_config.json, vocab.txt,
 * vocab.json, merges.txt): not valid JSON, a missing or malformed field, an empty vocabulary, a
 * required special token that is not in it, a bad merge rule. The message starts with the file.
 */
export class TokenizerFileError extends Error {
  constructor(
    /** The file at fault: `<folder>/<name>`, the folder as the loader was given it (a path or URL), else the file name alone. */
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "TokenizerFileError";
  }
}

export function parseJsonFile(file: string, text: string): unknown {
  try {
    checkJsonDepth(text, file);
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new TokenizerFileError(file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function addedToken(id: number, content: string, extra: Partial<AddedTokenJson> = {}): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra };
}

// ---------------------------------------------------------------------------
// WordPiece (vocab.txt)
// ---------------------------------------------------------------------------

export interface WordPieceOptions {
  /** BertTokenizer `do_lower_case` (default true, as in transformers). */
  lowercase?: boolean;
  /** BertTokenizer `strip_accents` (default: follow `lowercase`). */
  stripAccents?: boolean | null;
  /** BertTokenizer `tokenize_chinese_chars` (default true). */
  tokenizeChineseChars?: boolean;
  unkToken?: string;
  sepToken?: string;
  padToken?: string;
  clsToken?: string;
  maskToken?: string;
  /** Name used in error messages (default "vocab.txt"). */
  fileName?: string;
}

/**
 * Split the text of a vocab.txt into tokens the way transformers' `load_vocab`
 * does: one token per line, the trailing newline removed, the line index is the id.
 */
export function vocabTxtLines(text: string): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Build the tokenizer.json that transformers' BertConverter produces for a vocab.txt. */
export function wordPieceTokenizerJson(lines: readonly string[], opts: WordPieceOptions = {}): TokenizerJson {
  const file = opts.fileName ?? "vocab.txt";
  if (lines.length === 0) throw new TokenizerFileError(file, "the vocabulary is empty");
  // Later duplicates win, as in a Python dict / Rust HashMap built line by line.
  const entries: [string, number][] = lines.map((t, i) => [t, i]);
  const vocab = Object.fromEntries(entries) as Record<string, number>;
  const has = (t: string): boolean => Object.prototype.hasOwnProperty.call(vocab, t);
  const unk = opts.unkToken ?? "[UNK]";
  const sep = opts.sepToken ?? "[SEP]";
  const pad = opts.padToken ?? "[PAD]";
  const cls = opts.clsToken ?? "[CLS]";
  const mask = opts.maskToken ?? "[MASK]";
  for (const t of [unk, sep, cls]) {
    if (!has(t)) throw new TokenizerFileError(file, `required special token ${JSON.stringify(t)} is not in the vocabulary`);
  }
  const lowercase = opts.lowercase ?? true;
  const specials = [pad, unk, cls, sep, mask].filter((t, i, all) => has(t) && all.indexOf(t) === i);
  const added = specials.map((t) => addedToken(vocab[t] as number, t)).sort((a, b) => a.id - b.id);
  const clsId = vocab[cls] as number;
  const sepId = vocab[sep] as number;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: opts.tokenizeChineseChars ?? true,
      strip_accents: opts.stripAccents ?? null,
      lowercase,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk,
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

// ---------------------------------------------------------------------------
// Byte-level BPE (vocab.json + merges.txt)
// ---------------------------------------------------------------------------

export interface ByteLevelBpeOptions {
  /** RobertaTokenizer `add_prefix_space` (default false). */
  addPrefixSpace?: boolean;
  unkToken?: string;
  sepToken?: string;
  padToken?: string;
  clsToken?: string;
  maskToken?: string;
  bosToken?: string;
  eosToken?: string;
  vocabFileName?: string;
  mergesFileName?: string;
}

/** Validate the parsed content of a vocab.json: an object mapping token -> non-negative integer id. */
export function checkVocabJson(value: unknown, file = "vocab.json"): Record<string, number> {
  if (!isJsonObject(value)) {
    throw new TokenizerFileError(file, "expected a JSON object mapping tokens to integer ids");
  }
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  let n = 0;
  for (const [token, id] of Object.entries(value)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
      throw new TokenizerFileError(file, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; expected a non-negative integer`);
    }
    out[token] = id;
    n++;
  }
  if (n === 0) throw new TokenizerFileError(file, "the vocabulary is empty");
  return out;
}

/** Parse merges.txt as the Rust BPE loader does: skip `#version` header and blank lines, two tokens per line. */
export function parseMergesTxt(text: string, file = "merges.txt"): [string, string][] {
  const merges: [string, string][] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "" || (i === 0 && line.startsWith("#version"))) continue;
    const parts = line.split(" ");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new TokenizerFileError(file, `line ${i + 1} is not a merge of two space-separated tokens: ${JSON.stringify(line)}`);
    }
    merges.push([parts[0] as string, parts[1] as string]);
  }
  return merges;
}

/** Build the tokenizer.json that transformers' RobertaConverter (or GPT2Converter) produces. */
export function byteLevelBpeTokenizerJson(
  vocabIn: Record<string, number>,
  merges: readonly [string, string][],
  opts: ByteLevelBpeOptions = {},
): TokenizerJson {
  const vocabFile = opts.vocabFileName ?? "vocab.json";
  const mergesFile = opts.mergesFileName ?? "merges.txt";
  const vocab = Object.fromEntries(Object.entries(vocabIn)) as Record<string, number>;
  const has = (t: string): boolean => Object.prototype.hasOwnProperty.call(vocab, t);
  merges.forEach(([a, b], i) => {
    for (const t of [a, b, a + b]) {
      if (!has(t)) {
        throw new TokenizerFileError(mergesFile, `merge ${i + 1} (${JSON.stringify(`${a} ${b}`)}) uses ${JSON.stringify(t)}, which is not in ${vocabFile}`);
      }
    }
  });
  const addPrefixSpace = opts.addPrefixSpace ?? false;
  const bos = opts.bosToken ?? "<s>";
  const eos = opts.eosToken ?? "</s>";
  const cls = opts.clsToken ?? bos;
  const sep = opts.sepToken ?? eos;
  const unk = opts.unkToken ?? "<unk>";
  const pad = opts.padToken ?? "<pad>";
  const mask = opts.maskToken ?? "<mask>";
  const roberta = has(cls) && has(sep);
  const candidates = roberta ? [bos, pad, eos, unk, cls, sep, mask] : ["<|endoftext|>"];
  const added = candidates
    .filter((t, i, all) => has(t) && all.indexOf(t) === i)
    .map((t) => addedToken(vocab[t] as number, t, t === mask ? { lstrip: true } : {}))
    .sort((a, b) => a.id - b.id);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: roberta
      ? {
          type: "RobertaProcessing",
          sep: [sep, vocab[sep] as number],
          cls: [cls, vocab[cls] as number],
          trim_offsets: true,
          add_prefix_space: addPrefixSpace,
        }
      : { type: "ByteLevel", add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
