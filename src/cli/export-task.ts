/** `propetl export-task`: see help.ts (EXPORT_TASK_HELP). */
import { existsSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../engine/engine.js";
import { CONFIG_FILE, MODEL_FILE } from "../petl/checkpoint.js";
import { exportTaskCheckpoint } from "../petl/export-task.js";
import { checkpointTaskNames } from "../train/predictor.js";
import { CliError, flag, parseCommand, required } from "./args.js";
import type { OptionSpec } from "./args.js";
import { engineOptions } from "./engine-options.js";

const OPTIONS: Record<string, OptionSpec> = {
  checkpoint: { type: "string" },
  task: { type: "string" },
  output: { type: "string" },
  json: { type: "boolean" },
};

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("export-task", argv, OPTIONS);
  const src = required(v, "checkpoint", "export-task", "a multi-task checkpoint folder");
  const out = required(v, "output", "export-task", "the folder to write the single-task checkpoint to");
  if (!existsSync(src)) throw new CliError(`--checkpoint ${src}: folder not found`);
  const tasks = checkpointTaskNames(src);
  const task = v.task === undefined ? undefined : required(v, "task", "export-task", "the task to export");
  if (task === undefined) throw new CliError(`missing --task (the task to export${tasks ? `; ${src} has: ${tasks.join(", ")}` : ""})`, 2);
  if (tasks !== null && !tasks.includes(task)) throw new CliError(`unknown task "${task}"; ${src} has: ${tasks.join(", ")}`, 2);
  if (path.resolve(out) === path.resolve(src)) throw new CliError("--output must be another folder than --checkpoint", 2);
  if (existsSync(path.join(out, CONFIG_FILE)) || existsSync(path.join(out, MODEL_FILE))) throw new CliError(`${out} already holds a task checkpoint; choose another --output`, 2);
  await initEngine(engineOptions());
  const r = await exportTaskCheckpoint(src, task, out);
  const doc = { task: r.taskName, method: r.method, checkpoint: out, configFile: r.configFile, modelFile: r.modelFile, bytes: r.bytes };
  if (flag(v, "json") || !process.stdout.isTTY) process.stdout.write(JSON.stringify(doc) + "\n");
  else process.stdout.write(`task ${r.taskName} of ${src} -> ${out} (${r.method.method}, ${r.bytes.toLocaleString("en-US")} bytes)\n`);
  return 0;
}
