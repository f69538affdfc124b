/**
 * Offline Hugging Face tokenizers (BERT WordPiece, RoBERTa byte-level BPE, and
 * whatever else `@huggingface/tokenizers` can run from a tokenizer.json),
 * producing the same ids as `transformers`' fast tokenizers (the Rust
 * `tokenizers` crate): special tokens, token type ids and `longest_first` /
 * `only_first` / `only_second` truncation.
 *
 * Pipeline: `@huggingface/tokenizers` does added-token splitting,
 * pre-tokenization and the model (WordPiece / BPE / Unigram); the BERT
 * normalizer is replaced by an exact port of the Rust one
 * (./tokenizer-normalizer.ts); truncation and the post-processor
 * (BertProcessing / RobertaProcessing / TemplateProcessing) are done here,
 * following the Rust code, because the library has neither truncation nor
 * RoBERTa's all-zero token type ids.
 *
 * This module is free of Node APIs, so it also runs in the browser
 * (`tokenizerFromFiles`, `tokenizerFromJson`); `tokenizer.ts` adds the Node
 * folder reader and writer (`loadTokenizer`, `writeTokenizerFiles`).
 */
import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import { bertNormalize, type BertNormalizerOptions } from "./tokenizer-normalizer.js";
import {
  byteLevelBpeTokenizerJson,
  checkVocabJson,
  isJsonObject,
  parseJsonFile,
  parseMergesTxt,
  specialTokenFromConfig,
  SPECIAL_TOKEN_KEYS,
  TokenizerFileError,
  vocabTxtLines,
  wordPieceTokenizerJson,
  type AddedTokenJson,
  type ComponentJson,
  type JsonObject,
  type TokenizerConfigJson,
  type TokenizerJson,
} from "./tokenizer-json.js";

export {
  byteLevelBpeTokenizerJson,
  parseMergesTxt,
  vocabTxtLines,
  wordPieceTokenizerJson,
  TokenizerFileError,
  type TokenizerJson,
  type TokenizerConfigJson,
};
export { bertNormalize } from "./tokenizer-normalizer.js";

/** A tokenized input as the model takes it; the three arrays have one entry per token. */
export interface Encoding {
  /** Token ids, special tokens included. */
  inputIds: number[];
  /** 1 for every token (no padding is added here). */
  attentionMask: number[];
  /** Segment ids: 0 for the first text, 1 for the pair's second (BERT); all 0 where the model has none. */
  tokenTypeIds: number[];
}

/** Which text loses tokens when a pair is too long: the longer one token by token (HF's default), or only the first / the second. */
export type TruncationStrategy = "longest_first" | "only_first" | "only_second";

/** Options of `Tokenizer.encode`. */
export interface EncodeOptions {
  /** Maximum length INCLUDING special tokens (default: the tokenizer's `modelMaxLength`, normally 512). `Infinity` disables truncation. */
  maxLength?: number;
  /** Default "longest_first". */
  truncation?: TruncationStrategy;
}

