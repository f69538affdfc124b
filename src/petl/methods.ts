/**
 * THE method table: every fine-tuning method propetl knows, written once. The registry
 * (`createMethod`, `resolveMethodConfig`, `methodLayout`), validation and its messages, the
 * CLI (method flags, `--help`'s method list and defaults, learning-rate defaults), task
 * checkpoints (adapter_config.json keys and validation) and the storage report (labels, the
 * paper's Appendix B references) all read it. Nothing here loads the engine, so `--help`
 * stays instant.
 *
 * | method          | family  | shared | masks   | defaults                                 | plain   |
 * |-----------------|---------|--------|---------|------------------------------------------|---------|
 * | adapter         | adapter | no     | none    | bottleneck 64                            |         |
 * | houlsby         | houlsby | no     | none    | bottleneck 64                            |         |
 * | lora            | lora    | no     | none    | rank 32, alpha 32                        |         |
 * | prefix          | prefix  | no     | none    | prefixLength 64, prefixHidden 512        |         |
 * | full            | —       | —      | none    |                                          |         |
 * | propetl-adapter | adapter | yes    | learned | bottleneck 64, k 0.5                     | adapter |
 * | propetl-houlsby | houlsby | yes    | learned | bottleneck 64, k 0.5                     | houlsby |
 * | propetl-lora    | lora    | yes    | learned | rank 32, alpha 48, k 0.5                 | lora    |
 * | propetl-prefix  | prefix  | yes    | learned | prefixLength 64, prefixHidden 512, k 0.5 | prefix  |
 * | only-share      | base    | yes    | none    | base adapter                             | base    |
 * | only-mask       | base    | no     | learned | base adapter, k 0.5                      | base    |
 * | random-mask     | base    | yes    | random  | base adapter, k 0.5, seed 0              | base    |
 *
 * This is a summary of `METHOD_TABLE` and `METHOD_DEFAULTS` below (test/petl/methods.test.ts
 * and registry.test.ts check the defaults every method resolves to). "base": the ablations apply to the module
 * `MethodConfig.base` names (default adapter).
 *
 * Paper values (Sec. 4): bottleneck 64, LoRA r = alpha = 32 (alpha 48 with masks), prefix
 * length 64, k 0.5; with several tasks k = taskK = 0.3 and the OR rule (Sec. 3.4). The prefix
 * MLP width 512 is AdapterHub's default. The authors' LoRA and prefix scripts use k = 0.1;
 * pass it explicitly to reproduce them. Learning rates (App. C.2, Table 8): module 1e-4 (full
 * fine-tuning 2e-5), mask scores 3e-3 (LoRA-based 3e-2), head = module.
 *
 * The ablations (paper Table 4, Sec. 6), as settings of the modular engine (propetl.ts):
 * - only-share: ONE module shared by every layer, no masks.
 * - only-mask: one module per layer, each pruned by its own learned mask (top-k of |scores|,
 *   straight-through), no sharing. Its checkpoint keeps only the kept entries plus the mask
 *   bits that place them; the paper's count (App. B eqs. 15, 17, 19) omits the masks.
 * - random-mask: the ProPETL layout (one prototype, a mask per layer) with FIXED random masks
 *   drawn from a seeded host RNG (`MethodConfig.seed`, default 0, so the masks follow from the
 *   config alone), each with exactly n − ⌊(1−k)·n⌋ ones; only the prototype trains.
 */
import type { CombineRule } from "./combine-rule.js";
import type { MethodConfig, ModuleOptions, ParamGroup } from "./method.js";

/** Default learning rate of the "module" group (paper App. C.2: "the PETL module ... 1e-4"). */
const MODULE_LR = 1e-4;

/**
 * The PETL module families (adapter.ts, lora.ts, prefix.ts): the options each one uses, the
 * learning rate of mask scores over it (paper Table 8), and the paper's Appendix B equation
 * for it shared with masks (ProPETL) and pruned per layer (only-mask).
 */
