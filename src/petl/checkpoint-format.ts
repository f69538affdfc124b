/**
 * Task checkpoints: what a trained task needs at prediction, and nothing else (no scores, no
 * optimizer state, no reparametrisation MLP). A checkpoint is a folder with
 *
 * `adapter_config.json`
 *   { format: "propetl-task", format_version: 2, method, module: {bottleneck | rank, alpha |
 *     prefix_length, prefix_hidden | base, seed}, k, task_k, combine ("or" | "and" | "layer" |
 *     "task", combine-rule.ts; null where unused: k without layer masks, task_k without task masks),
 *     hook_points ["encoder.layer.0.ffn_output", ...] (sites by stack, layer and site:
 *     models/hooks.ts), tasks [...], label_names {task: [...]},
 *     dtype "F32" | "F16", backbone {model_type, hidden_size, num_hidden_layers, ...},
 *     stacks {encoder: L_enc, decoder: L_dec} (the backbone's layer stacks) }
 *   A backbone without a classification head (T5) has no head tensors and `label_names` {}:
 *   its checkpoint holds the PETL modules alone, turned into the hooks a forward pass or
 *   generation takes by `checkpointHooks`.
 *
 * `adapter_model.safetensors`
 *   - the method state (see `PetlMethod.stateSpec`): `prototype.<t>` (ProPETL, only-share,
 *     random-mask), `<stack>.layer.<i>.<position>.<t>` (per-layer modules; only-mask keeps just the
 *     kept entries, 1-D), `backbone.<hf name>` (full fine-tuning); F32, or F16 on request;
 *   - masks BIT-PACKED: `mask.<stack>.layer.<i>.<position>.<t>` and `mask.task.<task>.<t>` as U8
 *     [⌈n/8⌉] (1 bit per entry, LSB first, io/bitpack.ts); each mask's shape is in
 *     `__metadata__` under its tensor name, as JSON ("[64,768]");
 *   - the head, F32: `head.dense.weight|bias`, `head.out_proj.weight|bias` (one task) or
 *     `head.<task>.…` (several).
 *
 * Version 1 (before encoder–decoder backbones) named layers without their stack
 * (`layer.3.ffn_output`, `mask.layer.3...`); it is read as version 2 with every layer in the
 * encoder stack.
 *
 * Loading validates the version, the method config, the hook points, the backbone (against
 * the caller's config when given), and every tensor's name, dtype and shape (errors name
 * them); unknown tensors are an error. Prediction from a loaded checkpoint builds each
 * layer's masked module once per task (`materialize`).
 *
 * This module is the format, platform-free: what the files hold (`checkpointContents`,
 * `checkpointBytes`) and their validation into a loaded checkpoint (`checkpointFromParts`,
 * which `loadTaskCheckpoint` on Node (checkpoint.ts) and the byte and URL loaders
 * (checkpoint-bytes.ts) all call).
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { packBits, packedByteLength, unpackBits } from "../io/bitpack.js";
import { parseSafetensors, serializeSafetensors, weightsFloat32 } from "../io/safetensors-format.js";
import type { SafetensorsFile, TensorEntry, TensorInput } from "../io/safetensors-format.js";
import { layerAddresses } from "../models/architecture.js";
import { siteName } from "../models/hooks.js";
import type { ModelHooks, Stack } from "../models/hooks.js";
import type { BackboneParams, ModelConfig } from "../models/architecture.js";
import { CLASSIFIER_MODEL_TYPES, MODEL_TYPES, architectureFor, architectureOf, isClassifierConfig, parseModelConfig } from "../models/registry.js";
import type { HeadParams } from "../models/bert/params.js";
import { COMBINE_RULES, isCombineRule } from "./combine-rule.js";
import type { CombineRule } from "./combine-rule.js";
import { countHeadParams, stateBits } from "./storage.js";
import type { Materialized, MethodConfig, MethodName, MethodState, PetlMethod } from "./method.js";
import { MODULE_OPTIONS, MODULE_OPTION_NAMES, checkMethodName } from "./methods.js";
import { disposeMaterialized, materializedHooks } from "./propetl.js";
import { createMethod, resolveMethodConfig } from "./registry.js";
import { checkJsonDepth } from "../io/json-depth.js";
import { keptCount } from "./mask.js";
import { parseJsonBytes } from "../io/json-bytes.js";

export const CHECKPOINT_FORMAT = "propetl-task";
export const CHECKPOINT_VERSION = 2;
/** Versions `loadTaskCheckpoint` reads (1: layers named without their stack). */
export const READABLE_CHECKPOINT_VERSIONS: readonly number[] = [1, 2];

/**
 * A version-2 tensor, mask or hook-point name as version 1 wrote it: every layer was an
 * encoder layer (`layer.3...`), and full fine-tuning's backbone tensors were `encoder.<hf name>`.
 */
function v1Name(name: string): string {
  return name.replace(/^backbone\./, "encoder.").replace(/^(mask\.)?encoder\.layer\./, "$1layer.");
}
export const CONFIG_FILE = "adapter_config.json";
export const MODEL_FILE = "adapter_model.safetensors";

/** A task checkpoint that cannot be written or loaded (missing file, unknown or missing key, wrong shape, invalid mask); the message names the file and what was expected. */
export class CheckpointError extends Error {
  /** Always "CheckpointError". */
  override name = "CheckpointError";
}

