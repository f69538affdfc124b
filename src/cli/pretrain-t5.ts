/** `propetl pretrain --arch t5`: T5 span-corruption pretraining; see help.ts (PRETRAIN_HELP). */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describeEngine, initEngine, isWasmHeapExhausted } from "../engine/engine.js";
import { tokenizerFromFiles, TokenizerFileError } from "../data/tokenizer.js";
import type { Tokenizer, TokenizerFiles } from "../data/tokenizer.js";
import { T5_FEED_FORWARD_PROJS } from "../models/t5/config.js";
import type { T5FeedForwardProj } from "../models/t5/config.js";
import { defaultOutputDir } from "../train/defaults.js";
import { PRETRAIN_LOG_FILE, PretrainError } from "../train/pretrain.js";
import type { PretrainHyper } from "../train/pretrain.js";
import { pretrainT5, T5_PRETRAIN_DEFAULTS } from "../train/pretrain-t5.js";
import type { T5Architecture, T5PretrainHyper, T5PretrainResult, T5SaveDtype } from "../train/pretrain-t5.js";
import { SpanCorruptionError } from "../train/span-corruption.js";
import { NonFiniteLossError, ResumeMismatchError, TrainingInterrupted } from "../train/trainer.js";
import { CliError, flag, int, num, str } from "./args.js";
import type { OptionSpec, Values } from "./args.js";
import { engineOptions } from "./engine-options.js";
import { stopOnInterrupt } from "./interrupt.js";
import { outOfMemoryMessage } from "./out-of-memory.js";
import { makeReporter } from "./progress.js";

/** Flags only `--arch t5` takes (the BERT path refuses them). */
export const T5_ONLY_OPTIONS: Record<string, OptionSpec> = {
  "d-model": { type: "string" },
  "d-ff": { type: "string" },
  "decoder-layers": { type: "string" },
  "d-kv": { type: "string" },
  ffn: { type: "string" },
  "mean-noise-span": { type: "string" },
  dtype: { type: "string" },
};

/** BERT flags that have no meaning for a fresh T5. */
const NOT_FOR_T5 = ["init", "config", "hidden", "intermediate", "max-positions", "vocab", "vocab-size"] as const;

function fmt(x: number | undefined): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** A T5 tokenizer from a tokenizer.json file (with a tokenizer_config.json beside it, if any) or a folder holding one. */
export function readT5Tokenizer(arg: string): Tokenizer {
  if (!existsSync(arg)) throw new CliError(`--tokenizer ${arg}: not found (give a T5 tokenizer.json, or a folder holding one)`);
  const file = statSync(arg).isDirectory() ? path.join(arg, "tokenizer.json") : arg;
  if (!existsSync(file)) throw new CliError(`--tokenizer ${arg}: the folder has no tokenizer.json (T5 pretraining needs a SentencePiece Unigram tokenizer.json)`);
  const dir = path.dirname(file);
  const files: TokenizerFiles = { "tokenizer.json": readFileSync(file, "utf8") };
  const cfgFile = path.join(dir, "tokenizer_config.json");
  if (existsSync(cfgFile)) files["tokenizer_config.json"] = readFileSync(cfgFile, "utf8");
  try {
    return tokenizerFromFiles(files, dir);
  } catch (e) {
    if (e instanceof TokenizerFileError) throw new CliError(e.message);
    throw e;
  }
}

function architectureFromArgs(v: Values): T5Architecture {
  const d = T5_PRETRAIN_DEFAULTS;
  const ffn = str(v, "ffn") ?? d.ffn;
  if (!(T5_FEED_FORWARD_PROJS as readonly string[]).includes(ffn)) throw new CliError(`--ffn must be ${T5_FEED_FORWARD_PROJS.join(" or ")}, got "${ffn}"`, 2);
  const layers = int(v, "layers") ?? d.layers;
  return {
    dModel: int(v, "d-model") ?? d.dModel,
    dFf: int(v, "d-ff") ?? d.dFf,
    layers,
    decoderLayers: int(v, "decoder-layers") ?? layers,
    heads: int(v, "heads") ?? d.heads,
    dKv: int(v, "d-kv") ?? d.dKv,
    ffn: ffn as T5FeedForwardProj,
  };
}

