/**
 * The paper's Figure 3 at small scale: test BLEU against bit-level storage (% of the backbone)
 * on `bible-es-en` (Spanish → English Bible verses) with the bundled T5 `propetl-mini-t5`
 * (T5 v1.0, d_model 256, 4 encoder + 4 decoder layers, vocabulary 8,000).
 *
 * - Adapter family (first): the plain Pfeiffer adapter at bottlenecks 4, 16, 64 against
 *   ProPETL-adapter (one shared prototype adapter, learned binary masks, k 0.5) at bottlenecks
 *   16, 64, 256. With d_model 256 and 8 layers their bit-level storage is 0.59M / 2.17M /
 *   8.47M bits for the adapter and 0.34M / 1.32M / 5.26M for ProPETL (Appendix B, eq. 14): the
 *   ProPETL line starts below the smallest adapter and ends between adapter bn 16 and 64, and
 *   bn 16 and 64 appear on both lines (same module size, different storage).
 * - LoRA family (second): LoRA at ranks 2, 8 against ProPETL-LoRA at ranks 8, 32. alpha is
 *   set with the rank so that the update scale alpha/r stays at the paper's values at every
 *   rank (its r = alpha = 32 for LoRA, alpha 48 with masks): alpha = r for LoRA, 1.5·r for
 *   ProPETL-LoRA.
 * - Seeds 1, 2, 3. Order: seed 1 of the adapter family, then seed 1 of the LoRA family, then
 *   seed 2 the same way, then seed 3; inside a seed the two points of the "paper claim" first
 *   (the largest plain module and the smallest ProPETL one).
 * - Budget, sized for about 15 minutes per run on two CPU cores: one pass over the first
 *   TRAIN_EXAMPLES = 1,600 training pairs in batches of 16 (100 steps), sources and targets cut
 *   to 96 tokens (propetl-mini-t5's tokenizer: 11% of these training sources, 13% of the
 *   validation and 15% of the test sources are longer; 3 of the 2,367 targets); the full validation
 *   (190 verses) and test (577 verses) splits, greedy decoding of up to 96 new tokens.
 *   Validation BLEU every EVAL_STEPS = 50 steps; the test split is scored with the checkpoint
 *   of the best validation BLEU. Measured (one probe with a planned run's flags, adapter bn 64,
 *   on 80 training pairs and 64 validation and test examples of a propetl-mini-t5 snapshot from
 *   step 200 of its pretraining, 1 engine thread, on the shared 2-core machine): about 13 CPU
 *   seconds per training step and 0.4 per generated validation or test example, so one run is
 *   about 100 × 13 + (2 × 190 + 577) × 0.4 ≈ 1,700 CPU seconds, some 15–30 minutes depending
 *   on --threads and the load. The 8,000 pairs first proposed (500 steps) would be about
 *   2 hours per run; raise TRAIN_EXAMPLES when the machine time is there.
 * - Reference: full fine-tuning of the whole propetl-mini-t5 (every weight trained and stored:
 *   100% of the backbone), seed 1 only, on the same budget, at learning rate 3e-4 (AdamW): the
 *   upper end of the 1e-4 to 3e-4 range Hugging Face's T5 documentation advises for AdamW, since
 *   the run has only 100 steps; the 1e-3 of the modules is high for every weight of a pretrained
 *   model. It runs after seed 1 of the adapter family.
 * - Learning rates: module 1e-3 and mask scores 1e-2 for every method. The paper's module rate,
 *   1e-4, is for RoBERTa-base at batch 128, models far larger than propetl-mini-t5, so the module
 *   rate is the one the converged comparison used on propetl-mini; the mask rate is 10× the
 *   module rate (the paper sets the masks' rate higher than the module's). Nothing was tuned:
 *   the values were fixed before any run of the grid (the timing probe changed none of them).
 */
import { overrideArgs } from "../compare/plan.js";
import type { PlannedRun } from "../compare/plan.js";

export const TASK = "bible-es-en";
/** The backbone, relative to the repository root (run.ts starts every run there). */
export const MODEL_DIR = "models/propetl-mini-t5";
export const SEEDS = [1, 2, 3] as const;
/** ProPETL's kept fraction of each mask. */
export const K = 0.5;
/** Training pairs per run (the first ones of the split): one epoch of TRAIN_EXAMPLES / 16 steps. */
export const TRAIN_EXAMPLES = 1600;
/** Validation BLEU every this many optimizer steps. */
export const EVAL_STEPS = 50;