/**
 * The backbone summary stored in adapter_config.json: `model_type` and the config.json keys
 * its architecture names (`Architecture.summaryKeys`), with their config.json values.
 */
export type BackboneSummary = {
  /** config.json `model_type`. */
  model_type: string;
} & Record<string, string | number>;

/** adapter_config.json. */
export interface AdapterConfigFile {
  /** Always `CHECKPOINT_FORMAT`. */
  format: typeof CHECKPOINT_FORMAT;
  /** The file layout's version (1: layer names without a stack; 2: `encoder.layer.N`, `decoder.layer.N`). */
  format_version: number;
  /** The method that trained it. */
  method: MethodName;
  /** The module options the method uses (`MethodConfig`'s, in snake case). */
  module: {
    /** Adapter bottleneck width. */
    bottleneck?: number;
    /** LoRA rank. */
    rank?: number;
    /** LoRA alpha. */
    alpha?: number;
    /** Prefix length. */
    prefix_length?: number;
    /** Prefix reparametrisation MLP width. */
    prefix_hidden?: number;
    /** The ablations' module family. */
    base?: string;
    /** Random-mask's seed. */
    seed?: number;
  };
  /** Kept fraction of each layer mask; null for methods without masks. */
  k: number | null;
  /** Kept fraction of each task mask (multi-task); null otherwise. */
  task_k: number | null;
  /** Multi-task with masks: which masks there are and how they combine (combine-rule.ts). */
  combine: CombineRule | null;
  /** The hook sites the modules attach to, by stack, layer and site (`encoder.layer.0.ffn_output`). */
  hook_points: string[];
  /** Task names, in task-index order. */
  tasks: string[];
  /** Label names per task ({} for backbones without a classification head). */
  label_names: Record<string, string[]>;
  /** Storage type of the method's float tensors (the heads are F32). */
  dtype: "F32" | "F16";
  /** The backbone it was trained on, checked on loading. */
  backbone: BackboneSummary;
  /** Layers per stack of the backbone (absent in files written before encoder–decoder checkpoints). */
  stacks?: Partial<Record<Stack, number>>;
  /**
   * Text-to-text tasks: the prefix prepended to every source text, per task (T5's
   * "translate Spanish to English: "); absent for classification checkpoints.
   */
  task_prefixes?: Record<string, string>;
  /**
   * Set by `export-task` on one task exported from a multi-task file of a shared method with
   * masks: each stored layer mask is the hybrid (layer mask `combine` that task's mask, kept
   * fraction `task_k`), so its popcount lies in the range the two top-k counts allow instead
   * of being exactly keptCount(n, k).
   */
  hybrid_masks?: {
    /** The task mask's kept fraction. */
    task_k: number;
    /** How the layer and task masks were combined. */
    combine: "or" | "and";
  };
}

/** Every key adapter_config.json may hold; any other is an error (a typo must not pass for a setting). */
const ADAPTER_CONFIG_KEYS = ["format", "format_version", "method", "module", "k", "task_k", "combine", "hook_points", "tasks", "label_names", "dtype", "backbone", "stacks", "task_prefixes", "hybrid_masks"] as const satisfies readonly (keyof AdapterConfigFile)[];

/** The layer stacks of a backbone, as adapter_config.json records them. */
function stackSummary(cfg: ModelConfig): Partial<Record<Stack, number>> {
  return Object.fromEntries(architectureOf(cfg).stacks(cfg).map((s) => [s.stack, s.layers]));
}

export function backboneSummary(cfg: ModelConfig): BackboneSummary {
  const arch = architectureOf(cfg);
  const json = arch.configToJson(cfg);
  const out: BackboneSummary = { model_type: cfg.modelType };
  for (const key of arch.summaryKeys) {
    const v = json[key];
    if (typeof v === "string" || typeof v === "number") out[key] = v;
  }
  return out;
}

function hookPointList(method: PetlMethod<unknown>, cfg: ModelConfig): string[] {
  const out: string[] = [];
  const arch = architectureOf(cfg);
  for (const at of layerAddresses(arch, cfg)) for (const site of method.hookSites(arch.sites(at.stack))) out.push(siteName(at, site));
  return out;
}

/** The adapter_config.json `module` keys: the module options' file names, then base and seed. */
const MODULE_KEYS = [...MODULE_OPTION_NAMES.map((k) => MODULE_OPTIONS[k].file), "base", "seed"];

/** The adapter_config.json fields of a resolved method config (method, module, k, task_k, combine). */
export function adapterConfigFields(c: MethodConfig): Pick<AdapterConfigFile, "method" | "module" | "k" | "task_k" | "combine"> {
  const module: Record<string, number | string> = {};
  for (const key of MODULE_OPTION_NAMES) {
    const v = c[key];
    if (v !== undefined) module[MODULE_OPTIONS[key].file] = v;
  }
  if (c.base !== undefined) module.base = c.base;
  if (c.seed !== undefined) module.seed = c.seed;
  return { method: c.method, module: module as AdapterConfigFile["module"], k: c.k ?? null, task_k: c.taskK ?? null, combine: c.combine ?? null };
}

