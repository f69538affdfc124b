/**
 * Bit-level storage (BLS) accounting for PETL methods and ProPETL.
 *
 * The ProPETL paper (Zeng, Zhang & Lu, ACL 2023, Sec. 3.1, eq. 2) measures the
 * storage a fine-tuned task needs at inference as
 *
 *     BLS = Σ_i ρ_i · b_i
 *
 * where parameters are split into groups i of ρ_i parameters stored with b_i
 * bits each (32-bit floats, 1-bit masks). "% of backbone" compares BLS, counted
 * in 32-bit words (BLS / 32), with the backbone's parameter count. The
 * task-specific classification head is stored too but, like the paper, we
 * report it on its own and EXCLUDE it from the BLS total.
 *
 * The count is taken from what a task checkpoint stores: the method's state
 * (`PetlMethod.stateSpec`, the names and shapes checkpoints are written and
 * validated against), 32 bits per float entry and 1 bit per mask entry. Module
 * shapes therefore come from one place, the module kinds' `unitSpec`
 * (adapter.ts, lora.ts, prefix.ts), and a pruned module's kept entries from
 * mask.ts's `keptCount`, the count its mask keeps. test/petl/storage.test.ts
 * checks the states against the paper's closed forms (Appendix B eqs. 14–19).
 *
 * What the states hold (d hidden size, L layers):
 *   adapter     per layer down d×bn + bn bias, up bn×d + d bias (Houlsby: two
 *               positions per layer, after attention and after the FFN).
 *   lora        A r×d and B d×r on query and value, no bias: 4·r·d per layer.
 *   prefix      the l×2d key/value prefixes per layer; the reparametrisation
 *               MLP is discarded after training (as the paper's eq. 18).
 *   full        every encoder tensor. The backbone count also has the
 *               pretrained pooler, which is not in the method's state: a BERT
 *               head trains and stores it (the head line), RoBERTa's
 *               classification head does not use it.
 *   propetl-*   ONE 32-bit prototype module shared by all layers, plus a 1-bit
 *               mask per masked weight per position (eqs. 14, 16, 18). Biases
 *               are not masked; they live in the prototype and are shared. k
 *               does not change the storage (every mask bit is stored). For
 *               Houlsby the prototype serves all 2·L positions, each with its
 *               own mask (the paper does not define ProPETL-Houlsby).
 *   only-share  one shared 32-bit module, no masks.
 *   only-mask   per layer the n − ⌊(1−k)·n⌋ kept entries of each weight
 *               (32-bit), the unpruned biases, and the 1-bit mask that places
 *               the kept entries. The paper's eqs. 15, 17, 19 count the kept
 *               entries and omit the masks; the report counts the state and
 *               gives the paper's figure in its notes. The paper prints eq. 19
 *               as 2·k·l·d·L, without the factor 32: kept prefix entries are
 *               32-bit values like the kept weights of eqs. 15 and 17, so we
 *               read the missing 32 as a typo (the notes say so).
 *   random-mask like ProPETL: the prototype and its stored masks (the
 *               paper-style count). A random mask could instead be rebuilt
 *               from its seed; the notes give that figure too.
 *
 * Multi-task (Sec. 3.4, `tasks` = T > 1): a method with masks keeps ONE state
 * for all tasks, its multi-task checkpoint's: layer masks plus a task mask per
 * task (hybrid mask = layer mask OR / AND task mask), or only the masks its
 * combine rule uses (combine-rule.ts: "layer", the layer masks alone, every task
 * adding nothing but its head; "task", a task mask per task and no layer
 * masks). A method without masks has no
 * task-specific tensors, so T tasks take T copies of its single-task state
 * (the paper's comparison: one module per task). `totalBits` covers all T
 * tasks; `perTask` is totalBits / T. The head is per task and is reported per
 * task.
 */

import { ConfigError, encoderConfigToJson, parseEncoderConfig } from "../models/bert/config.js";
import type { EncoderConfig } from "../models/bert/config.js";
import type { ClassifierConfig, ModelConfig } from "../models/architecture.js";
import { STACKS } from "../models/hooks.js";
import { CLASSIFIER_MODEL_TYPES, MODEL_TYPES, architectureOf, isClassifierConfig } from "../models/registry.js";
import type { MethodConfig, StateSpec, TensorSpec } from "./method.js";
import { METHODS, METHOD_DEFAULTS, MODULE_FAMILIES, MODULE_OPTIONS, MethodConfigError, methodLabel, methodLayout } from "./methods.js";
import type { MaskMode, MethodName, ModuleFamily } from "./methods.js";
import { COMBINE_RULE_HELP, ruleMasks } from "./combine-rule.js";
import type { CombineRule } from "./combine-rule.js";
import { placePositions } from "./positions.js";
import { moduleKind } from "./propetl.js";
import { createMethod, moduleOptions, resolveMethodConfig } from "./registry.js";