/** An offline tokenizer (WordPiece, byte-level BPE or Unigram from a tokenizer.json) that encodes as Hugging Face's fast tokenizers do. */
export interface Tokenizer {
  /**
   * Encode a text (or a text pair) with special tokens, truncated to `maxLength`.
   * As in transformers, an empty-string `pair` counts as no pair.
   */
  encode(text: string, pair?: string, opts?: EncodeOptions): Encoding;
  /** The tokens (no special tokens added) that `encode` would produce for `text`. */
  tokenize(text: string): string[];
  /** Decode ids back to text (uses the tokenizer.json decoder). */
  decode(ids: readonly number[], opts?: {
    /** Leave special tokens out of the text (default false). */
    skipSpecialTokens?: boolean;
  }): string;
  /** Number of ids in the id space: max id (model vocab and added tokens) + 1; the embedding matrix size. */
  readonly vocabSize: number;
  /** Ids of the special tokens, -1 when the tokenizer has no such token. */
  readonly padTokenId: number;
  /** Id of the classifier token ([CLS] / <s>), -1 when absent. */
  readonly clsTokenId: number;
  /** Id of the separator token ([SEP] / </s>), -1 when absent. */
  readonly sepTokenId: number;
  /** Id of the mask token ([MASK] / <mask>), -1 when absent. */
  readonly maskTokenId: number;
  /** Id of the unknown token, -1 when absent. */
  readonly unkTokenId: number;
  /** tokenizer_config.json `model_max_length` when sensible, else 512. */
  readonly modelMaxLength: number;
  /** tokenizer.json model type: "WordPiece", "BPE", "Unigram", ... */
  readonly modelType: string;
  /** The token of an id; undefined for an id outside the vocabulary. */
  idToToken(id: number): string | undefined;
  /** The id of a token; undefined when the vocabulary lacks it. */
  tokenToId(t: string): number | undefined;
  /** How many special tokens `encode` adds for a single text / a pair. */
  numSpecialTokensToAdd(pair: boolean): number;
  /**
   * Files that reproduce this tokenizer in a model directory (file name -> content):
   * tokenizer.json and tokenizer_config.json always, plus vocab.txt for WordPiece or
   * vocab.json + merges.txt for BPE, so both fast and slow HF tokenizers can load it.
   */
  toFiles(): Record<string, string>;
}

/** A tokenizer whose ids do not fit the model's embedding matrix. */
export class TokenizerMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerMismatchError";
  }
}

/**
 * Refuse a tokenizer with more ids than the model's `vocab_size`: some text would reach an id
 * with no embedding row, deep in the engine. `where` names the model folder in the message.
 */
export function checkTokenizerFitsModel(tokenizer: Pick<Tokenizer, "vocabSize">, modelVocabSize: number, where: string): void {
  if (tokenizer.vocabSize > modelVocabSize) {
    throw new TokenizerMismatchError(`${where}: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ${modelVocabSize} (config.json): they do not belong together`);
  }
}

/** What a model directory may hold; each value is the file's text. */
export interface TokenizerFiles {
  /** HF fast tokenizer file (the one `tokenizerFromFiles` prefers). */
  "tokenizer.json"?: string;
  /** HF tokenizer settings (special tokens, `model_max_length`, lower-casing). */
  "tokenizer_config.json"?: string;
  /** WordPiece vocabulary, one token per line (BERT). */
  "vocab.txt"?: string;
  /** Byte-level BPE vocabulary: token to id (RoBERTa, GPT-2); needs merges.txt. */
  "vocab.json"?: string;
  /** Byte-level BPE merges, one pair per line. */
  "merges.txt"?: string;
}

export const TOKENIZER_FILE_NAMES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt"] as const;

const DEFAULT_MAX_LENGTH = 512;

// ---------------------------------------------------------------------------
// Truncation (port of tokenizers/src/utils/truncation.rs, direction "right", stride 0)
// ---------------------------------------------------------------------------

/**
 * Truncate the content ids of one or two sequences so that together they have at
 * most `maxLength` ids (special tokens NOT counted here), exactly as the Rust
 * `truncate_encodings` does.
 *
 * `longest_first` with a pair: if the shorter sequence fits in half, it is kept
 * whole and the longer one gets the rest; otherwise both get `maxLength / 2`, the
 * odd id going to the originally longer one (to the second one on a tie). This is
 * the result of removing one id at a time from the longer sequence, except that
 * on ties the Rust code favours the second sequence.
 */
