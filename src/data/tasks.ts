/**
 * Task registry: the nine GLUE tasks in their official TSV layouts, plus
 * user-defined tasks (`customTask`).
 *
 * Evaluation protocol (ProPETL paper, Section 4 "Evaluation" and Appendix C):
 * - small tasks (< 10k training examples): RTE, MRPC, STS-B, CoLA (and WNLI,
 *   635 training examples, which the paper does not evaluate) — 20 epochs;
 *   the official dev set is split in halves (validation / test);
 * - large tasks: SST-2, QNLI, QQP, MNLI — 10 epochs; 1k training examples
 *   are held out for validation and the official dev set is the test set.
 * Metrics: CoLA Matthews correlation; MRPC and QQP F1 and accuracy; STS-B
 * Pearson and Spearman; everything else accuracy.
 */
import type { MainMetric, MetricName } from "../metrics/index.js";

/** Classification (labels are class names, scores are logits per class) or regression (one score). */
export type TaskKind = "classification" | "regression";
/** The paper's size classes: fewer than `SMALL_TASK_THRESHOLD` training examples is "small". */
export type SizeClass = "small" | "large";
/** Task file formats: tab- or comma-separated values, or one JSON object per line. */
export type FileFormat = "tsv" | "csv" | "jsonl";
/** A column by header name (string) or by 0-based index (number). For JSONL, a key. */
export type ColumnRef = string | number;

/** Default epochs per size class (paper, Appendix C.2). */
export const EPOCHS_BY_SIZE: Readonly<Record<SizeClass, number>> = { small: 20, large: 10 };
/** Tasks with fewer training examples than this are "small" (paper, Section 4). */
export const SMALL_TASK_THRESHOLD = 10_000;

/** How to find text and label in one file. */
export interface FileLayout {
  /** The file's format. */
  format: FileFormat;
  /** TSV/CSV: whether the first line is a header. Ignored for JSONL. */
  header: boolean;
  /**
   * Column names for a header-less file (used for messages and to resolve
   * string column refs); their count is also the required column count.
   */
  columns?: readonly string[];
  /** Where the (first) text is. */
  textColumn: ColumnRef;
  /** Where the second text of a sentence pair is; absent for single-text tasks. */
  textPairColumn?: ColumnRef;
  /** Absent for unlabelled (test) layouts. */
  labelColumn?: ColumnRef;
}

/** One file of a task (a train split or one of its dev/validation splits). */
export interface TaskFile {
  /** Split name, e.g. "train", "dev", "dev_matched". */
  name: string;
  /** File name relative to the task directory. */
  file: string;
}

/** A classification or regression task: its files, layouts, labels, metrics and default epochs. */
export interface TaskSpec {
  /** Registry key, e.g. "rte", "sst2"; custom tasks: "custom:<name>". */
  name: string;
  /** Directory name in the GLUE distribution ("RTE", "SST-2", ...), or the custom task's absolute directory path. */
  dir: string;
  /** Classification or regression. */
  kind: TaskKind;
  /** Label names in index order (label id = index); [] for regression. */
  labels: readonly string[];
  /** Model output size: labels.length, or 1 for regression. */
  numLabels: number;
  /** Layout of the labelled files (train and dev). */
  layout: FileLayout;
  /** Layout of the unlabelled test file (GLUE test.tsv has no label column). */
  testLayout: FileLayout;
  /** The training file. */
  train: TaskFile;
  /** Official validation files; MNLI has two (matched first). */
  dev: readonly TaskFile[];
  /** The unlabelled test files (laid out by `testLayout`). */
  test: readonly TaskFile[];
  /** Metrics reported on validation and test (`computeTaskMetrics`). */
  metrics: readonly MetricName[];
  /** Score used for model selection ("mean" = mean of `metrics`, HF run_glue's combined_score). */
  mainMetric: MainMetric;
  /** "auto" (custom tasks): decided from the training-set size when splitting. */
  sizeClass: SizeClass | "auto";
  /** Default epochs (`EPOCHS_BY_SIZE` of the size class); undefined when sizeClass is "auto". */
  epochs?: number;
  /** Number of training examples in the official GLUE release (for reference). */
  officialTrainSize?: number;
}