/**
 * Classification-head layout, for the head line (never in BLS).
 *   roberta: RobertaClassificationHead, dense d×d + d, out_proj d×n + n.
 *   bert:    BertForSequenceClassification's pooler d×d + d and classifier d×n + n:
 *            propetl trains the pooler with the head and stores both in the task file
 *            (the backbone count also includes the pretrained pooler, as HF's BertModel).
 *   none:    no head (e.g. seq2seq generation).
 */
export const HEAD_STYLES = ["roberta", "bert", "none"] as const;
/** A classification-head layout (`HEAD_STYLES`). */
export type HeadStyle = (typeof HEAD_STYLES)[number];

/** The backbone a report is for. */
export interface ModelDims<C extends ModelConfig = ModelConfig> {
  /**
   * The backbone's config (a parsed config.json of any registered architecture, e.g.
   * `parseEncoderConfig`, `parseT5Config`): it shapes the method's state.
   */
  config: C;
  /** Backbone parameter count, the denominator of "% of backbone"; default `countBackboneParams` of the config. */
  backboneParams?: number;
  /** Labels of the classification head; default the config's `numLabels`. */
  numLabels?: number;
  /** Head layout; default the config's model type ("roberta" or "bert"). */
  head?: HeadStyle;
  /** Optional display name, e.g. "roberta-base". */
  name?: string;
}

/**
 * The method to count: a method config (validated and completed with the method table's
 * defaults, as `resolveMethodConfig`; options a method does not use are validated and
 * ignored), with the number of tasks T or their names. Default one task.
 */
export interface StorageOptions extends Omit<MethodConfig, "tasks"> {
  /** The number of tasks T, or their names (default one task). */
  tasks?: number | string[];
}

/** One BLS group: `count` parameters stored at `bitsPerParam` bits each. */
export interface StorageGroup {
  /** What the group is, e.g. "prototype", "layer masks". */
  name: string;
  /** Entries stored. */
  count: number;
  /** Bits per entry: 32 for floats, 1 for mask bits. */
  bitsPerParam: number;
  /** count · bitsPerParam. */
  bits: number;
  /** How `count` is made up, e.g. the tensors' shapes. */
  detail?: string;
}

/** An amount of storage in bits, bytes, 32-bit words and percent of the backbone. */
export interface StorageAmount {
  /** Bits. */
  bits: number;
  /** ceil(bits / 8). */
  bytes: number;
  /** bits / 32 (may be fractional). */
  words32: number;
  /** words32 / backboneParams · 100. */
  percentOfBackbone: number;
}

/** The classification head's storage (reported beside the method's, never in it). */
export interface HeadStorage {
  /** The head's layout. */
  style: HeadStyle;
  /** Its outputs. */
  numLabels: number;
  /** Head parameters of ONE task. */
  params: number;
  /** 32 · params. */
  bits: number;
  /** Always false: the paper's BLS excludes the classifier head. */
  includedInBLS: false;
}

/** A method's bit-level storage (BLS) on a backbone, counted from its state (`computeStorage`). */
export interface StorageReport {
  /** The method counted. */
  method: MethodName;
  /** Display name, e.g. "ProPETL-adapter", "only-mask (LoRA)". */
  label: string;
  /** PETL module family the method is built on; null for "full". */
  base: ModuleFamily | null;
  /** Hyperparameters that shape the state, e.g. { bn: 64 } or { r: 32, k: 0.5 }. */
  hyperparams: Record<string, number>;
  /** The backbone counted against. */
  model: {
    /** Display name, when given. */
    name?: string;
    /** Layers over all stacks (T5: encoder + decoder blocks). */
    numLayers: number;
    /** The residual width. */
    hiddenSize: number;
    /** Backbone parameter count (the denominator of the percentages). */
    backboneParams: number;
  };
  /** T: the number of tasks. */
  tasks: number;
  /** The method's state, grouped (prototype, layer masks, ...). */
  groups: StorageGroup[];
  /** Σ group bits, over all tasks. Head excluded. */
  totalBits: number;
  /** ceil(totalBits / 8). */
  bytes: number;
  /** totalBits / 32 (may be fractional). */
  words32: number;
  /** words32 / backboneParams · 100. */
  percentOfBackbone: number;
  /** Storage per task (= the totals when tasks is 1). */
  perTask: StorageAmount;
  /**
   * Several tasks, each storing its own copy of the state (a method without masks); false when
   * one state serves every task (a method with masks) or there is one task.
   */
  copiesPerTask: boolean;
  /** The head of one task, outside the total. */
  head: HeadStorage;
  /** How the total is summed (bits per entry · entries, per group), with the paper's equation where Appendix B has one. */
  formula: string;
  /** Where the count differs from the paper's closed form, and other remarks. */
  notes: string[];
}

