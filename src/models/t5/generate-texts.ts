/**
 * Texts in, generated ids out: what `propetl generate` and `propetl serve`'s completions share.
 * Each input is prefixed, tokenized (EOS appended by the tokenizer) and truncated past
 * `maxSourceLength` tokens; inputs run `batchSize` at a time, right-padded with the config's pad
 * id, through `t5Generate`. Also the generation options from a model folder's defaults
 * (generation_config.json, read by `readGenerationDefaults`) and explicit settings, HF's way.
 */
import type { Tokenizer } from "../../data/tokenizer.js";
import { HF_DEFAULT_MAX_LENGTH } from "../generation-defaults.js";
import type { GenerationDefaults } from "../generation-defaults.js";
import type { ModelHooks } from "../hooks.js";
import type { T5Config } from "./config.js";
import { t5Generate } from "./generate.js";
import type { T5GenerateOptions } from "./generate.js";
import type { T5Params } from "./params.js";

/** Settings given explicitly (flags, request fields); the rest come from the folder's defaults. */
export interface GenerateSettings {
  /** As `T5GenerateOptions.maxNewTokens`. */
  maxNewTokens?: number;
  /** As `T5GenerateOptions.numBeams`. */
  numBeams?: number;
  /** As `T5GenerateOptions.lengthPenalty`. */
  lengthPenalty?: number;
  /** As `T5GenerateOptions.earlyStopping`. */
  earlyStopping?: boolean | "never";
}

/** Generation options: explicit settings over the folder's generation_config.json over HF's defaults. */
export function resolveGenerateOptions(gen: GenerationDefaults, s: GenerateSettings): T5GenerateOptions {
  return {
    maxNewTokens: s.maxNewTokens ?? gen.maxNewTokens ?? (gen.maxLength ?? HF_DEFAULT_MAX_LENGTH) - 1,
    numBeams: s.numBeams ?? gen.numBeams ?? 1,
    lengthPenalty: s.lengthPenalty ?? gen.lengthPenalty ?? 1.0,
    earlyStopping: s.earlyStopping ?? gen.earlyStopping ?? false,
    ...(gen.eosTokenId !== undefined ? { eosTokenId: gen.eosTokenId } : {}),
    ...(gen.padTokenId !== undefined ? { padTokenId: gen.padTokenId } : {}),
    ...(gen.decoderStartTokenId !== undefined ? { decoderStartTokenId: gen.decoderStartTokenId } : {}),
  };
}

/** Encoded inputs: token ids per input, and the indices of those that were truncated. */
export interface EncodedSources {
  /** Token ids of each input, in input order. */
  ids: number[][];
  /** Indices of the inputs that were cut to `maxLength`. */
  truncated: number[];
}

/** Encode every input (prefix + text, EOS appended by the tokenizer), truncating past `maxLength` tokens. */
export function encodeSources(tokenizer: Tokenizer, texts: readonly string[], prefix: string, maxLength: number): EncodedSources {
  const ids: number[][] = [];
  const truncated: number[] = [];
  texts.forEach((t, i) => {
    const full = tokenizer.encode(prefix + t, undefined, { maxLength: Infinity }).inputIds;
    if (full.length > maxLength) {
      truncated.push(i);
      ids.push(tokenizer.encode(prefix + t, undefined, { maxLength }).inputIds);
    } else ids.push(full);
  });
  return { ids, truncated };
}

/**
 * Generate for encoded inputs, `batchSize` at a time; `onBatch` gets each batch's sequences
 * (in input order) as soon as they are done. Returns every input's generated ids. `params` and
 * `hooks` are borrowed.
 */
export async function generateForSources(cfg: T5Config, params: T5Params, hooks: ModelHooks | undefined, ids: readonly number[][], batchSize: number, opts: T5GenerateOptions, onBatch?: (sequences: number[][], start: number) => void): Promise<number[][]> {
  const out: number[][] = [];
  for (let start = 0; start < ids.length; start += batchSize) {
    const rows = ids.slice(start, start + batchSize);
    const S = Math.max(...rows.map((r) => r.length));
    const inputIds = new Int32Array(rows.length * S).fill(cfg.padTokenId);
    const attentionMask = new Int32Array(rows.length * S);
    rows.forEach((r, i) => {
      inputIds.set(r, i * S);
      attentionMask.fill(1, i * S, i * S + r.length);
    });
    const result = await t5Generate(cfg, params, hooks, { batchSize: rows.length, encoderLength: S, inputIds, attentionMask }, opts);
    onBatch?.(result.sequences, start);
    out.push(...result.sequences);
  }
  return out;
}