function resultText(r: T5PretrainResult): string {
  const lines: string[] = [];
  if (r.skipped) lines.push(`${r.outputDir}: this run had already finished`);
  const f = r.final;
  const b = r.best;
  lines.push(`pretrained ${r.steps} steps${r.resumedAtStep !== undefined ? ` (resumed at step ${r.resumedAtStep})` : ""}: held-out loss ${fmt(f?.scores.loss)}, accuracy ${fmt(f?.scores.accuracy)} at step ${f?.step}`);
  if (b && f && b.step !== f.step) lines.push(`best held-out loss ${fmt(b.scores.loss)} (accuracy ${fmt(b.scores.accuracy)}) at step ${b.step}: the saved model`);
  if (r.corpus) lines.push(`text: ${r.corpus.trainDocuments} documents, ${r.corpus.tokens} tokens, ${r.corpus.chunks} chunks of ${r.corpus.tokensLength}; held out ${r.corpus.heldOutDocuments} documents`);
  lines.push(`model: ${r.outputDir} (T5ForConditionalGeneration: config.json, model.safetensors, generation_config.json, tokenizer files)`);
  lines.push(`log: ${path.join(r.outputDir, PRETRAIN_LOG_FILE)}; metrics: ${r.metricsFile}`);
  return lines.join("\n");
}

/** Run `propetl pretrain --arch t5` with the parsed flags; `hyper` holds the shared training flags. */
export async function runPretrainT5(v: Values, textFiles: string[], hyper: Partial<PretrainHyper>, argv: string[]): Promise<number> {
  const clash = NOT_FOR_T5.filter((f) => v[f] !== undefined);
  if (clash.length) throw new CliError(`--${clash.join(", --")} ${clash.length === 1 ? "does" : "do"} not apply to --arch t5 (a fresh T5 with the tokenizer given by --tokenizer; architecture flags: --d-model --d-ff --layers --decoder-layers --heads --d-kv --ffn)`, 2);
  const tokArg = str(v, "tokenizer");
  if (tokArg === undefined) throw new CliError("--arch t5 needs --tokenizer FILE: a T5 SentencePiece tokenizer.json with <pad> 0, </s>, <unk> and the 100 sentinels <extra_id_N> at the top ids", 2);
  const architecture = architectureFromArgs(v);
  const meanSpan = num(v, "mean-noise-span", { min: 1 });
  const dtypeArg = str(v, "dtype") ?? "F32";
  if (dtypeArg !== "F32" && dtypeArg !== "F16") throw new CliError(`--dtype must be F32 or F16, got "${dtypeArg}"`, 2);
  const dtype: T5SaveDtype = dtypeArg;
  const heldOutFile = str(v, "held-out");
  const heldOutEvery = int(v, "held-out-every", { min: 2 });
  const saveSteps = int(v, "save-steps");
  if (heldOutFile !== undefined && heldOutEvery !== undefined) throw new CliError("give --held-out or --held-out-every, not both", 2);
  const t5Hyper: Partial<T5PretrainHyper> = {};
  const { seqLen, maskProbability, ...rest } = hyper;
  Object.assign(t5Hyper, rest);
  if (seqLen !== undefined) t5Hyper.inputLength = seqLen;
  if (maskProbability !== undefined) t5Hyper.noiseDensity = maskProbability;
  if (meanSpan !== undefined) t5Hyper.meanNoiseSpanLength = meanSpan;
  const output = str(v, "output") ?? defaultOutputDir("pretrain", "t5");
  const tokenizer = readT5Tokenizer(tokArg);

  const reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet"), words: { run: "pretrain", epoch: "round", eval: "held-out", examples: "chunks" } });
  const engine = await initEngine(engineOptions());
  reporter.log(`pretraining a fresh T5 on ${textFiles.join(", ")}; output ${output}; engine ${describeEngine(engine)}`);
  const stop = stopOnInterrupt((m) => reporter.warn(m));
  const seed = t5Hyper.seed ?? T5_PRETRAIN_DEFAULTS.seed;
  try {
    const res = await pretrainT5({
      textFiles,
      ...(heldOutFile !== undefined ? { heldOutFile } : {}),
      ...(heldOutEvery !== undefined ? { heldOutEvery } : {}),
      outputDir: output,
      architecture,
      tokenizer,
      tokenizerSource: tokArg,
      hyper: t5Hyper,
      dtype,
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
    if (e instanceof NonFiniteLossError || e instanceof PretrainError || e instanceof ResumeMismatchError || e instanceof SpanCorruptionError) throw new CliError(e.message, 1);
    if (isWasmHeapExhausted(e)) {
      throw new CliError(
        outOfMemoryMessage({
          batchSize: t5Hyper.batchSize ?? T5_PRETRAIN_DEFAULTS.batchSize,
          gradAccumSteps: t5Hyper.gradAccumSteps ?? T5_PRETRAIN_DEFAULTS.gradAccumSteps,
          maxLength: t5Hyper.inputLength ?? T5_PRETRAIN_DEFAULTS.inputLength,
          numLayers: architecture.layers + (architecture.decoderLayers ?? architecture.layers),
          hiddenSize: architecture.dModel,
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