export type Family = "adapter" | "lora";
/** Which module size a method takes: the adapter's bottleneck or LoRA's rank. */
export type SizeKind = "bottleneck" | "rank";

export interface PlannedMethod {
  method: "adapter" | "propetl-adapter" | "lora" | "propetl-lora";
  family: Family;
  sizeKind: SizeKind;
  sizes: readonly number[];
}

/** The grid's methods in plot order; each family's plain module first. */
export const METHODS: readonly PlannedMethod[] = [
  { method: "adapter", family: "adapter", sizeKind: "bottleneck", sizes: [4, 16, 64] },
  { method: "propetl-adapter", family: "adapter", sizeKind: "bottleneck", sizes: [16, 64, 256] },
  { method: "lora", family: "lora", sizeKind: "rank", sizes: [2, 8] },
  { method: "propetl-lora", family: "lora", sizeKind: "rank", sizes: [8, 32] },
];

export const COMMON_ARGS = [
  "--task", TASK,
  "--model", MODEL_DIR,
  "--max-train-examples", String(TRAIN_EXAMPLES),
  "--epochs", "1",
  "--batch-size", "16",
  "--eval-steps", String(EVAL_STEPS),
  "--max-source-length", "96",
  "--max-target-length", "96",
  "--max-new-tokens", "96",
  "--num-beams", "1",
  "--lr", "1e-3",
  "--mask-lr", "1e-2",
] as const;

/** "bn" for the adapter's bottleneck, "r" for LoRA's rank (in run ids and labels). */
export function sizeSymbol(kind: SizeKind): string {
  return kind === "bottleneck" ? "bn" : "r";
}

/** The variant name of one grid point: `<method>/<bn|r>-<size>`. */
export function variantOf(method: string, kind: SizeKind, size: number): string {
  return `${method}/${sizeSymbol(kind)}-${size}`;
}

/** The flags that set a method's module size (and LoRA's alpha, see the file comment). */
export function sizeArgs(m: PlannedMethod, size: number): string[] {
  if (m.sizeKind === "bottleneck") return ["--bottleneck", String(size)];
  const alpha = m.method === "propetl-lora" ? 1.5 * size : size;
  return ["--rank", String(size), "--alpha", String(alpha)];
}

/** Runs of a seed that come first: the two points the "paper claim" line compares. */
function claimFirst(m: PlannedMethod, size: number): boolean {
  const plain = !m.method.startsWith("propetl-");
  return plain ? size === Math.max(...m.sizes) : size === Math.min(...m.sizes);
}

/** The full fine-tuning reference's variant (its run id is `full/seed-<FULL_SEED>`). */
export const FULL_VARIANT = "full";
export const FULL_SEED = 1;
/** Full fine-tuning's learning rate (see the file comment). */
export const FULL_LR = "3e-4";

/** The full fine-tuning reference run: the grid's budget, the whole model trained (no mask rate). */
export function fullReferenceRun(): PlannedRun {
  const common = overrideArgs(COMMON_ARGS, ["--lr", FULL_LR]);
  const at = common.indexOf("--mask-lr");
  if (at >= 0) common.splice(at, 2);
  return {
    id: `${FULL_VARIANT}/seed-${FULL_SEED}`,
    task: TASK,
    variant: FULL_VARIANT,
    seed: FULL_SEED,
    // After seed 1 of the adapter family (priorities 10 and 11), before its LoRA family (15, 16).
    priority: 12,
    args: ["--method", "full", "--seed", String(FULL_SEED), ...common],
  };
}

/** What the runner runs for `--plan figure3`: the grid and the full fine-tuning reference, by priority. */
export function runnerPlan(): PlannedRun[] {
  return [fullReferenceRun(), ...planRuns()].sort((a, b) => a.priority - b.priority);
}

/** The grid's points (the figure's lines), by priority. */
export function planRuns(): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of SEEDS) {
    for (const m of METHODS) {
      for (const size of m.sizes) {
        const variant = variantOf(m.method, m.sizeKind, size);
        const args = [
          "--method", m.method,
          ...sizeArgs(m, size),
          ...(m.method.startsWith("propetl-") ? ["--k", String(K)] : []),
          "--seed", String(seed),
          ...COMMON_ARGS,
        ];
        const priority = 10 * seed + (m.family === "adapter" ? 0 : 5) + (claimFirst(m, size) ? 0 : 1);
        runs.push({ id: `${variant}/seed-${seed}`, task: TASK, variant, seed, priority, args });
      }
    }
  }
  // Stable: the same priority keeps METHODS order.
  return runs.sort((a, b) => a.priority - b.priority);
}
