/** `propetl generate`: see help.ts (GENERATE_HELP). Text generation with a T5 model, optionally with a task checkpoint's PETL modules. */
import { createWriteStream, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { checkTokenizerFitsModel, loadTokenizer } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { initEngine } from "../engine/engine.js";
import { tree } from "../engine/jax.js";
import { readGenerationDefaults } from "../models/generation-config.js";
import { loadBackboneDir } from "../models/load.js";
import type { ModelHooks } from "../models/hooks.js";
import { readModelConfig } from "../models/config-file.js";
import { isT5Config } from "../models/t5/config.js";
import type { T5Config } from "../models/t5/config.js";
import { encodeSources, generateForSources, resolveGenerateOptions } from "../models/t5/generate-texts.js";
import type { T5GenerateOptions } from "../models/t5/generate.js";
import type { T5Params } from "../models/t5/params.js";
import { checkpointHooks, loadTaskCheckpoint } from "../petl/checkpoint.js";
import { CliError, flag, int, num, parseCommand, required, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { engineOptions } from "./engine-options.js";
import { GENERATE_DEFAULTS } from "../models/generation-defaults.js";
import { readLines, splitLines } from "./score.js";

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string" },
  checkpoint: { type: "string" },
  task: { type: "string" },
  text: { type: "string" },
  input: { type: "string" },
  output: { type: "string" },
  "max-new-tokens": { type: "string" },
  "num-beams": { type: "string" },
  "length-penalty": { type: "string" },
  "early-stopping": { type: "string" },
  "batch-size": { type: "string" },
  "max-source-length": { type: "string" },
  prefix: { type: "string" },
  json: { type: "boolean" },
};

/** The T5 config of a model folder, or an error saying what the folder is. */
function t5ConfigOf(modelDir: string): T5Config {
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  if (!statSync(modelDir).isDirectory()) throw new CliError(`--model ${modelDir}: not a folder (expected a Hugging Face model folder)`);
  const configFile = path.join(modelDir, "config.json");
  if (!existsSync(configFile)) throw new CliError(`--model ${modelDir}: no config.json (expected a Hugging Face model folder)`);
  const cfg = readModelConfig(configFile).config;
  if (!isT5Config(cfg)) throw new CliError(`generate needs an encoder–decoder (T5) model; ${modelDir} is ${cfg.modelType}`);
  return cfg;
}

function parseEarlyStopping(s: string | undefined): boolean | "never" | undefined {
  if (s === undefined) return undefined;
  if (s === "true") return true;
  if (s === "false") return false;
  if (s === "never") return "never";
  throw new CliError(`--early-stopping must be true, false or never, got "${s}"`, 2);
}

/** Generated ids to one output line: the text without special tokens (newlines become spaces in plain output). */
function outputLine(tokenizer: Tokenizer, ids: number[], json: boolean): string {
  const text = tokenizer.decode(ids, { skipSpecialTokens: true });
  return json ? JSON.stringify({ text, ids }) : text.replace(/\r?\n|\r/g, " ");
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("generate", argv, OPTIONS);
  const modelDir = required(v, "model", "generate", "a T5 model folder");
  const text = str(v, "text");
  const input = str(v, "input");
  if ((text === undefined) === (input === undefined)) throw new CliError("give either --text TEXT or --input FILE (one text per line)", 2);
  const maxNewFlag = int(v, "max-new-tokens");
  const beamsFlag = int(v, "num-beams");
  const lpFlag = num(v, "length-penalty");
  const esFlag = parseEarlyStopping(str(v, "early-stopping"));
  const batchSize = int(v, "batch-size") ?? GENERATE_DEFAULTS.batchSize;
  const maxSourceLength = int(v, "max-source-length", { min: 2 }) ?? GENERATE_DEFAULTS.maxSourceLength;
  const checkpointDir = str(v, "checkpoint");
  const json = flag(v, "json");
  const cfg = t5ConfigOf(modelDir);
  if (checkpointDir !== undefined && !existsSync(path.join(checkpointDir, "adapter_config.json"))) {
    throw new CliError(`--checkpoint ${checkpointDir}: ${existsSync(checkpointDir) ? "no adapter_config.json (expected a task checkpoint folder)" : "folder not found"}`);
  }
  const outFile = str(v, "output");
  if (outFile !== undefined && !existsSync(path.dirname(path.resolve(outFile)))) throw new CliError(`--output ${outFile}: its folder does not exist`);
  const texts = text !== undefined ? [text] : input === "-" ? splitLines(readFileSync(0), "<stdin>", "input") : readLines(input as string, "input");
  if (texts.length === 0) throw new CliError(`${input === "-" ? "<stdin>" : input}: empty (expected one text per line)`);
  const tokenizer = await loadTokenizer(modelDir).catch((e: Error) => {
    throw new CliError(`--model ${modelDir}: ${e.message}`);
  });
  checkTokenizerFitsModel(tokenizer, cfg.vocabSize, modelDir);
  // Flags, then the folder's generation config (HF semantics), then HF's defaults.
  const gen = readGenerationDefaults(modelDir);
  for (const u of gen.unsupported) process.stderr.write(`warning: ${gen.file}: ${u} is not implemented by propetl generate; ignored\n`);
  const opts: T5GenerateOptions = resolveGenerateOptions(gen, {
    ...(maxNewFlag !== undefined ? { maxNewTokens: maxNewFlag } : {}),
    ...(beamsFlag !== undefined ? { numBeams: beamsFlag } : {}),
    ...(lpFlag !== undefined ? { lengthPenalty: lpFlag } : {}),
    ...(esFlag !== undefined ? { earlyStopping: esFlag } : {}),
  });
  await initEngine(engineOptions());
  const model = await loadBackboneDir(modelDir);
  let params = model.encoder as T5Params;
  let hooks: ModelHooks | undefined;
  let checkpointPrefix: string | undefined;
  const cleanups: (() => void)[] = [() => tree.dispose(model.encoder)];
  try {
    if (checkpointDir !== undefined) {
      const ckpt = await loadTaskCheckpoint(checkpointDir, { encoderConfig: cfg });
      cleanups.push(() => ckpt.dispose());
      const task = ckpt.taskIndex(str(v, "task") ?? 0);
      checkpointPrefix = ckpt.tasks[task].prefix;
      const run = checkpointHooks(ckpt, model.encoder, task);
      cleanups.push(() => run.dispose());
      params = run.params as T5Params;
      hooks = run.hooks;
    }
    const prefix = str(v, "prefix") ?? checkpointPrefix ?? "";
    const encoded = encodeSources(tokenizer, texts, prefix, maxSourceLength);
    if (encoded.truncated.length > 0) {
      const where = input !== undefined ? ` (first: ${input === "-" ? "<stdin>" : input}:${encoded.truncated[0] + 1})` : "";
      process.stderr.write(`warning: ${encoded.truncated.length} of ${texts.length} input(s) longer than --max-source-length ${maxSourceLength} tokens were truncated${where}\n`);
    }
    const out = outFile ? createWriteStream(outFile, { encoding: "utf8" }) : process.stdout;
    await generateForSources(cfg, params, hooks, encoded.ids, batchSize, opts, (sequences) => {
      for (const ids of sequences) out.write(outputLine(tokenizer, ids, json) + "\n");
    });
    if (outFile) await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? reject(e) : resolve())));
    return 0;
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}

