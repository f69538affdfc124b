/**
 * Reading task files on Node: whole files (`readExamplesSync`), streams (`readExamples`), a
 * task's split files (`readTaskFile`, `readTaskSplit`); strict UTF-8 unless the encoding is
 * Latin-1. The parsing itself (formats, row validation, `DataFormatError`) is parse-examples.ts,
 * re-exported here.
 */
import { createReadStream, readFileSync } from "node:fs";
import { splitTextLines, streamTextLines, TextDecodeError } from "../io/text-lines.js";
import type { TextLinesOptions } from "../io/text-lines.js";
import { basename, dirname, resolve } from "node:path";
import type { TaskSpec } from "./tasks.js";
import { DataFormatError, exampleParser, schemaOf } from "./parse-examples.js";
import type { ReadOptions, ReadResult, RowSchema } from "./parse-examples.js";

export { DataFormatError, parseExamples, schemaOf } from "./parse-examples.js";
export type { Example, ReadOptions, ReadResult, RowSchema } from "./parse-examples.js";

/** Default display name: the last two path components ("RTE/dev.tsv"). */
export function displayNameOf(file: string): string {
  const parent = basename(dirname(resolve(file)));
  return parent ? `${parent}/${basename(file)}` : basename(file);
}

/** Read a whole file synchronously (fine up to a few hundred MB); strict UTF-8 unless `options.encoding` is "latin1". */
export function readExamplesSync(file: string, schema: RowSchema, options: ReadOptions = {}): ReadResult {
  const name = options.displayName ?? displayNameOf(file);
  const { collector, parser } = exampleParser(schema, file, { ...options, displayName: name });
  for (const line of decodeLines(() => splitTextLines(readFileSync(file), name, textOptions(options)))) parser.line(line);
  parser.end();
  return collector.result();
}

function textOptions(options: ReadOptions): TextLinesOptions {
  return options.encoding ? { encoding: options.encoding } : {};
}

/** Run a decoding step, turning an encoding error into the readers' DataFormatError. */
function decodeLines<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TextDecodeError) throw new DataFormatError(e.file, e.line, "invalid UTF-8; if the file is Latin-1 (ISO-8859-1), pass --encoding latin1");
    throw e;
  }
}

/** Read a file as a stream (constant memory besides the examples; use for MNLI/QQP); strict UTF-8 unless `options.encoding` is "latin1". */
export async function readExamples(file: string, schema: RowSchema, options: ReadOptions = {}): Promise<ReadResult> {
  const name = options.displayName ?? displayNameOf(file);
  const { collector, parser } = exampleParser(schema, file, { ...options, displayName: name });
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const line of streamTextLines(stream as AsyncIterable<Uint8Array>, name, textOptions(options))) parser.line(line);
  } catch (e) {
    stream.destroy();
    return decodeLines(() => {
      throw e;
    });
  }
  parser.end();
  return collector.result();
}

/** Read one file with a task's layout (`labelled: false` uses the task's test layout). */
export function readTaskFile(task: TaskSpec, file: string, options: ReadOptions = {}): Promise<ReadResult> {
  return readExamples(file, schemaOf(task, options.labelled ?? true), options);
}

/** Synchronous `readTaskFile`. */
export function readTaskFileSync(task: TaskSpec, file: string, options: ReadOptions = {}): ReadResult {
  return readExamplesSync(file, schemaOf(task, options.labelled ?? true), options);
}

/**
 * Path of a task split: "train", a dev split name ("dev", "dev_matched",
 * "dev_mismatched") or a test split name ("test", "test_matched", ...),
 * under `dataDir/<task.dir>/` (custom tasks: their own directory).
 */
export function taskSplitPath(task: TaskSpec, dataDir: string, split: string): {
  /** Absolute path of the split's file. */
  path: string;
  /** Whether the file has labels (train and dev files; not GLUE's test files). */
  labelled: boolean;
} {
  if (split === task.train.name) return { path: resolve(dataDir, task.dir, task.train.file), labelled: true };
  const dev = task.dev.find((d) => d.name === split);
  if (dev) return { path: resolve(dataDir, task.dir, dev.file), labelled: true };
  const test = task.test.find((d) => d.name === split);
  if (test) return { path: resolve(dataDir, task.dir, test.file), labelled: false };
  const known = [task.train.name, ...task.dev.map((d) => d.name), ...task.test.map((d) => d.name)];
  throw new Error(`task ${task.name}: unknown split "${split}" (known: ${known.join(", ")})`);
}

/** Read a named split of a task from a GLUE-style data directory (test splits are read unlabelled). */
export function readTaskSplit(task: TaskSpec, dataDir: string, split: string, options: ReadOptions = {}): Promise<ReadResult> {
  const { path, labelled } = taskSplitPath(task, dataDir, split);
  return readTaskFile(task, path, { labelled, ...options });
}
