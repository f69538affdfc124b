/**
 * `propetl train --tasks A,B,...` on an encoder–decoder (T5): multi-task ProPETL with every
 * task text-to-text (train/seq2seq-multitask-run.ts). train.ts routes here when a listed task
 * is a text-to-text one (bible-es-en) or `--model` is a T5 folder. Text-to-text tasks keep their
 * metric; classification tasks (built-in, or GLUE with --data-dir) are cast to text
 * (data/text-to-text.ts) and keep theirs. The flags are the text-to-text ones (lengths,
 * generation, --eval-steps) plus the multi-task ones (--temperature, --task-k, --combine).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describeEngine, initEngine } from "../engine/engine.js";
import { isSeq2SeqBuiltinName, loadSeq2SeqTask } from "../data/seq2seq.js";
import { isGlueTaskName } from "../data/tasks.js";
import type { TaskSpec } from "../data/tasks.js";
import { checkTextToTextTask, labelTaskPrefix, labelTextPairs, scoreLabelTexts } from "../data/text-to-text.js";
import { readModelConfig } from "../models/config-file.js";
import type { T5Config } from "../models/t5/config.js";
import { sharedAndTaskParts } from "../petl/storage.js";
import { defaultOutputDir, TRAIN_DEFAULTS } from "../train/defaults.js";
import { DEFAULT_TEMPERATURE } from "../train/multitask.js";
import { checkTaskNames, multiTaskStorage } from "../train/multitask-run.js";
import { trainSeq2seqMultiTask } from "../train/seq2seq-multitask-run.js";
import type { TextTaskSource } from "../train/seq2seq-multitask-run.js";
import { scoreGenerations } from "../train/seq2seq.js";
import { checkWritableDir } from "../train/task-run.js";
import { asUsageError, CliError, flag, int, intList, list, num, str } from "./args.js";
import type { Values } from "./args.js";
import { loadTaskData } from "./common.js";
import type { TaskData } from "./common.js";
import { isTaskDescriptorRef, readTaskDescriptor, TASK_DESCRIPTOR_FILE } from "./task-descriptor.js";
import { engineOptions } from "./engine-options.js";
import { stopOnInterrupt } from "./interrupt.js";
import { runTraining, seedsJson } from "./train-outcome.js";
import { seq2seqOutOfMemoryMessage } from "./out-of-memory.js";
import { makeReporter } from "./progress.js";
import { multiTaskMethodFromArgs, multiTaskStorageText, resultText } from "./train-multitask.js";
import { loadSeq2seqArgs, seq2seqHyperFromArgs } from "./train-seq2seq.js";

/** Flags of classification training that a text-to-text multi-task run refuses. */
const NOT_HERE = ["head-lr", "max-length", "jit", "task", "train-file", "dev-file", "task-dir", "format", "text-column", "text-pair-column", "label-column", "labels", "regression", "task-name", "no-header", "source-column", "target-column", "prefix", "metric"] as const;

/** Whether `--tasks` names a text-to-text task, or `--model` is an encoder–decoder: the run is text-to-text. */
export function isSeq2seqMultiTaskRequest(v: Values): boolean {
  const entries = list(v, "tasks") ?? [];
  if (entries.some((n) => isSeq2SeqBuiltinName(n.trim().toLowerCase()))) return true;
  if (entries.some((n) => isTaskDescriptorRef(n) && readTaskDescriptor(n).kind === "text-to-text")) return true;
  const model = str(v, "model");
  if (model === undefined || !existsSync(path.join(model, "config.json"))) return false;
  try {
    return readModelConfig(path.join(model, "config.json")).config.modelType === "t5";
  } catch {
    return false; // the classification path reports the bad config
  }
}

/** One listed task as a text-to-text task source. */
async function textTask(v: Values, name: string): Promise<{ source: TextTaskSource; skipped: { file: string; count: number; messages: string[] }[] }> {
  if (isTaskDescriptorRef(name)) {
    // A custom task: a folder with its files and propetl-task.json (task-descriptor.ts).
    const d = readTaskDescriptor(name);
    if (d.kind === "text-to-text") {
      const data = loadSeq2seqArgs(d.values);
      const metric = data.task.metric;
      const splits = { train: data.train, validation: data.validation, test: data.test, protocol: "the task's own train / validation / test files" };
      return {
        source: { name: d.name, prefix: data.task.prefix, mainMetric: metric, score: (p, r) => scoreGenerations(metric, p, r), splits: () => Promise.resolve(splits), source: data.source },
        skipped: [],
      };
    }
    const data = await loadTaskData({ ...d.values, ...(flag(v, "skip-bad-rows") ? { "skip-bad-rows": true } : {}) });
    return { source: labelTaskSource({ ...data.task, name: d.name }, data.splits, data.source), skipped: data.skipped };
  }
  const key = name.trim().toLowerCase();
  if (isSeq2SeqBuiltinName(key)) {
    const data = asUsageError(() => loadSeq2SeqTask(key));
    const pairs = (xs: readonly { source: string; target: string }[]) => xs.map((x) => ({ source: x.source, target: x.target }));
    const splits = { train: pairs(data.train), validation: pairs(data.validation), test: pairs(data.test), protocol: "the task's own train / validation / test files" };
    return {
      source: {
        name: data.task.name,
        prefix: data.task.prefix,
        mainMetric: data.task.metric,
        score: (p, r) => scoreGenerations(data.task.metric, p, r),
        splits: () => Promise.resolve(splits),
        source: data.task.dir ?? path.dirname(data.task.files.train),
      },
      skipped: [],
    };
  }
  // GLUE tasks read --data-dir when it is given; the others (spam, sotu-party) are built in.
  const glue = isGlueTaskName(key.replace(/-/g, ""));
  const data = await loadTaskData({ ...v, task: name, ...(glue ? {} : { "data-dir": undefined }) });
  if (data.task.name.startsWith("custom:")) throw new CliError(`--tasks: "${name}" is a custom task; list its folder, with a ${TASK_DESCRIPTOR_FILE} (see --help)`, 2);
  return { source: labelTaskSource(data.task, data.splits, data.source), skipped: data.skipped };
}

