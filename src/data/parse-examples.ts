/**
 * Parsing task files, platform-free (the browser build has it): TSV (GLUE layout, quoting off),
 * CSV (RFC 4180 quoting) and JSONL, with per-row validation. The file readers (Node) are
 * read-examples.ts.
 *
 * Conventions
 * - Line numbers are 1-based physical lines of the file (a CSV record that
 *   spans several lines carries the line it starts on). Lines end in "\n";
 *   a trailing "\r" is dropped ("\r\n" files), and a missing final newline
 *   (GLUE's CoLA dev.tsv) is fine. A UTF-8 byte-order mark is ignored.
 * - Completely empty lines are skipped silently (like Python's csv.DictReader).
 * - TSV is split on every "\t" with no quote handling: GLUE files contain
 *   stray double quotes that are part of the text.
 * - Text fields are kept verbatim (no trimming); a text that is empty or
 *   whitespace-only is an error. Label fields are trimmed before lookup.
 * - Every row must have exactly the header's column count (header-less
 *   files: the layout's `columns` count, else the first row's count).
 * - Unlabelled rows (`labelled: false`) get label -1, as HF datasets does.
 *
 * Row errors (wrong column count, unknown label, empty text, unparsable
 * regression score, malformed CSV/JSON row) throw a DataFormatError like
 * `RTE/dev.tsv:17: expected 4 columns (index, sentence1, sentence2, label), found 3`
 * unless `skipBadRows` is set, in which case the row is skipped and counted.
 * File-level problems (missing header column, unreadable file) always throw.
 */
import type { TextEncoding } from "../io/text-lines.js";
import type { ColumnRef, FileLayout, TaskKind, TaskSpec } from "./tasks.js";
import { checkJsonDepth } from "../io/json-depth.js";

/** One labelled (or unlabelled) example read from a task file. */
export interface Example {
  /** The (first) input text. */
  text: string;
  /** The second text of a sentence-pair task; absent for single-text tasks. */
  textPair?: string;
  /** Class index, regression score, or -1 for unlabelled rows. */
  label: number;
  /** Task name (TaskSpec.name) when read through a task. */
  task?: string;
  /** 1-based line of the file where the row starts. */
  line: number;
}

/** What a reader needs to turn rows into examples. A TaskSpec's fields fit (see `schemaOf`). */
export interface RowSchema {
  /** Where text and label columns are, and the file format. */
  layout: FileLayout;
  /** Classification (labels are class names) or regression (labels are numbers). */
  kind: TaskKind;
  /** Label names in id order (classification). */
  labels: readonly string[];
  /** Copied into Example.task. */
  task?: string;
}

/** Options of the example readers (`readTaskFile`, `readExamples`, ...). */
export interface ReadOptions {
  /** Default true. false: no label column is read; labels are -1. */
  labelled?: boolean;
  /** Default false: the first bad row throws. true: bad rows are skipped and counted. */
  skipBadRows?: boolean;
  /** How many skip messages to keep (default 5). */
  maxMessages?: number;
  /** File name used in messages (default: "<parent dir>/<file name>", e.g. "RTE/dev.tsv"). */
  displayName?: string;
  /** The files' encoding: strict UTF-8 (default) or Latin-1. */
  encoding?: TextEncoding;
}

/** What a reader returns: the examples, and what it skipped. */
export interface ReadResult {
  /** The examples, in file order. */
  examples: Example[];
  /** Number of rows skipped because of errors (always 0 without skipBadRows). */
  skipped: number;
  /** The first `maxMessages` skip messages, each "file:line: problem". */
  messages: string[];
  /** The file name used in messages. */
  file: string;
  /** Header fields (TSV/CSV with header), else undefined. */
  header?: string[];
}

