/**
 * `propetl train` on a text-to-text task (T5: translation, summarization): the flags that
 * differ from classification, and the run (train/seq2seq-run.ts). help.ts (TRAIN_HELP,
 * "Text-to-text tasks") documents them.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describeEngine, initEngine } from "../engine/engine.js";
import { isSeq2SeqBuiltinName, loadSeq2SeqTask } from "../data/seq2seq.js";
import type { Seq2SeqTask } from "../data/seq2seq.js";
import { readModelConfig } from "../models/config-file.js";
import type { T5Config } from "../models/t5/config.js";
import { defaultLearningRates } from "../petl/methods.js";
import { plainCounterpart, resolveMethodConfig } from "../petl/registry.js";
import { compareStorage, formatStorageReport } from "../petl/storage.js";
import type { MethodConfig } from "../petl/method.js";
import { defaultOutputDir, TRAIN_DEFAULTS } from "../train/defaults.js";
import { SEQ2SEQ_DEFAULTS } from "../train/seq2seq-defaults.js";
import type { TextPair } from "../train/seq2seq-batching.js";
import { seq2seqStorage, trainSeq2seqTask } from "../train/seq2seq-run.js";
import type { Seq2seqTaskInfo } from "../train/seq2seq-run.js";
import type { Seq2seqHyper } from "../train/seq2seq.js";
import { asUsageError, CliError, flag, int, intList, num, rematFlag, str } from "./args.js";
import type { Values } from "./args.js";
import { methodConfigFromArgs } from "./common.js";
import { engineOptions } from "./engine-options.js";
import { makeReporter } from "./progress.js";
import { stopOnInterrupt } from "./interrupt.js";
import { runTraining, seedsJson } from "./train-outcome.js";
import { seq2seqOutOfMemoryMessage } from "./out-of-memory.js";


/** Flags of `train` that only classification tasks take. */
const CLASSIFICATION_ONLY = ["head-lr", "max-length", "jit", "labels", "regression", "text-column", "text-pair-column", "label-column", "skip-bad-rows"] as const;

/** Flags that only text-to-text tasks take (help.ts, "Text-to-text tasks"). */
export const SEQ2SEQ_ONLY = ["max-source-length", "max-target-length", "max-new-tokens", "num-beams", "length-penalty", "eval-steps", "source-column", "target-column", "prefix", "metric"] as const;

/** A text-to-text task's data as the runner takes it. */
export interface Seq2seqCliData {
  task: Seq2seqTaskInfo;
  train: TextPair[];
  validation: TextPair[];
  test: TextPair[];
  /** Where the data came from (logs, metrics.json). */
  source: string;
}

/** Whether the flags ask for a text-to-text task: a built-in one by name, or custom columns. */
export function isSeq2seqRequest(v: Values): boolean {
  const name = str(v, "task");
  return (name !== undefined && isSeq2SeqBuiltinName(name.trim().toLowerCase())) || str(v, "source-column") !== undefined || str(v, "target-column") !== undefined;
}

/**
 * The task and its splits from the flags: `--task NAME` (built in), or a custom task from a
 * folder (`--task-dir` with train/validation[/test] files, or `--train-file` + `--dev-file`)
 * with `--source-column`, `--target-column`, `--prefix` and `--metric`.
 */