export function truncateSequences(
  a: number[],
  b: number[] | undefined,
  maxLength: number,
  strategy: TruncationStrategy = "longest_first",
): [number[], number[] | undefined] {
  if (maxLength === 0) return [a.slice(0, 0), b?.slice(0, 0)];
  const total = a.length + (b?.length ?? 0);
  if (total <= maxLength) return [a, b];
  const toRemove = total - maxLength;
  if (strategy === "longest_first") {
    if (b === undefined) return [a.slice(0, maxLength), b];
    let n1 = a.length;
    let n2 = b.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > maxLength ? n1 : Math.max(n1, maxLength - n1);
    if (n1 + n2 > maxLength) {
      n1 = Math.floor(maxLength / 2);
      n2 = n1 + (maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    return [a.slice(0, n1), b.slice(0, n2)];
  }
  if (strategy === "only_second" && b === undefined) {
    throw new Error("Truncation error: Second sequence not provided (truncation 'only_second' needs a text pair)");
  }
  const target = strategy === "only_first" ? a : (b as number[]);
  if (target.length <= toRemove) {
    throw new Error(
      `Truncation error: Sequence to truncate too short to respect the provided max_length ` +
        `(${strategy}: ${target.length} ids, ${toRemove} must be removed)`,
    );
  }
  const cut = target.slice(0, target.length - toRemove);
  return strategy === "only_first" ? [cut, b] : [a, cut];
}

// ---------------------------------------------------------------------------
// Post-processing (special tokens and token type ids)
// ---------------------------------------------------------------------------

type TemplatePiece = { kind: "special"; ids: number[]; typeId: number } | { kind: "sequence"; seq: "A" | "B"; typeId: number };

interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
  /** Candidate [CLS]/[SEP]-like ids taken from the post-processor. */
  cls?: number;
  sep?: number;
}

function tokenIdPair(v: unknown, what: string): [string, number] {
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "number") return [v[0], v[1]];
  throw new Error(`tokenizer.json: ${what} must be [token, id]`);
}

function parseTemplatePieces(v: unknown, special: JsonObject, what: string): TemplatePiece[] {
  if (!Array.isArray(v)) throw new Error(`tokenizer.json: TemplateProcessing.${what} must be an array`);
  return v.map((item: unknown): TemplatePiece => {
    if (isJsonObject(item) && isJsonObject(item["SpecialToken"])) {
      const st = item["SpecialToken"];
      const name = st["id"];
      const entry = typeof name === "string" ? special[name] : undefined;
      const ids = isJsonObject(entry) ? entry["ids"] : undefined;
      if (!Array.isArray(ids) || !ids.every((x): x is number => typeof x === "number")) {
        throw new Error(`tokenizer.json: TemplateProcessing special token ${JSON.stringify(name)} has no ids`);
      }
      return { kind: "special", ids, typeId: typeof st["type_id"] === "number" ? st["type_id"] : 0 };
    }
    if (isJsonObject(item) && isJsonObject(item["Sequence"])) {
      const seq = item["Sequence"];
      const id = seq["id"];
      if (id !== "A" && id !== "B") throw new Error(`tokenizer.json: TemplateProcessing sequence id must be "A" or "B"`);
      return { kind: "sequence", seq: id, typeId: typeof seq["type_id"] === "number" ? seq["type_id"] : 0 };
    }
    throw new Error(`tokenizer.json: unsupported TemplateProcessing.${what} item ${JSON.stringify(item)}`);
  });
}