function headEntries(prefix: string, h: HeadParams): [string, JArray][] {
  return [
    [`${prefix}.dense.weight`, h.dense.w],
    [`${prefix}.dense.bias`, h.dense.b],
    [`${prefix}.out_proj.weight`, h.out.w],
    [`${prefix}.out_proj.bias`, h.out.b],
  ];
}

function headPrefix(tasks: string[], t: number): string {
  return tasks.length > 1 ? `head.${tasks[t]}` : "head";
}

/** Options of `saveTaskCheckpoint`. */
export interface SaveCheckpointOptions<T> {
  /** The method that trained `params`. */
  method: PetlMethod<T>;
  /** The trained tree (borrowed). */
  params: T;
  /** The backbone's config (summarised into adapter_config.json). */
  encoderConfig: ModelConfig;
  /**
   * One head per task, in the order of `method.config.tasks` (borrowed); none (empty or absent)
   * for a backbone without a classification head (T5).
   */
  heads?: HeadParams[];
  /** Label names per task; default the encoder config's (one task) or LABEL_i. */
  labelNames?: string[][];
  /** Storage type of the method's float tensors (the head stays F32). Default F32. */
  dtype?: "F32" | "F16";
  /** Text-to-text tasks: the source prefix of each task, in task order (adapter_config.json `task_prefixes`). */
  taskPrefixes?: string[];
}

/** What a checkpoint of trained parameters holds, on the host (checked: heads per task, dtype): `saveTaskCheckpoint` writes it. */
export async function checkpointState<T>(opts: SaveCheckpointOptions<T>): Promise<WriteCheckpointOptions> {
  const { method, encoderConfig: cfg } = opts;
  const tasks = method.config.tasks ?? ["default"];
  const dtype = opts.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "F16") throw new CheckpointError(`dtype must be "F32" or "F16", got ${JSON.stringify(dtype)}`);
  const heads = opts.heads ?? [];
  const headed = architectureOf(cfg).head !== null;
  if (!headed && heads.length > 0) throw new CheckpointError(`a ${architectureOf(cfg).name} backbone has no classification head, but ${heads.length} head(s) were given`);
  if (headed && heads.length !== tasks.length) throw new CheckpointError(`${tasks.length} task(s) (${tasks.join(", ")}) but ${heads.length} head(s)`);
  const state = await method.exportState(opts.params);
  const hostHeads: HostHead[] = [];
  for (const h of heads) hostHeads.push(await hostHead(h));
  return {
    method,
    state,
    encoderConfig: cfg,
    heads: hostHeads,
    ...(opts.labelNames ? { labelNames: opts.labelNames } : {}),
    dtype,
    ...(opts.taskPrefixes !== undefined ? { taskPrefixes: opts.taskPrefixes } : {}),
  };
}

/** A classification head on the host: each tensor's shape and F32 data. */
export type HostHead = Record<"dense.weight" | "dense.bias" | "out_proj.weight" | "out_proj.bias", { shape: number[]; data: Float32Array }>;

/** A device head copied to the host (borrowed). */
export async function hostHead(h: HeadParams): Promise<HostHead> {
  const out: Partial<HostHead> = {};
  for (const [name, arr] of headEntries("", h)) out[name.slice(1) as keyof HostHead] = { shape: [...arr.shape], data: (await arr.ref.data()) as Float32Array };
  return out as HostHead;
}

/** What `writeTaskCheckpoint` writes: a method's state (host) and the heads (host), as `saveTaskCheckpoint` would. */
export interface WriteCheckpointOptions {
  /** The method the state is of (its resolved config is written; bound or not). */
  method: PetlMethod<unknown>;
  state: MethodState;
  encoderConfig: ModelConfig;
  /** One head per task of `method.config.tasks`; none for a backbone without a head. */
  heads: HostHead[];
  labelNames?: string[][];
  dtype: "F32" | "F16";
  taskPrefixes?: string[];
  /** The state's layer masks are hybrids of a multi-task file's masks (export-task). */
  hybridMasks?: { taskK: number; combine: "or" | "and" };
}

/** The contents of a task checkpoint's two files: adapter_config.json's object, the tensors and metadata of adapter_model.safetensors. */
export interface CheckpointContents {
  config: AdapterConfigFile;
  tensors: Record<string, TensorInput>;
  metadata: Record<string, string>;
}

