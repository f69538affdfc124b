/**
 * `propetl train --tasks A,B,...`: one method over several tasks (train/multitask-run.ts), run
 * from train.ts when `--tasks` is given. Built-in tasks need no files; GLUE tasks read
 * `--data-dir`. Task-only flags of the single-task command (custom task files, --task) are
 * refused; the method flags, the trainer flags and the resume flags are train.ts's. After
 * training: per-task test scores and the storage report (the shared part and each task's
 * marginal part, in bits and % of backbone).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describeEngine, initEngine } from "../engine/engine.js";
import { defaultEpochs, isGlueTaskName } from "../data/tasks.js";
import { readEncoderConfig } from "../models/config-file.js";
import { formatSharedAndTaskParts, formatStorageReport, sharedAndTaskParts } from "../petl/storage.js";
import type { StorageReport } from "../petl/storage.js";
import { combineRuleList, isCombineRule } from "../petl/combine-rule.js";
import { resolveMethodConfig } from "../petl/registry.js";
import type { MethodConfig } from "../petl/method.js";
import { defaultOutputDir, resolveMaxLength, TRAIN_DEFAULTS } from "../train/defaults.js";
import type { FinetuneHyper } from "../train/finetune.js";
import { DEFAULT_TEMPERATURE } from "../train/multitask.js";
import { checkTaskNames, multiTaskStorage, trainMultiTask } from "../train/multitask-run.js";
import type { MultiTaskSource } from "../train/multitask-run.js";
import { checkWritableDir } from "../train/task-run.js";
import type { TrainTaskResult } from "../train/task-run.js";
import { asUsageError, CliError, flag, int, intList, list, num, str } from "./args.js";
import type { Values } from "./args.js";
import { loadTaskData, methodConfigFromArgs } from "./common.js";
import { isTaskDescriptorRef, readTaskDescriptor, TASK_DESCRIPTOR_FILE } from "./task-descriptor.js";
import { engineOptions } from "./engine-options.js";
import { stopOnInterrupt } from "./interrupt.js";
import { runTraining, seedsJson } from "./train-outcome.js";
import { outOfMemoryMessage } from "./out-of-memory.js";
import { makeReporter } from "./progress.js";
import type { Reporter } from "./progress.js";

/** Flags only multi-task training takes (train.ts lists them among its options). */
export const MULTITASK_ONLY = ["tasks", "temperature", "task-k", "combine"] as const;

/** Single-task flags that make no sense with --tasks. */
const SINGLE_TASK_ONLY = ["task", "train-file", "dev-file", "task-dir", "format", "text-column", "text-pair-column", "label-column", "labels", "regression", "task-name", "no-header"] as const;

/** True when the command line asks for multi-task training. */
export function isMultiTaskRequest(v: Values): boolean {
  return v.tasks !== undefined;
}

/** The method config of a multi-task run: the method flags, the task names, --task-k and --combine. */
export function multiTaskMethodFromArgs(v: Values, names: string[]): MethodConfig {
  const c: MethodConfig = { ...methodConfigFromArgs(v), tasks: names };
  const taskK = num(v, "task-k");
  if (taskK !== undefined) c.taskK = taskK;
  const combine = str(v, "combine");
  if (combine !== undefined) {
    if (!isCombineRule(combine)) throw new CliError(`--combine must be ${combineRuleList()}, got "${combine}"`, 2);
    c.combine = combine;
  }
  return asUsageError(() => resolveMethodConfig(c));
}