function templateFromPostProcessor(pp: ComponentJson | null): Template {
  const seqA: TemplatePiece = { kind: "sequence", seq: "A", typeId: 0 };
  if (pp === null || pp.type === "ByteLevel") {
    // Default Rust behaviour: the pair sequence is encoded with type id 1.
    return { single: [seqA], pair: [seqA, { kind: "sequence", seq: "B", typeId: 1 }] };
  }
  switch (pp.type) {
    case "BertProcessing": {
      const [, cls] = tokenIdPair(pp["cls"], "BertProcessing.cls");
      const [, sep] = tokenIdPair(pp["sep"], "BertProcessing.sep");
      const s = (id: number, typeId: number): TemplatePiece => ({ kind: "special", ids: [id], typeId });
      return {
        single: [s(cls, 0), seqA, s(sep, 0)],
        pair: [s(cls, 0), seqA, s(sep, 0), { kind: "sequence", seq: "B", typeId: 1 }, s(sep, 1)],
        cls,
        sep,
      };
    }
    case "RobertaProcessing": {
      // "Roberta is weird, and every encoding is type_id=0."
      const [, cls] = tokenIdPair(pp["cls"], "RobertaProcessing.cls");
      const [, sep] = tokenIdPair(pp["sep"], "RobertaProcessing.sep");
      const s = (id: number): TemplatePiece => ({ kind: "special", ids: [id], typeId: 0 });
      return {
        single: [s(cls), seqA, s(sep)],
        pair: [s(cls), seqA, s(sep), s(sep), { kind: "sequence", seq: "B", typeId: 0 }, s(sep)],
        cls,
        sep,
      };
    }
    case "TemplateProcessing": {
      const special = isJsonObject(pp["special_tokens"]) ? pp["special_tokens"] : {};
      const single = parseTemplatePieces(pp["single"], special, "single");
      const pair = parseTemplatePieces(pp["pair"], special, "pair");
      const first = single[0];
      const last = single[single.length - 1];
      return {
        single,
        pair,
        ...(first?.kind === "special" && first.ids.length === 1 ? { cls: first.ids[0] } : {}),
        ...(last?.kind === "special" && last.ids.length === 1 ? { sep: last.ids[0] } : {}),
      };
    }
    case "Sequence": {
      const procs = Array.isArray(pp["processors"]) ? pp["processors"] : [];
      const active = procs.filter((p): p is ComponentJson => isJsonObject(p) && typeof p["type"] === "string" && p["type"] !== "ByteLevel");
      if (active.length > 1) throw new Error(`tokenizer.json: unsupported post_processor Sequence with ${active.length} token-adding processors`);
      return templateFromPostProcessor(active[0] ?? null);
    }
    default:
      throw new Error(`tokenizer.json: unsupported post_processor type ${JSON.stringify(pp.type)}`);
  }
}

function countSpecial(pieces: readonly TemplatePiece[]): number {
  let n = 0;
  for (const p of pieces) if (p.kind === "special") n += p.ids.length;
  return n;
}

// ---------------------------------------------------------------------------
// The tokenizer
// ---------------------------------------------------------------------------

/** The part of `@huggingface/tokenizers`' Tokenizer that we use (its bundled types do not resolve under NodeNext). */
interface JsTokenizerFacade {
  normalizer: unknown;
  tokenize(text: string, options?: { add_special_tokens?: boolean }): string[];
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  decode(ids: number[], options?: { skip_special_tokens?: boolean; clean_up_tokenization_spaces?: boolean }): string;
}

function bertNormalizerOptions(n: ComponentJson): BertNormalizerOptions {
  const lowercase = typeof n["lowercase"] === "boolean" ? n["lowercase"] : true;
  return {
    cleanText: typeof n["clean_text"] === "boolean" ? n["clean_text"] : true,
    handleChineseChars: typeof n["handle_chinese_chars"] === "boolean" ? n["handle_chinese_chars"] : true,
    stripAccents: typeof n["strip_accents"] === "boolean" ? n["strip_accents"] : lowercase,
    lowercase,
  };
}

function componentOrNull(v: unknown, key: string): ComponentJson | null {
  if (v === null || v === undefined) return null;
  if (isJsonObject(v) && typeof v["type"] === "string") return v as ComponentJson;
  throw new Error(`tokenizer.json: "${key}" must be null or an object with a "type"`);
}