/** A task checkpoint's contents from a host state (the state is checked against the method's `stateSpec`, the masks' counts too). */
export function checkpointContents(opts: WriteCheckpointOptions): CheckpointContents {
  const { method, encoderConfig: cfg, state, heads, dtype } = opts;
  const tasks = method.config.tasks ?? ["default"];
  const headed = architectureOf(cfg).head !== null;
  if (!headed && heads.length > 0) throw new CheckpointError(`a ${architectureOf(cfg).name} backbone has no classification head, but ${heads.length} head(s) were given`);
  if (headed && heads.length !== tasks.length) throw new CheckpointError(`${tasks.length} task(s) (${tasks.join(", ")}) but ${heads.length} head(s)`);
  const spec = method.stateSpec(cfg);
  for (const [kind, want, got] of [["tensor", spec.tensors, state.tensors], ["mask", spec.masks, state.masks]] as const) {
    for (const [name, shape] of want) {
      const g = got.get(name);
      if (!g) throw new CheckpointError(`${method.config.method} state: missing ${kind} "${name}"`);
      if (!sameShape(g.shape, shape)) throw new CheckpointError(`${method.config.method} state: ${kind} "${name}" has shape [${g.shape.join(",")}], expected [${shape.join(",")}]`);
    }
    for (const name of got.keys()) if (!want.has(name)) throw new CheckpointError(`${method.config.method} state: unexpected ${kind} "${name}"`);
  }
  const labelNames: Record<string, string[]> = {};
  if (headed && isClassifierConfig(cfg)) tasks.forEach((t, i) => {
    const n = heads[i]["out_proj.weight"].shape[0];
    const given = opts.labelNames?.[i] ?? (tasks.length === 1 && cfg.labelNames?.length === n ? cfg.labelNames : undefined);
    const names = given ?? Array.from({ length: n }, (_, j) => `LABEL_${j}`);
    if (names.length !== n) throw new CheckpointError(`task "${t}": ${names.length} label names for a head with ${n} outputs`);
    labelNames[t] = [...names];
  });
  const tensors: Record<string, TensorInput> = {};
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, format_version: String(CHECKPOINT_VERSION) };
  for (const [name, t] of state.tensors) tensors[name] = { dtype, shape: t.shape, data: t.data };
  for (const [name, m] of state.masks) {
    tensors[name] = { dtype: "U8", shape: [packedByteLength(m.bits.length)], data: packBits(m.bits, { label: name }) };
    metadata[name] = JSON.stringify(m.shape);
  }
  heads.forEach((h, t) => {
    for (const [key, v] of Object.entries(h)) tensors[`${headPrefix(tasks, t)}.${key}`] = { dtype: "F32", shape: v.shape, data: v.data };
  });
  const file: AdapterConfigFile = {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    ...adapterConfigFields(method.config),
    hook_points: hookPointList(method, cfg),
    tasks: [...tasks],
    label_names: labelNames,
    dtype,
    backbone: backboneSummary(cfg),
    stacks: stackSummary(cfg),
  };
  if (opts.taskPrefixes !== undefined) {
    if (headed) throw new CheckpointError("task prefixes are for text-to-text (encoder–decoder) checkpoints, not classification heads");
    if (opts.taskPrefixes.length !== tasks.length) throw new CheckpointError(`${tasks.length} task(s) (${tasks.join(", ")}) but ${opts.taskPrefixes.length} task prefix(es)`);
    file.task_prefixes = Object.fromEntries(tasks.map((t, i) => [t, opts.taskPrefixes?.[i] ?? ""]));
  }
  if (opts.hybridMasks !== undefined) file.hybrid_masks = { task_k: opts.hybridMasks.taskK, combine: opts.hybridMasks.combine };
  checkMaskCounts(file, state.masks, (name) => new CheckpointError(`${method.config.method} state: ${name}`));
  return { config: file, tensors, metadata };
}

/** The text of adapter_config.json for a checkpoint's config (what the file writer writes). */
export function adapterConfigText(config: AdapterConfigFile): string {
  return JSON.stringify(config, null, 2) + "\n";
}

/**
 * A task checkpoint's two files as bytes, from trained parameters (borrowed), as
 * `saveTaskCheckpoint` writes them: for a page that stores or offers a trained task.
 */
export async function checkpointBytes<T>(opts: SaveCheckpointOptions<T>): Promise<{
  /** adapter_config.json (`CONFIG_FILE`): UTF-8 JSON, two-space indented, ending in a newline. */
  adapterConfig: Uint8Array;
  /**
   * adapter_model.safetensors (`MODEL_FILE`): the method's tensors in `opts.dtype` (default F32,
   * `SaveCheckpointOptions.dtype`), its masks bit-packed as U8, and the heads in F32.
   */
  weights: Uint8Array;
}> {
  const c = checkpointContents(await checkpointState(opts));
  return { adapterConfig: new TextEncoder().encode(adapterConfigText(c.config)), weights: serializeSafetensors(c.tensors, c.metadata, MODEL_FILE) };
}

/** A loaded checkpoint: the method (rebuilt from the config), its state and the heads. */
export interface LoadedCheckpoint {
  /** Where it came from (its folder or base URL), for messages. */
  source: string;
  /** adapter_config.json, validated. */
  config: AdapterConfigFile;
  /** The method, rebuilt from the config and bound to the backbone. */
  method: PetlMethod<unknown>;
  /** The backbone config it runs on (the caller's, or one built from the stored summary). */
  encoderConfig: ModelConfig;
  /** The stored tensors and masks, validated against the method's `stateSpec`. */
  state: MethodState;
  /**
   * Per task: label names and head (none for backbones without a classification head: `[]`,
   * null), and the source prefix of a text-to-text task ("" when the file names none).
   */
  tasks: {
    /** Task name. */
    name: string;
    /** Label names in id order. */
    labelNames: string[];
    /** The classification head; null without one (T5). */
    head: HeadParams | null;
    /** The text-to-text source prefix ("" when none). */
    prefix: string;
  }[];
  /** Index of a task by name or index (error naming the tasks otherwise). */
  taskIndex(task: string | number): number;
  /** Each layer's masked modules for one task, built once (owned by the caller). */
  materialize(task?: string | number): Materialized;
  /** Free the heads. */
  dispose(): void;
}