/** An error in a data file, located by file and 1-based line. */
export class DataFormatError extends Error {
  /** File name as messages show it. */
  readonly file: string;
  /** 1-based line of the row at fault. */
  readonly line: number;
  /** What is wrong, without the location. */
  readonly problem: string;
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = "DataFormatError";
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** The schema of a task's labelled files (`labelled: true`) or its test files (`false`). */
export function schemaOf(task: TaskSpec, labelled = true): RowSchema {
  return { layout: labelled ? task.layout : task.testLayout, kind: task.kind, labels: task.labels, task: task.name };
}

// ---------------------------------------------------------------------------
// Row handling shared by the sync and streaming readers.

interface Resolved {
  text: number;
  textPair?: number;
  label?: number;
  /** Required field count. */
  count: number;
}

/** Plain decimal numbers only ("3.8", "-1", ".5", "2e-3"); no hex, "Infinity" or "NaN". */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

class ExampleCollector {
  readonly examples: Example[] = [];
  readonly messages: string[] = [];
  skipped = 0;
  header: string[] | undefined;
  private resolved: Resolved | undefined;
  private readonly labelled: boolean;
  private readonly skip: boolean;
  private readonly maxMessages: number;
  private readonly labelIndex = new Map<string, number>();

  constructor(
    private readonly schema: RowSchema,
    readonly file: string,
    opts: ReadOptions,
  ) {
    this.labelled = opts.labelled ?? true;
    this.skip = opts.skipBadRows ?? false;
    this.maxMessages = opts.maxMessages ?? 5;
    schema.labels.forEach((l, i) => this.labelIndex.set(l, i));
    if (this.labelled && schema.layout.labelColumn === undefined) {
      throw new Error(`${file}: the layout has no label column; read it with labelled: false`);
    }
    if (this.labelled && schema.kind === "classification" && schema.labels.length === 0) {
      throw new Error(`${file}: classification schema without label names`);
    }
  }

  /** Record a row-level problem: throw, or count and skip. */
  bad(line: number, problem: string): void {
    if (!this.skip) throw new DataFormatError(this.file, line, problem);
    this.skipped++;
    if (this.messages.length < this.maxMessages) this.messages.push(`${this.file}:${line}: ${problem}`);
  }

  private columnName(ref: ColumnRef, index: number): string {
    if (typeof ref === "string") return ref;
    const names = this.header ?? this.schema.layout.columns;
    return names?.[index] ?? `#${index}`;
  }

  private resolveRef(ref: ColumnRef, line: number, what: string): number {
    const names = this.header ?? this.schema.layout.columns;
    if (typeof ref === "number") {
      if (!Number.isInteger(ref) || ref < 0) throw new DataFormatError(this.file, line, `${what} column index ${ref} is not a non-negative integer`);
      return ref;
    }
    const i = names?.indexOf(ref) ?? -1;
    if (i < 0) {
      const where = this.header ? "header" : "layout columns";
      throw new DataFormatError(this.file, line, `${where} has no column "${ref}" needed for the ${what} (columns: ${(names ?? []).join(", ")})`);
    }
    return i;
  }

  /** Header line (TSV/CSV with header). */
  setHeader(fields: string[], line: number): void {
    this.header = fields.map((f) => f.trim());
    this.resolve(line, this.header.length);
  }

  private resolve(line: number, count: number): void {
    const l = this.schema.layout;
    const r: Resolved = { text: this.resolveRef(l.textColumn, line, "text"), count };
    if (l.textPairColumn !== undefined) r.textPair = this.resolveRef(l.textPairColumn, line, "text pair");
    if (this.labelled && l.labelColumn !== undefined) r.label = this.resolveRef(l.labelColumn, line, "label");
    const maxRef = Math.max(r.text, r.textPair ?? 0, r.label ?? 0);
    if (maxRef >= count) {
      throw new DataFormatError(this.file, line, `column index ${maxRef} is out of range for ${count} columns`);
    }
    this.resolved = r;
  }

  private describeColumns(count: number): string {
    const names = this.header ?? this.schema.layout.columns;
    return names && names.length === count ? ` (${names.join(", ")})` : "";
  }

