/**
 * Evaluation metrics for ProPETL's GLUE protocol (paper Section 4,
 * "Evaluation"): accuracy, binary F1 (MRPC, QQP), Matthews correlation
 * (CoLA), Pearson and Spearman correlation (STS-B). All are pure functions
 * of number arrays returning fractions, checked against
 * numpy/scipy/sklearn values in test/fixtures/metrics.json.
 *
 * Generation metrics for the T5 summarization tasks: ROUGE as Google's
 * rouge-score computes it (fractions; Porter stemmer as NLTK's), checked
 * against the figures of rouge-score's own tests and NLTK's stems.
 */
export { accuracy } from "./accuracy.js";
export { binaryF1 } from "./f1.js";
export { matthewsCorrelation } from "./matthews.js";
export { pearson, spearman, averageRanks } from "./correlation.js";
export {
  computeTaskMetrics,
  isMetricName,
  METRIC_NAMES,
  METRIC_FUNCTIONS,
  type MetricName,
  type MainMetric,
  type MetricFn,
  type TaskMetricsResult,
} from "./task-metrics.js";
export type { NumArray } from "./validate.js";
export { porterStem } from "./porter-stemmer.js";
export {
  rouge,
  rougePair,
  rougeTokenize,
  lcsLength,
  isRougeType,
  ROUGE_TYPES,
  type RougeType,
  type RougeScore,
  type RougeOptions,
  type RougeCorpusResult,
} from "./rouge.js";
