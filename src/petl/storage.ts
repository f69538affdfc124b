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
 * task-specific classification head is trained too but, like the paper, we
 * report it on its own and EXCLUDE it from the BLS total.
 *
 * Per-layer module sizes (d = hidden size, L = layers):
 *
 *   adapter  (Pfeiffer, after the FFN): down d×bn + bn bias, up bn×d + d bias.
 *   houlsby  two such adapters per layer (after attention and after the FFN).
 *   lora     rank r on query and value: A d×r and B r×d for each, no bias:
 *            4·r·d per layer.
 *   prefix   prefix length l: keys and values l×d each: 2·l·d per layer. The
 *            reparametrisation MLP is discarded after training (the paper's
 *            count, eq. 18, only keeps the prefixes).
 *   full     every backbone parameter at 32 bits.
 *
 * ProPETL ("propetl-*", Appendix B eqs. 14, 16, 18): ONE 32-bit prototype
 * module shared by all layers, plus a 1-bit mask per masked weight per layer.
 * Biases are not masked; they live in the prototype and are shared. The
 * sparsity ratio k does not change the storage (every mask bit is stored).
 * For Houlsby the single prototype is shared by all 2·L adapter positions and
 * each position has its own layer mask (the paper does not define
 * ProPETL-Houlsby; this is the natural reading of "one prototype network").
 *
 * Ablations (Sec. 6, Table 4), built on a base module (`base`, default
 * "adapter"):
 *   only-share   one shared 32-bit module, no masks: 32·p.
 *   only-mask    per-layer modules pruned with masks, pruned entries are not
 *                stored and masks are not counted (Appendix B):
 *                  adapter  eq. 15: 32·(2·k·bn·d + bn + d)·L  (biases unpruned)
 *                  lora     eq. 17: 32·4·k·r·d·L
 *                  prefix   eq. 19: 32·2·k·l·d·L
 *                The paper prints eq. 19 as 2·k·l·d·L, without the factor 32.
 *                Kept prefix entries are 32-bit values, like the kept weights
 *                in eqs. 15 and 17, and Table 4 matches BLS across settings, so
 *                we read the missing 32 as a typo. The report's notes say so.
 *                k·(matrix size) is rounded to the nearest integer per
 *                weight matrix (exact for the paper's settings).
 *   random-mask  counted like ProPETL (prototype + 1-bit layer masks), the
 *                paper-style count. A random mask could instead be rebuilt
 *                from a stored PRNG seed; the report's `notes` give that
 *                figure too, but it is not the headline number.
 *
 * Multi-task (Sec. 3.4, `tasks` = T > 1): ProPETL and random-mask store one
 * prototype, L layer masks (2·L for Houlsby) and T task masks (hybrid mask =
 * layer mask OR task mask). Every other method stores T independent copies of
 * its single-task storage. `totalBits` covers all T tasks; `perTask` is
 * totalBits / T, which for ProPETL equals (prototype + layer masks) / T + one
 * task mask. The head is per task and is reported per task.
 */

import { METHOD_NAMES } from "./method.js";

/** Every method `computeStorage` accepts: all of propetl's methods. */
export const STORAGE_METHODS = METHOD_NAMES;
export type StorageMethod = (typeof STORAGE_METHODS)[number];

/** PETL module families; also the accepted `base` of the ablations. */
export const PETL_MODULES = ["adapter", "houlsby", "lora", "prefix"] as const;
export type PetlModule = (typeof PETL_MODULES)[number];

/**
 * Classification-head layout, for the head line (never in BLS).
 *   roberta: RobertaClassificationHead, dense d×d + d, out_proj d×n + n.
 *   bert:    BertForSequenceClassification's pooler d×d + d and classifier d×n + n:
 *            propetl trains the pooler with the head and stores both in the task file
 *            (the backbone count also includes the pretrained pooler, as HF's BertModel).
 *   none:    no head (e.g. seq2seq generation).
 */
export const HEAD_STYLES = ["roberta", "bert", "none"] as const;
export type HeadStyle = (typeof HEAD_STYLES)[number];

/** Paper defaults (Sec. 4): adapter bn 64, LoRA r 32, prefix length 64, k 0.5. */
export const STORAGE_DEFAULTS = {
  bottleneck: 64,
  rank: 32,
  prefixLength: 64,
  k: 0.5,
  tasks: 1,
} as const;

/** Model dimensions the report needs. */
export interface ModelDims {
  /** Number of transformer layers L. */
  numLayers: number;
  /** Hidden size d. */
  hiddenSize: number;
  /** Total backbone parameter count (the denominator of "% of backbone"). */
  backboneParams: number;
  /** Labels of the classification head; required unless `head` is "none". */
  numLabels?: number;
  /** Head layout; default "roberta" (the paper's GLUE backbone). */
  head?: HeadStyle;
  /** Optional display name, e.g. "roberta-base". */
  name?: string;
}

/** Method and hyperparameters. Options a method does not use are ignored (but still validated). */
export interface StorageOptions {
  method: StorageMethod;
  /** Adapter bottleneck bn (adapter, houlsby and their variants). Default 64. */
  bottleneck?: number;
  /** LoRA rank r. Default 32. */
  rank?: number;
  /** Prefix length l. Default 64. */
  prefixLength?: number;
  /** Sparsity ratio k in (0, 1]: kept fraction. Only changes only-mask storage. Default 0.5. */
  k?: number;
  /** Base module of only-share / only-mask / random-mask. Default "adapter". */
  base?: PetlModule;
  /** Number of tasks T (multi-task). Default 1. */
  tasks?: number;
}

/** One BLS group: `count` parameters stored at `bitsPerParam` bits each. */
export interface StorageGroup {
  name: string;
  count: number;
  bitsPerParam: number;
  bits: number;
  detail?: string;
}

export interface StorageAmount {
  bits: number;
  /** ceil(bits / 8). */
  bytes: number;
  /** bits / 32 (may be fractional). */
  words32: number;
  /** words32 / backboneParams · 100. */
  percentOfBackbone: number;
}

export interface HeadStorage {
  style: HeadStyle;
  numLabels: number;
  /** Head parameters of ONE task. */
  params: number;
  /** 32 · params. */
  bits: number;
  /** Always false: the paper's BLS excludes the classifier head. */
  includedInBLS: false;
}

export interface StorageReport {
  method: StorageMethod;
  /** Display name, e.g. "ProPETL-adapter". */
  label: string;
  /** PETL module the method is built on; null for "full". */
  base: PetlModule | null;
  /** Hyperparameters that the count used, e.g. { bn: 64 } or { r: 32, k: 0.5 }. */
  hyperparams: Record<string, number>;
  model: {
    name?: string;
    numLayers: number;
    hiddenSize: number;
    backboneParams: number;
  };
  tasks: number;
  groups: StorageGroup[];
  /** Σ group bits, over all tasks. Head excluded. */
  totalBits: number;
  bytes: number;
  words32: number;
  percentOfBackbone: number;
  /** Storage per task (= the totals when tasks is 1). */
  perTask: StorageAmount;
  head: HeadStorage;
  /** Closed form the groups implement, in the paper's notation. */
  formula: string;
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

function checkK(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new StorageOptionError(
      `invalid k: ${describe(value)}; accepted values: a number in (0, 1] (the kept fraction of each mask)`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  return String(value);
}

/** The masked weight matrices and unmasked biases of one PETL module instance. */
interface ModuleShape {
  /** Sizes of the weight matrices (the masked entries). */
  matrices: number[];
  /** Unmasked bias parameters. */
  biases: number;
  /** Module instances per transformer layer. */
  perLayer: number;
  /** Hyperparameters of the shape, for the report. */
  hyperparams: Record<string, number>;
  /** Symbols for formulas: weights and biases of one instance. */
  wSym: string;
  bSym: string | null;
}

function moduleShape(base: PetlModule, d: number, opts: StorageOptions): ModuleShape {
  switch (base) {
    case "adapter":
    case "houlsby": {
      const bn = opts.bottleneck ?? STORAGE_DEFAULTS.bottleneck;
      return {
        matrices: [d * bn, bn * d],
        biases: bn + d,
        perLayer: base === "houlsby" ? 2 : 1,
        hyperparams: { bn },
        wSym: "2·bn·d",
        bSym: "bn+d",
      };
    }
    case "lora": {
      const r = opts.rank ?? STORAGE_DEFAULTS.rank;
      return {
        matrices: [d * r, r * d, d * r, r * d],
        biases: 0,
        perLayer: 1,
        hyperparams: { r },
        wSym: "4·r·d",
        bSym: null,
      };
    }
    case "prefix": {
      const l = opts.prefixLength ?? STORAGE_DEFAULTS.prefixLength;
      return {
        matrices: [l * d, l * d],
        biases: 0,
        perLayer: 1,
        hyperparams: { l },
        wSym: "2·l·d",
        bSym: null,
      };
    }
  }
}

const BASE_LABEL: Record<PetlModule, string> = {
  adapter: "adapter",
  houlsby: "Houlsby adapter",
  lora: "LoRA",
  prefix: "prefix-tuning",
};
const PROPETL_LABEL: Record<PetlModule, string> = {
  adapter: "ProPETL-adapter",
  houlsby: "ProPETL-Houlsby",
  lora: "ProPETL-LoRA",
  prefix: "ProPETL-prefix",
};
const PAPER_EQ: Record<PetlModule, string> = {
  adapter: "eq. 14",
  houlsby: "eq. 14, two adapter positions per layer",
  lora: "eq. 16",
  prefix: "eq. 18",
};
const ONLY_MASK_EQ: Record<PetlModule, string> = {
  adapter: "eq. 15",
  houlsby: "eq. 15, two adapters per layer",
  lora: "eq. 17",
  prefix: "eq. 19",
};

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

function group(name: string, count: number, bitsPerParam: number, detail?: string): StorageGroup {
  const g: StorageGroup = { name, count, bitsPerParam, bits: count * bitsPerParam };
  if (detail !== undefined) g.detail = detail;
  return g;
}

const fmtInt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmtNum = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });

/**
 * Bit-level storage report for `options.method` on a model with `model`'s
 * dimensions. Throws StorageOptionError for invalid inputs.
 */
export function computeStorage(model: ModelDims, options: StorageOptions): StorageReport {
  if (typeof model !== "object" || model === null) {
    throw new StorageOptionError(`invalid model: ${describe(model)}; accepted values: an object with numLayers, hiddenSize, backboneParams, numLabels`);
  }
  if (typeof options !== "object" || options === null) {
    throw new StorageOptionError(`invalid options: ${describe(options)}; accepted values: an object with a method`);
  }
  const method = checkChoice("method", options.method, STORAGE_METHODS);
  const L = checkPositiveInt("numLayers", model.numLayers);
  const d = checkPositiveInt("hiddenSize", model.hiddenSize);
  const backboneParams = checkPositiveInt("backboneParams", model.backboneParams);
  const headStyle = checkChoice("head", model.head ?? "roberta", HEAD_STYLES);
  const numLabels =
    headStyle === "none" && model.numLabels === undefined ? 0 : checkPositiveInt("numLabels", model.numLabels);
  // Validate every given hyperparameter, even ones this method ignores.
  if (options.bottleneck !== undefined) checkPositiveInt("bottleneck", options.bottleneck);
  if (options.rank !== undefined) checkPositiveInt("rank", options.rank);
  if (options.prefixLength !== undefined) checkPositiveInt("prefixLength", options.prefixLength);
  if (options.k !== undefined) checkK(options.k);
  if (options.base !== undefined) checkChoice("base", options.base, PETL_MODULES);
  const T = options.tasks === undefined ? STORAGE_DEFAULTS.tasks : checkPositiveInt("tasks", options.tasks);
  const k = options.k ?? STORAGE_DEFAULTS.k;

  const groups: StorageGroup[] = [];
  const notes: string[] = [];
  let base: PetlModule | null;
  let label: string;
  let formula: string;
  let hyperparams: Record<string, number> = {};
  /** Whether the layout is "shared across tasks" (ProPETL hybrid masks) rather than T copies. */
  let hybrid = false;

  if (method === "full") {
    base = null;
    label = "full fine-tuning";
    groups.push(group("backbone (32-bit)", backboneParams, 32));
    formula = "32·P_backbone";
  } else if (method === "adapter" || method === "houlsby" || method === "lora" || method === "prefix") {
    base = method;
    const s = moduleShape(base, d, options);
    hyperparams = { ...s.hyperparams };
    label = BASE_LABEL[base];
    const inst = s.perLayer * L;
    groups.push(group("weights (32-bit)", sum(s.matrices) * inst, 32, `${s.matrices.length} matrices × ${inst} modules`));
    if (s.biases > 0) groups.push(group("biases (32-bit)", s.biases * inst, 32, `${inst} modules`));
    const per = s.bSym === null ? s.wSym : `(${s.wSym}+${s.bSym})`;
    formula = `32·${s.perLayer === 2 ? "2·" : ""}${per}·L`;
  } else if (method === "only-share") {
    base = options.base ?? "adapter";
    const s = moduleShape(base, d, options);
    hyperparams = { ...s.hyperparams };
    label = `only-share (${BASE_LABEL[base]})`;
    groups.push(
      group(
        "shared module (32-bit)",
        sum(s.matrices) + s.biases,
        32,
        s.biases > 0 ? `${fmtInt.format(sum(s.matrices))} weights + ${fmtInt.format(s.biases)} biases, shared by ${s.perLayer * L} positions` : `shared by ${s.perLayer * L} positions`,
      ),
    );
    formula = `32·p, p = ${s.bSym === null ? s.wSym : `${s.wSym}+${s.bSym}`}`;
    notes.push("only-share: one module shared by every layer, no masks (paper Sec. 6).");
  } else if (method === "only-mask") {
    base = options.base ?? "adapter";
    const s = moduleShape(base, d, options);
    hyperparams = { ...s.hyperparams, k };
    label = `only-mask (${BASE_LABEL[base]})`;
    const inst = s.perLayer * L;
    const keptPerInst = sum(s.matrices.map((m) => Math.round(k * m)));
    groups.push(
      group("kept weights (32-bit)", keptPerInst * inst, 32, `round(k·size) per matrix, k=${k}, ${inst} modules`),
    );
    if (s.biases > 0) groups.push(group("biases (32-bit)", s.biases * inst, 32, `unpruned, ${inst} modules`));
    const kw = s.wSym.replace("·", "·k·");
    const per = s.bSym === null ? kw : `(${kw}+${s.bSym})`;
    formula = `32·${s.perLayer === 2 ? "2·" : ""}${per}·L  (paper ${ONLY_MASK_EQ[base]})`;
    notes.push(
      "only-mask: per-layer modules pruned by learned masks; pruned entries are never reused so they are not stored, and (as in the paper's Appendix B) masks are not counted.",
    );
    if (base === "prefix") {
      notes.push(
        "The paper prints eq. 19 as 2·k%·l·d·L without the factor 32; kept prefix entries are 32-bit values (cf. eqs. 15 and 17), so we count 32·2·k·l·d·L and treat the missing 32 as a typo.",
      );
    }
    if (keptPerInst !== k * sum(s.matrices)) {
      notes.push(`k·(matrix size) is not an integer here; kept counts are rounded per matrix (paper formula gives ${fmtNum.format(k * sum(s.matrices))} per module).`);
    }
  } else {
    // propetl-* and random-mask
    hybrid = true;
    if (method === "random-mask") {
      base = options.base ?? "adapter";
      label = `random-mask (${BASE_LABEL[base]})`;
    } else {
      base = method.slice("propetl-".length) as PetlModule;
      label = PROPETL_LABEL[base];
    }
    const s = moduleShape(base, d, options);
    hyperparams = { ...s.hyperparams };
    const W = sum(s.matrices);
    const positions = s.perLayer * L;
    groups.push(
      group(
        "prototype (32-bit)",
        W + s.biases,
        32,
        s.biases > 0
          ? `${fmtInt.format(W)} masked weights + ${fmtInt.format(s.biases)} unmasked shared biases`
          : `${fmtInt.format(W)} masked weights, no biases`,
      ),
    );
    groups.push(group("layer masks (1-bit)", W * positions, 1, `${positions} masks × ${fmtInt.format(W)} bits`));
    if (T > 1) groups.push(group("task masks (1-bit)", W * T, 1, `${T} masks × ${fmtInt.format(W)} bits`));
    const p = s.bSym === null ? s.wSym : `(${s.wSym}+${s.bSym})`;
    formula = `32·${p} + ${s.wSym}·${s.perLayer === 2 ? "2·" : ""}L${T > 1 ? ` + ${s.wSym}·T` : ""}  (paper ${PAPER_EQ[base]}${T > 1 ? ", plus Sec. 3.4 task masks" : ""})`;
    if (options.k !== undefined) {
      notes.push(`k=${k} does not change ProPETL storage: every mask bit is stored (paper Appendix B.2).`);
    }
    if (method === "random-mask") {
      const seedBits = 64;
      const alt = 32 * (W + s.biases) + seedBits;
      notes.push(
        `random-mask is counted like ProPETL's learned masks (paper-style, for comparison with Table 4). A random mask can be regenerated from a PRNG seed, so storing the prototype plus a ${seedBits}-bit seed would take ${fmtInt.format(alt)} bits (${fmtNum.format(alt / 32)} 32-bit words) instead.`,
      );
    }
    if (base === "houlsby") {
      notes.push("ProPETL-Houlsby: one prototype shared by both adapter positions of every layer, one layer mask per position.");
    }
  }

  if (base === "prefix") {
    notes.push("prefix: the reparametrisation MLP is discarded after training; only the l×d key and value prefixes count.");
  }

  let totalBits = sum(groups.map((g) => g.bits));
  if (T > 1 && !hybrid) {
    // Independent per-task copies: scale every group.
    for (const g of groups) {
      g.count *= T;
      g.bits *= T;
      g.detail = g.detail === undefined ? `× ${T} tasks` : `${g.detail}, × ${T} tasks`;
    }
    totalBits *= T;
    formula = `T·[${formula}]`;
    notes.push(`multi-task: ${label} stores an independent copy per task (T=${T}).`);
  } else if (T > 1) {
    notes.push(
      `multi-task (Sec. 3.4): one prototype, ${base === "houlsby" ? 2 * L : L} layer masks and ${T} task masks; hybrid mask = layer mask OR task mask. Per task = (prototype + layer masks)/T + one task mask.`,
    );
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
    method,
    label,
    base,
    hyperparams,
    model: modelOut,
    tasks: T,
    groups,
    totalBits,
    bytes: total.bytes,
    words32: total.words32,
    percentOfBackbone: total.percentOfBackbone,
    perTask: amount(totalBits / T, backboneParams),
    head: { style: headStyle, numLabels, params: headParams, bits: 32 * headParams, includedInBLS: false },
    formula,
    notes,
  };
}

// ---------------------------------------------------------------------------
// Backbone parameter count from a Hugging Face config.json

/** model_type values countBackboneParams understands. */
export const BACKBONE_MODEL_TYPES = ["bert", "roberta"] as const;
export type BackboneModelType = (typeof BACKBONE_MODEL_TYPES)[number];

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
 * ModelDims from a BERT / RoBERTa config.json: L, d, backbone count, and the
 * matching head style (roberta → "roberta", bert → "bert").
 */
export function modelDimsFromConfig(config: unknown, numLabels: number, name?: string): ModelDims {
  const c = asConfig(config);
  const modelType = checkChoice("config.model_type", c["model_type"], BACKBONE_MODEL_TYPES);
  checkPositiveInt("numLabels", numLabels);
  const dims: ModelDims = {
    numLayers: configField(c, "num_hidden_layers"),
    hiddenSize: configField(c, "hidden_size"),
    backboneParams: countBackboneParams(c),
    numLabels,
    head: modelType,
  };
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