/** Error for invalid inputs; the message names the option and the accepted values. */
export class StorageOptionError extends RangeError {
  override name = "StorageOptionError";
}

const POSITIVE_INT = "a positive integer";

function checkPositiveInt(option: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new StorageOptionError(
      `invalid ${option}: ${describe(value)}; accepted values: ${POSITIVE_INT}`,
    );
  }
  return value;
}

function checkChoice<T extends string>(option: string, value: unknown, accepted: readonly T[]): T {
  if (typeof value !== "string" || !(accepted as readonly string[]).includes(value)) {
    throw new StorageOptionError(
      `invalid ${option}: ${describe(value)}; accepted values: ${accepted.join(", ")}`,
    );
  }
  return value as T;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  return String(value);
}

/** The backbone config's sizes (every one a state can depend on). */
function checkConfig(config: unknown): ModelConfig {
  const accepted = `a parsed config.json of a model type ${MODEL_TYPES.join(", ")} (e.g. parseEncoderConfig, parseT5Config, or modelDimsFromConfig)`;
  if (typeof config !== "object" || config === null) {
    throw new StorageOptionError(`invalid model.config: ${describe(config)}; accepted values: ${accepted}`);
  }
  const c = config as ModelConfig;
  if (!(MODEL_TYPES as readonly string[]).includes(c.modelType)) throw new StorageOptionError(`invalid model.config.modelType: ${describe(c.modelType)}; accepted values: ${MODEL_TYPES.join(", ")}`);
  if (isClassifierConfig(c)) {
    for (const key of ["numLayers", "hiddenSize", "vocabSize", "intermediateSize", "maxPositions", "typeVocabSize"] as const) checkPositiveInt(`config.${key}`, c[key]);
  }
  const arch = architectureOf(c);
  for (const s of arch.stacks(c)) checkPositiveInt(`config: layers of the ${s.stack}`, s.layers);
  const w = arch.moduleWidths(c);
  checkPositiveInt("config: hidden width", w.hidden);
  checkPositiveInt("config: attention width", w.attention);
  return c;
}

/** Parameters of a backbone: the default denominator of "% of backbone". */
function backboneParamsOf(cfg: ModelConfig): number {
  if (isClassifierConfig(cfg)) return countBackboneParams(encoderConfigToJson(cfg));
  return sum(architectureOf(cfg).backboneSlots(cfg).map((slot) => size(slot.shape)));
}

/** Task names of a storage count (names made up when only a number is given). */
function storageTasks(tasks: StorageOptions["tasks"]): string[] {
  if (tasks === undefined) return ["default"];
  if (Array.isArray(tasks)) {
    if (tasks.length === 0) throw new StorageOptionError("invalid tasks: []; accepted values: a positive integer or a non-empty list of task names");
    return [...tasks];
  }
  const T = checkPositiveInt("tasks", tasks);
  return Array.from({ length: T }, (_, i) => `task${i + 1}`);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bits of a method state: 32 per float entry, 1 per mask entry (what `computeStorage` sums). */
export function stateBits(spec: StateSpec): number {
  let bits = 0;
  for (const shape of spec.tensors.values()) bits += 32 * size(shape);
  for (const shape of spec.masks.values()) bits += size(shape);
  return bits;
}

/** Head parameters of one task. */
export function countHeadParams(style: HeadStyle, hiddenSize: number, numLabels: number): number {
  switch (style) {
    // Both heads are dense + tanh on the first token, then a projection: RoBERTa's
    // classifier.dense/out_proj, BERT's pooler + classifier (propetl trains and stores the
    // pooler with the head, src/models/params.ts).
    case "roberta":
    case "bert":
      return hiddenSize * hiddenSize + hiddenSize + hiddenSize * numLabels + numLabels;
    case "none":
      return 0;
  }
}

function amount(bits: number, backboneParams: number): StorageAmount {
  const words32 = bits / 32;
  return {
    bits,
    bytes: Math.ceil(bits / 8),
    words32,
    percentOfBackbone: (words32 / backboneParams) * 100,
  };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

const fmtInt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmtNum = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });

/** A group being summed: its entries, which module tensors and which owners (positions, tasks) it spans. */
interface Bucket {
  bitsPerParam: number;
  count: number;
  tensors: Set<string>;
  owners: Set<string>;
  masked: number;
  unmasked: number;
}

const KEPT = "kept weights (32-bit)";