  /** A delimited data row. */
  fields(fields: string[], line: number): void {
    if (this.resolved === undefined) {
      // Header-less: the layout's column count, else the first row's.
      this.resolve(line, this.schema.layout.columns?.length ?? fields.length);
    }
    const r = this.resolved as Resolved;
    if (fields.length !== r.count) {
      this.bad(line, `expected ${r.count} columns${this.describeColumns(r.count)}, found ${fields.length}`);
      return;
    }
    const l = this.schema.layout;
    const text = fields[r.text];
    if (text.trim() === "") return this.bad(line, `empty text in column "${this.columnName(l.textColumn, r.text)}"`);
    let textPair: string | undefined;
    if (r.textPair !== undefined && l.textPairColumn !== undefined) {
      textPair = fields[r.textPair];
      if (textPair.trim() === "") return this.bad(line, `empty text in column "${this.columnName(l.textPairColumn, r.textPair)}"`);
    }
    let label = -1;
    if (r.label !== undefined && l.labelColumn !== undefined) {
      const parsed = this.parseLabel(fields[r.label], this.columnName(l.labelColumn, r.label));
      if (typeof parsed === "string") return this.bad(line, parsed);
      label = parsed;
    }
    this.push(text, textPair, label, line);
  }

  /** A parsed JSONL value. */
  object(value: unknown, line: number): void {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return this.bad(line, `expected a JSON object, found ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`);
    }
    const obj = value as Record<string, unknown>;
    const l = this.schema.layout;
    const getText = (ref: ColumnRef): string | { error: string } => {
      const key = String(ref);
      if (!Object.hasOwn(obj, key)) return { error: `missing key "${key}"` };
      const v = obj[key];
      if (typeof v !== "string") return { error: `key "${key}" must be a string, found ${v === null ? "null" : typeof v}` };
      if (v.trim() === "") return { error: `empty text in column "${key}"` };
      return v;
    };
    const text = getText(l.textColumn);
    if (typeof text !== "string") return this.bad(line, text.error);
    let textPair: string | undefined;
    if (l.textPairColumn !== undefined) {
      const tp = getText(l.textPairColumn);
      if (typeof tp !== "string") return this.bad(line, tp.error);
      textPair = tp;
    }
    let label = -1;
    if (this.labelled && l.labelColumn !== undefined) {
      const key = String(l.labelColumn);
      if (!Object.hasOwn(obj, key)) return this.bad(line, `missing key "${key}"`);
      const v = obj[key];
      let raw: string;
      if (typeof v === "string") raw = v;
      else if (typeof v === "number" || typeof v === "boolean") raw = String(v);
      else return this.bad(line, `key "${key}" must be a string or number, found ${v === null ? "null" : typeof v}`);
      const parsed = this.parseLabel(raw, key);
      if (typeof parsed === "string") return this.bad(line, parsed);
      label = parsed;
    }
    this.push(text, textPair, label, line);
  }

  /** Returns the numeric label, or an error message. */
  private parseLabel(rawField: string, column: string): number | string {
    const raw = rawField.trim();
    if (this.schema.kind === "regression") {
      const v = DECIMAL.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(v)) return `cannot parse regression score "${rawField}" in column "${column}"`;
      return v;
    }
    const id = this.labelIndex.get(raw);
    if (id === undefined) {
      return `unknown label "${rawField}" in column "${column}" (known labels: ${this.schema.labels.join(", ")})`;
    }
    return id;
  }

  private push(text: string, textPair: string | undefined, label: number, line: number): void {
    const ex: Example = { text, label, line };
    if (textPair !== undefined) ex.textPair = textPair;
    if (this.schema.task !== undefined) ex.task = this.schema.task;
    this.examples.push(ex);
  }

  result(): ReadResult {
    const r: ReadResult = { examples: this.examples, skipped: this.skipped, messages: this.messages, file: this.file };
    if (this.header !== undefined) r.header = this.header;
    return r;
  }
}

/** Splits physical lines into rows according to the format. */
class LineParser {
  private lineNo = 0;
  private headerPending: boolean;
  // CSV state for records spanning lines
  private csvFields: string[] = [];
  private csvField = "";
  private csvInQuotes = false;
  private csvStart = 0;

