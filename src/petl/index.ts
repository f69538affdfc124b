/**
 * PETL methods and ProPETL: build a method with `createMethod(config)`, train its tree with
 * the hooks it gives, save a task checkpoint, and predict from materialised modules. Every
 * method and its defaults are in the method table (methods.ts).
 */
export type {
  HookContext,
  Materialized,
  Method,
  MethodConfig,
  MethodName,
  MethodState,
  ModuleKind,
  ModuleKindName,
  ModuleOptions,
  ParamGroup,
  PetlMethod,
  StateSpec,
  TensorSpec,
  Unit,
} from "./method.js";
export { ADAPTER_KIND, HOULSBY_KIND, adapterForward, bottleneck, linearMasked } from "./adapter.js";
export type { AdapterInput } from "./adapter.js";
export { LORA_KIND, loraDelta, loraScaling, mergeLora } from "./lora.js";
export { PREFIX_KIND, reparametrise, splitKeyValue } from "./prefix.js";
export type { PrefixSource } from "./prefix.js";
export { FullFineTuning } from "./full.js";
export type { FullParams } from "./full.js";
export { ModularMethod, disposeMaterialized, materializedHooks, moduleKind } from "./propetl.js";
export type { ModularOptions, ModularParams } from "./propetl.js";
export {
  ABLATIONS,
  DEFAULT_METHOD,
  FAMILY_NAMES,
  METHODS,
  METHOD_DEFAULTS,
  METHOD_NAMES,
  MODULE_FAMILIES,
  MODULE_OPTIONS,
  MethodConfigError,
  checkFamily,
  checkMethodName,
  defaultLearningRates,
  isAblation,
  methodDefaults,
  methodLabel,
  methodLayout,
  plainMethodName,
} from "./methods.js";
export type { AblationName, MaskMode, MethodLayout, MethodRow, ModuleFamily, ModuleOptionInfo, ModuleOptionName } from "./methods.js";
export { createMethod, moduleOptions, moduleSizes, plainCounterpart, resolveMethodConfig } from "./registry.js";
export {
  HostRng,
  SharedValue,
  checkK,
  combineMasks,
  combineMasksHost,
  fanIn,
  kaimingUniform,
  keptCount,
  randomMaskHost,
  straightThroughMask,
  topKMask,
  topKMaskHost,
} from "./mask.js";
export { COMBINE_RULES, isCombineRule, ruleMask, ruleMasks } from "./combine-rule.js";
export type { CombineRule, HybridRule } from "./combine-rule.js";
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CONFIG_FILE,
  CheckpointError,
  MODEL_FILE,
  backboneSummary,
  checkpointBudget,
  loadTaskCheckpoint,
  saveTaskCheckpoint,
} from "./checkpoint.js";
export type { AdapterConfigFile, BackboneSummary, LoadCheckpointOptions, LoadedCheckpoint, SaveCheckpointOptions } from "./checkpoint.js";
