/**
 * What several commands share: finding a task and reading its files (GLUE from --data-dir,
 * the built-in tasks, or a custom CSV/TSV/JSONL task), the method flags, and the help text
 * of those flags.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { isBuiltinTaskName, loadBuiltinSplits, missingBuiltinData, resolveBuiltinTask } from "../data/builtin-tasks.js";
import { readTaskFile, taskSplitPath } from "../data/read-examples.js";
import type { Example, ReadResult } from "../data/read-examples.js";
import { makeSplits } from "../data/splits.js";
import { getTask, GLUE_TASK_NAMES } from "../data/tasks.js";
import { customTask } from "../data/custom-task.js";
import type { ColumnRef, FileFormat, TaskSpec } from "../data/tasks.js";
import type { MethodConfig } from "../petl/method.js";
import { DEFAULT_METHOD, MODULE_OPTIONS, MODULE_OPTION_NAMES, MethodConfigError, checkMethodName } from "../petl/methods.js";
import type { MethodName } from "../petl/methods.js";
import type { TaskSplits } from "../train/task-run.js";
import { parseTextEncoding } from "../io/text-lines.js";
import type { TextEncoding } from "../io/text-lines.js";
import { CliError, flag, int, list, num, str } from "./args.js";
import type { OptionSpec, Values } from "./args.js";

export const TASK_OPTIONS: Record<string, OptionSpec> = {
  task: { type: "string" },
  "data-dir": { type: "string" },
  "train-file": { type: "string" },
  "dev-file": { type: "string" },
  "task-dir": { type: "string" },
  format: { type: "string" },
  "text-column": { type: "string" },
  "text-pair-column": { type: "string" },
  "label-column": { type: "string" },
  labels: { type: "string" },
  regression: { type: "boolean" },
  "task-name": { type: "string" },
  "no-header": { type: "boolean" },
  "skip-bad-rows": { type: "boolean" },
  encoding: { type: "string" },
};

/** `--encoding utf-8|latin1` (default strict UTF-8): how text inputs are decoded. */
export function encodingFromArgs(v: Values): TextEncoding {
  const e = str(v, "encoding");
  if (e === undefined) return "utf-8";
  try {
    return parseTextEncoding(e);
  } catch (err) {
    throw new CliError(`--encoding: ${(err as Error).message}`, 2);
  }
}

/** The method flags: --method, the module options of the method table, --k and --base. */
export const METHOD_OPTIONS: Record<string, OptionSpec> = {
  method: { type: "string" },
  ...Object.fromEntries(MODULE_OPTION_NAMES.map((key) => [MODULE_OPTIONS[key].flag, { type: "string" } satisfies OptionSpec])),
  k: { type: "string" },
  base: { type: "string" },
};

function columnRef(s: string | undefined): ColumnRef | undefined {
  if (s === undefined) return undefined;
  return /^\d+$/.test(s) ? Number(s) : s;
}

/**
 * The method config from the flags. Numbers are parsed here; the method table's validation
 * (`resolveMethodConfig`) checks their ranges, the base and the method's name.
 */
export function methodConfigFromArgs(v: Values, fallback: MethodName = DEFAULT_METHOD): MethodConfig {
  const name = str(v, "method") ?? fallback;
  let method: MethodName;
  try {
    method = checkMethodName(name);
  } catch (e) {
    if (e instanceof MethodConfigError) throw new CliError(`--method: ${e.message}`, 2);
    throw e;
  }
  const c: MethodConfig = { method };
  for (const key of MODULE_OPTION_NAMES) {
    const o = MODULE_OPTIONS[key];
    const value = o.type === "int" ? int(v, o.flag, { min: -Infinity }) : num(v, o.flag);
    if (value !== undefined) c[key] = value;
  }
  const k = num(v, "k");
  if (k !== undefined) c.k = k;
  const base = str(v, "base");
  if (base !== undefined) c.base = base as NonNullable<MethodConfig["base"]>;
  return c;
}

/** A task with its data ready to split per seed. */
export interface TaskData {
  task: TaskSpec;
  splits: (seed: number) => TaskSplits | Promise<TaskSplits>;
  /** Where the data came from (for logs and metrics.json). */
  source: string;
  /** Rows skipped with --skip-bad-rows, per file. */
  skipped: { file: string; count: number; messages: string[] }[];
  /** The official train and dev files' examples (not for built-in tasks). */
  raw?: { train: Example[]; dev: Example[] };
}

function unknownTask(name: string): CliError {
  return new CliError(
    `unknown task "${name}"; known tasks: ${GLUE_TASK_NAMES.join(", ")} (GLUE, with --data-dir), spam, sotu-party (built in), bible-es-en (built in, text-to-text); ` +
      "or define a custom task with --task-dir (or --train-file/--dev-file) and --text-column/--label-column",
    2,
  );
}

function inferFormat(file: string): FileFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".tsv") return "tsv";
  if (ext === ".csv") return "csv";
  if (ext === ".jsonl" || ext === ".json") return "jsonl";
  throw new CliError(`cannot tell the format of ${file} from its extension; pass --format tsv, csv or jsonl`, 2);
}

async function readLabelled(task: TaskSpec, file: string, skipBadRows: boolean, what: string, encoding: TextEncoding): Promise<ReadResult> {
  if (!existsSync(file)) throw new CliError(`${file}: ${what} file not found${what === "train" || what === "dev" ? ` (name it with --${what}-file)` : ""}`);
  if (statSync(file).isDirectory()) throw new CliError(`${file}: is a folder, expected the ${what} file`);
  return readTaskFile(task, file, { labelled: true, skipBadRows, encoding });
}

