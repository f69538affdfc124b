import { accuracy } from "./accuracy.js";
import { pearson, spearman } from "./correlation.js";
import { binaryF1 } from "./f1.js";
import { matthewsCorrelation } from "./matthews.js";
import type { NumArray } from "./validate.js";

/** Names of the metrics GLUE reports (HF `evaluate` "glue" names in comments). */
export type MetricName =
  | "accuracy" // accuracy
  | "f1" // f1 (binary, positive class 1)
  | "matthews" // matthews_correlation
  | "pearson" // pearson
  | "spearman"; // spearmanr

/**
 * The score used for model selection: one metric, or "mean" = the
 * unweighted mean of all the task's metrics (HF run_glue's `combined_score`,
 * used for MRPC/QQP (f1, accuracy) and STS-B (pearson, spearman)).
 */
export type MainMetric = MetricName | "mean";

export const METRIC_NAMES: readonly MetricName[] = ["accuracy", "f1", "matthews", "pearson", "spearman"];

export type MetricFn = (preds: NumArray, labels: NumArray) => number;

export const METRIC_FUNCTIONS: Readonly<Record<MetricName, MetricFn>> = {
  accuracy,
  f1: binaryF1,
  matthews: matthewsCorrelation,
  pearson,
  spearman,
};

export function isMetricName(name: string): name is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(name);
}

/** Correlation metrics asked for labels that never vary: they are undefined, not a score. */
export class ConstantLabelsError extends RangeError {
  constructor(
    readonly value: number,
    readonly count: number,
  ) {
    super(`all ${count} labels are ${value}: Pearson and Spearman correlations are undefined for constant labels; a regression evaluation split needs varied labels`);
    this.name = "ConstantLabelsError";
  }
}

/** The one value every entry has, or undefined when they differ (or there are fewer than 2). */
function constantValue(xs: NumArray): number | undefined {
  if (xs.length < 2) return undefined;
  const first = Number(xs[0]);
  for (let i = 1; i < xs.length; i++) if (Number(xs[i]) !== first) return undefined;
  return first;
}

/** What `computeTaskMetrics` returns. */
export interface TaskMetricsResult {
  /** One entry per requested metric, as fractions (not percentages). */
  scores: Partial<Record<MetricName, number>>;
  /** Which score `main` is. */
  mainMetric: MainMetric;
  /** The model-selection score (may be NaN for pearson/spearman on constant input). */
  main: number;
}

/**
 * Compute the metrics a task reports, e.g.
 * `computeTaskMetrics(["f1", "accuracy"], preds, labels, "mean")`
 * -> `{ scores: { f1, accuracy }, mainMetric: "mean", main: (f1 + accuracy) / 2 }`.
 *
 * `mainMetric` defaults to the first name in `metricNames`; when it is a
 * metric name it must be one of `metricNames`. Classification predictions
 * are class indices (argmax already taken); regression predictions are raw
 * scores.
 */
export function computeTaskMetrics(
  metricNames: readonly MetricName[],
  preds: NumArray,
  labels: NumArray,
  mainMetric?: MainMetric,
): TaskMetricsResult {
  if (metricNames.length === 0) throw new RangeError("computeTaskMetrics: no metric names given");
  if (metricNames.some((m) => m === "pearson" || m === "spearman")) {
    const constant = constantValue(labels);
    if (constant !== undefined) throw new ConstantLabelsError(constant, labels.length);
  }
  const scores: Partial<Record<MetricName, number>> = {};
  for (const name of metricNames) {
    if (!isMetricName(name)) {
      throw new RangeError(`computeTaskMetrics: unknown metric "${String(name)}" (known: ${METRIC_NAMES.join(", ")})`);
    }
    scores[name] = METRIC_FUNCTIONS[name](preds, labels);
  }
  const main = mainMetric ?? metricNames[0];
  let mainScore: number;
  if (main === "mean") {
    let sum = 0;
    for (const name of metricNames) sum += scores[name] ?? Number.NaN;
    mainScore = sum / metricNames.length;
  } else {
    const s = scores[main];
    if (s === undefined) {
      throw new RangeError(`computeTaskMetrics: main metric "${main}" is not among the task's metrics (${metricNames.join(", ")})`);
    }
    mainScore = s;
  }
  return { scores, mainMetric: main, main: mainScore };
}
