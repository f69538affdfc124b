/**
 * Text-to-text (seq2seq) tasks for T5: translation and summarization data as
 * (source, target) pairs, the task prefix put before each source, and the
 * metric each task is scored with.
 *
 * Built-in (shipped in the package's `data/`, no download):
 *
 * | name | data | splits (train / validation / test) | prefix | metric |
 * |---|---|---|---|---|
 * | `bible-es-en` | data/bible-es-en/ (Reina-Valera 1909 → World English Bible verses, public domain) | by book: 29810 / 190 / 577 | `translate Spanish to English: ` | bleu |
 *
 * Custom tasks read files in one of three formats (`Seq2SeqFormat`):
 *
 * - `jsonl`: one JSON object per line; the source and target are string
 *   fields (default `source` / `target`; XSum-style summarization:
 *   `document` / `summary`, see `summarizationTask`), the id an optional
 *   string or number field (default `id`).
 * - `hf-translation`: Hugging Face translation JSONL, one
 *   `{"translation": {"es": "…", "en": "…"}}` per line; `sourceLang` and
 *   `targetLang` pick the two texts.
 * - `tsv`: a header row naming the columns, then one example per line,
 *   split on every tab (no quoting, as GLUE's TSV files); columns by name
 *   (default `source` / `target`, id column optional).
 *
 * Conventions (as `read-examples.ts`): files are UTF-8, decoded strictly
 * (invalid bytes are an error naming the line); a byte-order mark is
 * ignored; lines end in "\n" with an optional "\r"; completely empty lines
 * are skipped. Texts are kept verbatim; an empty or whitespace-only source or
 * target is an error. Line errors throw a `DataFormatError` such as
 * `data/x/train.jsonl:17: field "target" is missing`; a missing file throws
 * naming its path. An example without an id gets `<split>-<line>`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { builtinDataDir } from "./builtin-tasks.js";
import { DataFormatError } from "./read-examples.js";
import { splitTextLines, TextDecodeError } from "../io/text-lines.js";
import { checkJsonDepth } from "../io/json-depth.js";

/** One (source, target) pair. */
export interface Seq2SeqExample {
  /** From the file's id field/column, else `<split>-<line>` (e.g. "train-17"). */
  id: string;
  /** The input text (without the task prefix). */
  source: string;
  /** The reference output text. */
  target: string;
}

/** How a text-to-text task is scored: corpus BLEU (translation) or ROUGE-2 F (summarization). */
export type Seq2SeqMetric = "bleu" | "rouge2";

/** A split of a text-to-text task. */
export type Seq2SeqSplit = "train" | "validation" | "test";

/** The layout of a task's files. */
export type Seq2SeqFormat =
  | {
      /** One JSON object per line with source and target fields. */
      kind: "jsonl";
      /** Field holding the source text (default "source"). */
      sourceField?: string;
      /** Field holding the target text (default "target"). */
      targetField?: string;
      /** Optional id field, a string or a number (default "id"; absent → `<split>-<line>`). */
      idField?: string;
    }
  | {
      /** One JSON object per line as Hugging Face translation datasets: `{"translation": {"es": ..., "en": ...}}`. */
      kind: "hf-translation";
      /** Language code of the source inside `translation`, e.g. "es". */
      sourceLang: string;
      /** Language code of the target inside `translation`, e.g. "en". */
      targetLang: string;
      /** Optional id field at the top level (default "id"). */
      idField?: string;
    }
  | {
      /** Tab-separated values with a header. */
      kind: "tsv";
      /** Header name of the source column (default "source"). */
      sourceColumn?: string;
      /** Header name of the target column (default "target"). */
      targetColumn?: string;
      /** Optional id column (default "id"; used when the header has it). */
      idColumn?: string;
    };

