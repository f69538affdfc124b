/** `propetl eval`: see help.ts (EVAL_HELP). */
import path from "node:path";
import { existsSync } from "node:fs";
import { initEngine } from "../engine/engine.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { scoreLogits } from "../train/finetune.js";
import { resolveMaxLength } from "../train/defaults.js";
import { checkpointTaskNames, loadPredictor } from "../train/predictor.js";
import { versions } from "../train/versions.js";
import type { Example } from "../data/read-examples.js";
import { asUsageError, CliError, flag, int, parseCommand, required, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { jitFromArgs, loadTaskData, TASK_OPTIONS } from "./common.js";
import { engineOptions } from "./engine-options.js";

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string" },
  checkpoint: { type: "string" },
  ...TASK_OPTIONS,
  split: { type: "string" },
  seed: { type: "string" },
  "max-examples": { type: "string" },
  "batch-size": { type: "string" },
  "max-length": { type: "string" },
  output: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  jit: { type: "boolean" },
  "no-jit": { type: "boolean" },
};

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("eval", argv, OPTIONS);
  const jit = jitFromArgs(v);
  const modelDir = required(v, "model", "eval", "the backbone's model folder");
  const checkpointDir = required(v, "checkpoint", "eval", "a task checkpoint folder");
  const split = str(v, "split") ?? "test";
  if (!["test", "validation", "dev", "train"].includes(split)) throw new CliError(`--split must be test, validation, dev or train, got "${split}"`, 2);
  const seed = int(v, "seed", { min: 0 }) ?? 42;
  const maxExamples = int(v, "max-examples");
  const batchSize = int(v, "batch-size") ?? 64;
  const maxLengthFlag = int(v, "max-length", { min: 2 });
  if (!existsSync(checkpointDir)) throw new CliError(`--checkpoint ${checkpointDir}: folder not found`);
  const data = await loadTaskData(v);
  const task = data.task;
  let examples: Example[];
  if (split === "dev" || split === "train") {
    if (!data.raw) throw new CliError(`--split ${split} needs the task's files (--data-dir); built-in tasks have test and validation`, 2);
    examples = split === "dev" ? data.raw.dev : data.raw.train;
  } else {
    const s = await data.splits(seed);
    examples = split === "test" ? s.test : s.validation;
  }
  if (maxExamples !== undefined) examples = examples.slice(0, maxExamples);
  if (examples.length === 0) throw new CliError(`the ${split} split of ${task.name} is empty`);
  await initEngine(engineOptions());
  // A multi-task checkpoint: the task named by --task (its name in the checkpoint).
  const ckptTasks = checkpointTaskNames(checkpointDir);
  const multi = ckptTasks !== null && ckptTasks.length > 1;
  if (multi && !ckptTasks.includes(task.name)) throw new CliError(`${checkpointDir} is a multi-task checkpoint without task "${task.name}"; its tasks: ${ckptTasks.join(", ")}`, 2);
  const predictor = await loadPredictor(modelDir, checkpointDir, { jit, ...(multi ? { task: task.name } : {}) });
  if (predictor.modelTypeInferred !== null) process.stderr.write(`note: ${path.join(modelDir, "config.json")} names no model_type: ${predictor.modelTypeInferred}\n`);
  try {
    const want = task.kind === "regression" ? ["score"] : [...task.labels];
    if (predictor.numLabels !== task.numLabels || (task.kind === "classification" && predictor.labelNames.some((l, i) => l !== want[i]))) {
      throw new CliError(`the checkpoint predicts [${predictor.labelNames.join(", ")}] but task ${task.name} has labels [${want.join(", ")}]`);
    }
    const maxLength = asUsageError(() => resolveMaxLength(maxLengthFlag, predictor.config));
    const encoded = predictor.encode(examples, maxLength);
    const t0 = Date.now();
    const logits = await predictor.logits(encoded, { batchSize });
    const m = scoreLogits({ kind: task.kind, numLabels: task.numLabels, metrics: task.metrics, mainMetric: task.mainMetric }, logits, encoded);
    const doc = {
      format: "propetl-eval",
      version: 1,
      task: task.name,
      split,
      examples: examples.length,
      mainMetric: m.mainMetric,
      main: m.main,
      scores: m.scores,
      checkpoint: checkpointDir,
      ...(multi ? { checkpointTask: task.name } : {}),
      model: modelDir,
      seconds: (Date.now() - t0) / 1000,
      versions: versions(),
    };
    const out = str(v, "output");
    if (out) await writeFileAtomic(out, JSON.stringify(doc, null, 2) + "\n");
    if (flag(v, "json") || !process.stdout.isTTY) process.stdout.write(JSON.stringify(doc) + "\n");
    else {
      const scores = Object.entries(m.scores).map(([k, x]) => `${k} ${(x as number).toFixed(4)}`).join(", ");
      process.stdout.write(`${task.name} ${split} (${examples.length} examples): ${scores}\n`);
    }
    return 0;
  } finally {
    predictor.dispose();
  }
}
