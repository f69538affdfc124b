/**
 * Text-to-text tasks for `propetl serve` (OpenAI-style completions): a T5 backbone loaded once,
 * a task's modules from its checkpoint (as `checkpointHooks` gives them to `propetl generate --checkpoint`),
 * and generation through the code `propetl generate` runs (models/t5/generate-texts.ts), with the
 * checkpoint's task prefix and the folder's generation_config.json defaults. So a completion is
 * the text `propetl generate --checkpoint DIR --text PROMPT` prints.
 */
import path from "node:path";
import { checkTokenizerFitsModel, loadTokenizer } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { readGenerationDefaults } from "../models/generation-config.js";
import type { GenerationDefaults } from "../models/generation-config.js";
import type { ModelHooks } from "../models/hooks.js";
import { loadBackboneDir } from "../models/load.js";
import { readModelConfig } from "../models/config-file.js";
import { isT5Config } from "../models/t5/config.js";
import type { T5Config } from "../models/t5/config.js";
import { encodeSources, generateForSources, resolveGenerateOptions } from "../models/t5/generate-texts.js";
import type { GenerateSettings } from "../models/t5/generate-texts.js";
import type { T5Params } from "../models/t5/params.js";
import { loadTaskCheckpoint } from "../petl/checkpoint.js";
import { disposeMaterialized, materializedHooks } from "../petl/propetl.js";

/** Whether a model folder holds a T5 (encoder–decoder) model. */
export function isT5ModelDir(modelDir: string): boolean {
  return isT5Config(readModelConfig(path.join(modelDir, "config.json")).config);
}

/** A T5 backbone for generation (owned; `dispose`). */
export interface T5Backbone {
  /** The parsed config.json. */
  config: T5Config;
  /** The weights. */
  params: T5Params;
  /** The folder's tokenizer. */
  tokenizer: Tokenizer;
  /** The folder's generation defaults. */
  generation: GenerationDefaults;
  /** Free the weights. */
  dispose(): void;
}

/** Load a T5 model folder (weights, tokenizer, generation defaults) for generation; throws when the folder is not a T5 model or its tokenizer does not fit it. */
export async function loadT5Backbone(modelDir: string): Promise<T5Backbone> {
  const tokenizer = await loadTokenizer(modelDir);
  const generation = readGenerationDefaults(modelDir);
  const model = await loadBackboneDir(modelDir);
  const cfg = model.config;
  if (!isT5Config(cfg)) {
    tree.dispose(model.encoder);
    throw new Error(`${modelDir}: not a T5 model (${cfg.modelType})`);
  }
  try {
    checkTokenizerFitsModel(tokenizer, cfg.vocabSize, modelDir);
  } catch (e) {
    tree.dispose(model.encoder);
    throw e;
  }
  return { config: cfg, params: model.encoder as T5Params, tokenizer, generation, dispose: () => tree.dispose(model.encoder) };
}

/** One text-to-text task's modules on the backbone (owned; `dispose`). */
export interface T5Task {
  /** The parameters to run (the backbone's, or full fine-tuning's tuned copy). */
  params: T5Params;
  /** The task's hooks. */
  hooks: ModelHooks;
  /** The source prefix ("" when the checkpoint names none). */
  prefix: string;
  /** Bytes of the task's materialised modules (the task cache's budget counts them). */
  bytes: number;
  /** Free the modules (not the backbone). */
  dispose(): void;
}

/** Load task `task` of the checkpoint in `dir` for generation on `bb` (borrowed). */
export async function loadT5Task(bb: T5Backbone, dir: string, task: string): Promise<T5Task> {
  const ckpt = await loadTaskCheckpoint(dir, { encoderConfig: bb.config });
  try {
    const ti = ckpt.taskIndex(task);
    const prefix = ckpt.tasks[ti].prefix;
    // What checkpointHooks does (the hooks `propetl generate --checkpoint` runs), keeping the
    // materialised modules in hand to count their bytes for the cache.
    const m = ckpt.materialize(ti);
    let bytes = 0;
    for (const layer of m.units) for (const unit of layer) for (const t of Object.values(unit)) bytes += t.size * 4;
    if (m.encoder) for (const t of tree.leaves(m.encoder) as JArray[]) bytes += t.size * 4;
    return { params: (m.encoder ?? bb.params) as T5Params, hooks: materializedHooks(m), prefix, bytes, dispose: () => disposeMaterialized(m) };
  } finally {
    ckpt.dispose();
  }
}

/** One prompt's completion. */
export interface Completion {
  /** The generated text. */
  text: string;
  /** "stop": the model ended it (EOS); "length": it reached the token limit. */
  finishReason: "stop" | "length";
  /** Tokens of the encoded prompt (prefix and EOS included, after truncation). */
  promptTokens: number;
  /** Tokens generated (EOS included). */
  completionTokens: number;
}

/** Generate for `prompts` with a task, as `propetl generate` does. Everything is borrowed. */
export async function completeTexts(bb: T5Backbone, task: T5Task, prompts: readonly string[], settings: GenerateSettings, limits: { maxSourceLength: number; batchSize: number }): Promise<Completion[]> {
  const opts = resolveGenerateOptions(bb.generation, settings);
  const enc = encodeSources(bb.tokenizer, prompts, task.prefix, limits.maxSourceLength);
  const sequences = await generateForSources(bb.config, task.params, task.hooks, enc.ids, limits.batchSize, opts);
  const eos = opts.eosTokenId === undefined ? [bb.config.eosTokenId] : opts.eosTokenId === null ? [] : typeof opts.eosTokenId === "number" ? [opts.eosTokenId] : [...opts.eosTokenId];
  return sequences.map((ids, i) => ({
    text: bb.tokenizer.decode(ids, { skipSpecialTokens: true }),
    finishReason: ids.length > 0 && eos.includes(ids[ids.length - 1]) ? "stop" : "length",
    promptTokens: enc.ids[i].length,
    completionTokens: ids.length,
  }));
}