function checkTokenizerJson(value: unknown, file: string): TokenizerJson {
  if (!isJsonObject(value)) throw new TokenizerFileError(file, "expected a JSON object");
  const model = value["model"];
  if (!isJsonObject(model) || model["vocab"] === undefined) throw new TokenizerFileError(file, `missing "model" with a "vocab"`);
  const addedRaw = value["added_tokens"] ?? [];
  if (!Array.isArray(addedRaw)) throw new TokenizerFileError(file, `"added_tokens" must be an array`);
  const added = addedRaw.map((t: unknown, i): AddedTokenJson => {
    if (!isJsonObject(t) || typeof t["id"] !== "number" || typeof t["content"] !== "string") {
      throw new TokenizerFileError(file, `added_tokens[${i}] must have a numeric "id" and a string "content"`);
    }
    const special = t["special"] === true;
    return {
      id: t["id"],
      content: t["content"],
      single_word: t["single_word"] === true,
      lstrip: t["lstrip"] === true,
      rstrip: t["rstrip"] === true,
      normalized: typeof t["normalized"] === "boolean" ? t["normalized"] : !special,
      special,
    };
  });
  try {
    return {
      ...value,
      version: typeof value["version"] === "string" ? value["version"] : "1.0",
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: componentOrNull(value["normalizer"], "normalizer"),
      pre_tokenizer: componentOrNull(value["pre_tokenizer"], "pre_tokenizer"),
      post_processor: componentOrNull(value["post_processor"], "post_processor"),
      decoder: componentOrNull(value["decoder"], "decoder"),
      model,
    };
  } catch (e) {
    throw new TokenizerFileError(file, e instanceof Error ? e.message.replace(/^tokenizer\.json: /, "") : String(e));
  }
}

/**
 * Apply the tokenizer_config.json options that transformers' BertTokenizerFast /
 * RobertaTokenizerFast re-apply on top of tokenizer.json (do_lower_case,
 * strip_accents, tokenize_chinese_chars, add_prefix_space), when present.
 */
function applyConfigOverrides(json: TokenizerJson, config: TokenizerConfigJson): TokenizerJson {
  let out = json;
  const n = json.normalizer;
  if (n !== null && n.type === "BertNormalizer") {
    const patch: JsonObject = {};
    if (typeof config.do_lower_case === "boolean") patch["lowercase"] = config.do_lower_case;
    if (config.strip_accents === null || typeof config.strip_accents === "boolean") patch["strip_accents"] = config.strip_accents;
    if (typeof config.tokenize_chinese_chars === "boolean") patch["handle_chinese_chars"] = config.tokenize_chinese_chars;
    if (Object.keys(patch).length > 0) out = { ...out, normalizer: { ...n, ...patch } };
  }
  const p = json.pre_tokenizer;
  if (p !== null && p.type === "ByteLevel" && typeof config.add_prefix_space === "boolean" && p["add_prefix_space"] !== config.add_prefix_space) {
    out = { ...out, pre_tokenizer: { ...p, add_prefix_space: config.add_prefix_space } };
  }
  return out;
}

function modelTypeOf(model: JsonObject): string {
  if (typeof model["type"] === "string") return model["type"];
  if (Array.isArray(model["vocab"])) return "Unigram";
  if (model["merges"] !== undefined) return "BPE";
  if (model["continuing_subword_prefix"] !== undefined) return "WordPiece";
  return "Unknown";
}

