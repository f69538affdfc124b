/**
 * Build any method from a `MethodConfig`: validate it and fill the defaults of the method
 * table (methods.ts, which lists every method, its layout and defaults), then construct the
 * modular engine (propetl.ts) or full fine-tuning (full.ts). Options a method does not use
 * are validated and then dropped from the resolved config (which is what
 * adapter_config.json stores).
 */
import { combineRuleList, isCombineRule, ruleMasks } from "./combine-rule.js";
import { FullFineTuning } from "./full.js";
import { checkK } from "./mask.js";
import type { MethodConfig, ModuleKind, ModuleOptions, PetlMethod, Unit } from "./method.js";
import {
  METHODS,
  METHOD_DEFAULTS,
  MODULE_FAMILIES,
  MODULE_OPTIONS,
  MODULE_OPTION_NAMES,
  MethodConfigError,
  checkFamily,
  checkMethodName,
  methodLayout,
  moduleOptionDefault,
  plainMethodName,
} from "./methods.js";
import type { ModuleOptionName } from "./methods.js";
import { ModularMethod, moduleKind } from "./propetl.js";
import type { ModelConfig } from "../models/architecture.js";
import type { PrefixSource } from "./prefix.js";

const TASK_NAME = /^[A-Za-z0-9_-]+$/;

/** Throws unless a given module option has its type (a positive integer or number). */
function checkModuleOption(c: MethodConfig, key: ModuleOptionName): void {
  const v = c[key];
  if (v === undefined) return;
  const int = MODULE_OPTIONS[key].type === "int";
  const ok = typeof v === "number" && (int ? Number.isSafeInteger(v) : Number.isFinite(v)) && v > 0;
  if (!ok) throw new MethodConfigError(`${c.method}: ${key} must be a positive ${int ? "integer" : "number"}, got ${JSON.stringify(v)}`);
}

/** Validate a config and fill its defaults (methods.ts). Errors are MethodConfigError. */
export function resolveMethodConfig(c: MethodConfig): MethodConfig {
  if (typeof c !== "object" || c === null) throw new MethodConfigError(`method config must be an object, got ${JSON.stringify(c)}`);
  const method = checkMethodName(c.method);
  const prefixed = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new MethodConfigError(`${method}: ${(e as Error).message}`);
    }
  };
  if (c.base !== undefined) prefixed(() => checkFamily(c.base));
  if (c.tasks !== undefined) {
    if (!Array.isArray(c.tasks) || c.tasks.length === 0) throw new MethodConfigError(`${method}: tasks must be a non-empty array of names`);
    const seen = new Set<string>();
    for (const t of c.tasks) {
      if (typeof t !== "string" || !TASK_NAME.test(t)) throw new MethodConfigError(`${method}: task name ${JSON.stringify(t)} must match ${TASK_NAME} (it is used in tensor names)`);
      if (seen.has(t)) throw new MethodConfigError(`${method}: task name "${t}" appears twice`);
      seen.add(t);
    }
  }
  if (c.combine !== undefined && !isCombineRule(c.combine)) {
    throw new MethodConfigError(`${method}: combine must be ${combineRuleList()}, got ${JSON.stringify(c.combine)}`);
  }
  if (c.seed !== undefined && !Number.isSafeInteger(c.seed)) throw new MethodConfigError(`${method}: seed must be an integer, got ${JSON.stringify(c.seed)}`);
  for (const key of MODULE_OPTION_NAMES) checkModuleOption(c, key);
  if (c.k !== undefined) prefixed(() => checkK(c.k, "k"));
  if (c.taskK !== undefined) prefixed(() => checkK(c.taskK, "taskK"));

  const layout = methodLayout(c);
  const out: MethodConfig = { method };
  if (METHODS[method].family === "base" && layout.kind !== null) out.base = layout.kind;
  if (layout.kind !== null) for (const key of MODULE_FAMILIES[layout.kind].options) out[key] = c[key] ?? moduleOptionDefault(key, layout.masks);
  const multi = (c.tasks?.length ?? 1) > 1;
  if (layout.masks !== "none") {
    // Several tasks: the rule decides which masks exist, and so which kept fractions apply.
    const rule = c.combine ?? METHOD_DEFAULTS.combine;
    const masks = multi ? ruleMasks(rule) : { layer: true, task: false };
    if (masks.layer) out.k = c.k ?? (multi ? METHOD_DEFAULTS.multiTaskK : METHOD_DEFAULTS.k);
    if (masks.task) out.taskK = c.taskK ?? METHOD_DEFAULTS.taskK;
    if (multi) out.combine = rule;
  }
  if (c.tasks !== undefined) out.tasks = [...c.tasks];
  if (layout.masks === "random") out.seed = c.seed ?? METHOD_DEFAULTS.seed;
  return out;
}

/** The module options of a resolved config (unused ones 0). */
export function moduleOptions(c: MethodConfig): ModuleOptions {
  return {
    bottleneck: c.bottleneck ?? 0,
    rank: c.rank ?? 0,
    alpha: c.alpha ?? 0,
    prefixLength: c.prefixLength ?? 0,
    prefixHidden: c.prefixHidden ?? 0,
  };
}

/**
 * The module sizes of a config that carry over to another method of the same family (what a
 * storage comparison keeps equal): its family's options whose default does not depend on the
 * masks (so not LoRA's alpha).
 */
export function moduleSizes(c: MethodConfig): Partial<Pick<MethodConfig, ModuleOptionName>> {
  const { kind } = methodLayout(c);
  const out: Partial<Pick<MethodConfig, ModuleOptionName>> = {};
  if (kind === null) return out;
  for (const key of MODULE_FAMILIES[kind].options) {
    const v = c[key];
    if (v !== undefined && MODULE_OPTIONS[key].maskedDefault === undefined) out[key] = v;
  }
  return out;
}

/** The plain counterpart of a config (ProPETL-LoRA → LoRA, an ablation → its base) with the same module sizes, or null. */
export function plainCounterpart(c: MethodConfig): MethodConfig | null {
  const resolved = resolveMethodConfig(c);
  const plain = plainMethodName(resolved);
  return plain === null ? null : resolveMethodConfig({ method: plain, ...moduleSizes(resolved) });
}

/**
 * A method from a config (validated, defaults filled: `method.config` is the resolved config).
 * With `encoderConfig` the method is also bound to that backbone (see `PetlMethod.bind`).
 */
export function createMethod(config: MethodConfig, encoderConfig?: ModelConfig): PetlMethod<unknown> {
  const c = resolveMethodConfig(config);
  const layout = methodLayout(c);
  if (layout.kind === null) return new FullFineTuning(c) as PetlMethod<unknown>;
  const options = {
    config: c,
    module: moduleOptions(c),
    share: layout.share,
    masks: layout.masks,
    k: c.k ?? 1,
    taskK: c.taskK ?? 1,
    combine: c.combine ?? METHOD_DEFAULTS.combine,
    tasks: c.tasks ?? ["default"],
    ...(c.seed !== undefined ? { maskSeed: c.seed } : {}),
  };
  const kind = moduleKind(layout.kind);
  const method = (kind.name === "prefix"
    ? new ModularMethod(kind as ModuleKind<PrefixSource>, options)
    : new ModularMethod(kind as ModuleKind<Unit[]>, options)) as PetlMethod<unknown>;
  if (encoderConfig) method.bind(encoderConfig);
  return method;
}
