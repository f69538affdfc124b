/**
 * The paper's Table 2 (multi-task) with its Table 11 ablations at small scale, on the bundled
 * encoder propetl-mini (BERT, d 256, 4 layers; `propetl train`'s default model):
 *
 * - Tasks: spam, sst2 and cola, built in. spam is the task on which propetl-mini's modules
 *   learned in the earlier experiments (compare/, converge/); SST-2 and CoLA are GLUE tasks like
 *   the paper's Table 2, made of short single sentences (cheap steps: batches are padded to their
 *   longest example), and CoLA's Matthews correlation is 0 for a run that predicts one class, so
 *   a task that was not learned shows as such. Left out: rte (sentence pairs cut at 64 tokens,
 *   near chance even for far larger models on 2,490 examples) and sotu-party (long paragraphs,
 *   at chance for every method in the comparison grid).
 * - Settings (one row each): single-task adapter and single-task ProPETL-adapter (one run per
 *   task, k 0.5); multi-task ProPETL-adapter over the three tasks at once (one run: one
 *   prototype, one head per task) with each combine rule: OR (the paper's), AND, layer masks
 *   only and task masks only (Table 11), k = task k = 0.3 (paper Sec. 3.4), temperature 10.
 * - Seeds 1, 2, 3: 4 × 3 = 12 multi-task runs and 2 × 3 × 3 = 18 single-task runs. The seed
 *   also draws SST-2's held-out validation examples (the paper's protocol for large tasks; spam
 *   and CoLA have fixed splits), the same for every setting of a seed.
 * - Budget: the first TRAIN_EXAMPLES = 4,000 training examples of each task, EPOCHS = 6 epochs
 *   in batches of 32, inputs cut at 64 tokens; validation (500 examples per task) after every
 *   epoch, and the best epoch's checkpoint scored on 500 test examples per task. A single-task
 *   run is 6 × ⌈4000 / 32⌉ = 750 steps; a multi-task run sees the three training sets in
 *   6 × ⌈12000 / 32⌉ = 2,250 steps (each from one task), the same examples as the three
 *   single-task runs together. The budget is where the single-task adapter's validation score
 *   stops rising (probes in RESULTS.md, seed 1, 4,000 examples × 8 epochs: SST-2 accuracy
 *   59.2 / 64.4 / 69.2 / 69.0 / 70.2 … by epoch, CoLA MCC best at epoch 6 and lower at 7; spam's
 *   adapter peaked after 200–450 steps in converge/). The first grid's 1,000 examples × 3
 *   epochs left SST-2 and CoLA at chance (its seed-1 runs are kept in results-1000x3/).
 *   A single-task run takes about 10–25 minutes and a multi-task run 40–60 on the 2-core
 *   machine with one thread (`--jobs 1 --threads 1` beside other work); the grid is several
 *   sessions of CPU, so run it resumably and commit finished runs.
 * - Learning rates as converge/ (the authors' ratio of mask scores to module, 30×, at
 *   propetl-mini's scale): module 1e-3, mask scores 3e-2, heads 1e-3. Nothing was tuned.
 */
import type { PlannedRun } from "../compare/plan.js";

export const TASKS = ["spam", "sst2", "cola"] as const;
export const SEEDS = [1, 2, 3] as const;
export const TRAIN_EXAMPLES = 4000;
export const EVAL_EXAMPLES = 500;
export const EPOCHS = 6;
/** Kept fractions: single-task ProPETL (paper Sec. 4) and multi-task layer and task masks (Sec. 3.4). */
export const SINGLE_K = 0.5;
export const MULTI_K = 0.3;
export const TASK_K = 0.3;
export const TEMPERATURE = 10;

/** The folder of the multi-task runs (in place of a task name). */
export const MULTI = "multi";

export type Rule = "or" | "and" | "layer" | "task";

/** One row of the table. */
export interface Setting {
  /** The variant in run ids. */
  variant: string;
  label: string;
  method: "adapter" | "propetl-adapter";
  /** Multi-task: the combine rule; null: one run per task. */
  combine: Rule | null;
}

/** The table's rows, in order. */
export const SETTINGS: readonly Setting[] = [
  { variant: "adapter", label: "Adapter (single-task)", method: "adapter", combine: null },
  { variant: "propetl-adapter", label: "ProPETL-Adapter (single-task)", method: "propetl-adapter", combine: null },
  { variant: "propetl-adapter-or", label: "ProPETL-Adapter, multi-task, layer OR task mask", method: "propetl-adapter", combine: "or" },
  { variant: "propetl-adapter-and", label: "ProPETL-Adapter, multi-task, layer AND task mask", method: "propetl-adapter", combine: "and" },
  { variant: "propetl-adapter-layer", label: "ProPETL-Adapter, multi-task, layer masks only", method: "propetl-adapter", combine: "layer" },
  { variant: "propetl-adapter-task", label: "ProPETL-Adapter, multi-task, task masks only", method: "propetl-adapter", combine: "task" },
];

export const COMMON_ARGS = [
  "--epochs", String(EPOCHS),
  "--max-train-examples", String(TRAIN_EXAMPLES),
  "--max-eval-examples", String(EVAL_EXAMPLES),
  "--max-length", "64",
  "--batch-size", "32",
  "--lr", "1e-3",
  "--mask-lr", "3e-2",
  "--head-lr", "1e-3",
] as const;

/** The method flags of a setting (k only where it has masks; task k and the rule when multi-task). */
export function methodArgs(s: Setting): string[] {
  const out = ["--method", s.method];
  if (s.combine === null) return s.method === "adapter" ? out : [...out, "--k", String(SINGLE_K)];
  out.push("--combine", s.combine, "--temperature", String(TEMPERATURE));
  if (s.combine !== "task") out.push("--k", String(MULTI_K));
  if (s.combine !== "layer") out.push("--task-k", String(TASK_K));
  return out;
}

/**
 * Every run: `<task>/<variant>/seed-<s>` for the single-task settings, `multi/<variant>/seed-<s>`
 * for the multi-task ones. Seed by seed, in table order inside a seed (the single-task runs
 * and the paper's OR rule before the ablations).
 */
export function planRuns(): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of SEEDS) {
    SETTINGS.forEach((s, i) => {
      const tail = [...methodArgs(s), "--seed", String(seed), ...COMMON_ARGS];
      const priority = 10 * seed + i;
      if (s.combine !== null) {
        runs.push({ id: `${MULTI}/${s.variant}/seed-${seed}`, task: TASKS.join(","), variant: s.variant, seed, priority, args: ["--tasks", TASKS.join(","), ...tail] });
        return;
      }
      for (const task of TASKS) runs.push({ id: `${task}/${s.variant}/seed-${seed}`, task, variant: s.variant, seed, priority, args: ["--task", task, ...tail] });
    });
  }
  return runs.sort((a, b) => a.priority - b.priority);
}
