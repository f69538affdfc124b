/**
 * Classification tasks as text-to-text tasks, for an encoder–decoder (T5), as the ProPETL
 * authors' T5 code casts GLUE (the format their code inherits from the T5 paper):
 *   - source: the task name as prefix, then the fields by name:
 *       one text:  "<task> sentence: <text>"
 *       a pair:    "<task> sentence1: <text> sentence2: <pair>"
 *     The prefix ("<task> ") is the task's, stored in the checkpoint (`task_prefixes`), so that
 *     `propetl generate --task <task> --text "sentence: ..."` reads the same input.
 *   - target: the label's name (e.g. "entailment"), where their code writes the label's index
 *     ("0", "1"): names are what a reader of the generations can check, and T5's vocabulary
 *     has them.
 *   - scoring: a generation is the label whose name it equals after trimming; anything else is
 *     "no label" and counts as wrong for every metric (their code maps it to -1 the same way;
 *     with two labels it is scored as the other label, since binary F1 takes 0/1 only), and
 *     the count of such generations is reported.
 * Regression tasks (STS-B) are refused: their text form (scores rounded to 0.2) is not built.
 */
import type { Example } from "./read-examples.js";
import type { TaskSpec } from "./tasks.js";
import { computeTaskMetrics } from "../metrics/task-metrics.js";

/** A source (without the prefix) and its target text. */
export interface LabelTextPair {
  source: string;
  target: string;
}

export class TextToTextTaskError extends Error {}

/** The source prefix of a classification task read as text-to-text: its name and a space. */
export function labelTaskPrefix(task: Pick<TaskSpec, "name">): string {
  return `${task.name} `;
}

/** Refuse what has no text form (regression, labels that are not distinct non-empty single-line names). */
export function checkTextToTextTask(task: Pick<TaskSpec, "name" | "kind" | "labels">): void {
  if (task.kind === "regression") throw new TextToTextTaskError(`task ${task.name} is a regression task; text-to-text training (T5) takes classification and text-to-text tasks only`);
  const seen = new Set<string>();
  for (const l of task.labels) {
    const t = l.trim();
    if (t === "" || /[\r\n]/.test(l)) throw new TextToTextTaskError(`task ${task.name}: label ${JSON.stringify(l)} cannot be a target text (empty or several lines)`);
    if (seen.has(t)) throw new TextToTextTaskError(`task ${task.name}: two labels read ${JSON.stringify(t)} as text`);
    seen.add(t);
  }
}

/** The text pairs of labelled examples (see the file comment). */
export function labelTextPairs(task: Pick<TaskSpec, "name" | "kind" | "labels">, examples: readonly Example[]): LabelTextPair[] {
  checkTextToTextTask(task);
  return examples.map((e, i) => {
    const name = e.label >= 0 && Number.isInteger(e.label) ? task.labels[e.label] : undefined;
    if (name === undefined) throw new TextToTextTaskError(`task ${task.name}: example ${i + 1} (line ${e.line}) has label ${e.label}, not one of the ${task.labels.length} label ids`);
    const source = e.textPair !== undefined && e.textPair !== "" ? `sentence1: ${e.text} sentence2: ${e.textPair}` : `sentence: ${e.text}`;
    return { source, target: name.trim() };
  });
}

/** The label id a generated text names, or -1 (see the file comment). */
export function labelOfText(task: Pick<TaskSpec, "labels">, text: string): number {
  const t = text.trim();
  return task.labels.findIndex((l) => l.trim() === t);
}

/**
 * The task's metrics of generated label texts against the reference label texts (×100, as the
 * text-to-text scores are reported), with `noLabel`: generations that name no label.
 */
export function scoreLabelTexts(task: Pick<TaskSpec, "name" | "labels" | "metrics" | "mainMetric">, predictions: readonly string[], references: readonly string[]): { main: number; scores: Record<string, number> } {
  if (predictions.length !== references.length) throw new RangeError(`${predictions.length} predictions for ${references.length} references`);
  if (predictions.length === 0) throw new RangeError("no examples to score");
  const labels = references.map((r, i) => {
    const id = labelOfText(task, r);
    if (id < 0) throw new TextToTextTaskError(`task ${task.name}: reference ${i + 1} ${JSON.stringify(r)} is not a label`);
    return id;
  });
  // "No label" must count as wrong for every metric: with two labels, the other label (binary
  // F1 takes 0/1 only); with more, an id no reference has.
  let noLabel = 0;
  const preds = predictions.map((p, i) => {
    const id = labelOfText(task, p);
    if (id >= 0) return id;
    noLabel++;
    return task.labels.length === 2 ? 1 - labels[i] : task.labels.length;
  });
  const r = computeTaskMetrics(task.metrics, Int32Array.from(preds), Int32Array.from(labels), task.mainMetric);
  const scores: Record<string, number> = { noLabel };
  for (const [k, v] of Object.entries(r.scores)) scores[k] = 100 * (v as number);
  return { main: 100 * r.main, scores };
}
