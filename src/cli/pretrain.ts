/** `propetl pretrain`: see help.ts (PRETRAIN_HELP). */
import { existsSync } from "node:fs";
import path from "node:path";
import { describeEngine, initEngine, isWasmHeapExhausted } from "../engine/engine.js";
import { loadTokenizer } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { readEncoderConfig } from "../models/config-file.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { defaultOutputDir } from "../train/defaults.js";
import { bertConfig, PRETRAIN_DEFAULTS, PRETRAIN_LOG_FILE, PretrainError, pretrainMlm, tokenizerFromVocabFile } from "../train/pretrain.js";
import type { PretrainHyper, PretrainResult } from "../train/pretrain.js";
import { NonFiniteLossError, ResumeMismatchError, TrainingInterrupted } from "../train/trainer.js";
import { CliError, flag, int, num, parseCommand, str } from "./args.js";
import type { OptionSpec, Values } from "./args.js";
import { engineOptions } from "./engine-options.js";
import { makeReporter } from "./progress.js";
import { stopOnInterrupt } from "./interrupt.js";
import { outOfMemoryMessage } from "./out-of-memory.js";
import { runPretrainT5, T5_ONLY_OPTIONS } from "./pretrain-t5.js";

const ARCH_FLAGS = ["layers", "hidden", "heads", "intermediate", "max-positions"] as const;