function fail(file: string, msg: string): never {
  throw new CheckpointError(`${file}: ${msg}`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The backbone config a summary describes (enough for shapes), parsed by its architecture. */
function configFromSummary(file: string, b: Record<string, unknown>): ModelConfig {
  let cfg: ModelConfig;
  try {
    cfg = parseModelConfig({ ...b, pad_token_id: 0 }, `${file}: "backbone"`).config;
  } catch (e) {
    return fail(file, (e as Error).message.replace(`${file}: "backbone": `, `"backbone": `));
  }
  return cfg;
}

/** Validate a parsed adapter_config.json (`file` names it in errors); the method config is checked by `loadTaskCheckpoint`. */
export function parseAdapterConfig(file: string, json: unknown): AdapterConfigFile {
  if (!isRecord(json)) fail(file, "expected a JSON object");
  const unknownKey = Object.keys(json).find((key) => !(ADAPTER_CONFIG_KEYS as readonly string[]).includes(key));
  if (unknownKey !== undefined) fail(file, `unknown key "${unknownKey}" (accepted: ${ADAPTER_CONFIG_KEYS.join(", ")})`);
  if (json.format !== CHECKPOINT_FORMAT) fail(file, `"format" must be "${CHECKPOINT_FORMAT}", got ${JSON.stringify(json.format)}`);
  if (!READABLE_CHECKPOINT_VERSIONS.includes(json.format_version as number)) {
    fail(file, `unsupported "format_version" ${JSON.stringify(json.format_version)} (this library reads versions ${READABLE_CHECKPOINT_VERSIONS.join(" and ")})`);
  }
  try {
    checkMethodName(json.method);
  } catch (e) {
    fail(file, `"method": ${(e as Error).message}`);
  }
  if (!isRecord(json.module)) fail(file, `"module" must be an object`);
  for (const key of Object.keys(json.module)) if (!MODULE_KEYS.includes(key)) fail(file, `unknown key "module.${key}" (accepted: ${MODULE_KEYS.join(", ")})`);
  for (const key of ["k", "task_k"] as const) if (json[key] !== null && typeof json[key] !== "number") fail(file, `"${key}" must be a number or null`);
  if (json.combine !== null && !isCombineRule(json.combine)) fail(file, `"combine" must be one of ${COMBINE_RULES.map((r) => JSON.stringify(r)).join(", ")} or null, got ${JSON.stringify(json.combine)}`);
  if (!Array.isArray(json.hook_points) || json.hook_points.some((h) => typeof h !== "string")) fail(file, `"hook_points" must be an array of strings`);
  if (!Array.isArray(json.tasks) || json.tasks.length === 0 || json.tasks.some((t) => typeof t !== "string")) fail(file, `"tasks" must be a non-empty array of strings`);
  if (json.dtype !== "F32" && json.dtype !== "F16") fail(file, `"dtype" must be "F32" or "F16", got ${JSON.stringify(json.dtype)}`);
  if (!isRecord(json.backbone)) fail(file, `"backbone" must be an object`);
  const b = json.backbone;
  if (typeof b.model_type !== "string" || !(MODEL_TYPES as readonly string[]).includes(b.model_type)) {
    fail(file, `"backbone.model_type" must be one of ${MODEL_TYPES.join(", ")}, got ${JSON.stringify(b.model_type)}`);
  }
  if (!isRecord(json.label_names)) fail(file, `"label_names" must be an object`);
  const headed = (CLASSIFIER_MODEL_TYPES as readonly string[]).includes(b.model_type as string);
  if (!headed && Object.keys(json.label_names).length > 0) fail(file, `"label_names" must be {} for a backbone without a classification head (${JSON.stringify(json.backbone.model_type)})`);
  if (headed) for (const t of json.tasks as string[]) {
    const names = json.label_names[t];
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string")) fail(file, `"label_names.${t}" must be a non-empty array of strings`);
    const dup = (names as string[]).find((n, i) => (names as string[]).indexOf(n) !== i);
    if (dup !== undefined) fail(file, `"label_names.${t}" names ${JSON.stringify(dup)} twice; label names must be unique`);
  }
  for (const t of Object.keys(json.label_names)) if (!(json.tasks as string[]).includes(t)) fail(file, `"label_names" names an unknown task "${t}"`);
  const keys = architectureFor(b.model_type as string).summaryKeys;
  for (const key of Object.keys(b)) if (key !== "model_type" && !keys.includes(key)) fail(file, `unknown key "backbone.${key}"`);
  for (const key of keys) if (b[key] === undefined) fail(file, `missing key "backbone.${key}"`);
  const cfg = configFromSummary(file, b);
  if (json.stacks !== undefined) {
    const want = stackSummary(cfg);
    if (!isRecord(json.stacks) || JSON.stringify(json.stacks) !== JSON.stringify(want)) {
      fail(file, `"stacks" ${JSON.stringify(json.stacks)} does not match the backbone's ${JSON.stringify(want)}`);
    }
  }
  if (json.task_prefixes !== undefined) {
    if (headed) fail(file, `"task_prefixes" is for text-to-text checkpoints; a ${JSON.stringify(b.model_type)} backbone has classification heads`);
    const tp = json.task_prefixes;
    if (!isRecord(tp)) fail(file, `"task_prefixes" must be an object mapping task names to strings`);
    for (const [t, v] of Object.entries(tp)) {
      if (!(json.tasks as string[]).includes(t)) fail(file, `"task_prefixes" names an unknown task "${t}" (tasks: ${(json.tasks as string[]).join(", ")})`);
      if (typeof v !== "string") fail(file, `"task_prefixes.${t}" must be a string, got ${JSON.stringify(v)}`);
    }
  }
  if (json.hybrid_masks !== undefined) {
    const h = json.hybrid_masks;
    if (!isRecord(h) || Object.keys(h).some((key) => key !== "task_k" && key !== "combine")) fail(file, `"hybrid_masks" must be {"task_k": number, "combine": "or" | "and"}, got ${JSON.stringify(h)}`);
    if (typeof h.task_k !== "number" || !(h.task_k > 0 && h.task_k <= 1)) fail(file, `"hybrid_masks.task_k" must be a number in (0, 1], got ${JSON.stringify(h.task_k)}`);
    if (h.combine !== "or" && h.combine !== "and") fail(file, `"hybrid_masks.combine" must be "or" or "and", got ${JSON.stringify(h.combine)}`);
    if ((json.tasks as string[]).length !== 1 || json.k === null) fail(file, `"hybrid_masks" is only for a single-task checkpoint with masks (one task exported by export-task)`);
  }
  return json as unknown as AdapterConfigFile;
}

/**
 * How many ones a stored mask of `n` entries may hold: top-k keeps exactly keptCount(n, k)
 * (layer masks, `k`) or keptCount(n, task_k) (task masks of a multi-task file); an exported
 * hybrid layer mask (`hybrid_masks`) lies between the bounds OR / AND of two such masks allow.
 */
export function maskCountRange(file: Pick<AdapterConfigFile, "k" | "task_k" | "hybrid_masks">, maskName: string, n: number): { min: number; max: number; why: string } {
  const task = maskName.startsWith("mask.task.");
  const k = task ? file.task_k : file.k;
  if (k === null) throw new CheckpointError(`mask "${maskName}" but "${task ? "task_k" : "k"}" is null`);
  const K = keptCount(n, k);
  const h = file.hybrid_masks;
  if (task || h === undefined) return { min: K, max: K, why: `top-k with ${task ? "task_k" : "k"} = ${k} keeps ${n} − ⌊(1 − ${k})·${n}⌋ = ${K}` };
  const Kt = keptCount(n, h.task_k);
  const [min, max] = h.combine === "or" ? [Math.max(K, Kt), Math.min(n, K + Kt)] : [Math.max(0, K + Kt - n), Math.min(K, Kt)];
  return { min, max, why: `a hybrid (${h.combine.toUpperCase()}) of a layer mask of ${K} ones (k = ${k}) and a task mask of ${Kt} ones (task_k = ${h.task_k}) has ${min}..${max}` };
}

/**
 * Every mask's popcount is what top-k gives for its kept fraction (`maskCountRange`), and no
 * mask is all zeros (a module switched off entirely: never what training writes). `error`
 * makes the error from a message naming the mask.
 */
export function checkMaskCounts(file: Pick<AdapterConfigFile, "k" | "task_k" | "hybrid_masks">, masks: ReadonlyMap<string, { bits: Uint8Array }>, error: (msg: string) => Error): void {
  for (const [name, m] of masks) {
    let ones = 0;
    for (let i = 0; i < m.bits.length; i++) ones += m.bits[i];
    const n = m.bits.length;
    const r = maskCountRange(file, name, n);
    if (ones === 0 && r.min > 0) throw error(`mask "${name}" is all zeros (its module would be switched off); expected ${r.min === r.max ? r.min : `${r.min}..${r.max}`} ones of ${n}: ${r.why}`);
    if (ones < r.min || ones > r.max) throw error(`mask "${name}" keeps ${ones} of ${n} entries, expected ${r.min === r.max ? r.min : `${r.min}..${r.max}`}: ${r.why}`);
  }
}

/** The method config an adapter_config.json describes (not yet resolved). */
export function methodConfigOfFile(f: AdapterConfigFile): MethodConfig {
  const m = f.module as Record<string, unknown>;
  const c: MethodConfig = { method: f.method };
  for (const key of MODULE_OPTION_NAMES) {
    const v = m[MODULE_OPTIONS[key].file];
    if (v !== undefined) c[key] = v as number;
  }
  if (m.base !== undefined) c.base = m.base as MethodConfig["base"];
  if (m.seed !== undefined) c.seed = m.seed as number;
  if (f.k !== null) c.k = f.k;
  if (f.task_k !== null) c.taskK = f.task_k;
  if (f.combine !== null) c.combine = f.combine;
  if (f.tasks.length > 1 || f.tasks[0] !== "default") c.tasks = [...f.tasks];
  return c;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Options of `loadTaskCheckpoint`. */
export interface LoadCheckpointOptions {
  /** The backbone the checkpoint will run on; checked against the stored summary. */
  encoderConfig?: ModelConfig;
}

/** Where a checkpoint's two files came from (paths or URLs), for error messages. */
export interface CheckpointSources {
  /** The checkpoint: its folder or base URL. */
  source: string;
  /** adapter_config.json's path or URL; errors about the config name it. */
  configFile: string;
  /** adapter_model.safetensors' path or URL; errors about a tensor name it. */
  modelFile: string;
}

/**
 * Validate a task checkpoint from its parts: adapter_config.json's parsed JSON and, read only
 * once the config has passed, adapter_model.safetensors (`readTensors`). Every check of the
 * format is here (config keys, method settings, hook points, backbone, tensor names, dtypes,
 * shapes, mask counts), so a folder, bytes or a URL are validated alike; errors name
 * `sources.configFile` / `sources.modelFile`.
 */
export async function checkpointFromParts(json: unknown, readTensors: () => SafetensorsFile | Promise<SafetensorsFile>, sources: CheckpointSources, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const { configFile, modelFile } = sources;
  const file = parseAdapterConfig(configFile, json);

  // Method config: must be exactly what the method resolves to.
  let resolved: MethodConfig;
  try {
    resolved = resolveMethodConfig(methodConfigOfFile(file));
  } catch (e) {
    throw new CheckpointError(`${configFile}: ${(e as Error).message}`);
  }
  const again = adapterConfigFields(resolved);
  for (const key of ["k", "task_k", "combine"] as const) {
    if (again[key] !== file[key]) fail(configFile, `"${key}" is ${JSON.stringify(file[key])} but ${file.method} with these settings needs ${JSON.stringify(again[key])}`);
  }
  for (const key of new Set([...Object.keys(again.module), ...Object.keys(file.module)]) as Set<keyof AdapterConfigFile["module"]>) {
    if (again.module[key] !== file.module[key]) fail(configFile, `"module.${key}" is ${JSON.stringify(file.module[key])} but ${file.method} needs ${JSON.stringify(again.module[key])}`);
  }

  // Backbone.
  const stored = file.backbone;
  let cfg = configFromSummary(configFile, stored);
  if (opts.encoderConfig) {
    const given = backboneSummary(opts.encoderConfig);
    for (const key of new Set([...Object.keys(stored), ...Object.keys(given)])) {
      if (given[key] !== stored[key]) fail(configFile, `backbone mismatch: "backbone.${key}" is ${JSON.stringify(stored[key])} in the checkpoint but ${JSON.stringify(given[key])} in the model`);
    }
    cfg = opts.encoderConfig;
  }

  const method = createMethod(resolved);
  const tasks = method.config.tasks ?? ["default"];
  if (!sameShape(tasks.map((_, i) => i), file.tasks.map((_, i) => i)) || tasks.some((t, i) => t !== file.tasks[i])) {
    fail(configFile, `"tasks" ${JSON.stringify(file.tasks)} do not match the method's ${JSON.stringify(tasks)}`);
  }
  const v1 = file.format_version === 1;
  const storedName = (name: string): string => (v1 ? v1Name(name) : name);
  const hooks = hookPointList(method, cfg).map(storedName);
  if (hooks.length !== file.hook_points.length || hooks.some((h, i) => h !== file.hook_points[i])) {
    fail(configFile, `"hook_points" ${JSON.stringify(file.hook_points)} do not match ${file.method}'s ${JSON.stringify(hooks)}`);
  }

  // Tensors.
  const st = await readTensors();
  const spec = method.stateSpec(cfg);
  const seen = new Set<string>();
  const get = (wanted: string, dtype: string, shape: readonly number[]): TensorEntry => {
    const name = storedName(wanted);
    const e = st.tensors.get(name);
    if (!e) fail(modelFile, `missing tensor "${name}"`);
    if (e.dtype !== dtype) fail(modelFile, `tensor "${name}" has dtype ${e.dtype}, expected ${dtype}`);
    if (!sameShape(e.shape, shape)) fail(modelFile, `tensor "${name}" has shape [${e.shape.join(",")}], expected [${shape.join(",")}]`);
    seen.add(name);
    return e;
  };
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  for (const [name, shape] of spec.tensors) {
    state.tensors.set(name, { shape: [...shape], data: weightsFloat32(get(name, file.dtype, shape), name, modelFile) });
  }
  for (const [name, shape] of spec.masks) {
    const n = shape.reduce((a, b) => a * b, 1);
    const e = get(name, "U8", [packedByteLength(n)]);
    const meta = st.metadata[storedName(name)];
    if (meta === undefined) fail(modelFile, `mask "${storedName(name)}" has no shape in __metadata__`);
    let metaShape: unknown;
    try {
      checkJsonDepth(meta, `${modelFile}: __metadata__ of mask "${name}"`);
      metaShape = JSON.parse(meta);
    } catch {
      fail(modelFile, `__metadata__ shape of mask "${name}" is not JSON: ${JSON.stringify(meta)}`);
    }
    if (!Array.isArray(metaShape) || !sameShape(metaShape as number[], shape)) {
      fail(modelFile, `mask "${name}" has shape ${meta} in __metadata__, expected [${shape.join(",")}]`);
    }
    let bits: Uint8Array;
    try {
      bits = unpackBits(e.data, n, `${modelFile}: mask "${name}"`);
    } catch (err) {
      throw new CheckpointError((err as Error).message);
    }
    state.masks.set(name, { shape: [...shape], bits });
  }
  if (file.hybrid_masks !== undefined && spec.masks.size === 0) fail(configFile, `"hybrid_masks" is set but ${file.method} stores no masks`);
  checkMaskCounts(file, new Map([...state.masks].map(([n, m]) => [storedName(n), m])), (msg) => new CheckpointError(`${modelFile}: ${msg}`));
  const loadedTasks: LoadedCheckpoint["tasks"] = [];
  try {
    tasks.forEach((t, i) => {
      if (!isClassifierConfig(cfg)) {
        loadedTasks.push({ name: t, labelNames: [], head: null, prefix: file.task_prefixes?.[t] ?? "" });
        return;
      }
      const H = cfg.hiddenSize;
      const labels = file.label_names[t];
      const C = labels.length;
      const prefix = headPrefix(tasks, i);
      const arr = (name: string, shape: number[]) => np.array(weightsFloat32(get(name, "F32", shape), name, modelFile)).reshape(shape);
      const head: HeadParams = {
        dense: { w: arr(`${prefix}.dense.weight`, [H, H]), b: arr(`${prefix}.dense.bias`, [H]) },
        out: { w: arr(`${prefix}.out_proj.weight`, [C, H]), b: arr(`${prefix}.out_proj.bias`, [C]) },
      };
      loadedTasks.push({ name: t, labelNames: [...labels], head, prefix: "" });
    });
    const unknown = [...st.tensors.keys()].filter((n) => !seen.has(n));
    if (unknown.length) fail(modelFile, `unexpected tensor(s) for ${file.method}: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", ..." : ""}`);
    const maskKeys = new Set([...spec.masks.keys()].map(storedName));
    const metaKeys = Object.keys(st.metadata).filter((k) => k !== "format" && k !== "format_version" && !maskKeys.has(k));
    if (metaKeys.length) fail(modelFile, `unexpected __metadata__ key(s): ${metaKeys.join(", ")}`);
  } catch (e) {
    for (const t of loadedTasks) if (t.head) disposeHead(t.head);
    throw e;
  }

  const taskIndex = (task: string | number): number => {
    const i = typeof task === "number" ? task : tasks.indexOf(task);
    if (!(Number.isInteger(i) && i >= 0 && i < tasks.length)) throw new CheckpointError(`unknown task ${JSON.stringify(task)}; this checkpoint has: ${tasks.join(", ")}`);
    return i;
  };
  return {
    source: sources.source,
    config: file,
    method,
    encoderConfig: cfg,
    state,
    tasks: loadedTasks,
    taskIndex,
    materialize: (task = 0) => method.materializeState(cfg, state, taskIndex(task)),
    dispose: () => {
      for (const t of loadedTasks) if (t.head) disposeHead(t.head);
      method.dispose();
    },
  };
}

/**
 * Validate a task checkpoint held as bytes: adapter_config.json's and
 * adapter_model.safetensors' contents (`sources` names them in errors), as
 * `loadTaskCheckpoint` validates a folder.
 */
export function checkpointFromBytes(adapterConfig: Uint8Array, weights: Uint8Array, sources: CheckpointSources, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  let json: unknown;
  try {
    json = parseJsonBytes(adapterConfig, sources.configFile, (m) => new CheckpointError(m));
  } catch (e) {
    return Promise.reject(e);
  }
  return checkpointFromParts(json, () => parseSafetensors(weights, sources.modelFile), sources, opts);
}

function disposeHead(h: HeadParams): void {
  h.dense.w.dispose();
  h.dense.b.dispose();
  h.out.w.dispose();
  h.out.b.dispose();
}

/**
 * The size a checkpoint should have: the method's bit-level storage, i.e. its state
 * (`stateSpec`, what the file holds: 32 bits per float entry, 1 per mask entry; storage.ts)
 * plus the heads we store (`countHeadParams` per task, F32). `maxBytes` allows 1% + 4 KiB for
 * the safetensors header and byte padding of the packed masks.
 */
export function checkpointBudget(cfg: ModelConfig, config: MethodConfig, numLabels: number[]): { blsBytes: number; headBytes: number; maxBytes: number } {
  const method = createMethod(config);
  const blsBytes = Math.ceil(stateBits(method.stateSpec(cfg)) / 8);
  method.dispose();
  const headBytes = isClassifierConfig(cfg) ? numLabels.reduce((s, C) => s + 4 * countHeadParams(cfg.modelType, cfg.hiddenSize, C), 0) : 0;
  return { blsBytes, headBytes, maxBytes: Math.floor((blsBytes + headBytes) * 1.01) + 4096 };
}

/**
 * What a forward pass (e.g. `t5Forward`, generation) needs to run one task of a loaded
 * checkpoint on its backbone: the parameters to run (the backbone, or full fine-tuning's tuned
 * copy) and the PETL hooks over the checkpoint's materialised modules. `backbone` is borrowed;
 * the result owns the modules until `dispose`.
 */
export interface CheckpointModel {
  /** The parameters to run: the backbone (borrowed), or full fine-tuning's tuned copy. */
  params: BackboneParams;
  /** The task's hooks over the materialised modules. */
  hooks: ModelHooks;
  /** Free the materialised modules (not the backbone). */
  dispose(): void;
}

/** The hooks (and parameters) that run task `task` of a loaded checkpoint on `backbone`. */
export function checkpointHooks(ckpt: LoadedCheckpoint, backbone: BackboneParams, task: string | number = 0): CheckpointModel {
  const m = ckpt.materialize(task);
  return {
    params: m.encoder ?? backbone,
    hooks: materializedHooks(m),
    dispose: () => disposeMaterialized(m),
  };
}