export const MODULE_FAMILIES = {
  adapter: { options: ["bottleneck"], scoresLr: 3e-3, appendixB: { shared: "eq. 14", pruned: "eq. 15" } },
  houlsby: { options: ["bottleneck"], scoresLr: 3e-3, appendixB: { shared: "eq. 14, two adapter positions per layer", pruned: "eq. 15, two adapters per layer" } },
  lora: { options: ["rank", "alpha"], scoresLr: 3e-2, appendixB: { shared: "eq. 16", pruned: "eq. 17" } },
  prefix: { options: ["prefixLength", "prefixHidden"], scoresLr: 3e-3, appendixB: { shared: "eq. 18", pruned: "eq. 19" } },
} as const;

export type ModuleFamily = keyof typeof MODULE_FAMILIES;

/** The families in table order (also the accepted values of `MethodConfig.base`). */
export const FAMILY_NAMES = Object.keys(MODULE_FAMILIES) as ModuleFamily[];

/** How a method masks its modules: learned top-k masks, fixed random ones, or none. */
export type MaskMode = "learned" | "random" | "none";

/** Which Appendix B count a method follows: ProPETL's shared prototype, or only-mask's pruning. */
export type AppendixBCount = "shared" | "pruned";

/** One method of the table. */
export interface MethodRow {
  /** Display name, e.g. "ProPETL-adapter". */
  label: string;
  /** One line for `--help`. */
  description: string;
  /** Module family; "base": the config's `base` (the ablations); null: full fine-tuning. */
  family: ModuleFamily | "base" | null;
  /** One prototype for every position (true) or one module per position. */
  share: boolean;
  /** How it masks its modules. */
  masks: MaskMode;
  /** The method without sharing and masks (storage comparisons); "base": the base's. */
  plain: MethodName | "base" | null;
  /** The paper's Appendix B count it follows, if any. */
  appendixB: AppendixBCount | null;
  /** Optimizer groups its trainable tree (with the head) has, and the default module learning rate. */
  groups: readonly ParamGroup[];
  /** Default learning rate of the "module" group (`defaultLearningRates` gives every group's). */
  moduleLr: number;
}

const MODULE_HEAD: readonly ParamGroup[] = ["module", "head"];
const WITH_SCORES: readonly ParamGroup[] = ["module", "scores", "head"];