/** Resolve the task flags and read its files (errors name the file and line). */
export async function loadTaskData(v: Values): Promise<TaskData> {
  const skip = flag(v, "skip-bad-rows");
  const taskName = str(v, "task");
  const dataDir = str(v, "data-dir");
  const trainFile = str(v, "train-file");
  const devFile = str(v, "dev-file");
  const custom = str(v, "text-column") !== undefined || str(v, "task-dir") !== undefined || (taskName ?? "").startsWith("custom");
  let task: TaskSpec;
  let trainPath: string;
  let devPath: string;
  if (custom) {
    const textColumn = columnRef(str(v, "text-column"));
    const labelColumn = columnRef(str(v, "label-column"));
    if (textColumn === undefined || labelColumn === undefined) throw new CliError("a custom task needs --text-column and --label-column", 2);
    const taskDir = str(v, "task-dir") ?? (trainFile ? path.dirname(trainFile) : undefined);
    if (taskDir === undefined) throw new CliError("a custom task needs --task-dir, or --train-file and --dev-file", 2);
    const format = (str(v, "format") as FileFormat | undefined) ?? inferFormat(trainFile ?? (existsSync(path.join(taskDir, "train.csv")) ? "train.csv" : existsSync(path.join(taskDir, "train.jsonl")) ? "train.jsonl" : "train.tsv"));
    if (!["tsv", "csv", "jsonl"].includes(format)) throw new CliError(`--format must be tsv, csv or jsonl, got "${format}"`, 2);
    const regression = flag(v, "regression");
    const labels = list(v, "labels");
    if (!regression && labels === undefined) throw new CliError("a custom classification task needs --labels (the label values in id order), or pass --regression", 2);
    const pair = columnRef(str(v, "text-pair-column"));
    const name = str(v, "task-name") ?? (taskName?.startsWith("custom:") ? taskName.slice("custom:".length) : undefined);
    try {
      task = customTask({
        path: taskDir,
        format,
        textColumn,
        labelColumn,
        kind: regression ? "regression" : "classification",
        ...(pair !== undefined ? { textPairColumn: pair } : {}),
        ...(labels ? { labels } : {}),
        ...(name ? { name } : {}),
        ...(flag(v, "no-header") ? { header: false } : {}),
      });
    } catch (e) {
      throw new CliError((e as Error).message.replace(/^customTask: /, ""), 2);
    }
    trainPath = trainFile ? path.resolve(trainFile) : path.join(task.dir, task.train.file);
    devPath = devFile ? path.resolve(devFile) : path.join(task.dir, task.dev[0].file);
  } else {
    if (taskName === undefined) throw new CliError("missing --task (a GLUE or built-in task name, or a custom task's flags); see --help", 2);
    let glue: TaskSpec | undefined;
    try {
      glue = getTask(taskName);
    } catch {
      glue = undefined;
    }
    const builtinName = taskName.trim().toLowerCase().replace(/_/g, "-");
    const builtin = isBuiltinTaskName(builtinName) || builtinName === "sst-2" || builtinName === "sotu";
    if (dataDir === undefined && trainFile === undefined && builtin) {
      // INTEGRATION: built-in tasks (issue 5) ship their data in the package's data/ folder.
      const b = resolveBuiltinTask(taskName);
      if (!existsSync(b.taskDir)) throw new CliError(missingBuiltinData(b), 2);
      return {
        task: b.task,
        splits: async (seed) => {
          const s = await loadBuiltinSplits(b.name, seed);
          return { train: s.train, validation: s.validation, test: s.test, protocol: s.protocol === "fixed" ? "fixed" : "paper" };
        },
        source: b.taskDir,
        skipped: [],
      };
    }
    if (!glue) throw unknownTask(taskName);
    task = glue;
    if (dataDir === undefined && (trainFile === undefined || devFile === undefined)) {
      throw new CliError(`task ${task.name} needs --data-dir (the folder holding ${task.dir}/${task.train.file} and ${task.dir}/${task.dev[0].file}), or --train-file and --dev-file`, 2);
    }
    if (dataDir !== undefined && !existsSync(dataDir)) throw new CliError(`--data-dir ${dataDir}: folder not found`);
    trainPath = trainFile ? path.resolve(trainFile) : taskSplitPath(task, dataDir as string, task.train.name).path;
    devPath = devFile ? path.resolve(devFile) : taskSplitPath(task, dataDir as string, task.dev[0].name).path;
  }
  const encoding = encodingFromArgs(v);
  const train = await readLabelled(task, trainPath, skip, "train", encoding);
  const dev = await readLabelled(task, devPath, skip, "dev", encoding);
  const skipped = [train, dev].filter((r) => r.skipped > 0).map((r) => ({ file: r.file, count: r.skipped, messages: r.messages }));
  const data = { train: train.examples, dev: dev.examples };
  const t = task;
  return {
    task: t,
    splits: (seed: number): TaskSplits => {
      const s = makeSplits<Example>(t, data, seed);
      return { train: s.train, validation: s.validation, test: s.test, protocol: s.protocol };
    },
    source: path.dirname(trainPath),
    skipped,
    raw: data,
  };
}

/**
 * `--jit` / `--no-jit`: whether to compile with jit. Eager is the default: on propetl-mini and a
 * BERT-base-sized model jit measured 2.2-2.9x slower (bench/RESULTS.md).
 */
export function jitFromArgs(v: Values): boolean {
  if (flag(v, "jit") && flag(v, "no-jit")) throw new CliError("give --jit or --no-jit, not both", 2);
  return flag(v, "jit");
}
