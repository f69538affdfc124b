/**
 * A tiny random T5 model folder that the t5-small tokenizer fits (vocab 32,128 as t5-small's),
 * for end-to-end CLI tests of text-to-text commands: config.json, model.safetensors (HF names,
 * written by the library's own writer) and the t5-small tokenizer files from the fixtures.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tree } from "../../src/engine/jax.js";
import { saveModelWeights } from "../../src/models/load.js";
import { parseT5Config, t5ConfigToJson } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { initT5 } from "../../src/models/t5/init.js";
import { FIXTURES, modelFixtureDir } from "./fixtures.js";

export const T5_SMALL_TOKENIZER_DIR = path.join(FIXTURES, "tokenizers", "t5-small");
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];

/**
 * Write a random T5 (tiny-t5-v1_1's layout: gated-GELU, untied head; d_model 16) with vocab
 * 32,128 and the t5-small tokenizer into `dir`; returns its config. Needs the engine.
 */
export async function writeTinyT5Dir(dir: string, seed = 5, overrides: Record<string, unknown> = {}): Promise<T5Config> {
  const base = JSON.parse(readFileSync(path.join(modelFixtureDir("tiny-t5-v1_1"), "config.json"), "utf8")) as Record<string, unknown>;
  const cfg = parseT5Config({ ...base, vocab_size: 32128, d_model: 16, d_ff: 32, d_kv: 8, num_heads: 2, ...overrides }, "tiny T5 test config");
  const params = initT5(cfg, seed);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(t5ConfigToJson(cfg), null, 2));
    await saveModelWeights(path.join(dir, "model.safetensors"), cfg, params, null);
  } finally {
    tree.dispose(params);
  }
  for (const f of TOKENIZER_FILES) copyFileSync(path.join(T5_SMALL_TOKENIZER_DIR, f), path.join(dir, f));
  return cfg;
}
