/**
 * The paper's Table 4 ablations (Sec. 6), as settings of the modular engine (propetl.ts) on a
 * base module (`MethodConfig.base`, default "adapter"):
 *
 * - only-share: ONE module shared by every layer, no masks.
 * - only-mask: one module per layer, each pruned by its own learned mask (top-k of |scores|,
 *   straight-through), no sharing. Its checkpoint keeps only the kept entries (plus the mask
 *   bits to place them), as the paper's count (App. B eqs. 15, 17, 19) which omits the masks.
 * - random-mask: the ProPETL layout (one prototype, a mask per layer) with FIXED random masks
 *   drawn from a seeded host RNG (`MethodConfig.seed`, default 0, so the masks follow from the
 *   config alone), each with exactly n − ⌊(1−k)·n⌋ ones; only the prototype trains.
 */
import type { MethodName } from "./method.js";

export type AblationName = "only-share" | "only-mask" | "random-mask";

/** Sharing and masking of each ablation. */
export const ABLATIONS: Readonly<Record<AblationName, { share: boolean; masks: "learned" | "random" | "none" }>> = {
  "only-share": { share: true, masks: "none" },
  "only-mask": { share: false, masks: "learned" },
  "random-mask": { share: true, masks: "random" },
};

export function isAblation(name: MethodName): name is AblationName {
  return name === "only-share" || name === "only-mask" || name === "random-mask";
}