export function loadSeq2seqArgs(v: Values): Seq2seqCliData {
  const name = str(v, "task");
  let data;
  try {
    if (str(v, "source-column") === undefined && str(v, "target-column") === undefined && name !== undefined) {
      data = loadSeq2SeqTask(name.trim().toLowerCase());
    } else {
      const sourceColumn = str(v, "source-column");
      const targetColumn = str(v, "target-column");
      if (sourceColumn === undefined || targetColumn === undefined) throw new CliError("a custom text-to-text task needs both --source-column and --target-column", 2);
      const taskDir = str(v, "task-dir");
      const trainFile = str(v, "train-file");
      const devFile = str(v, "dev-file");
      if (taskDir === undefined && (trainFile === undefined || devFile === undefined)) throw new CliError("a custom text-to-text task needs --task-dir (with train and validation files), or --train-file and --dev-file", 2);
      const fmtFlag = str(v, "format");
      const probe = trainFile ?? ["train.jsonl", "train.tsv"].map((f) => path.join(taskDir as string, f)).find((f) => existsSync(f)) ?? path.join(taskDir as string, "train.jsonl");
      const kind = fmtFlag ?? (path.extname(probe).toLowerCase() === ".tsv" ? "tsv" : "jsonl");
      if (kind !== "jsonl" && kind !== "tsv") throw new CliError(`--format must be jsonl or tsv for a text-to-text task, got "${kind}"`, 2);
      const ext = kind === "tsv" ? ".tsv" : ".jsonl";
      const inDir = (f: string): string => path.join(taskDir as string, f);
      const validation = devFile ?? [`validation${ext}`, `dev${ext}`].map(inDir).find((f) => existsSync(f)) ?? inDir(`validation${ext}`);
      const test = taskDir !== undefined && existsSync(inDir(`test${ext}`)) ? inDir(`test${ext}`) : undefined;
      const metric = str(v, "metric") ?? "bleu";
      if (metric !== "bleu" && metric !== "rouge2") throw new CliError(`--metric must be bleu or rouge2, got "${metric}"`, 2);
      const task: Seq2SeqTask = {
        name: str(v, "task-name") ?? name ?? path.basename(path.resolve(taskDir ?? path.dirname(trainFile as string))),
        prefix: str(v, "prefix") ?? "",
        metric,
        format: kind === "tsv" ? { kind: "tsv", sourceColumn, targetColumn } : { kind: "jsonl", sourceField: sourceColumn, targetField: targetColumn },
        files: { train: path.resolve(trainFile ?? inDir(`train${ext}`)), validation: path.resolve(validation), ...(test ? { test: path.resolve(test) } : {}) },
      };
      data = loadSeq2SeqTask(task);
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  }
  const pairs = (xs: readonly { source: string; target: string }[]): TextPair[] => xs.map((x) => ({ source: x.source, target: x.target }));
  return {
    task: { name: data.task.name, prefix: data.task.prefix, metric: data.task.metric },
    train: pairs(data.train),
    validation: pairs(data.validation),
    test: pairs(data.test),
    source: data.task.dir ?? path.dirname(data.task.files.train),
  };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}

/** The trainer and generation settings of a text-to-text run from the flags (defaults: seq2seq-defaults.ts). */
export function seq2seqHyperFromArgs(v: Values, method: MethodConfig): { hyper: Omit<Seq2seqHyper, "seed">; maxSourceLength: number; maxTargetLength: number } {
  const maxSourceLength = int(v, "max-source-length", { min: 2 }) ?? SEQ2SEQ_DEFAULTS.maxSourceLength;
  const maxTargetLength = int(v, "max-target-length", { min: 2 }) ?? SEQ2SEQ_DEFAULTS.maxTargetLength;
  const lrs = defaultLearningRates(method);
  const earlyStop = int(v, "early-stop", { min: 1 });
  const maxSteps = int(v, "max-steps", { min: 1 });
  const evalSteps = int(v, "eval-steps", { min: 1 });
  const lengthPenalty = num(v, "length-penalty");
  const hyper: Omit<Seq2seqHyper, "seed"> = {
    epochs: int(v, "epochs", { min: 1 }) ?? SEQ2SEQ_DEFAULTS.epochs,
    batchSize: int(v, "batch-size", { min: 1 }) ?? SEQ2SEQ_DEFAULTS.batchSize,
    gradAccumSteps: int(v, "grad-accum", { min: 1 }) ?? TRAIN_DEFAULTS.gradAccumSteps,
    lr: num(v, "lr", { min: 0, exclusiveMin: true }) ?? lrs.lr,
    maskLr: num(v, "mask-lr", { min: 0, exclusiveMin: true }) ?? lrs.maskLr,
    weightDecay: num(v, "weight-decay", { min: 0 }) ?? TRAIN_DEFAULTS.weightDecay,
    warmupRatio: num(v, "warmup-ratio", { min: 0, max: 1 }) ?? TRAIN_DEFAULTS.warmupRatio,
    maxGradNorm: num(v, "max-grad-norm", { min: 0 }) ?? TRAIN_DEFAULTS.maxGradNorm,
    evalBatchSize: int(v, "eval-batch-size", { min: 1 }) ?? TRAIN_DEFAULTS.evalBatchSize,
    generation: {
      maxNewTokens: int(v, "max-new-tokens", { min: 1 }) ?? maxTargetLength,
      numBeams: int(v, "num-beams", { min: 1 }) ?? SEQ2SEQ_DEFAULTS.numBeams,
      ...(lengthPenalty !== undefined ? { lengthPenalty } : {}),
    },
    remat: rematFlag(v),
    ...(evalSteps !== undefined ? { evalSteps } : {}),
    ...(earlyStop !== undefined ? { earlyStopPatience: earlyStop } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
  };
  return { hyper, maxSourceLength, maxTargetLength };
}

/** Run `propetl train` for a text-to-text task; `modelDir` is resolved by the caller. */
export async function runSeq2seqTrain(v: Values, argv: string[], data: Seq2seqCliData, modelDir: string, bundled: boolean): Promise<number> {
  for (const name of CLASSIFICATION_ONLY) {
    if (v[name] !== undefined) throw new CliError(`--${name} does not apply to the text-to-text task ${data.task.name} (see "Text-to-text tasks" in propetl train --help)`, 2);
  }
  const method = asUsageError(() => resolveMethodConfig(methodConfigFromArgs(v)));
  const seedsList = intList(v, "seeds");
  const seed = int(v, "seed", { min: 0 });
  if (seedsList && seed !== undefined) throw new CliError("give --seed or --seeds, not both", 2);
  const seeds = seedsList ?? [seed ?? TRAIN_DEFAULTS.seed];
  const { hyper, maxSourceLength, maxTargetLength } = seq2seqHyperFromArgs(v, method);
  const saveSteps = int(v, "save-steps", { min: 1 });
  const maxTrain = int(v, "max-train-examples", { min: 1 });
  const maxEval = int(v, "max-eval-examples", { min: 1 });
  const output = str(v, "output") ?? defaultOutputDir(data.task.name, method.method);
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  const { config } = readModelConfig(path.join(modelDir, "config.json"));
  if (config.modelType !== "t5") {
    throw new CliError(`${path.join(modelDir, "config.json")}: ${data.task.name} is a text-to-text task and needs an encoder–decoder (T5) model, but model_type is "${config.modelType}"`, 2);
  }
  const t5 = config as T5Config;
  if (!existsSync(path.join(modelDir, "model.safetensors"))) throw new CliError(`${path.join(modelDir, "model.safetensors")}: not found (the model folder needs config.json and model.safetensors)`);

  const reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet") });
  const engine = await initEngine(engineOptions());
  reporter.log(`task ${data.task.name} (text-to-text, ${data.task.metric}) from ${data.source}; model ${modelDir}${bundled ? " (bundled)" : ""}; method ${method.method}; output ${output}; engine ${describeEngine(engine)}`);
  const stop = stopOnInterrupt((m) => reporter.warn(m));
  return runTraining(reporter, stop, async () => {
    const res = await trainSeq2seqTask({
      modelDir,
      task: data.task,
      data,
      method,
      hyper,
      seeds,
      outputDir: output,
      maxSourceLength,
      maxTargetLength,
      ...(maxTrain !== undefined ? { maxTrainExamples: maxTrain } : {}),
      ...(maxEval !== undefined ? { maxEvalExamples: maxEval } : {}),
      resume: flag(v, "resume"),
      ...(saveSteps !== undefined ? { saveSteps } : {}),
      keepTrainState: flag(v, "keep-train-state"),
      ...(flag(v, "f16") ? { checkpointDtype: "F16" as const } : {}),
      extra: { command: ["propetl", "train", ...argv], dataSource: data.source },
      onEvent: (s, e) => reporter.event(s, e),
      log: (m) => reporter.log(m),
      signal: stop.signal,
    });
    const storage = res.storage ?? seq2seqStorage(t5, method);
    let storageText = "";
    if (storage) {
      storageText = `\n${formatStorageReport(storage)}`;
      const plainConfig = plainCounterpart(method);
      const plain = plainConfig ? seq2seqStorage(t5, plainConfig) : null;
      if (plain) storageText += `\n${compareStorage(storage, plain)}`;
    }
    const metric = data.task.metric;
    const lines: string[] = [];
    for (const r of res.seeds) {
      const val = r.validation ? `; best validation ${metric} ${fmt(r.validation.main)} at step ${r.validation.step}` : "";
      lines.push(`seed ${r.seed}: test ${metric} ${fmt(r.test.main)} (${r.test.examples} examples)${val}${r.skipped ? " [finished earlier]" : ""}`);
      lines.push(`  checkpoint: ${r.dir}`);
    }
    if (res.seeds.length > 1) {
      const s = res.summary.main;
      if (s) lines.push(`${data.task.name} over ${res.seeds.length} seeds (mean ± sample std): ${metric} ${fmt(s.mean)} ± ${fmt(s.std)}`);
    }
    lines.push(`metrics: ${res.metricsFile}`);
    reporter.result(
      {
        task: data.task.name,
        method: method.method,
        seeds: seedsJson(res.seeds),
        summary: res.summary,
        metricsFile: res.metricsFile,
        ...(storage ? { storage: { bits: storage.totalBits, bytes: storage.bytes, percentOfBackbone: storage.percentOfBackbone } } : {}),
      },
      lines.join("\n") + storageText,
    );
    return 0;
  }, () => seq2seqOutOfMemoryMessage({ tasks: [data.task.name], batchSize: hyper.batchSize, maxSourceLength, maxTargetLength, remat: hyper.remat ?? "auto" }));
}
