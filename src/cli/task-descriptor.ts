/**
 * A custom task in `propetl train --tasks`: a folder with its split files and a
 * `propetl-task.json` that says what the single-task flags would say, so several custom tasks
 * (each with its own columns and labels) can be trained together. Listed by path
 * (`--tasks rte,./my-intents`). The file's keys are the flags' names in snake case:
 *
 *   classification / regression:  name, format, text_column, text_pair_column, label_column,
 *                                 labels (array of label names in id order) | regression (true),
 *                                 no_header, encoding
 *   text-to-text (T5):            name, format, source_column, target_column, prefix, metric
 *
 * `name` is required (it names the task in the checkpoint: letters, digits, "-", "_", "." ); the
 * files are the folder's, found as the single-task `--task-dir` finds them. The descriptor
 * becomes the flags of that task (`values`), so every check and message of the single-task
 * path applies. Unknown keys and wrong types are errors naming the file and the key.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { checkJsonDepth } from "../io/json-depth.js";
import { CliError } from "./args.js";
import type { Values } from "./args.js";

export const TASK_DESCRIPTOR_FILE = "propetl-task.json";

export type DescriptorKind = "classification" | "text-to-text";

export interface TaskDescriptor {
  name: string;
  kind: DescriptorKind;
  /** The single-task flags this task stands for (with `task-dir`). */
  values: Values;
  file: string;
}

type KeyType = "string" | "boolean" | "labels";
/** descriptor key → [flag, type]. */
const CLASSIFICATION_KEYS: Readonly<Record<string, readonly [string, KeyType]>> = {
  format: ["format", "string"],
  text_column: ["text-column", "string"],
  text_pair_column: ["text-pair-column", "string"],
  label_column: ["label-column", "string"],
  labels: ["labels", "labels"],
  regression: ["regression", "boolean"],
  no_header: ["no-header", "boolean"],
  encoding: ["encoding", "string"],
};
const SEQ2SEQ_KEYS: Readonly<Record<string, readonly [string, KeyType]>> = {
  format: ["format", "string"],
  source_column: ["source-column", "string"],
  target_column: ["target-column", "string"],
  prefix: ["prefix", "string"],
  metric: ["metric", "string"],
};
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Whether a `--tasks` entry names a folder with a task descriptor. */
export function isTaskDescriptorRef(entry: string): boolean {
  const file = path.join(entry, TASK_DESCRIPTOR_FILE);
  return existsSync(file) && statSync(file).isFile();
}

/** Read and check `<dir>/propetl-task.json` (see the file comment). */
export function readTaskDescriptor(dir: string): TaskDescriptor {
  const file = path.join(dir, TASK_DESCRIPTOR_FILE);
  const fail = (msg: string): never => {
    throw new CliError(`${file}: ${msg}`, 2);
  };
  let json: unknown;
  try {
    const text = readFileSync(file, "utf8");
    checkJsonDepth(text, file);
    json = JSON.parse(text);
  } catch (e) {
    if (e instanceof CliError) throw e;
    return fail(`not a readable JSON file (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail("expected a JSON object");
  const obj = json as Record<string, unknown>;
  const name = obj.name;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) return fail(`"name" must be a task name of letters, digits, ".", "-" and "_" (it names the task in the checkpoint), got ${JSON.stringify(name)}`);
  const seq2seq = "source_column" in obj || "target_column" in obj;
  const keys = seq2seq ? SEQ2SEQ_KEYS : CLASSIFICATION_KEYS;
  const values: Values = { "task-dir": path.resolve(dir), "task-name": name };
  for (const [key, value] of Object.entries(obj)) {
    if (key === "name") continue;
    const spec = keys[key];
    if (!spec) {
      const other = seq2seq ? CLASSIFICATION_KEYS : SEQ2SEQ_KEYS;
      return fail(`unknown key "${key}"${key in other ? ` for a ${seq2seq ? "text-to-text" : "classification"} task (source_column/target_column make it text-to-text)` : ""}; known keys: name, ${Object.keys(keys).join(", ")}`);
    }
    const [flagName, type] = spec;
    if (type === "string") {
      if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value) && key.endsWith("_column"))) return fail(`"${key}" must be a string${key.endsWith("_column") ? " (a column name) or a column index" : ""}, got ${JSON.stringify(value)}`);
      values[flagName] = String(value);
    } else if (type === "boolean") {
      if (typeof value !== "boolean") return fail(`"${key}" must be true or false, got ${JSON.stringify(value)}`);
      if (value) values[flagName] = true;
    } else {
      if (!Array.isArray(value) || value.length < 2 || !value.every((l) => typeof l === "string" && l.trim() !== "")) return fail(`"labels" must be an array of two or more label names in id order, got ${JSON.stringify(value)}`);
      const labels = value as string[];
      const comma = labels.find((l) => l.includes(","));
      if (comma !== undefined) return fail(`label ${JSON.stringify(comma)} contains a comma, which label lists cannot hold`);
      values[flagName] = labels.join(",");
    }
  }
  if (seq2seq) {
    if (values["source-column"] === undefined || values["target-column"] === undefined) return fail(`a text-to-text task needs both "source_column" and "target_column"`);
  } else {
    if (values["text-column"] === undefined || values["label-column"] === undefined) return fail(`a classification task needs "text_column" and "label_column" (and "labels", or "regression": true)`);
    if (values.labels === undefined && values.regression !== true) return fail(`give "labels" (the label names in id order) or "regression": true`);
    if (values.labels !== undefined && values.regression === true) return fail(`give "labels" or "regression": true, not both`);
  }
  return { name, kind: seq2seq ? "text-to-text" : "classification", values, file };
}
