/**
 * How a multi-task method with masks forms the mask task t uses at position p (paper Sec. 3.4
 * and the Table 11 ablations):
 *
 *   or     hybrid = layer mask[p] OR  task mask[t]   (the paper's rule, the default)
 *   and    hybrid = layer mask[p] AND task mask[t]
 *   layer  layer mask[p] alone: no task masks, every task shares the layer masks (each task
 *          keeps its own head) — Table 11's "layer mask only"
 *   task   task mask[t] alone, the same at every position: no layer masks — Table 11's
 *          "task mask only"
 *
 * A rule decides which masks exist at all: the trainable tree, the checkpoint state and the
 * storage report hold only those (`ruleMasks`). With one task there are only layer masks and
 * no rule. Nothing here loads the engine (`--help` reads the descriptions).
 */

/** Every rule, in the order help texts and errors list them. */
export const COMBINE_RULES = ["or", "and", "layer", "task"] as const;

export type CombineRule = (typeof COMBINE_RULES)[number];

/** The rules that combine two masks (elementwise). */
export type HybridRule = Extract<CombineRule, "or" | "and">;

/** One line per rule for `--help`. */
export const COMBINE_RULE_HELP: Readonly<Record<CombineRule, string>> = {
  or: "layer mask OR task mask (paper Sec. 3.4)",
  and: "layer mask AND task mask",
  layer: "layer masks only, shared by all tasks (Table 11)",
  task: "task masks only, each at every position (Table 11)",
};

export function isCombineRule(value: unknown): value is CombineRule {
  return typeof value === "string" && (COMBINE_RULES as readonly string[]).includes(value);
}

/** `"or", "and", "layer" or "task"`: the accepted values, for error messages. */
export function combineRuleList(): string {
  const q = COMBINE_RULES.map((r) => `"${r}"`);
  return `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

/** Which masks a multi-task method with masks keeps under a rule. */
export function ruleMasks(rule: CombineRule): { layer: boolean; task: boolean } {
  return { layer: rule !== "task", task: rule !== "layer" };
}

/**
 * The mask of one (position, task) under `rule`, from the masks the rule keeps (`layer` /
 * `task` undefined where the rule has none): the one mask for "layer" / "task", else
 * `combine(layer, task, rule)`. Works for device arrays and host bits alike.
 */
export function ruleMask<M>(rule: CombineRule, layer: M | undefined, task: M | undefined, combine: (layer: M, task: M, rule: HybridRule) => M): M {
  const want = ruleMasks(rule);
  if (want.layer && layer === undefined) throw new Error(`combine rule "${rule}" needs a layer mask`);
  if (want.task && task === undefined) throw new Error(`combine rule "${rule}" needs a task mask`);
  if (rule === "layer") return layer as M;
  if (rule === "task") return task as M;
  return combine(layer as M, task as M, rule);
}