/** The GLUE tasks' registry keys. */
export type GlueTaskName = "cola" | "sst2" | "mrpc" | "qqp" | "stsb" | "mnli" | "qnli" | "rte" | "wnli";

const BINARY = ["0", "1"] as const;

function tsv(header: boolean, textColumn: ColumnRef, textPairColumn: ColumnRef | undefined, labelColumn?: ColumnRef, columns?: readonly string[]): FileLayout {
  const layout: FileLayout = { format: "tsv", header, textColumn };
  if (columns !== undefined) layout.columns = columns;
  if (textPairColumn !== undefined) layout.textPairColumn = textPairColumn;
  if (labelColumn !== undefined) layout.labelColumn = labelColumn;
  return layout;
}

interface GlueDef {
  dir: string;
  kind: TaskKind;
  labels: readonly string[];
  layout: FileLayout;
  testLayout: FileLayout;
  dev?: readonly TaskFile[];
  test?: readonly TaskFile[];
  metrics: readonly MetricName[];
  mainMetric: MainMetric;
  sizeClass: SizeClass;
  officialTrainSize: number;
}

const DEV: readonly TaskFile[] = [{ name: "dev", file: "dev.tsv" }];
const TEST: readonly TaskFile[] = [{ name: "test", file: "test.tsv" }];

/**
 * Official GLUE layouts (columns are referenced by header name wherever the
 * file has a header, so the test files — which drop the label column and
 * sometimes others — resolve the same names):
 * - CoLA: no header; source, label, mark, sentence. Test: header `index sentence`.
 * - SST-2: `sentence label`. Test: `index sentence`.
 * - MRPC: `Quality #1 ID #2 ID #1 String #2 String`. Test: `index #1 ID #2 ID #1 String #2 String`.
 * - QQP: `id qid1 qid2 question1 question2 is_duplicate`. Test: `id question1 question2`.
 * - STS-B: `index genre filename year old_index source1 source2 sentence1 sentence2 score`.
 * - MNLI: 12 (train) / 16 (dev) columns; sentence1 at index 8, sentence2 at 9, gold_label last.
 * - QNLI: `index question sentence label`.
 * - RTE, WNLI: `index sentence1 sentence2 label`.
 */
const GLUE: Readonly<Record<GlueTaskName, GlueDef>> = {
  cola: {
    dir: "CoLA",
    kind: "classification",
    labels: BINARY,
    layout: tsv(false, "sentence", undefined, "label", ["source", "label", "mark", "sentence"]),
    testLayout: tsv(true, "sentence", undefined),
    metrics: ["matthews"],
    mainMetric: "matthews",
    sizeClass: "small",
    officialTrainSize: 8551,
  },
  sst2: {
    dir: "SST-2",
    kind: "classification",
    labels: BINARY,
    layout: tsv(true, "sentence", undefined, "label"),
    testLayout: tsv(true, "sentence", undefined),
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    sizeClass: "large",
    officialTrainSize: 67349,
  },
  mrpc: {
    dir: "MRPC",
    kind: "classification",
    labels: BINARY,
    layout: tsv(true, "#1 String", "#2 String", "Quality"),
    testLayout: tsv(true, "#1 String", "#2 String"),
    metrics: ["f1", "accuracy"],
    mainMetric: "mean",
    sizeClass: "small",
    officialTrainSize: 3668,
  },
  qqp: {
    dir: "QQP",
    kind: "classification",
    labels: BINARY,
    layout: tsv(true, "question1", "question2", "is_duplicate"),
    testLayout: tsv(true, "question1", "question2"),
    metrics: ["f1", "accuracy"],
    mainMetric: "mean",
    sizeClass: "large",
    officialTrainSize: 363846,
  },
  stsb: {
    dir: "STS-B",
    kind: "regression",
    labels: [],
    layout: tsv(true, "sentence1", "sentence2", "score"),
    testLayout: tsv(true, "sentence1", "sentence2"),
    metrics: ["pearson", "spearman"],
    mainMetric: "mean",
    sizeClass: "small",
    officialTrainSize: 5749,
  },
  mnli: {
    dir: "MNLI",
    kind: "classification",
    labels: ["entailment", "neutral", "contradiction"],
    layout: tsv(true, "sentence1", "sentence2", "gold_label"),
    testLayout: tsv(true, "sentence1", "sentence2"),
    dev: [
      { name: "dev_matched", file: "dev_matched.tsv" },
      { name: "dev_mismatched", file: "dev_mismatched.tsv" },
    ],
    test: [
      { name: "test_matched", file: "test_matched.tsv" },
      { name: "test_mismatched", file: "test_mismatched.tsv" },
    ],
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    sizeClass: "large",
    officialTrainSize: 392702,
  },
  qnli: {
    dir: "QNLI",
    kind: "classification",
    labels: ["entailment", "not_entailment"],
    layout: tsv(true, "question", "sentence", "label"),
    testLayout: tsv(true, "question", "sentence"),
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    sizeClass: "large",
    officialTrainSize: 104743,
  },
  rte: {
    dir: "RTE",
    kind: "classification",
    labels: ["entailment", "not_entailment"],
    layout: tsv(true, "sentence1", "sentence2", "label"),
    testLayout: tsv(true, "sentence1", "sentence2"),
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    sizeClass: "small",
    officialTrainSize: 2490,
  },
  wnli: {
    dir: "WNLI",
    kind: "classification",
    labels: BINARY,
    layout: tsv(true, "sentence1", "sentence2", "label"),
    testLayout: tsv(true, "sentence1", "sentence2"),
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    sizeClass: "small",
    officialTrainSize: 635,
  },
};

