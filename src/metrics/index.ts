/**
 * Evaluation metrics for ProPETL's GLUE protocol (paper Section 4,
 * "Evaluation"): accuracy, binary F1 (MRPC, QQP), Matthews correlation
 * (CoLA), Pearson and Spearman correlation (STS-B). All are pure functions
 * of number arrays returning fractions, checked against
 * numpy/scipy/sklearn values in test/fixtures/metrics.json.
 *
 * Generation metrics for the T5 tasks (summarization, translation): ROUGE as
 * Google's rouge-score computes it (fractions; Porter stemmer as NLTK's) and
 * BLEU as sacreBLEU computes it (0-100), checked against the figures of
 * those projects' own test suites and NLTK's stems.
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
export {
  corpusBleu,
  sentenceBleu,
  bleuFromStatistics,
  bleuTokenize,
  tokenize13a,
  BLEU_TOKENIZERS,
  BLEU_SMOOTH_METHODS,
  type BleuOptions,
  type BleuResult,
  type BleuStatistics,
  type BleuTokenizer,
  type BleuSmoothMethod,
} from "./bleu.js";