/** A text-to-text task: where its splits are, how to read them, how to prompt and score it. */
export interface Seq2SeqTask {
  /** Task name, used in messages and as the checkpoint's task. */
  name: string;
  /** Put before every source text for the model (T5 style), e.g. "translate Spanish to English: ". */
  prefix: string;
  /** How the task is scored. */
  metric: Seq2SeqMetric;
  /** How its files are laid out. */
  format: Seq2SeqFormat;
  /**
   * The split files, absolute or relative to `dir`. `train` and `validation`
   * are required; without `test` the loader returns no test examples.
   */
  files: {
    /** File of the training pairs. */
    train: string;
    /** File of the validation pairs (model selection). */
    validation: string;
    /** File of the test pairs (the reported score). */
    test?: string;
  };
  /** Folder the relative `files` are in (default: the working directory). */
  dir?: string;
  /** One line on what the task is. */
  description?: string;
  /** Origin and terms of the data, when known. */
  source?: string;
}

/** Names of the built-in text-to-text tasks (`SEQ2SEQ_BUILTINS`). */
export type Seq2SeqBuiltinName = "bible-es-en";

/** The built-in tasks; their `dir` is relative to the package's data folder. */
export const SEQ2SEQ_BUILTINS: Readonly<Record<Seq2SeqBuiltinName, Seq2SeqTask>> = {
  "bible-es-en": {
    name: "bible-es-en",
    prefix: "translate Spanish to English: ",
    metric: "bleu",
    format: { kind: "jsonl" },
    files: { train: "train.jsonl", validation: "validation.jsonl", test: "test.jsonl" },
    dir: "bible-es-en",
    description: "Bible verses, Spanish (Reina-Valera 1909) to English (World English Bible), split by book",
    source: "Debian sword-text-sparv 2.60-1 and sword-text-web 426.0-1 (SWORD modules spaRV1909eb, engWEB2015eb); both public domain, \"World English Bible\" is a trademark of eBible.org (see data/bible-es-en/README.md)",
  },
};

/** Names of the built-in text-to-text tasks. */
export function seq2seqBuiltinNames(): Seq2SeqBuiltinName[] {
  return Object.keys(SEQ2SEQ_BUILTINS) as Seq2SeqBuiltinName[];
}

/** Whether `name` is a built-in text-to-text task's name. */
export function isSeq2SeqBuiltinName(name: string): name is Seq2SeqBuiltinName {
  return Object.prototype.hasOwnProperty.call(SEQ2SEQ_BUILTINS, name);
}

/** Options of `summarizationTask`. */
export interface SummarizationTaskOptions {
  /** Task name. */
  name: string;
  /** The split files, as `Seq2SeqTask.files`. */
  files: Seq2SeqTask["files"];
  /** Folder the relative `files` are in (default: the working directory). */
  dir?: string;
  /** Field of the text to summarize (default "document", as XSum). */
  documentField?: string;
  /** Field of the reference summary (default "summary", as XSum). */
  summaryField?: string;
  /** Default "summarize: " (T5's prefix). */
  prefix?: string;
  /** One line on what the task is. */
  description?: string;
}