/** A combine rule in a note: `"or": layer mask OR task mask (paper Sec. 3.4)`. */
function ruleText(rule: CombineRule): string {
  return `"${rule}", ${COMBINE_RULE_HELP[rule]}`;
}

/**
 * The groups of a state. A tensor's role follows from its name (`prototype.<t>`,
 * `<stack>.layer.<i>.<position>.<t>`, `backbone.<hf name>`, `mask.<stack>.layer.…`, `mask.task.…`) and from its
 * module tensor's spec: masked tensors are weights, unmasked ones biases, and a masked tensor
 * stored in another shape than its spec's holds the kept entries only.
 */
function stateGroups(spec: StateSpec, unit: readonly TensorSpec[], masks: MaskMode, positions: number, k: number | undefined): StorageGroup[] {
  const specs = new Map(unit.map((t) => [t.name, t]));
  const buckets = new Map<string, Bucket>();
  const add = (group: string, bitsPerParam: number, tensor: string, owner: string, n: number, masked: boolean): void => {
    let b = buckets.get(group);
    if (!b) buckets.set(group, (b = { bitsPerParam, count: 0, tensors: new Set(), owners: new Set(), masked: 0, unmasked: 0 }));
    b.count += n;
    b.tensors.add(tensor);
    b.owners.add(owner);
    if (masked) b.masked += n;
    else b.unmasked += n;
  };
  for (const [name, shape] of spec.tensors) {
    const parts = name.split(".");
    const t = parts[parts.length - 1];
    const u = specs.get(t);
    const masked = u?.masked ?? false;
    if (parts[0] === "backbone") add("backbone (32-bit)", 32, name, "backbone", size(shape), false);
    else if (parts[0] === "prototype") add(masks === "none" ? "shared module (32-bit)" : "prototype (32-bit)", 32, t, "prototype", size(shape), masked);
    else if ((STACKS as readonly string[]).includes(parts[0]) && parts[1] === "layer") {
      const kept = masked && u !== undefined && (shape.length !== u.shape.length || shape.some((d, i) => d !== u.shape[i]));
      add(kept ? KEPT : masked ? "weights (32-bit)" : "biases (32-bit)", 32, t, parts.slice(0, -1).join("."), size(shape), masked);
    } else throw new Error(`storage: unexpected state tensor "${name}"`);
  }
  for (const [name, shape] of spec.masks) {
    const parts = name.split(".");
    add(parts[1] === "task" ? "task masks (1-bit)" : "layer masks (1-bit)", 1, parts[parts.length - 1], parts.slice(1, -1).join("."), size(shape), true);
  }
  const groups: StorageGroup[] = [];
  for (const [name, b] of buckets) {
    const per = b.owners.size > 0 ? b.count / b.owners.size : 0;
    let detail: string;
    switch (name) {
      case "backbone (32-bit)":
        detail = `${b.tensors.size} backbone tensors`;
        break;
      case "prototype (32-bit)":
        detail = b.unmasked > 0 ? `${fmtInt.format(b.masked)} masked weights + ${fmtInt.format(b.unmasked)} unmasked shared biases` : `${fmtInt.format(b.masked)} masked weights, no biases`;
        break;
      case "shared module (32-bit)":
        detail = b.unmasked > 0 ? `${fmtInt.format(b.masked)} weights + ${fmtInt.format(b.unmasked)} biases, shared by ${positions} positions` : `shared by ${positions} positions`;
        break;
      case KEPT:
        detail = `n − ⌊(1−k)·n⌋ of each, k=${k}, ${b.tensors.size} tensors × ${b.owners.size} modules`;
        break;
      case "weights (32-bit)":
        detail = `${b.tensors.size} tensors × ${b.owners.size} modules`;
        break;
      case "biases (32-bit)":
        detail = `${b.owners.size} modules`;
        break;
      case "task masks (1-bit)":
        detail = `${b.owners.size} tasks × ${fmtInt.format(per)} bits`;
        break;
      default:
        detail = `${b.owners.size} positions × ${fmtInt.format(per)} bits`;
    }
    groups.push({ name, count: b.count, bitsPerParam: b.bitsPerParam, bits: b.count * b.bitsPerParam, detail });
  }
  return groups;
}

/**
 * Bit-level storage report of the method `options` describes on the backbone `model`,
 * counted from the method's state (see the file comment). Throws StorageOptionError for
 * invalid inputs (method options: the method table's messages).
 */