/** A classification task cast to text (data/text-to-text.ts) as a task source. */
function labelTaskSource(task: TaskSpec, splits: TaskData["splits"], source: string): TextTaskSource {
  asUsageError(() => checkTextToTextTask(task));
  return {
    name: task.name,
    prefix: labelTaskPrefix(task),
    mainMetric: String(task.mainMetric),
    score: (p, r) => scoreLabelTexts(task, p, r),
    splits: async (seed) => {
      const s = await splits(seed);
      return { train: labelTextPairs(task, s.train), validation: labelTextPairs(task, s.validation), test: labelTextPairs(task, s.test), protocol: s.protocol };
    },
    source,
  };
}

/** Run text-to-text multi-task training; `modelDir` is resolved by train.ts (bundled T5 or --model). */
export async function runSeq2seqMultiTaskTrain(v: Values, argv: string[], modelDir: string, bundled: boolean): Promise<number> {
  for (const name of NOT_HERE) {
    if (v[name] !== undefined) throw new CliError(`--${name} does not apply to text-to-text multi-task training (--tasks with a T5 model; see "Multi-task" and "Text-to-text tasks" in propetl train --help)`, 2);
  }
  const names = list(v, "tasks") as string[];
  asUsageError(() => checkTaskNames(names));
  const temperature = num(v, "temperature", { min: 0, exclusiveMin: true }) ?? DEFAULT_TEMPERATURE;
  const seedsList = intList(v, "seeds");
  const seed = int(v, "seed", { min: 0 });
  if (seedsList && seed !== undefined) throw new CliError("give --seed or --seeds, not both", 2);
  const seeds = seedsList ?? [seed ?? TRAIN_DEFAULTS.seed];
  const sources: TextTaskSource[] = [];
  const skipped: { file: string; count: number; messages: string[] }[] = [];
  for (const name of names) {
    const t = await textTask(v, name);
    sources.push(t.source);
    skipped.push(...t.skipped);
  }
  const taskNames = sources.map((s) => s.name);
  asUsageError(() => checkTaskNames(taskNames));
  const method = multiTaskMethodFromArgs(v, taskNames);
  if (method.method === "full") throw new CliError("--method full trains one model per task; multi-task training needs a PETL method", 2);
  const { hyper, maxSourceLength, maxTargetLength } = seq2seqHyperFromArgs(v, method);
  const saveSteps = int(v, "save-steps", { min: 1 });
  const maxTrain = int(v, "max-train-examples", { min: 1 });
  const maxEval = int(v, "max-eval-examples", { min: 1 });
  const output = str(v, "output") ?? defaultOutputDir(taskNames.join("+"), method.method);
  await checkWritableDir(output);
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  const { config } = readModelConfig(path.join(modelDir, "config.json"));
  if (config.modelType !== "t5") {
    throw new CliError(`${path.join(modelDir, "config.json")}: multi-task training with text-to-text tasks (${taskNames.join(", ")}: every task is trained as text) needs an encoder–decoder (T5) model, but model_type is "${config.modelType}"`, 2);
  }
  const t5 = config as T5Config;
  if (!existsSync(path.join(modelDir, "model.safetensors"))) throw new CliError(`${path.join(modelDir, "model.safetensors")}: not found (the model folder needs config.json and model.safetensors)`);

  const reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet") });
  for (const s of skipped) reporter.warn(`skipped ${s.count} bad row(s) in ${s.file}${s.messages.length ? `; first: ${s.messages[0]}` : ""}`);
  const engine = await initEngine(engineOptions());
  reporter.log(
    `text-to-text tasks ${taskNames.join(", ")}; model ${modelDir}${bundled ? " (bundled)" : ""}; method ${method.method}${method.k !== undefined ? ` (k ${method.k}${method.taskK !== undefined ? `, task k ${method.taskK}, ${method.combine?.toUpperCase()}` : ""})` : ""}; temperature ${temperature}; output ${output}; engine ${describeEngine(engine)}`,
  );
  const stop = stopOnInterrupt((m) => reporter.warn(m));
  return runTraining(reporter, stop, async () => {
    const res = await trainSeq2seqMultiTask({
      modelDir,
      tasks: sources,
      method,
      hyper,
      temperature,
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
      extra: { command: ["propetl", "train", ...argv], skippedRows: skipped },
      onEvent: (s, e) => reporter.event(s, e),
      log: (m) => reporter.log(m),
      signal: stop.signal,
    });
    const storage = res.storage ?? multiTaskStorage(t5, method, taskNames);
    const parts = storage ? sharedAndTaskParts(storage) : null;
    reporter.result(
      {
        tasks: taskNames,
        method: method.method,
        temperature,
        seeds: seedsJson(res.seeds),
        summary: res.summary,
        metricsFile: res.metricsFile,
        ...(storage && parts ? { storage: { bits: storage.totalBits, bytes: storage.bytes, percentOfBackbone: storage.percentOfBackbone, shared: parts.shared, perTask: parts.perTask } } : {}),
      },
      resultText(res, taskNames) + (storage ? `\n${multiTaskStorageText(storage)}` : ""),
    );
    return 0;
  }, () => seq2seqOutOfMemoryMessage({ tasks: taskNames, batchSize: hyper.batchSize, maxSourceLength, maxTargetLength, remat: hyper.remat ?? "auto" }));
}