class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly padTokenId: number;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly maskTokenId: number;
  readonly unkTokenId: number;
  readonly modelMaxLength: number;
  readonly modelType: string;
  private readonly lib: JsTokenizerFacade;
  private readonly template: Template;

  constructor(
    private readonly json: TokenizerJson,
    private readonly config: TokenizerConfigJson,
  ) {
    this.modelType = modelTypeOf(json.model);
    // The library needs every component key present; post-processing is ours.
    const libJson = { ...json, post_processor: null };
    const libConfig: JsonObject = {};
    if (typeof config["clean_up_tokenization_spaces"] === "boolean") {
      libConfig["clean_up_tokenization_spaces"] = config["clean_up_tokenization_spaces"];
    }
    let lib: JsTokenizerFacade;
    try {
      lib = new JsTokenizer(libJson, libConfig);
    } catch (e) {
      // An unsupported decoder should not prevent encoding.
      try {
        lib = new JsTokenizer({ ...libJson, decoder: null }, libConfig);
      } catch {
        throw new Error(`unsupported tokenizer.json: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (json.normalizer !== null && json.normalizer.type === "BertNormalizer") {
      const opts = bertNormalizerOptions(json.normalizer);
      lib.normalizer = (text: string): string => bertNormalize(text, opts);
    }
    this.lib = lib;
    this.template = templateFromPostProcessor(json.post_processor);

    let maxId = -1;
    const vocab = json.model["vocab"];
    if (Array.isArray(vocab)) maxId = vocab.length - 1;
    else if (isJsonObject(vocab)) for (const id of Object.values(vocab)) if (typeof id === "number" && id > maxId) maxId = id;
    for (const t of json.added_tokens) if (t.id > maxId) maxId = t.id;
    this.vocabSize = maxId + 1;

    const idOf = (names: (string | undefined)[], fallback?: number): number => {
      for (const n of names) {
        if (n === undefined) continue;
        const id = this.tokenToId(n);
        if (id !== undefined) return id;
      }
      return fallback ?? -1;
    };
    const cfg = (k: (typeof SPECIAL_TOKEN_KEYS)[number]): string | undefined => specialTokenFromConfig(config, k);
    const modelUnk = typeof json.model["unk_token"] === "string" ? json.model["unk_token"] : undefined;
    this.unkTokenId = idOf([cfg("unk_token"), modelUnk, "[UNK]", "<unk>"]);
    this.clsTokenId = cfg("cls_token") !== undefined ? idOf([cfg("cls_token")]) : idOf(["[CLS]", "<s>"], this.template.cls);
    this.sepTokenId = cfg("sep_token") !== undefined ? idOf([cfg("sep_token")]) : idOf(["[SEP]", "</s>"], this.template.sep);
    this.padTokenId = idOf([cfg("pad_token"), "[PAD]", "<pad>"]);
    this.maskTokenId = idOf([cfg("mask_token"), "[MASK]", "<mask>"]);

    const mml = config.model_max_length;
    this.modelMaxLength = typeof mml === "number" && Number.isInteger(mml) && mml > 0 && mml <= 1_000_000 ? mml : DEFAULT_MAX_LENGTH;
  }

  tokenize(text: string): string[] {
    return this.lib.tokenize(text, { add_special_tokens: false });
  }

  private contentIds(text: string): number[] {
    const ids: number[] = [];
    for (const t of this.tokenize(text)) {
      const id = this.lib.token_to_id(t) ?? (this.unkTokenId >= 0 ? this.unkTokenId : undefined);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  numSpecialTokensToAdd(pair: boolean): number {
    return countSpecial(pair ? this.template.pair : this.template.single);
  }

  encode(text: string, pair?: string, opts: EncodeOptions = {}): Encoding {
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    const strategy = opts.truncation ?? "longest_first";
    const isPair = pair !== undefined && pair !== "";
    const added = this.numSpecialTokensToAdd(isPair);
    if (!(maxLength >= added)) {
      throw new RangeError(`maxLength ${maxLength} is smaller than the ${added} special tokens this tokenizer adds`);
    }
    const [a, b] = truncateSequences(this.contentIds(text), isPair ? this.contentIds(pair) : undefined, maxLength - added, strategy);
    const inputIds: number[] = [];
    const tokenTypeIds: number[] = [];
    for (const piece of b === undefined ? this.template.single : this.template.pair) {
      if (piece.kind === "special") {
        for (const id of piece.ids) {
          inputIds.push(id);
          tokenTypeIds.push(piece.typeId);
        }
      } else {
        const seq = piece.seq === "A" ? a : (b ?? []);
        for (const id of seq) {
          inputIds.push(id);
          tokenTypeIds.push(piece.typeId);
        }
      }
    }
    return { inputIds, attentionMask: inputIds.map(() => 1), tokenTypeIds };
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.lib.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  idToToken(id: number): string | undefined {
    return this.lib.id_to_token(id);
  }

  tokenToId(t: string): number | undefined {
    return this.lib.token_to_id(t);
  }

  toFiles(): Record<string, string> {
    const files: Record<string, string> = { "tokenizer.json": JSON.stringify(this.json) };
    const config: JsonObject = { ...this.config, model_max_length: this.modelMaxLength };
    const tokenName = (id: number): string | undefined => (id >= 0 ? this.idToToken(id) : undefined);
    const names: [string, number][] = [
      ["unk_token", this.unkTokenId],
      ["sep_token", this.sepTokenId],
      ["pad_token", this.padTokenId],
      ["cls_token", this.clsTokenId],
      ["mask_token", this.maskTokenId],
    ];
    for (const [k, id] of names) {
      const t = tokenName(id);
      if (t !== undefined && config[k] === undefined) config[k] = t;
    }
    const n = this.json.normalizer;
    const p = this.json.pre_tokenizer;
    if (this.modelType === "WordPiece") {
      if (n !== null && n.type === "BertNormalizer") {
        const o = bertNormalizerOptions(n);
        config["do_lower_case"] = o.lowercase;
        config["tokenize_chinese_chars"] = o.handleChineseChars;
        config["strip_accents"] = typeof n["strip_accents"] === "boolean" ? n["strip_accents"] : null;
        if (config["tokenizer_class"] === undefined) config["tokenizer_class"] = "BertTokenizer";
      }
      files["vocab.txt"] = vocabTxtFromTokenizer(this);
    } else if (this.modelType === "BPE" && p !== null && p.type === "ByteLevel") {
      config["add_prefix_space"] = p["add_prefix_space"] === true;
      if (config["tokenizer_class"] === undefined && this.json.post_processor?.type === "RobertaProcessing") {
        config["tokenizer_class"] = "RobertaTokenizer";
      }
      const vocab = this.json.model["vocab"];
      const merges = this.json.model["merges"];
      if (isJsonObject(vocab) && Array.isArray(merges)) {
        files["vocab.json"] = JSON.stringify(vocab);
        const lines = merges.map((m: unknown) => (Array.isArray(m) ? m.join(" ") : String(m)));
        files["merges.txt"] = ["#version: 0.2", ...lines].join("\n") + "\n";
      }
    }
    files["tokenizer_config.json"] = JSON.stringify(config, null, 2) + "\n";
    return files;
  }
}

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/** Build a tokenizer from a parsed tokenizer.json (and optional tokenizer_config.json). */
export function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig: unknown = {}, file = "tokenizer.json"): Tokenizer {
  const config: TokenizerConfigJson = isJsonObject(tokenizerConfig) ? tokenizerConfig : {};
  const json = applyConfigOverrides(checkTokenizerJson(tokenizerJson, file), config);
  try {
    return new HfTokenizer(json, config);
  } catch (e) {
    if (e instanceof TokenizerFileError) throw e;
    throw new TokenizerFileError(file, e instanceof Error ? e.message.replace(/^tokenizer\.json: /, "") : String(e));
  }
}

/** A BERT WordPiece tokenizer from the lines of a vocab.txt (line index = id). */
export function tokenizerFromVocabTxt(
  lines: readonly string[],
  opts: { lowercase?: boolean; stripAccents?: boolean | null; tokenizeChineseChars?: boolean; modelMaxLength?: number } = {},
): Tokenizer {
  const lowercase = opts.lowercase ?? true;
  const json = wordPieceTokenizerJson(lines, {
    lowercase,
    ...(opts.stripAccents !== undefined ? { stripAccents: opts.stripAccents } : {}),
    ...(opts.tokenizeChineseChars !== undefined ? { tokenizeChineseChars: opts.tokenizeChineseChars } : {}),
  });
  return new HfTokenizer(json, {
    tokenizer_class: "BertTokenizer",
    do_lower_case: lowercase,
    model_max_length: opts.modelMaxLength ?? DEFAULT_MAX_LENGTH,
  });
}

/**
 * Build a tokenizer from the text of the files of a model directory. Uses
 * tokenizer.json when present, else vocab.txt (WordPiece), else vocab.json +
 * merges.txt (byte-level BPE); tokenizer_config.json supplies options.
 * `dir` only labels error messages.
 */
export function tokenizerFromFiles(files: TokenizerFiles, dir = "."): Tokenizer {
  const at = (name: string): string => `${dir.replace(/[\\/]+$/, "")}/${name}`;
  const configText = files["tokenizer_config.json"];
  let config: TokenizerConfigJson = {};
  if (configText !== undefined) {
    const parsed = parseJsonFile(at("tokenizer_config.json"), configText);
    if (!isJsonObject(parsed)) throw new TokenizerFileError(at("tokenizer_config.json"), "expected a JSON object");
    config = parsed;
  }
  const tokenizerJson = files["tokenizer.json"];
  if (tokenizerJson !== undefined) {
    const file = at("tokenizer.json");
    return tokenizerFromJson(parseJsonFile(file, tokenizerJson), config, file);
  }
  const special = (k: (typeof SPECIAL_TOKEN_KEYS)[number]): string | undefined => specialTokenFromConfig(config, k);
  const vocabTxt = files["vocab.txt"];
  if (vocabTxt !== undefined) {
    const lowercase = typeof config.do_lower_case === "boolean" ? config.do_lower_case : true;
    const opts = {
      fileName: at("vocab.txt"),
      lowercase,
      ...(config.strip_accents === null || typeof config.strip_accents === "boolean" ? { stripAccents: config.strip_accents } : {}),
      ...(typeof config.tokenize_chinese_chars === "boolean" ? { tokenizeChineseChars: config.tokenize_chinese_chars } : {}),
      ...optional("unkToken", special("unk_token")),
      ...optional("sepToken", special("sep_token")),
      ...optional("padToken", special("pad_token")),
      ...optional("clsToken", special("cls_token")),
      ...optional("maskToken", special("mask_token")),
    };
    return new HfTokenizer(wordPieceTokenizerJson(vocabTxtLines(vocabTxt), opts), {
      tokenizer_class: "BertTokenizer",
      ...config,
      do_lower_case: lowercase,
    });
  }
  const vocabJson = files["vocab.json"];
  const mergesTxt = files["merges.txt"];
  if (vocabJson !== undefined && mergesTxt !== undefined) {
    const vocab = checkVocabJson(parseJsonFile(at("vocab.json"), vocabJson), at("vocab.json"));
    const merges = parseMergesTxt(mergesTxt, at("merges.txt"));
    const json = byteLevelBpeTokenizerJson(vocab, merges, {
      vocabFileName: at("vocab.json"),
      mergesFileName: at("merges.txt"),
      ...(typeof config.add_prefix_space === "boolean" ? { addPrefixSpace: config.add_prefix_space } : {}),
      ...optional("unkToken", special("unk_token")),
      ...optional("sepToken", special("sep_token")),
      ...optional("padToken", special("pad_token")),
      ...optional("clsToken", special("cls_token")),
      ...optional("maskToken", special("mask_token")),
      ...optional("bosToken", special("bos_token")),
      ...optional("eosToken", special("eos_token")),
    });
    return new HfTokenizer(json, config);
  }
  const found = TOKENIZER_FILE_NAMES.filter((n) => files[n] !== undefined);
  throw new Error(
    `No tokenizer files in ${dir}: looked for tokenizer.json, or vocab.txt (WordPiece), or vocab.json + merges.txt (byte-level BPE)` +
      (found.length > 0 ? `; found only ${found.join(", ")}` : ""),
  );
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** The vocabulary in id order, one token per line (a BERT vocab.txt). Requires ids 0..vocabSize-1 without gaps. */
export function vocabTxtFromTokenizer(tokenizer: Tokenizer): string {
  const lines: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const t = tokenizer.idToToken(id);
    if (t === undefined) throw new Error(`cannot write vocab.txt: no token has id ${id}`);
    if (t.includes("\n")) throw new Error(`cannot write vocab.txt: token ${id} ${JSON.stringify(t)} contains a newline`);
    lines.push(t);
  }
  return lines.join("\n") + "\n";
}