/** " (k 0.3, task k 0.3, OR)", " (k 0.3, layer masks only)", " (task k 0.3, task masks only)"; "" without masks. */
export function methodMasksText(m: MethodConfig): string {
  const parts: string[] = [];
  if (m.k !== undefined) parts.push(`k ${m.k}`);
  if (m.taskK !== undefined) parts.push(`task k ${m.taskK}`);
  if (m.combine === "or" || m.combine === "and") parts.push(m.combine.toUpperCase());
  else if (m.combine !== undefined) parts.push(`${m.combine} masks only`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** The per-seed, per-task result lines of a multi-task run. */
export function resultText(res: TrainTaskResult, names: string[]): string {
  const lines: string[] = [];
  for (const r of res.seeds) {
    lines.push(`seed ${r.seed}: mean of the tasks' main metrics on test ${fmt(r.test.main)}${r.validation ? `; best validation mean ${fmt(r.validation.main)} at epoch ${r.validation.epoch}` : ""}${r.skipped ? " [finished earlier]" : ""}`);
    for (const n of names) {
      const scores = Object.entries(r.test.scores).filter(([k]) => k.startsWith(`${n}/`)).map(([k, x]) => `${k.slice(n.length + 1)} ${fmt(x)}`);
      lines.push(`  ${n}: test ${scores.length ? scores.join(", ") : "(no test examples)"}`);
    }
    lines.push(`  checkpoint: ${r.dir}`);
  }
  if (res.seeds.length > 1) {
    const m = res.summary.main;
    if (m) lines.push(`mean over ${res.seeds.length} seeds (± sample std): ${fmt(m.mean)} ± ${fmt(m.std)}`);
  }
  lines.push(`metrics: ${res.metricsFile}`);
  return lines.join("\n");
}

/** The storage report with the shared part and each task's marginal part. */
export function multiTaskStorageText(r: StorageReport): string {
  return `${formatStorageReport(r)}\n${formatSharedAndTaskParts(r)}`;
}

/**
 * Run multi-task training. `hyperFromArgs` is train.ts's (the same trainer flags);
 * `modelDir` is resolved there (bundled or --model).
 */
export async function runMultiTaskTrain(v: Values, argv: string[], modelDir: string, bundled: boolean, hyperFromArgs: (v: Values, method: MethodConfig, epochs: number) => Omit<FinetuneHyper, "seed">): Promise<number> {
  for (const name of SINGLE_TASK_ONLY) {
    if (v[name] !== undefined) throw new CliError(`--${name} applies to single-task training; with --tasks give built-in or GLUE task names (GLUE files from --data-dir)`, 2);
  }
  if (flag(v, "jit")) throw new CliError("--jit is not supported with --tasks (each batch picks its task's head and masks on the host); multi-task training runs eagerly", 2);
  const names = list(v, "tasks") as string[];
  asUsageError(() => checkTaskNames(names));
  const temperature = num(v, "temperature", { min: 0, exclusiveMin: true }) ?? DEFAULT_TEMPERATURE;
  const seedsList = intList(v, "seeds");
  const seed = int(v, "seed", { min: 0 });
  if (seedsList && seed !== undefined) throw new CliError("give --seed or --seeds, not both", 2);
  const seeds = seedsList ?? [seed ?? TRAIN_DEFAULTS.seed];
  const maxLengthFlag = int(v, "max-length", { min: 2 });
  const epochsFlag = int(v, "epochs");
  const saveSteps = int(v, "save-steps");
  const maxTrain = int(v, "max-train-examples");
  const maxEval = int(v, "max-eval-examples");

  // Every task resolves (an unknown name is a usage error naming the known tasks) before the method and the output.
  const tasks: MultiTaskSource[] = [];
  const skipped: { file: string; count: number; messages: string[] }[] = [];
  for (const name of names) {
    if (isTaskDescriptorRef(name)) {
      // A custom task: a folder with its files and propetl-task.json (task-descriptor.ts).
      const d = readTaskDescriptor(name);
      if (d.kind === "text-to-text") throw new CliError(`${d.file}: ${d.name} is a text-to-text task; multi-task training with it needs a T5 model (--model)`, 2);
      const data = await loadTaskData({ ...d.values, ...(flag(v, "skip-bad-rows") ? { "skip-bad-rows": true } : {}) });
      tasks.push({ task: { ...data.task, name: d.name }, splits: data.splits, source: data.source });
      skipped.push(...data.skipped);
      continue;
    }
    // GLUE tasks read --data-dir when it is given; the others (spam, sotu-party) are built in.
    const glue = isGlueTaskName(name.trim().toLowerCase().replace(/-/g, ""));
    const data = await loadTaskData({ ...v, task: name, ...(glue ? {} : { "data-dir": undefined }) });
    if (data.task.name.startsWith("custom:")) throw new CliError(`--tasks: "${name}" is a custom task; list its folder, with a ${TASK_DESCRIPTOR_FILE} (see --help)`, 2);
    tasks.push({ task: data.task, splits: data.splits, source: data.source });
    skipped.push(...data.skipped);
  }
  const taskNames = tasks.map((t) => t.task.name);
  asUsageError(() => checkTaskNames(taskNames));
  const method = multiTaskMethodFromArgs(v, taskNames);
  hyperFromArgs(v, method, 1); // validate the numeric flags now
  const output = str(v, "output") ?? defaultOutputDir(taskNames.join("+"), method.method);
  await checkWritableDir(output);
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  const modelConfig = readEncoderConfig(path.join(modelDir, "config.json"));
  if (!existsSync(path.join(modelDir, "model.safetensors"))) throw new CliError(`${path.join(modelDir, "model.safetensors")}: not found (the model folder needs config.json and model.safetensors)`);

  const reporter: Reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet") });
  for (const s of skipped) reporter.warn(`skipped ${s.count} bad row(s) in ${s.file}${s.messages.length ? `; first: ${s.messages[0]}` : ""}`);
  const maxLength = asUsageError(() => resolveMaxLength(maxLengthFlag, modelConfig));
  // Default epochs: the largest training set's (paper: 20 small, 10 large).
  let epochs = epochsFlag;
  if (epochs === undefined) {
    epochs = 0;
    for (const t of tasks) epochs = Math.max(epochs, defaultEpochs(t.task, (await t.splits(seeds[0])).train.length));
  }
  const hyper = hyperFromArgs(v, method, epochs);
  const engine = await initEngine(engineOptions());
  reporter.log(`tasks ${taskNames.join(", ")}; model ${modelDir}${bundled ? " (bundled)" : ""}; method ${method.method}${methodMasksText(method)}; temperature ${temperature}; output ${output}; engine ${describeEngine(engine)}`);

  const stop = stopOnInterrupt((m) => reporter.warn(m));
  return runTraining(reporter, stop, async () => {
    const res = await trainMultiTask({
      modelDir,
      tasks,
      method,
      hyper,
      temperature,
      seeds,
      outputDir: output,
      maxLength,
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
    const storage = res.storage ?? multiTaskStorage(modelConfig, method, taskNames, tasks[0].task.numLabels);
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
  }, () => outOfMemoryMessage({ batchSize: hyper.batchSize, gradAccumSteps: hyper.gradAccumSteps, maxLength, numLayers: modelConfig.numLayers, hiddenSize: modelConfig.hiddenSize, remat: hyper.remat ?? "auto" }));
}