  constructor(
    private readonly format: FileLayout["format"],
    header: boolean,
    private readonly out: ExampleCollector,
  ) {
    this.headerPending = format !== "jsonl" && header;
  }

  /** One physical line without its "\n". */
  line(raw: string): void {
    this.lineNo++;
    let s = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (this.lineNo === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    switch (this.format) {
      case "tsv":
        if (s === "") return;
        this.emitFields(s.split("\t"), this.lineNo);
        return;
      case "jsonl": {
        if (s.trim() === "") return;
        let value: unknown;
        try {
          checkJsonDepth(s, "this line");
          value = JSON.parse(s);
        } catch (e) {
          this.out.bad(this.lineNo, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        this.out.object(value, this.lineNo);
        return;
      }
      case "csv":
        this.csvLine(s);
        return;
    }
  }

  private emitFields(fields: string[], line: number): void {
    if (this.headerPending) {
      this.headerPending = false;
      this.out.setHeader(fields, line);
      return;
    }
    this.out.fields(fields, line);
  }

  private csvLine(s: string): void {
    if (!this.csvInQuotes) {
      if (s === "") return;
      this.csvStart = this.lineNo;
      this.csvFields = [];
      this.csvField = "";
    } else {
      this.csvField += "\n"; // newline inside a quoted field
    }
    let i = 0;
    const n = s.length;
    while (i < n) {
      const c = s[i];
      if (this.csvInQuotes) {
        if (c === '"') {
          if (s[i + 1] === '"') {
            this.csvField += '"';
            i += 2;
            continue;
          }
          this.csvInQuotes = false;
          i++;
          if (i < n && s[i] !== ",") {
            this.csvReset();
            this.out.bad(this.csvStart, `malformed CSV: unexpected character ${JSON.stringify(s[i])} after a closing quote`);
            return;
          }
          continue;
        }
        this.csvField += c;
        i++;
        continue;
      }
      if (c === ",") {
        this.csvFields.push(this.csvField);
        this.csvField = "";
        i++;
      } else if (c === '"' && this.csvField === "") {
        this.csvInQuotes = true;
        i++;
      } else {
        this.csvField += c;
        i++;
      }
    }
    if (this.csvInQuotes) return; // record continues on the next line
    this.csvFields.push(this.csvField);
    const fields = this.csvFields;
    this.csvReset();
    this.emitFields(fields, this.csvStart);
  }

  private csvReset(): void {
    this.csvFields = [];
    this.csvField = "";
    this.csvInQuotes = false;
  }

  end(): void {
    if (this.csvInQuotes) {
      this.csvReset();
      this.out.bad(this.csvStart, "malformed CSV: quoted field is not closed before the end of the file");
    }
    if (this.headerPending) throw new DataFormatError(this.out.file, Math.max(1, this.lineNo), "file is empty (no header line)");
  }
}

/** A row collector and a line parser for one file; `options.displayName` (default `file`) names it in messages. */
export function exampleParser(schema: RowSchema, file: string, options: ReadOptions): { collector: ExampleCollector; parser: LineParser } {
  const collector = new ExampleCollector(schema, options.displayName ?? file, options);
  const parser = new LineParser(schema.layout.format, schema.layout.header, collector);
  return { collector, parser };
}

/**
 * Parse file content already in memory. `name` is used for messages
 * (pass it as `options.displayName` or it is derived from `name`).
 */
export function parseExamples(content: string, name: string, schema: RowSchema, options: ReadOptions = {}): ReadResult {
  const { collector, parser } = exampleParser(schema, name, { ...options, displayName: options.displayName ?? name });
  let start = 0;
  for (;;) {
    const nl = content.indexOf("\n", start);
    if (nl < 0) {
      if (start < content.length) parser.line(content.slice(start));
      break;
    }
    parser.line(content.slice(start, nl));
    start = nl + 1;
  }
  parser.end();
  return collector.result();
}
