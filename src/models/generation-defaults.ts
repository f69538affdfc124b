/**
 * A model folder's generation defaults, as Hugging Face reads them: `generation_config.json`
 * when the folder has one, else the generation keys of `config.json`
 * (`GenerationConfig.from_model_config`). Only what greedy and beam search use is applied
 * (`max_new_tokens` / `max_length`, `num_beams`, `length_penalty`, `early_stopping`, the
 * EOS, pad and decoder-start ids); keys that would change HF's output and are not implemented
 * here (sampling, n-gram blocking, repetition penalty, minimum lengths, forced tokens, ...) are
 * reported when set to a non-neutral value, so a caller can say they are ignored.
 * Platform-free: `generation-config.ts` reads a model folder's file on Node.
 */

/** The file name Hugging Face keeps generation defaults in. */
export const GENERATION_CONFIG_FILE = "generation_config.json";

/**
 * Generation from texts by default (`propetl generate`, serve's completions): sources per
 * generate call; the longest source in tokens (EOS included; T5's pretraining length).
 */
export const GENERATE_DEFAULTS = { batchSize: 16, maxSourceLength: 512 } as const;

/** Hugging Face's `GenerationConfig` default for `max_length` (prompt included). */
export const HF_DEFAULT_MAX_LENGTH = 20;

/** A model folder's generation defaults (`readGenerationDefaults`); a key is absent when neither file sets it. */
export interface GenerationDefaults {
  /** The file the values came from (generation_config.json or config.json), null when neither had any. */
  file: string | null;
  /** HF `max_new_tokens`: tokens to generate, the decoder prompt excluded. */
  maxNewTokens?: number;
  /** HF's max_length: the decoder prompt (1 token for T5) plus the new tokens. */
  maxLength?: number;
  /** HF `num_beams`: 1 is greedy search. */
  numBeams?: number;
  /** HF `length_penalty`: beam scores are divided by length to this power. */
  lengthPenalty?: number;
  /** HF `early_stopping`: when beam search stops (true, false, or "never"). */
  earlyStopping?: boolean | "never";
  /** HF `eos_token_id`: one id, several, or null for none. */
  eosTokenId?: number | number[] | null;
  /** HF `pad_token_id`. */
  padTokenId?: number;
  /** HF `decoder_start_token_id`: the decoder's first input (T5: the pad id). */
  decoderStartTokenId?: number;
  /** Keys set to a value that changes HF's output but that is not implemented here: `key value`. */
  unsupported: string[];
}

/** A generation_config.json (or config.json) value of the wrong type; the message names the file and the key. */
export class GenerationConfigError extends Error {}

/** Keys HF generation reads that are not implemented, with the value that makes them a no-op. */
const NEUTRAL: Record<string, unknown> = {
  do_sample: false,
  min_length: 0,
  min_new_tokens: null,
  no_repeat_ngram_size: 0,
  encoder_no_repeat_ngram_size: 0,
  repetition_penalty: 1.0,
  encoder_repetition_penalty: 1.0,
  bad_words_ids: null,
  force_words_ids: null,
  forced_bos_token_id: null,
  forced_eos_token_id: null,
  num_beam_groups: 1,
  diversity_penalty: 0.0,
  num_return_sequences: 1,
  suppress_tokens: null,
  begin_suppress_tokens: null,
  exponential_decay_length_penalty: null,
  renormalize_logits: false,
  penalty_alpha: null,
  max_time: null,
  constraints: null,
  sequence_bias: null,
  guidance_scale: null,
};

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * The generation defaults in a parsed generation_config.json or config.json (`file` names it in
 * errors and in the result). Values of the wrong type are errors naming the file and key;
 * `null` means unset (HF's `None`).
 */
export function parseGenerationDefaults(json: unknown, file: string): GenerationDefaults {
  if (!isRecord(json)) throw new GenerationConfigError(`${file}: expected a JSON object`);
  const j = json;
  const out: GenerationDefaults = { file, unsupported: [] };
  const bad = (key: string, want: string): never => {
    throw new GenerationConfigError(`${file}: "${key}" must be ${want}, got ${JSON.stringify(j[key])}`);
  };
  const intAt = (key: string, min: number): number | undefined => {
    const v = j[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return bad(key, `an integer >= ${min} or null`);
    return v;
  };
  out.maxNewTokens = intAt("max_new_tokens", 1);
  out.maxLength = intAt("max_length", 2);
  out.numBeams = intAt("num_beams", 1);
  out.padTokenId = intAt("pad_token_id", 0);
  out.decoderStartTokenId = intAt("decoder_start_token_id", 0);
  const lp = j["length_penalty"];
  if (lp !== undefined && lp !== null) {
    if (typeof lp !== "number" || !Number.isFinite(lp)) bad("length_penalty", "a number");
    else out.lengthPenalty = lp;
  }
  const es = j["early_stopping"];
  if (es !== undefined && es !== null) {
    if (es !== true && es !== false && es !== "never") bad("early_stopping", `true, false or "never"`);
    else out.earlyStopping = es;
  }
  const eos = j["eos_token_id"];
  if (eos === null) out.eosTokenId = null;
  else if (eos !== undefined) {
    const ids = Array.isArray(eos) ? eos : [eos];
    if (ids.length === 0 || ids.some((x) => typeof x !== "number" || !Number.isSafeInteger(x) || x < 0)) bad("eos_token_id", "a token id, a list of token ids or null");
    out.eosTokenId = Array.isArray(eos) ? (ids as number[]) : (eos as number);
  }
  for (const [key, neutral] of Object.entries(NEUTRAL)) {
    const v = j[key];
    if (v === undefined || JSON.stringify(v) === JSON.stringify(neutral)) continue;
    if (neutral === null && v === null) continue;
    out.unsupported.push(`${key} ${JSON.stringify(v)}`);
  }
  return out;
}