export function computeStorage(model: ModelDims, options: StorageOptions): StorageReport {
  if (typeof model !== "object" || model === null) {
    throw new StorageOptionError(`invalid model: ${describe(model)}; accepted values: an object with the backbone's config (see modelDimsFromConfig)`);
  }
  if (typeof options !== "object" || options === null) {
    throw new StorageOptionError(`invalid options: ${describe(options)}; accepted values: an object with a method`);
  }
  const cfg = checkConfig(model.config);
  const arch = architectureOf(cfg);
  // L: every block of every stack (encoder + decoder for T5); d: the residual width.
  const L = sum(arch.stacks(cfg).map((s) => s.layers));
  const d = arch.moduleWidths(cfg).hidden;
  const backboneParams = model.backboneParams === undefined ? backboneParamsOf(cfg) : checkPositiveInt("backboneParams", model.backboneParams);
  const headStyle = checkChoice("head", model.head ?? (isClassifierConfig(cfg) ? cfg.modelType : "none"), HEAD_STYLES);
  const numLabels = headStyle === "none" && model.numLabels === undefined ? 0 : checkPositiveInt("numLabels", model.numLabels ?? (isClassifierConfig(cfg) ? cfg.numLabels : undefined));
  const taskNames = storageTasks(options.tasks);
  const T = taskNames.length;

  // The method as its checkpoint would be configured: with the task names when it has masks.
  let config: MethodConfig;
  try {
    const single = resolveMethodConfig({ ...options, tasks: undefined });
    config = T > 1 && methodLayout(single).masks !== "none" ? resolveMethodConfig({ ...options, tasks: taskNames }) : single;
  } catch (e) {
    if (e instanceof MethodConfigError) throw new StorageOptionError(e.message);
    throw e;
  }
  const row = METHODS[config.method];
  const layout = methodLayout(config);
  const label = methodLabel(config);
  const method = createMethod(config);
  const spec = method.stateSpec(cfg);
  method.dispose();
  const kind = layout.kind === null ? null : moduleKind(layout.kind);
  const unit = kind === null ? [] : kind.unitSpec(cfg, moduleOptions(config));
  const positions = kind === null ? 0 : placePositions(kind.positions, cfg, label).slots.length;

  const groups = stateGroups(spec, unit, layout.masks, positions, config.k);
  const kept = groups.some((g) => g.name === KEPT);
  const tensorBits = sum(groups.filter((g) => g.bitsPerParam === 32).map((g) => g.bits));
  const hyperparams: Record<string, number> = {};
  if (layout.kind !== null) {
    for (const key of MODULE_FAMILIES[layout.kind].options) {
      const symbol = MODULE_OPTIONS[key].symbol;
      const v = config[key];
      if (symbol !== undefined && v !== undefined) hyperparams[symbol] = v;
    }
  }
  if (kept && config.k !== undefined) hyperparams.k = config.k;

  const notes: string[] = [];
  let formula = groups.map((g) => `${g.bitsPerParam}·${fmtInt.format(g.count)}`).join(" + ");
  const hybrid = T > 1 && layout.masks !== "none";
  const eq = row.appendixB !== null && layout.kind !== null ? MODULE_FAMILIES[layout.kind].appendixB[row.appendixB] : null;
  const rules = hybrid ? ruleMasks(config.combine ?? METHOD_DEFAULTS.combine) : { layer: true, task: false };
  if (eq !== null && row.appendixB === "shared") formula += `  (paper App. B ${eq}${!rules.layer ? ", with task masks in place of the layer masks" : rules.task ? ", plus Sec. 3.4 task masks" : ""})`;
  if (eq !== null && row.appendixB === "pruned" && kept) formula += `  (paper App. B ${eq}, plus the masks)`;

  if (layout.share && layout.masks === "none") notes.push(`${label}: one module shared by every layer, no masks (paper Sec. 6).`);
  if (row.appendixB === "pruned" && kept) {
    const pct = ((tensorBits / 32 / backboneParams) * 100).toFixed(3);
    notes.push(
      `${config.method}: the checkpoint stores each module's kept entries (n − ⌊(1−k)·n⌋ of each weight tensor, the count its mask keeps) and the 1-bit masks that place them; the total counts both. ` +
        `The paper's ${eq} (Appendix B) omits the masks: it counts ${fmtInt.format(tensorBits)} bits = ${fmtNum.format(tensorBits / 32)} 32-bit words (${pct}% of backbone).`,
    );
    if (layout.kind === "prefix") {
      notes.push("The paper prints eq. 19 as 2·k%·l·d·L without the factor 32; kept prefix entries are 32-bit values (cf. eqs. 15 and 17), so we count 32 bits each and treat the missing 32 as a typo.");
    }
  } else if (row.appendixB === "pruned") {
    notes.push(`${config.method} with ${T} tasks: each task's ${rules.layer ? "hybrid mask" : "task mask"} (${ruleText(config.combine ?? METHOD_DEFAULTS.combine)}) keeps other entries, so every module is stored whole with its masks (the paper's ${eq ?? "count"} is single-task).`);
  }
  if (layout.masks !== "none" && !kept && options.k !== undefined) {
    notes.push(`k=${config.k} does not change the storage: every mask bit is stored (paper Appendix B.2).`);
  }
  if (layout.masks === "random") {
    const seedBits = 64;
    const alt = tensorBits + seedBits;
    notes.push(
      `${config.method} is counted with its masks, like ProPETL's learned ones (paper-style, for comparison with Table 4). A random mask can be regenerated from its seed (the config's), so storing the tensors plus a ${seedBits}-bit seed would take ${fmtInt.format(alt)} bits (${fmtNum.format(alt / 32)} 32-bit words) instead.`,
    );
  }
  if (layout.kind === "houlsby" && layout.share) {
    notes.push(`${label}: one ${layout.masks === "none" ? "module" : "prototype"} shared by both adapter positions of every layer${layout.masks === "none" ? "" : ", one layer mask per position"}.`);
  }
  if (layout.kind === "prefix") {
    notes.push("prefix: the reparametrisation MLP is discarded after training; only the l×d key and value prefixes count.");
  }
  if (layout.kind === null) {
    const stored = tensorBits / 32;
    const pooler = d * d + d;
    notes.push(
      backboneParams - stored === pooler
        ? `${label} stores every encoder tensor (${fmtInt.format(stored)} parameters); the backbone count also has the pretrained pooler (d·d + d = ${fmtInt.format(pooler)}), which is not in the method's state: a BERT head trains and stores the pooler itself (the head line), RoBERTa's classification head does not use it.`
        : `${label} stores every encoder tensor (${fmtInt.format(stored)} parameters), against a backbone count of ${fmtInt.format(backboneParams)}.`,
    );
  }

  let totalBits = sum(groups.map((g) => g.bits));
  if (T > 1 && !hybrid) {
    // No task-specific tensors: one independent copy per task.
    for (const g of groups) {
      g.count *= T;
      g.bits *= T;
      g.detail = g.detail === undefined ? `× ${T} tasks` : `${g.detail}, × ${T} tasks`;
    }
    totalBits *= T;
    formula = `${T}·(${formula})`;
    notes.push(`multi-task: ${label} has no task-specific tensors, so each of the T=${T} tasks stores its own copy.`);
  } else if (hybrid) {
    const rule = config.combine ?? METHOD_DEFAULTS.combine;
    const has = ruleMasks(rule);
    const parts = [layout.share ? "one prototype" : "", has.layer ? "the layer masks" : "no layer masks", has.task ? "a task mask per task" : "no task masks"].filter((x) => x !== "");
    notes.push(`multi-task (Sec. 3.4): one state for all ${T} tasks, with ${parts.join(", ")}; each task's mask: ${ruleText(rule)}. Per task = total / T.`);
  }
  if (!Number.isSafeInteger(totalBits)) {
    throw new StorageOptionError(`storage of ${fmtNum.format(totalBits)} bits overflows exact integer arithmetic; accepted values: smaller dims or fewer tasks`);
  }

  const headParams = countHeadParams(headStyle, d, numLabels);
  if (T > 1 && headStyle !== "none") notes.push("head: one per task; the head line gives one task's head.");

  const total = amount(totalBits, backboneParams);
  const modelOut: StorageReport["model"] = { numLayers: L, hiddenSize: d, backboneParams };
  if (model.name !== undefined) modelOut.name = model.name;
  return {
    method: config.method,
    label,
    base: layout.kind,
    hyperparams,
    model: modelOut,
    tasks: T,
    groups,
    totalBits,
    bytes: total.bytes,
    words32: total.words32,
    percentOfBackbone: total.percentOfBackbone,
    perTask: amount(totalBits / T, backboneParams),
    copiesPerTask: T > 1 && !hybrid,
    head: { style: headStyle, numLabels, params: headParams, bits: 32 * headParams, includedInBLS: false },
    formula,
    notes,
  };
}

