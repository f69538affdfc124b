/**
 * A prediction and fine-tuning backbone from bytes or from a model folder's URL, validated as
 * the folder loader (`loadPredictionBackbone`) validates a folder: the same parsers
 * (`modelFilesFromBytes` → `modelFromFiles`, `tokenizerFromFiles`) and so the same error
 * classes and messages, naming the file or URL and the field. Platform-free: a page loads
 * propetl-mini from its static files with `loadBackboneFromUrl("models/propetl-mini/")`.
 */
import { tokenizerFromFiles } from "../data/tokenizer-core.js";
import type { Tokenizer, TokenizerFiles } from "../data/tokenizer-core.js";
import { fetchBytes, fetchOf, folderUrl } from "../io/fetch-bytes.js";
import type { FetchLike } from "../io/fetch-bytes.js";
import { ModelLoadError, modelFilesFromBytes, modelFromFiles } from "../models/load-tensors.js";
import { predictionBackboneOf } from "./task-predictor.js";
import type { PredictionBackbone } from "./task-predictor.js";

/** A Hugging Face model folder's files as bytes (the tokenizer as the folder loader accepts it). */
export interface BackboneBytes {
  /** config.json */
  config: Uint8Array;
  /** model.safetensors */
  weights: Uint8Array;
  /** tokenizer.json */
  tokenizer?: Uint8Array;
  /** tokenizer_config.json */
  tokenizerConfig?: Uint8Array;
  /** vocab.txt (WordPiece), used when there is no tokenizer.json */
  vocab?: Uint8Array;
  /**
   * vocab.json (byte-level BPE: token to id, RoBERTa / GPT-2), used with `merges` when there is
   * neither tokenizer.json nor vocab.txt; one without the other is an error naming the files found.
   */
  vocabJson?: Uint8Array;
  /** merges.txt (byte-level BPE merge rules, one pair per line), read with `vocabJson`. */
  merges?: Uint8Array;
}

/** Options of the byte and URL backbone loaders. */
export interface BackboneBytesOptions {
  /** Names the model in messages (its folder or URL); file names are appended. Default "model". */
  source?: string;
  /** A tokenizer instead of the model's files. */
  tokenizer?: Tokenizer;
}

/** Options of `loadBackboneFromUrl`. */
export interface BackboneUrlOptions {
  /** The fetch to use (default the platform's). */
  fetch?: FetchLike;
  /** A tokenizer instead of the folder's tokenizer files (then none are fetched). */
  tokenizer?: Tokenizer;
}

/** Text files as the folder reader reads them (UTF-8, a byte-order mark kept, as Node's "utf8"). */
function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

function joinName(source: string, name: string): string {
  return `${source.replace(/[\\/]+$/, "")}/${name}`;
}

/**
 * A backbone for prediction and fine-tuning from a model folder's files as bytes: the
 * tokenizer, then config.json and model.safetensors, validated as `loadPredictionBackbone`
 * validates a folder (same errors: `SafetensorsError` for a truncated or malformed
 * model.safetensors, `ModelLoadError` / `ConfigError` for the config and tensors, naming
 * `<source>/<file>`). The model must have a classification head's architecture (BERT, RoBERTa);
 * its pretraining head is freed. The result is owned: `dispose()` it.
 */
export async function loadBackboneFromBytes(files: BackboneBytes, opts: BackboneBytesOptions = {}): Promise<PredictionBackbone> {
  const source = opts.source ?? "model";
  const tokenizer =
    opts.tokenizer ??
    tokenizerFromFiles(
      dropUndefined({
        "tokenizer.json": text(files.tokenizer),
        "tokenizer_config.json": text(files.tokenizerConfig),
        "vocab.txt": text(files.vocab),
        "vocab.json": text(files.vocabJson),
        "merges.txt": text(files.merges),
      }),
      source,
    );
  const model = modelFromFiles(modelFilesFromBytes(files.config, files.weights, joinName(source, "config.json"), joinName(source, "model.safetensors")));
  return predictionBackboneOf(model, tokenizer, source);
}

function dropUndefined(files: Record<keyof TokenizerFiles, string | undefined>): TokenizerFiles {
  const out: TokenizerFiles = {};
  for (const [k, v] of Object.entries(files) as [keyof TokenizerFiles, string | undefined][]) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * A backbone from a Hugging Face model folder served over HTTP(S) (`baseUrl`, relative URLs
 * resolve against the page): config.json and model.safetensors, and the tokenizer files the
 * folder loader accepts (tokenizer.json and tokenizer_config.json, else vocab.txt, else
 * vocab.json + merges.txt; a 404 means the folder has no such file). A missing config.json or
 * model.safetensors, any other HTTP error and a network failure are `ModelLoadError`s naming the
 * URL and the status. Then validated as `loadBackboneFromBytes` (errors name the URLs).
 */
export async function loadBackboneFromUrl(baseUrl: string | URL, opts: BackboneUrlOptions = {}): Promise<PredictionBackbone> {
  const error = (m: string): Error => new ModelLoadError(m);
  const base = folderUrl(baseUrl, error);
  const fetchFn = fetchOf(opts.fetch, error);
  const get = (name: string, optional: boolean): Promise<Uint8Array | null> =>
    fetchBytes(fetchFn, new URL(name, base), error, { optional, missing: "a Hugging Face model folder needs config.json and model.safetensors" });
  const wantTokenizer = opts.tokenizer === undefined;
  const [config, weights, tokenizer, tokenizerConfig] = await Promise.all([
    get("config.json", false),
    get("model.safetensors", false),
    wantTokenizer ? get("tokenizer.json", true) : Promise.resolve(null),
    wantTokenizer ? get("tokenizer_config.json", true) : Promise.resolve(null),
  ]);
  const files: BackboneBytes = { config: config as Uint8Array, weights: weights as Uint8Array };
  if (tokenizer) files.tokenizer = tokenizer;
  if (tokenizerConfig) files.tokenizerConfig = tokenizerConfig;
  if (wantTokenizer && !tokenizer) {
    const vocab = await get("vocab.txt", true);
    if (vocab) files.vocab = vocab;
    else {
      const [vocabJson, merges] = await Promise.all([get("vocab.json", true), get("merges.txt", true)]);
      if (vocabJson) files.vocabJson = vocabJson;
      if (merges) files.merges = merges;
    }
  }
  return loadBackboneFromBytes(files, { source: base.href, ...(opts.tokenizer ? { tokenizer: opts.tokenizer } : {}) });
}
