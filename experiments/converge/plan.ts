/**
 * The converged comparison on `spam` (issue 10, item 7): does ProPETL-adapter match a plain
 * adapter once both have converged, before and after the adapter-placement fix?
 *
 * - Methods: adapter, ProPETL-adapter, only-share, LoRA, ProPETL-LoRA; seeds 1–3.
 * - The authors' learning-rate ratio: mask scores 30× the module learning rate (their
 *   scripts: module 1e-4, scores 3e-3 on RoBERTa-base; propetl-mini is 25× smaller and
 *   needs a larger step, so module 1e-3, scores 3e-2, head 1e-3).
 * - Budget: EPOCHS passes over 1,600 training emails of at most 64 tokens, validation on
 *   500 emails after every epoch (the curve), the best epoch's checkpoint scored on 500 test
 *   emails. EPOCHS is set from the probe run (adapter, seed 1): the epoch after which the
 *   plain adapter's validation F1 stopped rising (see RESULTS.md).
 * - "before": the same runs on the code before the placement fix (commit BEFORE_COMMIT,
 *   where the Pfeiffer adapter read the raw FFN output). LoRA does not use the adapter, so
 *   only the adapter-based methods are rerun there.
 */
import type { PlannedRun } from "../compare/plan.js";

export const TASK = "spam";
export const SEEDS = [1, 2, 3] as const;
export const METHODS = ["adapter", "propetl-adapter", "only-share", "lora", "propetl-lora"] as const;
/** Methods whose results the placement fix changes. */
export const ADAPTER_BASED: readonly string[] = ["adapter", "propetl-adapter", "only-share"];
/** The last commit with the old placement (the fix is the commit after it). */
export const BEFORE_COMMIT = "764da18";
export const EPOCHS = 12;

export const COMMON_ARGS = [
  "--task", TASK,
  "--epochs", String(EPOCHS),
  "--max-train-examples", "1600",
  "--max-eval-examples", "500",
  "--max-length", "64",
  "--batch-size", "32",
  "--lr", "1e-3",
  "--mask-lr", "3e-2",
  "--head-lr", "1e-3",
] as const;

export function planRuns(): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const seed of SEEDS) {
    for (const method of METHODS) {
      const args = ["--method", method, "--seed", String(seed), ...COMMON_ARGS];
      // Seed 1 first, most informative first: the probe (adapter), ProPETL-adapter, the two
      // before the fix, then the rest of seed 1; then seeds 2 and 3 the same way.
      const first = method === "adapter" ? 0 : method === "propetl-adapter" ? 1 : 3;
      runs.push({ id: `after/${method}/seed-${seed}`, task: TASK, variant: method, seed, priority: 10 * seed + first, args });
      if (ADAPTER_BASED.includes(method)) {
        const before = method === "only-share" ? 4 : 2;
        runs.push({ id: `before/${method}/seed-${seed}`, task: TASK, variant: method, seed, priority: 10 * seed + before, args, code: "before" });
      }
    }
  }
  return runs.sort((a, b) => a.priority - b.priority);
}