// ---------------------------------------------------------------------------
// Backbone parameter count from a Hugging Face config.json

/**
 * model_type values countBackboneParams understands: the architectures with a classification
 * head (the registry's list, not restated here).
 */
export const BACKBONE_MODEL_TYPES = CLASSIFIER_MODEL_TYPES as readonly ClassifierConfig["modelType"][];
export type BackboneModelType = ClassifierConfig["modelType"];

function configField(config: Record<string, unknown>, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new StorageOptionError(`invalid config.${key}: ${describe(v)}; accepted values: ${POSITIVE_INT}`);
  }
  return v;
}

function asConfig(config: unknown): Record<string, unknown> {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StorageOptionError(`invalid config: ${describe(config)}; accepted values: a parsed config.json object`);
  }
  return config as Record<string, unknown>;
}

/**
 * Total parameters of a BERT / RoBERTa backbone (BertModel / RobertaModel
 * with pooler) from a Hugging Face config.json object:
 *
 *   embeddings  V·d + P·d + Tt·d (word, position, token type) + 2·d LayerNorm
 *   per layer   4·(d·d + d) attention q,k,v,o; 2·2·d LayerNorms;
 *               d·I + I intermediate; I·d + d output
 *   pooler      d·d + d
 *
 * roberta-base → 124,645,632; bert-base-uncased → 109,482,240.
 * A missing type_vocab_size takes Hugging Face's default, 2.
 */
