/** `propetl train`: see help.ts (TRAIN_HELP). */
import { existsSync } from "node:fs";
import path from "node:path";
import { readEncoderConfig } from "../models/config-file.js";
import { describeEngine, initEngine } from "../engine/engine.js";
import { defaultLearningRates } from "../petl/methods.js";
import { plainCounterpart, resolveMethodConfig } from "../petl/registry.js";
import { compareStorage, formatStorageReport } from "../petl/storage.js";
import { defaultEpochs } from "../data/tasks.js";
import { BUNDLED_MODEL, BUNDLED_T5_MODEL, findBundledModel, defaultOutputDir, resolveMaxLength, TRAIN_DEFAULTS } from "../train/defaults.js";
import type { FinetuneHyper } from "../train/finetune.js";
import { checkWritableDir, storageFor, trainTask } from "../train/task-run.js";
import type { TrainTaskResult } from "../train/task-run.js";
import { asUsageError, CliError, flag, int, intList, num, parseCommand, rematFlag, required, str } from "./args.js";
import type { OptionSpec, Values } from "./args.js";
import { jitFromArgs, loadTaskData, METHOD_OPTIONS, methodConfigFromArgs, TASK_OPTIONS } from "./common.js";
import { engineOptions } from "./engine-options.js";
import { makeReporter } from "./progress.js";
import { isSeq2seqRequest, loadSeq2seqArgs, runSeq2seqTrain, SEQ2SEQ_ONLY } from "./train-seq2seq.js";
import type { Reporter } from "./progress.js";
import { stopOnInterrupt } from "./interrupt.js";
import { runTraining, seedsJson } from "./train-outcome.js";
import { isMultiTaskRequest, MULTITASK_ONLY, runMultiTaskTrain } from "./train-multitask.js";
import { isSeq2seqMultiTaskRequest, runSeq2seqMultiTaskTrain } from "./train-seq2seq-multitask.js";
import { outOfMemoryMessage } from "./out-of-memory.js";

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string" },
  output: { type: "string" },
  ...TASK_OPTIONS,
  ...METHOD_OPTIONS,
  lr: { type: "string" },
  "mask-lr": { type: "string" },
  "head-lr": { type: "string" },
  "weight-decay": { type: "string" },
  "warmup-ratio": { type: "string" },
  "max-grad-norm": { type: "string" },
  "batch-size": { type: "string" },
  "grad-accum": { type: "string" },
  epochs: { type: "string" },
  "max-length": { type: "string" },
  "eval-batch-size": { type: "string" },
  "early-stop": { type: "string" },
  seed: { type: "string" },
  seeds: { type: "string" },
  "max-train-examples": { type: "string" },
  "max-eval-examples": { type: "string" },
  "max-steps": { type: "string" },
  jit: { type: "boolean" },
  "no-jit": { type: "boolean" },
  "no-remat": { type: "boolean" },
  remat: { type: "boolean" },
  resume: { type: "boolean" },
  "save-steps": { type: "string" },
  "keep-train-state": { type: "boolean" },
  f16: { type: "boolean" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  // Multi-task training (train-multitask.ts).
  ...Object.fromEntries(MULTITASK_ONLY.map((name) => [name, { type: "string" } satisfies OptionSpec])),
  // Text-to-text tasks (train-seq2seq.ts).
  ...Object.fromEntries(SEQ2SEQ_ONLY.map((name) => [name, { type: "string" } satisfies OptionSpec])),
};

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

function resultText(res: TrainTaskResult, task: string, metricNames: readonly string[]): string {
  const lines: string[] = [];
  for (const r of res.seeds) {
    const scores = metricNames.map((m) => `${m} ${fmt(r.test.scores[m] ?? Number.NaN)}`).join(", ");
    const val = r.validation ? `; best validation ${fmt(r.validation.main)} at epoch ${r.validation.epoch}` : "";
    lines.push(`seed ${r.seed}: test ${scores} (${r.test.examples} examples)${val}${r.skipped ? " [finished earlier]" : ""}`);
    lines.push(`  checkpoint: ${r.dir}`);
  }
  if (res.seeds.length > 1) {
    const parts = metricNames.map((m) => {
      const s = res.summary[m];
      return s ? `${m} ${fmt(s.mean)} ± ${fmt(s.std)}` : m;
    });
    lines.push(`${task} over ${res.seeds.length} seeds (mean ± sample std): ${parts.join(", ")}`);
  }
  lines.push(`metrics: ${res.metricsFile}`);
  return lines.join("\n");
}