/** The GLUE tasks' registry keys, in GLUE's order. */
export const GLUE_TASK_NAMES: readonly GlueTaskName[] = ["cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte", "wnli"];

/** Accepted spellings besides the registry keys (case-insensitive): "SST-2", "STS-B", "MNLI", ... */
const ALIASES: Readonly<Record<string, GlueTaskName>> = {
  "sst-2": "sst2",
  "sts-b": "stsb",
};

function buildGlue(name: GlueTaskName): TaskSpec {
  const d = structuredClone(GLUE[name]); // callers may mutate their copy
  return {
    name,
    dir: d.dir,
    kind: d.kind,
    labels: d.labels,
    numLabels: d.kind === "regression" ? 1 : d.labels.length,
    layout: d.layout,
    testLayout: d.testLayout,
    train: { name: "train", file: "train.tsv" },
    dev: d.dev ?? DEV,
    test: d.test ?? TEST,
    metrics: d.metrics,
    mainMetric: d.mainMetric,
    sizeClass: d.sizeClass,
    epochs: EPOCHS_BY_SIZE[d.sizeClass],
    officialTrainSize: d.officialTrainSize,
  };
}

export function isGlueTaskName(name: string): name is GlueTaskName {
  return (GLUE_TASK_NAMES as readonly string[]).includes(name);
}

/**
 * Look up a GLUE task by name ("rte", "RTE", "sst2", "SST-2", "sts-b", ...).
 * Unknown names throw an Error listing the known tasks.
 */
export function getTask(name: string): TaskSpec {
  const key = name.trim().toLowerCase();
  const resolved = isGlueTaskName(key) ? key : ALIASES[key];
  if (resolved === undefined) {
    throw new Error(`unknown task "${name}"; known tasks: ${GLUE_TASK_NAMES.join(", ")} (or use customTask(...))`);
  }
  return buildGlue(resolved);
}

/** All nine GLUE tasks, in GLUE_TASK_NAMES order. */
export function glueTasks(): TaskSpec[] {
  return GLUE_TASK_NAMES.map(buildGlue);
}


/** Resolve "auto" size class from a training-set size (< 10k -> small). */
export function resolveSizeClass(task: Pick<TaskSpec, "sizeClass">, trainSize: number): SizeClass {
  if (task.sizeClass !== "auto") return task.sizeClass;
  return trainSize < SMALL_TASK_THRESHOLD ? "small" : "large";
}

/** Default epochs for a task (resolving "auto" from the training-set size). */
export function defaultEpochs(task: TaskSpec, trainSize?: number): number {
  if (task.epochs !== undefined) return task.epochs;
  if (trainSize === undefined) throw new Error(`task ${task.name}: size class is "auto"; pass the training-set size`);
  return EPOCHS_BY_SIZE[resolveSizeClass(task, trainSize)];
}