export function countBackboneParams(config: unknown): number {
  const c = asConfig(config);
  checkChoice("config.model_type", c["model_type"], BACKBONE_MODEL_TYPES);
  const V = configField(c, "vocab_size");
  const d = configField(c, "hidden_size");
  const L = configField(c, "num_hidden_layers");
  const I = configField(c, "intermediate_size");
  const P = configField(c, "max_position_embeddings");
  const Tt = configField(c, "type_vocab_size", 2);
  const embeddings = (V + P + Tt) * d + 2 * d;
  const layer = 4 * (d * d + d) + 2 * (2 * d) + (d * I + I) + (I * d + d);
  const pooler = d * d + d;
  return embeddings + L * layer + pooler;
}

/**
 * ModelDims from a BERT / RoBERTa config.json: the parsed config (which shapes the
 * method states), the backbone count, and the matching head style (roberta → "roberta",
 * bert → "bert").
 */
export function modelDimsFromConfig(config: unknown, numLabels: number, name?: string): ModelDims<EncoderConfig> {
  const c = asConfig(config);
  const modelType = checkChoice("config.model_type", c["model_type"], BACKBONE_MODEL_TYPES);
  const backboneParams = countBackboneParams(c);
  checkPositiveInt("numLabels", numLabels);
  let parsed: EncoderConfig;
  try {
    parsed = parseEncoderConfig(c, "config");
  } catch (e) {
    if (e instanceof ConfigError) throw new StorageOptionError(`invalid ${e.message}`);
    throw e;
  }
  delete parsed.labelNames;
  parsed.numLabels = numLabels;
  const dims: ModelDims<EncoderConfig> = { config: parsed, backboneParams, numLabels, head: modelType };
  if (name !== undefined) dims.name = name;
  return dims;
}

// ---------------------------------------------------------------------------
// Text output

function formatPercent(p: number): string {
  return `${p.toFixed(3)}%`;
}

/** Label plus hyperparameters: "adapter (bn=64)", "only-mask (LoRA, r=32, k=0.5)". */
function titleText(r: StorageReport): string {
  const hp = Object.entries(r.hyperparams).map(([k, v]) => `${k}=${v}`);
  if (r.tasks > 1) hp.push(`T=${r.tasks}`);
  if (hp.length === 0) return r.label;
  return r.label.endsWith(")") ? `${r.label.slice(0, -1)}, ${hp.join(", ")})` : `${r.label} (${hp.join(", ")})`;
}