const OPTIONS: Record<string, OptionSpec> = {
  text: { type: "string", multiple: true },
  "held-out": { type: "string" },
  "held-out-every": { type: "string" },
  output: { type: "string" },
  init: { type: "string" },
  config: { type: "string" },
  layers: { type: "string" },
  hidden: { type: "string" },
  heads: { type: "string" },
  intermediate: { type: "string" },
  "max-positions": { type: "string" },
  vocab: { type: "string" },
  tokenizer: { type: "string" },
  "vocab-size": { type: "string" },
  steps: { type: "string" },
  "batch-size": { type: "string" },
  "seq-len": { type: "string" },
  lr: { type: "string" },
  "warmup-steps": { type: "string" },
  "weight-decay": { type: "string" },
  "max-grad-norm": { type: "string" },
  "grad-accum": { type: "string" },
  "mask-prob": { type: "string" },
  "eval-every": { type: "string" },
  "eval-batches": { type: "string" },
  "eval-batch-size": { type: "string" },
  seed: { type: "string" },
  jit: { type: "boolean" },
  "no-jit": { type: "boolean" },
  resume: { type: "boolean" },
  "save-steps": { type: "string" },
  "keep-train-state": { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  arch: { type: "string" },
  ...T5_ONLY_OPTIONS,
};

function fmt(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(4) : String(x);
}

function hyperFromArgs(v: Values): Partial<PretrainHyper> {
  if (flag(v, "jit") && flag(v, "no-jit")) throw new CliError("give --jit or --no-jit, not both", 2);
  const h: Partial<PretrainHyper> = {};
  const set = <K extends keyof PretrainHyper>(k: K, x: PretrainHyper[K] | undefined): void => {
    if (x !== undefined) h[k] = x;
  };
  set("steps", int(v, "steps"));
  set("batchSize", int(v, "batch-size"));
  set("seqLen", int(v, "seq-len", { min: 3 }));
  set("lr", num(v, "lr", { min: 0, exclusiveMin: true }));
  set("warmupSteps", int(v, "warmup-steps", { min: 0 }));
  set("weightDecay", num(v, "weight-decay", { min: 0 }));
  set("maxGradNorm", num(v, "max-grad-norm", { min: 0 }));
  set("gradAccumSteps", int(v, "grad-accum"));
  set("maskProbability", num(v, "mask-prob", { min: 0, max: 1, exclusiveMin: true }));
  set("evalEvery", int(v, "eval-every"));
  set("evalBatches", int(v, "eval-batches"));
  set("evalBatchSize", int(v, "eval-batch-size"));
  set("seed", int(v, "seed", { min: 0 }));
  if (flag(v, "jit")) h.jit = true;
  if (flag(v, "no-jit")) h.jit = false;
  const steps = h.steps ?? PRETRAIN_DEFAULTS.steps;
  if (h.warmupSteps !== undefined && h.warmupSteps > steps) throw new CliError(`--warmup-steps ${h.warmupSteps} exceeds the number of steps (${steps})`, 2);
  if (h.maskProbability !== undefined && h.maskProbability >= 1) throw new CliError(`--mask-prob must be below 1, got ${h.maskProbability}`, 2);
  return h;
}

/** A fresh model's config from --config or the architecture flags (usage errors name the flags). */
function freshConfig(v: Values): EncoderConfig {
  const configFile = str(v, "config");
  const archGiven = ARCH_FLAGS.filter((f) => v[f] !== undefined);
  if (configFile !== undefined) {
    if (archGiven.length) throw new CliError(`give --config or the architecture flags (--${archGiven.join(", --")}), not both`, 2);
    if (!existsSync(configFile)) throw new CliError(`--config ${configFile}: file not found`);
    const cfg = readEncoderConfig(configFile);
    if (cfg.modelType !== "bert") throw new CliError(`${configFile}: model_type "${cfg.modelType}": pretraining builds BERT models (model_type "bert")`);
    return cfg;
  }
  const layers = int(v, "layers") ?? PRETRAIN_DEFAULTS.layers;
  const hidden = int(v, "hidden") ?? PRETRAIN_DEFAULTS.hidden;
  const heads = int(v, "heads") ?? PRETRAIN_DEFAULTS.heads;
  const intermediate = int(v, "intermediate") ?? 4 * hidden;
  const maxPositions = int(v, "max-positions") ?? PRETRAIN_DEFAULTS.maxPositions;
  if (hidden % heads !== 0) throw new CliError(`--hidden ${hidden} is not divisible by --heads ${heads} (each head gets hidden/heads dimensions)`, 2);
  return bertConfig({ layers, hidden, heads, intermediate, maxPositions });
}

function resultText(r: PretrainResult): string {
  const lines: string[] = [];
  if (r.skipped) lines.push(`${r.outputDir}: this run had already finished`);
  const f = r.final;
  const b = r.best;
  lines.push(`pretrained ${r.steps} steps${r.resumedAtStep !== undefined ? ` (resumed at step ${r.resumedAtStep})` : ""}: held-out loss ${fmt(f?.scores.loss)}, accuracy ${fmt(f?.scores.accuracy)} at step ${f?.step}`);
  if (b && f && b.step !== f.step) lines.push(`best held-out loss ${fmt(b.scores.loss)} (accuracy ${fmt(b.scores.accuracy)}) at step ${b.step}: the saved model`);
  if (r.corpus) lines.push(`text: ${r.corpus.trainDocuments} documents, ${r.corpus.tokens} tokens, ${r.corpus.windows} windows; held out ${r.corpus.heldOutDocuments} documents`);
  lines.push(`model: ${r.outputDir} (config.json, model.safetensors, tokenizer files)`);
  lines.push(`log: ${path.join(r.outputDir, PRETRAIN_LOG_FILE)}; metrics: ${r.metricsFile}`);
  lines.push(`fine-tune it: propetl train --model ${r.outputDir} --task ...`);
  return lines.join("\n");
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand("pretrain", argv, OPTIONS, true);
  // Settings first (usage errors), before any file or model work.
  const textFiles = [...((v.text as string[] | undefined) ?? []), ...positionals];
  if (textFiles.length === 0) throw new CliError("missing text: give one or more UTF-8 text files (--text FILE, or as arguments), one document per line; see: propetl pretrain --help", 2);
  const hyper = hyperFromArgs(v);
  const archName = str(v, "arch") ?? "bert";
  if (archName !== "bert" && archName !== "t5") throw new CliError(`--arch must be bert or t5, got "${archName}"`, 2);
  if (archName === "t5") return runPretrainT5(v, textFiles, hyper, argv);
  const t5Only = Object.keys(T5_ONLY_OPTIONS).filter((f) => v[f] !== undefined);
  if (t5Only.length) throw new CliError(`--${t5Only.join(", --")} ${t5Only.length === 1 ? "applies" : "apply"} only to --arch t5`, 2);
  const initDir = str(v, "init");
  const vocabFile = str(v, "vocab");
  const tokenizerDir = str(v, "tokenizer");
  const vocabSize = int(v, "vocab-size", { min: 6 });
  const heldOutFile = str(v, "held-out");
  const heldOutEvery = int(v, "held-out-every", { min: 2 });
  const saveSteps = int(v, "save-steps");
  if (heldOutFile !== undefined && heldOutEvery !== undefined) throw new CliError("give --held-out or --held-out-every, not both", 2);
  if (vocabFile !== undefined && tokenizerDir !== undefined) throw new CliError("give --vocab or --tokenizer, not both", 2);
  if (vocabSize !== undefined && (vocabFile !== undefined || tokenizerDir !== undefined)) throw new CliError("--vocab-size sizes a vocabulary trained on the text; it does not go with --vocab or --tokenizer", 2);
  let config: EncoderConfig | undefined;
  if (initDir !== undefined) {
    const clash = ["config", ...ARCH_FLAGS, "vocab", "tokenizer", "vocab-size"].filter((f) => v[f] !== undefined);
    if (clash.length) throw new CliError(`--init continues pretraining a model with its own architecture and tokenizer; drop --${clash.join(", --")}`, 2);
    if (!existsSync(initDir)) throw new CliError(`--init ${initDir}: folder not found`);
    if (!existsSync(path.join(initDir, "config.json")) || !existsSync(path.join(initDir, "model.safetensors"))) {
      throw new CliError(`--init ${initDir}: not a model folder (needs config.json and model.safetensors)`);
    }
  } else {
    config = freshConfig(v);
    const seqLen = hyper.seqLen ?? PRETRAIN_DEFAULTS.seqLen;
    if (seqLen > config.maxPositions) {
      const limit = str(v, "config") !== undefined ? `max_position_embeddings ${config.maxPositions} of ${str(v, "config")}` : `--max-positions ${config.maxPositions}`;
      throw new CliError(`--seq-len ${seqLen} exceeds ${limit}`, 2);
    }
  }
  const output = str(v, "output") ?? defaultOutputDir("pretrain", "mlm");

  let tokenizer: Tokenizer | undefined;
  let tokenizerSource: string | undefined;
  if (vocabFile !== undefined) {
    tokenizer = tokenizerFromVocabFile(vocabFile, config?.maxPositions);
    tokenizerSource = vocabFile;
  } else if (tokenizerDir !== undefined) {
    if (!existsSync(tokenizerDir)) throw new CliError(`--tokenizer ${tokenizerDir}: folder not found`);
    tokenizer = await loadTokenizer(tokenizerDir);
    tokenizerSource = tokenizerDir;
  }

  const reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet"), words: { run: "pretrain", epoch: "round", eval: "held-out", examples: "windows" } });
  const engine = await initEngine(engineOptions());
  reporter.log(`pretraining ${initDir !== undefined ? `from ${initDir}` : "a fresh BERT"} on ${textFiles.join(", ")}; output ${output}; engine ${describeEngine(engine)}`);

  const stop = stopOnInterrupt((m) => reporter.warn(m));
  const seed = hyper.seed ?? PRETRAIN_DEFAULTS.seed;
  try {
    const res = await pretrainMlm({
      textFiles,
      ...(heldOutFile !== undefined ? { heldOutFile } : {}),
      ...(heldOutEvery !== undefined ? { heldOutEvery } : {}),
      outputDir: output,
      ...(initDir !== undefined ? { initDir } : {}),
      ...(config !== undefined ? { config } : {}),
      ...(tokenizer !== undefined ? { tokenizer } : {}),
      ...(tokenizerSource !== undefined ? { tokenizerSource } : {}),
      ...(vocabSize !== undefined ? { vocabSize } : {}),
      hyper,
      resume: flag(v, "resume"),
      ...(saveSteps !== undefined ? { saveSteps } : {}),
      keepTrainState: flag(v, "keep-train-state"),
      extra: { command: ["propetl", "pretrain", ...argv] },
      onEvent: (e) => reporter.event(seed, e),
      log: (m) => reporter.log(m),
      signal: stop.signal,
    });
    reporter.result(
      {
        output: res.outputDir,
        steps: res.steps,
        final: res.final,
        best: res.best,
        corpus: res.corpus,
        metricsFile: res.metricsFile,
        ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
        ...(res.skipped ? { skipped: true } : {}),
      },
      resultText(res),
    );
    return 0;
  } catch (e) {
    if (e instanceof TrainingInterrupted) {
      reporter.warn(e.message);
      return 130;
    }
    if (e instanceof NonFiniteLossError || e instanceof PretrainError || e instanceof ResumeMismatchError) throw new CliError(e.message, 1);
    if (isWasmHeapExhausted(e)) {
      const arch = config ?? readEncoderConfig(path.join(initDir as string, "config.json"));
      throw new CliError(
        outOfMemoryMessage({
          batchSize: hyper.batchSize ?? PRETRAIN_DEFAULTS.batchSize,
          gradAccumSteps: hyper.gradAccumSteps ?? PRETRAIN_DEFAULTS.gradAccumSteps,
          maxLength: hyper.seqLen ?? PRETRAIN_DEFAULTS.seqLen,
          numLayers: arch.numLayers,
          hiddenSize: arch.hiddenSize,
          lengthFlag: "--seq-len",
        }),
        1,
      );
    }
    throw e;
  } finally {
    reporter.close();
    stop.dispose();
  }
}