function hyperFromArgs(v: Values, methodName: Parameters<typeof defaultLearningRates>[0], epochs: number): Omit<FinetuneHyper, "seed"> {
  const lrs = defaultLearningRates(methodName);
  const lr = num(v, "lr", { min: 0, exclusiveMin: true }) ?? lrs.lr;
  const headLr = num(v, "head-lr", { min: 0, exclusiveMin: true });
  const earlyStop = int(v, "early-stop");
  const maxSteps = int(v, "max-steps");
  const jit = jitFromArgs(v);
  return {
    epochs,
    batchSize: int(v, "batch-size") ?? TRAIN_DEFAULTS.batchSize,
    gradAccumSteps: int(v, "grad-accum") ?? TRAIN_DEFAULTS.gradAccumSteps,
    lr,
    maskLr: num(v, "mask-lr", { min: 0, exclusiveMin: true }) ?? lrs.maskLr,
    ...(headLr !== undefined ? { headLr } : {}),
    weightDecay: num(v, "weight-decay", { min: 0 }) ?? TRAIN_DEFAULTS.weightDecay,
    warmupRatio: num(v, "warmup-ratio", { min: 0, max: 1 }) ?? TRAIN_DEFAULTS.warmupRatio,
    maxGradNorm: num(v, "max-grad-norm", { min: 0 }) ?? TRAIN_DEFAULTS.maxGradNorm,
    evalBatchSize: int(v, "eval-batch-size") ?? TRAIN_DEFAULTS.evalBatchSize,
    ...(earlyStop !== undefined ? { earlyStopPatience: earlyStop } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    jit,
    padToMultipleOf: jit ? TRAIN_DEFAULTS.padToMultipleOf : 1,
    remat: rematFlag(v),
  };
}


export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("train", argv, OPTIONS);
  const seq2seqMulti = isMultiTaskRequest(v) && isSeq2seqMultiTaskRequest(v);
  if ((isSeq2seqRequest(v) && !isMultiTaskRequest(v)) || seq2seqMulti) {
    const t5Bundled = str(v, "model") === undefined ? findBundledModel(BUNDLED_T5_MODEL) : null;
    const t5Dir = t5Bundled ?? required(v, "model", "train", `a Hugging Face T5 model folder; this package has no bundled encoder–decoder (${BUNDLED_T5_MODEL})`);
    if (seq2seqMulti) return runSeq2seqMultiTaskTrain(v, argv, t5Dir, t5Bundled !== null);
    return runSeq2seqTrain(v, argv, loadSeq2seqArgs(v), t5Dir, t5Bundled !== null);
  }
  for (const name of SEQ2SEQ_ONLY) {
    if (v[name] !== undefined) throw new CliError(`--${name} applies only to text-to-text tasks (e.g. --task bible-es-en with a T5 model)`, 2);
  }
  const bundled = str(v, "model") === undefined ? findBundledModel() : null;
  const modelDir = bundled ?? required(v, "model", "train", `a Hugging Face model folder; this package has no bundled backbone (${BUNDLED_MODEL})`);
  if (isMultiTaskRequest(v)) return runMultiTaskTrain(v, argv, modelDir, bundled !== null, hyperFromArgs);
  for (const name of MULTITASK_ONLY) {
    if (v[name] !== undefined) throw new CliError(`--${name} applies only to multi-task training (--tasks A,B,...)`, 2);
  }
  // Settings first (usage errors), then the output folder, before any data or model work.
  const method = asUsageError(() => resolveMethodConfig(methodConfigFromArgs(v)));
  const seedsList = intList(v, "seeds");
  const seed = int(v, "seed", { min: 0 });
  if (seedsList && seed !== undefined) throw new CliError("give --seed or --seeds, not both", 2);
  const seeds = seedsList ?? [seed ?? TRAIN_DEFAULTS.seed];
  const maxLengthFlag = int(v, "max-length", { min: 2 });
  const epochsFlag = int(v, "epochs");
  const saveSteps = int(v, "save-steps");
  const maxTrain = int(v, "max-train-examples");
  const maxEval = int(v, "max-eval-examples");
  hyperFromArgs(v, method, 1); // validate the numeric flags now
  const output = str(v, "output") ?? defaultOutputDir(str(v, "task") ?? str(v, "task-name") ?? "custom", method.method);
  await checkWritableDir(output);
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  const modelConfig = readEncoderConfig(path.join(modelDir, "config.json"));
  if (!existsSync(path.join(modelDir, "model.safetensors"))) throw new CliError(`${path.join(modelDir, "model.safetensors")}: not found (the model folder needs config.json and model.safetensors)`);

  const reporter: Reporter = makeReporter({ json: flag(v, "json"), quiet: flag(v, "quiet") });
  const data = await loadTaskData(v);
  for (const s of data.skipped) reporter.warn(`skipped ${s.count} bad row(s) in ${s.file}${s.messages.length ? `; first: ${s.messages[0]}` : ""}`);
  const maxLength = asUsageError(() => resolveMaxLength(maxLengthFlag, modelConfig));
  const firstSplits = await data.splits(seeds[0]);
  const epochs = epochsFlag ?? defaultEpochs(data.task, firstSplits.train.length);
  const hyper = hyperFromArgs(v, method, epochs);
  const engine = await initEngine(engineOptions());
  reporter.log(`task ${data.task.name} from ${data.source}; model ${modelDir}${bundled ? " (bundled)" : ""}; method ${method.method}; output ${output}; engine ${describeEngine(engine)}`);

  const stop = stopOnInterrupt((m) => reporter.warn(m));
  return runTraining(reporter, stop, async () => {
    const res = await trainTask({
      modelDir,
      task: data.task,
      splits: (s) => (s === seeds[0] ? firstSplits : data.splits(s)),
      method,
      hyper,
      seeds,
      outputDir: output,
      maxLength,
      ...(maxTrain !== undefined ? { maxTrainExamples: maxTrain } : {}),
      ...(maxEval !== undefined ? { maxEvalExamples: maxEval } : {}),
      resume: flag(v, "resume"),
      ...(saveSteps !== undefined ? { saveSteps } : {}),
      keepTrainState: flag(v, "keep-train-state"),
      ...(flag(v, "f16") ? { checkpointDtype: "F16" as const } : {}),
      extra: { command: ["propetl", "train", ...argv], dataSource: data.source, skippedRows: data.skipped },
      onEvent: (s, e) => reporter.event(s, e),
      log: (m) => reporter.log(m),
      signal: stop.signal,
    });
    const storage = res.storage ?? storageFor(modelConfig, method, data.task.numLabels);
    let storageText = "";
    if (storage) {
      storageText = `\n${formatStorageReport(storage)}`;
      // Next to the plain counterpart (the method table's: propetl-lora → lora, an ablation → its base).
      const plainConfig = plainCounterpart(method);
      const plain = plainConfig ? storageFor(modelConfig, plainConfig, data.task.numLabels) : null;
      if (plain) storageText += `\n${compareStorage(storage, plain)}`;
    }
    reporter.result(
      {
        task: data.task.name,
        method: method.method,
        seeds: seedsJson(res.seeds),
        summary: res.summary,
        metricsFile: res.metricsFile,
        ...(storage ? { storage: { bits: storage.totalBits, bytes: storage.bytes, percentOfBackbone: storage.percentOfBackbone } } : {}),
      },
      resultText(res, data.task.name, data.task.metrics) + storageText,
    );
    return 0;
  }, () => {
    const size = storageFor(modelConfig, method, data.task.numLabels);
    const modules = size ? { moduleParams: size.words32, backboneParams: size.model.backboneParams } : {};
    return outOfMemoryMessage({ batchSize: hyper.batchSize, gradAccumSteps: hyper.gradAccumSteps, maxLength, numLayers: modelConfig.numLayers, hiddenSize: modelConfig.hiddenSize, remat: hyper.remat ?? "auto", ...modules });
  });
}