/** Aligned, human-readable table of a report. */
export function formatStorageReport(report: StorageReport): string {
  const m = report.model;
  const modelText = `${m.name !== undefined ? `${m.name}, ` : ""}L=${m.numLayers}, d=${m.hiddenSize}, backbone ${fmtInt.format(m.backboneParams)} params`;
  const lines: string[] = [];
  lines.push(`Bit-level storage: ${titleText(report)} on ${modelText}`);
  lines.push(`formula: ${report.formula}`);
  lines.push("");

  const rows: string[][] = [["group", "count", "bits/param", "bits", ""]];
  for (const g of report.groups) {
    rows.push([g.name, fmtInt.format(g.count), String(g.bitsPerParam), fmtInt.format(g.bits), g.detail ?? ""]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const w0 = widths[0] ?? 0;
  const renderRow = (r: string[]): string =>
    [
      (r[0] ?? "").padEnd(w0),
      (r[1] ?? "").padStart(widths[1] ?? 0),
      (r[2] ?? "").padStart(widths[2] ?? 0),
      (r[3] ?? "").padStart(widths[3] ?? 0),
      r[4] ?? "",
    ]
      .join("  ")
      .trimEnd();
  const header = rows[0] ?? [];
  lines.push(renderRow(header));
  const ruleWidth = renderRow(header.map((c, i) => (i === 4 ? "" : c))).length;
  lines.push("-".repeat(ruleWidth));
  for (const r of rows.slice(1)) lines.push(renderRow(r));
  lines.push("-".repeat(ruleWidth));

  const summary: [string, string][] = [
    ["total (BLS)", `${fmtInt.format(report.totalBits)} bits`],
    ["bytes", fmtInt.format(report.bytes)],
    ["32-bit words", fmtNum.format(report.words32)],
    ["% of backbone", formatPercent(report.percentOfBackbone)],
  ];
  if (report.tasks > 1) {
    const p = report.perTask;
    summary.push([
      `per task (T=${report.tasks})`,
      `${fmtNum.format(p.bits)} bits = ${fmtNum.format(p.words32)} words = ${formatPercent(p.percentOfBackbone)}`,
    ]);
  }
  const h = report.head;
  summary.push([
    report.tasks > 1 ? "head (per task)" : "head",
    h.style === "none"
      ? "none (not in BLS)"
      : `${fmtInt.format(h.params)} params = ${fmtInt.format(h.bits)} bits, ${h.style} head, ${h.numLabels} labels (not in BLS)`,
  ]);
  const sw = Math.max(...summary.map(([k]) => k.length));
  for (const [k, v] of summary) lines.push(`${k.padEnd(sw)}  ${v}`);
  if (report.notes.length > 0) {
    lines.push("");
    lines.push("notes:");
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  return lines.join("\n");
}

function formatRatio(x: number): string {
  if (x === 0) return "0";
  return x >= 0.1 ? x.toFixed(3) : x.toPrecision(3);
}

/**
 * One-line comparison, e.g. "ProPETL-adapter takes 0.114× the storage of
 * adapter (136,000 vs 1,189,632 32-bit words)". Compares per-task storage when
 * either report is multi-task (identical to the totals otherwise).
 */
export function compareStorage(a: StorageReport, b: StorageReport): string {
  const multi = a.tasks > 1 || b.tasks > 1;
  const wa = multi ? a.perTask.words32 : a.words32;
  const wb = multi ? b.perTask.words32 : b.words32;
  const what = multi ? "per-task storage" : "storage";
  return `${a.label} takes ${formatRatio(wa / wb)}× the ${what} of ${b.label} (${fmtNum.format(wa)} vs ${fmtNum.format(wb)} 32-bit words)`;
}

// ---------------------------------------------------------------------------
// Multi-task: the shared part and each task's part

/** The shared part of a multi-task state (everything but the task masks) and each task's marginal part (its task mask). */
export interface SharedAndTaskParts {
  /** Everything but the task masks. */
  shared: {
    /** Bits. */
    bits: number;
    /** Percent of the backbone's 32-bit parameters. */
    percentOfBackbone: number;
  };
  /** One task's mask. */
  perTask: {
    /** Bits. */
    bits: number;
    /** Percent of the backbone's 32-bit parameters. */
    percentOfBackbone: number;
  };
}

/**
 * Split a multi-task storage report into the part every task shares (prototype, layer masks)
 * and what each further task adds (its task mask; nothing under the "layer" rule, whose tasks
 * share every mask; a whole copy for a method without masks, whose shared part is then 0).
 * Heads are per task and outside BLS (the report's head line).
 */
export function sharedAndTaskParts(r: StorageReport): SharedAndTaskParts {
  const backbone = r.model.backboneParams;
  const pct = (bits: number): number => (bits / 32 / backbone) * 100;
  let shared: number;
  let perTask: number;
  if (r.copiesPerTask) {
    // No task-specific tensors: each task stores its own copy (the report multiplied by T).
    perTask = r.totalBits / r.tasks;
    shared = 0;
  } else {
    const taskBits = r.groups.find((g) => g.name === "task masks (1-bit)")?.bits ?? 0;
    perTask = taskBits / r.tasks;
    shared = r.totalBits - taskBits;
  }
  return { shared: { bits: shared, percentOfBackbone: pct(shared) }, perTask: { bits: perTask, percentOfBackbone: pct(perTask) } };
}

/** Two lines under a multi-task report: the shared part and what each task adds (its head aside). */
export function formatSharedAndTaskParts(r: StorageReport): string {
  const parts = sharedAndTaskParts(r);
  const bits = (x: number): string => fmtInt.format(Math.round(x));
  return [
    `shared by all ${r.tasks} tasks: ${bits(parts.shared.bits)} bits (${formatPercent(parts.shared.percentOfBackbone)} of backbone)`,
    `each task adds: ${bits(parts.perTask.bits)} bits (${formatPercent(parts.perTask.percentOfBackbone)} of backbone) + its head (${fmtInt.format(r.head.params)} params, outside BLS)`,
  ].join("\n");
}