/** An XSum-style summarization task: JSONL with `document` / `summary` fields, scored by ROUGE-2. */
export function summarizationTask(options: SummarizationTaskOptions): Seq2SeqTask {
  return {
    name: options.name,
    prefix: options.prefix ?? "summarize: ",
    metric: "rouge2",
    format: { kind: "jsonl", sourceField: options.documentField ?? "document", targetField: options.summaryField ?? "summary" },
    files: options.files,
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
}

/** The model input of an example: the task prefix then the source. */
export function seq2seqInput(task: Seq2SeqTask, example: Seq2SeqExample): string {
  return task.prefix + example.source;
}

/** Options of `loadSeq2SeqTask`. */
export interface LoadSeq2SeqOptions {
  /** Folder that holds the built-in tasks' folders (default: the package's `data/`). */
  dataDir?: string;
}

/** A task with its three splits read. */
export interface Seq2SeqTaskData {
  /** The task, with `dir` made absolute. */
  task: Seq2SeqTask;
  /** Training pairs. */
  train: Seq2SeqExample[];
  /** Validation pairs. */
  validation: Seq2SeqExample[];
  /** Empty when the task has no test file. */
  test: Seq2SeqExample[];
}

/**
 * A text-to-text task and its splits: a built-in name (`SEQ2SEQ_BUILTINS`)
 * or a `Seq2SeqTask` describing files. Synchronous. Throws on an unknown
 * name (listing the known ones), a missing file (naming its path) and any
 * bad line (`DataFormatError` naming file:line and the field).
 */
export function loadSeq2SeqTask(nameOrTask: string | Seq2SeqTask, options: LoadSeq2SeqOptions = {}): Seq2SeqTaskData {
  let task: Seq2SeqTask;
  if (typeof nameOrTask === "string") {
    if (!isSeq2SeqBuiltinName(nameOrTask)) {
      throw new Error(`unknown text-to-text task "${nameOrTask}" (built-in: ${seq2seqBuiltinNames().join(", ")}; or pass a Seq2SeqTask describing files)`);
    }
    const builtin = SEQ2SEQ_BUILTINS[nameOrTask];
    task = { ...builtin, dir: join(options.dataDir ?? builtinDataDir(), builtin.dir ?? builtin.name) };
  } else {
    task = nameOrTask;
  }
  validateTask(task);
  const read = (split: Seq2SeqSplit, file: string): Seq2SeqExample[] => readSeq2SeqFile(resolveFile(task, file), task.format, split, `${split} split of task "${task.name}"`);
  return {
    task,
    train: read("train", task.files.train),
    validation: read("validation", task.files.validation),
    test: task.files.test === undefined ? [] : read("test", task.files.test),
  };
}

function validateTask(task: Seq2SeqTask): void {
  if (typeof task.name !== "string" || task.name === "") throw new Error("Seq2SeqTask: name must be a non-empty string");
  if (typeof task.prefix !== "string") throw new Error(`Seq2SeqTask "${task.name}": prefix must be a string (may be "")`);
  if (task.metric !== "bleu" && task.metric !== "rouge2") throw new Error(`Seq2SeqTask "${task.name}": metric must be "bleu" or "rouge2", got ${JSON.stringify(task.metric)}`);
  const kinds = ["jsonl", "hf-translation", "tsv"];
  if (!kinds.includes(task.format?.kind)) throw new Error(`Seq2SeqTask "${task.name}": format.kind must be one of ${kinds.join(", ")}, got ${JSON.stringify(task.format?.kind)}`);
  if (task.format.kind === "hf-translation") {
    for (const key of ["sourceLang", "targetLang"] as const) {
      if (typeof task.format[key] !== "string" || task.format[key] === "") throw new Error(`Seq2SeqTask "${task.name}": format.${key} must be a language code such as "es"`);
    }
  }
  for (const split of ["train", "validation"] as const) {
    if (typeof task.files?.[split] !== "string" || task.files[split] === "") throw new Error(`Seq2SeqTask "${task.name}": files.${split} must be a file path`);
  }
}

function resolveFile(task: Seq2SeqTask, file: string): string {
  return isAbsolute(file) || task.dir === undefined ? file : join(task.dir, file);
}

/**
 * The lines of a UTF-8 file with their 1-based numbers, completely empty
 * lines left out; strict decoding (an invalid byte is an error naming the
 * line), BOM ignored, "\r\n" accepted.
 */
function readUtf8Lines(file: string, what: string): { line: number; text: string }[] {
  if (!existsSync(file)) throw new Error(`${file}: file not found (${what})`);
  if (statSync(file).isDirectory()) throw new Error(`${file}: is a folder, expected a file (${what})`);
  let lines: string[];
  try {
    lines = splitTextLines(readFileSync(file), file);
  } catch (e) {
    if (e instanceof TextDecodeError) throw new DataFormatError(file, e.line, "invalid UTF-8");
    throw e;
  }
  const out: { line: number; text: string }[] = [];
  lines.forEach((text, i) => {
    if (text !== "") out.push({ line: i + 1, text });
  });
  return out;
}

function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** A required non-empty text field of a JSON object. */
function textField(obj: Record<string, unknown>, key: string, shown: string, file: string, line: number): string {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new DataFormatError(file, line, `field "${shown}" is missing`);
  const v = obj[key];
  if (typeof v !== "string") throw new DataFormatError(file, line, `field "${shown}" is ${describeJson(v)}, expected a string`);
  if (v.trim() === "") throw new DataFormatError(file, line, `field "${shown}" is empty`);
  return v;
}

function idOf(obj: Record<string, unknown>, key: string, file: string, line: number, fallback: string): string {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) return fallback;
  const v = obj[key];
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new DataFormatError(file, line, `field "${key}" is ${describeJson(v)}, expected a non-empty string or a number`);
}