/** Every method, in the order help texts and errors list them. */
const METHOD_TABLE = {
  adapter: {
    label: "adapter",
    description: "Pfeiffer bottleneck adapter after the FFN of every layer",
    family: "adapter", share: false, masks: "none", plain: null, appendixB: null, groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
  houlsby: {
    label: "Houlsby adapter",
    description: "two adapters per layer, after the attention output and the FFN",
    family: "houlsby", share: false, masks: "none", plain: null, appendixB: null, groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
  lora: {
    label: "LoRA",
    description: "low-rank updates of every layer's query and value projections",
    family: "lora", share: false, masks: "none", plain: null, appendixB: null, groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
  prefix: {
    label: "prefix-tuning",
    description: "reparametrised key/value prefixes in every layer (MLP dropped after training)",
    family: "prefix", share: false, masks: "none", plain: null, appendixB: null, groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
  full: {
    label: "full fine-tuning",
    description: "every backbone parameter trains and is stored",
    family: null, share: false, masks: "none", plain: null, appendixB: null, groups: MODULE_HEAD, moduleLr: 2e-5,
  },
  "propetl-adapter": {
    label: "ProPETL-adapter",
    description: "one adapter prototype shared by all layers, a learned mask per layer",
    family: "adapter", share: true, masks: "learned", plain: "adapter", appendixB: "shared", groups: WITH_SCORES, moduleLr: MODULE_LR,
  },
  "propetl-houlsby": {
    label: "ProPETL-Houlsby",
    description: "one adapter prototype for both positions of every layer, a mask per position",
    family: "houlsby", share: true, masks: "learned", plain: "houlsby", appendixB: "shared", groups: WITH_SCORES, moduleLr: MODULE_LR,
  },
  "propetl-lora": {
    label: "ProPETL-LoRA",
    description: "one LoRA prototype shared by all layers, a learned mask per layer",
    family: "lora", share: true, masks: "learned", plain: "lora", appendixB: "shared", groups: WITH_SCORES, moduleLr: MODULE_LR,
  },
  "propetl-prefix": {
    label: "ProPETL-prefix",
    description: "one reparametrised prefix shared by all layers, a learned mask per layer",
    family: "prefix", share: true, masks: "learned", plain: "prefix", appendixB: "shared", groups: WITH_SCORES, moduleLr: MODULE_LR,
  },
  "only-share": {
    label: "only-share",
    description: "ablation: one --base module shared by all layers, no masks",
    family: "base", share: true, masks: "none", plain: "base", appendixB: null, groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
  "only-mask": {
    label: "only-mask",
    description: "ablation: a --base module per layer, pruned by its own learned mask",
    family: "base", share: false, masks: "learned", plain: "base", appendixB: "pruned", groups: WITH_SCORES, moduleLr: MODULE_LR,
  },
  "random-mask": {
    label: "random-mask",
    description: "ablation: the ProPETL layout with fixed seeded random masks",
    family: "base", share: true, masks: "random", plain: "base", appendixB: "shared", groups: MODULE_HEAD, moduleLr: MODULE_LR,
  },
} as const;

/** A method's name: a key of the method table (`METHOD_NAMES` lists them, `METHODS` describes them). */
export type MethodName = keyof typeof METHOD_TABLE;

/** The table, typed: every row is checked against `MethodRow` here. */
export const METHODS: Readonly<Record<MethodName, MethodRow>> = METHOD_TABLE;

/** Every method name, in table order. */
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

/** The method the CLI trains when `--method` is not given. */
export const DEFAULT_METHOD: MethodName = "propetl-adapter";

/** Option defaults (paper Sec. 4; see the file comment). `maskedAlpha`: LoRA alpha with masks. */
export const METHOD_DEFAULTS = {
  /** Adapter bottleneck width. */
  bottleneck: 64,
  /** LoRA rank. */
  rank: 32,
  /** LoRA alpha without masks (scaling alpha / rank). */
  alpha: 32,
  /** LoRA alpha for the methods with masks. */
  maskedAlpha: 48,
  /** Prefix length (positions). */
  prefixLength: 64,
  /** Hidden width of the prefix reparametrisation MLP. */
  prefixHidden: 512,
  /** Kept fraction of each layer mask, single task. */
  k: 0.5,
  /** Kept fraction of each layer mask, multi-task. */
  multiTaskK: 0.3,
  /** Kept fraction of each task mask (multi-task). */
  taskK: 0.3,
  /** How layer and task masks combine (multi-task). */
  combine: "or" as CombineRule,
  /** The module family the ablations apply to. */
  base: "adapter",
  /** Seed of random-mask's fixed masks. */
  seed: 0,
} as const;

/** The module-size options of `MethodConfig` the families use (the modules' `ModuleOptions`). */
export type ModuleOptionName = keyof ModuleOptions;

/** How each module option is spelt (CLI flag, adapter_config.json key), typed and described. */
export interface ModuleOptionInfo {
  flag: string;
  file: string;
  /** "int": a positive integer; "number": a positive number. */
  type: "int" | "number";
  help: string;
  /** Symbol in storage reports, for options that shape the stored state. */
  symbol?: string;
  /** The default differs with masks (LoRA's alpha: `maskedAlpha`). */
  maskedDefault?: number;
}

export const MODULE_OPTIONS: Readonly<Record<ModuleOptionName, ModuleOptionInfo>> = {
  bottleneck: { flag: "bottleneck", file: "bottleneck", type: "int", help: "adapter bottleneck", symbol: "bn" },
  rank: { flag: "rank", file: "rank", type: "int", help: "LoRA rank", symbol: "r" },
  alpha: { flag: "alpha", file: "alpha", type: "number", help: "LoRA alpha", maskedDefault: METHOD_DEFAULTS.maskedAlpha },
  prefixLength: { flag: "prefix-length", file: "prefix_length", type: "int", help: "prefix length", symbol: "l" },
  prefixHidden: { flag: "prefix-hidden", file: "prefix_hidden", type: "int", help: "prefix reparametrisation MLP width" },
};

export const MODULE_OPTION_NAMES = Object.keys(MODULE_OPTIONS) as ModuleOptionName[];

/** Default of a module option for a method with or without masks. */
export function moduleOptionDefault(name: ModuleOptionName, masks: MaskMode): number {
  return (masks !== "none" ? MODULE_OPTIONS[name].maskedDefault : undefined) ?? METHOD_DEFAULTS[name];
}

/** Invalid method configs; the message names the option and what it accepts. */
export class MethodConfigError extends Error {
  /** Always "MethodConfigError". */
  override name = "MethodConfigError";
}

/** A method name, or an error listing the accepted names. */
export function checkMethodName(name: unknown): MethodName {
  if (typeof name !== "string" || !Object.hasOwn(METHODS, name)) {
    throw new MethodConfigError(`unknown method ${JSON.stringify(name)}; accepted: ${METHOD_NAMES.join(", ")}`);
  }
  return name as MethodName;
}

/** A module family (the ablations' `base`), or an error listing the accepted ones. */
export function checkFamily(value: unknown, what = "base"): ModuleFamily {
  if (typeof value !== "string" || !Object.hasOwn(MODULE_FAMILIES, value)) {
    throw new MethodConfigError(`${what} must be one of ${FAMILY_NAMES.join(", ")}; got ${JSON.stringify(value)}`);
  }
  return value as ModuleFamily;
}

/** The ablation methods: the rows whose family is the config's `base`. */
export type AblationName = { [N in MethodName]: (typeof METHOD_TABLE)[N]["family"] extends "base" ? N : never }[MethodName];

export function isAblation(name: MethodName): name is AblationName {
  return METHODS[name].family === "base";
}

/** Sharing and masking of each ablation (paper Table 4). */
export const ABLATIONS = Object.fromEntries(
  METHOD_NAMES.filter(isAblation).map((n) => [n, { share: METHODS[n].share, masks: METHODS[n].masks }]),
) as Readonly<Record<AblationName, { share: boolean; masks: MaskMode }>>;

/** How a method is built: its module family (null: full fine-tuning), sharing and masks. */
export interface MethodLayout {
  kind: ModuleFamily | null;
  share: boolean;
  masks: MaskMode;
}

/** The layout of a method, with an ablation's `base` resolved (default adapter). */
export function methodLayout(config: Pick<MethodConfig, "method" | "base">): MethodLayout {
  const row = METHODS[checkMethodName(config.method)];
  const kind = row.family === "base" ? (config.base === undefined ? METHOD_DEFAULTS.base : checkFamily(config.base)) : row.family;
  return { kind, share: row.share, masks: row.masks };
}

/** Display name: "ProPETL-LoRA", or an ablation with its base, "only-mask (LoRA)". */
export function methodLabel(config: Pick<MethodConfig, "method" | "base">): string {
  const row = METHODS[checkMethodName(config.method)];
  const { kind } = methodLayout(config);
  return row.family === "base" && kind !== null ? `${row.label} (${METHODS[kind].label})` : row.label;
}

/** The plain counterpart's name (propetl-lora → lora; an ablation → its base), or null. */
export function plainMethodName(config: Pick<MethodConfig, "method" | "base">): MethodName | null {
  const row = METHODS[checkMethodName(config.method)];
  if (row.plain === "base") return methodLayout(config).kind;
  return row.plain;
}

/** Default learning rates of a method: the module's and the mask scores' (unused without scores). */
export function defaultLearningRates(config: Pick<MethodConfig, "method" | "base">): {
  /** The module group's learning rate. */
  lr: number;
  /** The mask scores' learning rate. */
  maskLr: number;
} {
  const row = METHODS[checkMethodName(config.method)];
  const { kind } = methodLayout(config);
  return { lr: row.moduleLr, maskLr: MODULE_FAMILIES[kind ?? METHOD_DEFAULTS.base].scoresLr };
}

/**
 * The defaults a method fills (single task), in `MethodConfig` keys: e.g. propetl-lora →
 * { rank: 32, alpha: 48, k: 0.5 }; an ablation also gets its base.
 */
export function methodDefaults(config: Pick<MethodConfig, "method" | "base">): Partial<Record<ModuleOptionName | "k" | "base" | "seed", number | string>> {
  const row = METHODS[checkMethodName(config.method)];
  const { kind, masks } = methodLayout(config);
  const out: Partial<Record<ModuleOptionName | "k" | "base" | "seed", number | string>> = {};
  if (row.family === "base" && kind !== null) out.base = kind;
  if (kind !== null) for (const o of MODULE_FAMILIES[kind].options) out[o] = moduleOptionDefault(o, masks);
  if (masks !== "none") out.k = METHOD_DEFAULTS.k;
  if (masks === "random") out.seed = METHOD_DEFAULTS.seed;
  return out;
}
