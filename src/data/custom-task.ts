/**
 * A custom classification or regression task from files in a folder (Node: the folder is a
 * path on disk, made absolute here): `customTask` builds its `TaskSpec` (tasks.ts).
 */
import { basename, resolve } from "node:path";
import type { MainMetric, MetricName } from "../metrics/index.js";
import { EPOCHS_BY_SIZE } from "./tasks.js";
import type { ColumnRef, FileFormat, FileLayout, SizeClass, TaskSpec, TaskKind } from "./tasks.js";

/** Options of `customTask`: a task in your own files. */
export interface CustomTaskOptions {
  /**
   * Directory holding the task's files: train.<format>, dev.<format> and
   * optionally test.<format> (override the names with `files`).
   */
  path: string;
  /** The files' format. */
  format: FileFormat;
  /** Where the (first) text is. */
  textColumn: ColumnRef;
  /** Where the second text of a sentence pair is; absent for single-text tasks. */
  textPairColumn?: ColumnRef;
  /** Where the label is (class name, or number for regression). */
  labelColumn: ColumnRef;
  /** Classification or regression. */
  kind: TaskKind;
  /** Label names in index order; required for classification, ignored for regression. */
  labels?: readonly string[];
  /** Task name (default: the directory's base name). Stored as "custom:<name>". */
  name?: string;
  /** TSV/CSV: whether the first line is a header (default true). */
  header?: boolean;
  /** Column names for header-less TSV/CSV files. */
  columns?: readonly string[];
  /** File names inside `path` (defaults: train.<format>, dev.<format>, test.<format>). */
  files?: {
    /** Training file (default train.<format>). */
    train?: string;
    /** Validation file (default dev.<format>). */
    dev?: string;
    /** Test file (default test.<format>). */
    test?: string;
  };
  /** Default: ["accuracy"] for classification, ["pearson", "spearman"] for regression. */
  metrics?: readonly MetricName[];
  /** Default: the single metric, or "mean" when there are several. */
  mainMetric?: MainMetric;
  /** Default "auto": decided by training-set size (below `SMALL_TASK_THRESHOLD`: small) when splitting. */
  sizeClass?: SizeClass | "auto";
}

/**
 * Define a task from your own files. Classification needs `labels`
 * (the label strings as they appear in the file, in id order; in JSONL,
 * numeric labels are matched by their string form, e.g. 1 -> "1").
 */
export function customTask(opts: CustomTaskOptions): TaskSpec {
  const { format, kind } = opts;
  if (format !== "tsv" && format !== "csv" && format !== "jsonl") {
    throw new Error(`customTask: format must be "tsv", "csv" or "jsonl", got "${String(format)}"`);
  }
  if (kind !== "classification" && kind !== "regression") {
    throw new Error(`customTask: kind must be "classification" or "regression", got "${String(kind)}"`);
  }
  let labels: readonly string[] = [];
  if (kind === "classification") {
    if (opts.labels === undefined || opts.labels.length < 2) {
      throw new Error("customTask: classification tasks need `labels` (at least two label names, in id order)");
    }
    if (new Set(opts.labels).size !== opts.labels.length) {
      throw new Error(`customTask: duplicate label names in [${opts.labels.join(", ")}]`);
    }
    labels = [...opts.labels];
  }
  const header = format === "jsonl" ? true : (opts.header ?? true);
  if (format !== "jsonl" && !header) {
    for (const ref of [opts.textColumn, opts.textPairColumn, opts.labelColumn]) {
      if (typeof ref === "string" && !(opts.columns ?? []).includes(ref)) {
        throw new Error(`customTask: header-less file: column "${ref}" must be an index or one of \`columns\``);
      }
    }
  }
  if (format === "jsonl") {
    for (const ref of [opts.textColumn, opts.textPairColumn, opts.labelColumn]) {
      if (typeof ref === "number") throw new Error("customTask: JSONL columns are object keys (strings), not indices");
    }
  }
  const layout: FileLayout = { format, header, textColumn: opts.textColumn, labelColumn: opts.labelColumn };
  if (opts.textPairColumn !== undefined) layout.textPairColumn = opts.textPairColumn;
  if (opts.columns !== undefined) layout.columns = [...opts.columns];
  const testLayout: FileLayout = { ...layout };
  delete testLayout.labelColumn;
  const metrics: readonly MetricName[] = opts.metrics ?? (kind === "regression" ? ["pearson", "spearman"] : ["accuracy"]);
  if (metrics.length === 0) throw new Error("customTask: metrics must not be empty");
  const sizeClass = opts.sizeClass ?? "auto";
  const spec: TaskSpec = {
    name: `custom:${opts.name ?? basename(opts.path)}`,
    dir: resolve(opts.path),
    kind,
    labels,
    numLabels: kind === "regression" ? 1 : labels.length,
    layout,
    testLayout,
    train: { name: "train", file: opts.files?.train ?? `train.${format}` },
    dev: [{ name: "dev", file: opts.files?.dev ?? `dev.${format}` }],
    test: [{ name: "test", file: opts.files?.test ?? `test.${format}` }],
    metrics,
    mainMetric: opts.mainMetric ?? (metrics.length === 1 ? metrics[0] : "mean"),
    sizeClass,
  };
  if (sizeClass !== "auto") spec.epochs = EPOCHS_BY_SIZE[sizeClass];
  return spec;
}