function parseJsonObject(text: string, file: string, line: number): Record<string, unknown> {
  let v: unknown;
  try {
    checkJsonDepth(text, `${file}:${line}`);
    v = JSON.parse(text);
  } catch (e) {
    throw new DataFormatError(file, line, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new DataFormatError(file, line, `expected a JSON object, got ${describeJson(v)}`);
  return v as Record<string, unknown>;
}

/**
 * The examples of one file in a given format. `split` names the examples
 * that have no id (`<split>-<line>`); `what` goes into the not-found message.
 */
export function readSeq2SeqFile(file: string, format: Seq2SeqFormat, split: string, what = `${split} split`): Seq2SeqExample[] {
  const lines = readUtf8Lines(file, what);
  const out: Seq2SeqExample[] = [];
  switch (format.kind) {
    case "jsonl": {
      const src = format.sourceField ?? "source";
      const tgt = format.targetField ?? "target";
      const idKey = format.idField ?? "id";
      for (const { line, text } of lines) {
        const obj = parseJsonObject(text, file, line);
        out.push({ id: idOf(obj, idKey, file, line, `${split}-${line}`), source: textField(obj, src, src, file, line), target: textField(obj, tgt, tgt, file, line) });
      }
      break;
    }
    case "hf-translation": {
      const idKey = format.idField ?? "id";
      for (const { line, text } of lines) {
        const obj = parseJsonObject(text, file, line);
        if (!Object.prototype.hasOwnProperty.call(obj, "translation")) throw new DataFormatError(file, line, 'field "translation" is missing');
        const tr = obj.translation;
        if (tr === null || typeof tr !== "object" || Array.isArray(tr)) throw new DataFormatError(file, line, `field "translation" is ${describeJson(tr)}, expected an object of language code → text`);
        const langs = tr as Record<string, unknown>;
        out.push({
          id: idOf(obj, idKey, file, line, `${split}-${line}`),
          source: textField(langs, format.sourceLang, `translation.${format.sourceLang}`, file, line),
          target: textField(langs, format.targetLang, `translation.${format.targetLang}`, file, line),
        });
      }
      break;
    }
    case "tsv": {
      const src = format.sourceColumn ?? "source";
      const tgt = format.targetColumn ?? "target";
      const idName = format.idColumn ?? "id";
      const header = lines[0];
      if (header === undefined) throw new DataFormatError(file, 1, "file is empty (expected a header row naming the columns)");
      const names = header.text.split("\t");
      const col = (name: string): number => {
        const i = names.indexOf(name);
        if (i < 0) throw new DataFormatError(file, header.line, `header has no column "${name}" (columns: ${names.join(", ")})`);
        return i;
      };
      const si = col(src);
      const ti = col(tgt);
      const ii = names.indexOf(idName);
      for (const { line, text } of lines.slice(1)) {
        const cells = text.split("\t");
        if (cells.length !== names.length) throw new DataFormatError(file, line, `expected ${names.length} tab-separated columns (${names.join(", ")}), found ${cells.length}`);
        const cell = (i: number, name: string): string => {
          const v = cells[i] as string;
          if (v.trim() === "") throw new DataFormatError(file, line, `column "${name}" is empty`);
          return v;
        };
        out.push({ id: ii >= 0 ? cell(ii, idName) : `${split}-${line}`, source: cell(si, src), target: cell(ti, tgt) });
      }
      break;
    }
  }
  return out;
}
