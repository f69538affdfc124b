/**
 * Hugging Face PEFT interop for LoRA on sequence classification (BERT/RoBERTa): a propetl task
 * checkpoint as a PEFT LoRA adapter folder, and back.
 *
 * PEFT's folder: `adapter_config.json` (a `LoraConfig`: peft_type "LORA", task_type "SEQ_CLS",
 * r, lora_alpha, target_modules, modules_to_save, base_model_name_or_path, ...) and
 * `adapter_model.safetensors` with PEFT's names, the adapter name removed as PEFT saves them:
 *   base_model.model.<bert|roberta>.encoder.layer.<i>.attention.self.<query|value>.lora_<A|B>.weight
 *     (A [r, in], B [out, r]: propetl's LoRA has PEFT's shapes, initialisation and scaling alpha/r)
 *   the head, as `modules_to_save` stores it (module path + parameter name):
 *     BERT     base_model.model.bert.pooler.dense.{weight,bias}, base_model.model.classifier.{weight,bias}
 *     RoBERTa  base_model.model.classifier.dense.{weight,bias}, base_model.model.classifier.out_proj.{weight,bias}
 *
 * Export takes any method whose modules are LoRA (lora, propetl-lora, and the LoRA ablations):
 * each layer's materialised A and B (for ProPETL-LoRA the prototype under that layer's mask, and
 * a task's hybrid mask in a multi-task file) are written as a plain LoRA; the masks' storage
 * saving does not survive the format. Import reads PEFT LoRA folders into a plain `lora`
 * checkpoint; options PEFT has and propetl's LoRA does not (DoRA, rsLoRA, rank/alpha patterns,
 * bias training, other target modules, a subset of layers, fan_in_fan_out) are errors naming
 * the option.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { EncoderConfig } from "../models/bert/config.js";
import { headSlots, fullHfName } from "../models/bert/params.js";
import { readSafetensorsFileSync, serializeSafetensors, weightsFloat32 } from "../io/safetensors.js";
import type { TensorInput } from "../io/safetensors.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { checkJsonDepth } from "../io/json-depth.js";
import type { LoadedCheckpoint } from "./checkpoint.js";
import type { HostHead } from "./checkpoint.js";
import { hostHead } from "./checkpoint.js";
import { disposeMaterialized } from "./propetl.js";
import type { MethodConfig, MethodState } from "./method.js";
import { createMethod } from "./registry.js";

export const PEFT_CONFIG_FILE = "adapter_config.json";
export const PEFT_MODEL_FILE = "adapter_model.safetensors";
/** The projections propetl's LoRA adapts, by their module names in BERT/RoBERTa. */
export const PEFT_TARGET_MODULES = ["query", "value"] as const;
type Target = (typeof PEFT_TARGET_MODULES)[number];

export class PeftFormatError extends Error {}

/** The LoraConfig fields propetl writes and reads. */
export interface PeftLoraConfig {
  peft_type: "LORA";
  task_type: "SEQ_CLS";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  modules_to_save: string[];
  base_model_name_or_path: string | null;
  bias: "none";
  fan_in_fan_out: false;
  inference_mode: boolean;
  init_lora_weights: boolean;
  use_rslora: false;
  use_dora: false;
  layers_to_transform: null;
  layers_pattern: null;
  rank_pattern: Record<string, never>;
  alpha_pattern: Record<string, never>;
  revision: string | null;
}

/** PEFT's name of layer i's LoRA tensor. */
export function peftLoraName(cfg: Pick<EncoderConfig, "modelType">, layer: number, target: Target, ab: "A" | "B"): string {
  return `base_model.model.${cfg.modelType}.encoder.layer.${layer}.attention.self.${target}.lora_${ab}.weight`;
}

/** PEFT's names of the head tensors (modules_to_save), by the host head's keys. */
export function peftHeadNames(cfg: EncoderConfig): Record<keyof HostHead, string> {
  const slots = headSlots(cfg);
  const name = (path0: string, leaf: string): string => {
    const s = slots.find((x) => x.path[0] === path0 && x.path[1] === leaf);
    if (!s) throw new Error(`no head slot ${path0}.${leaf}`);
    return `base_model.model.${fullHfName(s, cfg)}`;
  };
  return { "dense.weight": name("dense", "w"), "dense.bias": name("dense", "b"), "out_proj.weight": name("out", "w"), "out_proj.bias": name("out", "b") };
}

/** PEFT's modules_to_save for propetl's head (BERT trains the pooler; RoBERTa's head is one module). */
export function peftModulesToSave(cfg: Pick<EncoderConfig, "modelType">): string[] {
  return cfg.modelType === "bert" ? ["classifier", "pooler"] : ["classifier"];
}

/** A task of a LoRA checkpoint as PEFT's config and tensors (host). */
export async function peftLoraFromCheckpoint(ckpt: LoadedCheckpoint, opts: { task?: string | number; baseModel?: string | null } = {}): Promise<{ config: PeftLoraConfig; tensors: Map<string, { shape: number[]; data: Float32Array }>; labelNames: string[] }> {
  const cfg = ckpt.encoderConfig;
  if (cfg.modelType !== "bert" && cfg.modelType !== "roberta") throw new PeftFormatError(`PEFT export covers sequence classification on BERT/RoBERTa; this checkpoint's backbone is ${cfg.modelType}`);
  const enc = cfg as EncoderConfig;
  const t = ckpt.taskIndex(opts.task ?? 0);
  const head = ckpt.tasks[t].head;
  if (!head) throw new PeftFormatError("the checkpoint has no classification head");
  const m = ckpt.materialize(t);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  try {
    if (m.kind !== "lora") throw new PeftFormatError(`PEFT export writes LoRA adapters; ${ckpt.config.method} has ${m.kind === "full" ? "no modules (full fine-tuning)" : `${m.kind} modules`}, which PEFT's LoRA cannot hold`);
    for (let i = 0; i < m.layers.length; i++) {
      const unit = m.units[i]?.[0] ?? {};
      for (const target of PEFT_TARGET_MODULES) {
        for (const ab of ["A", "B"] as const) {
          const a = unit[`${target}_lora_${ab}`];
          if (!a) throw new PeftFormatError(`layer ${m.layers[i].layer} has no ${target}_lora_${ab}`);
          tensors.set(peftLoraName(enc, m.layers[i].layer, target, ab), { shape: [...a.shape], data: (await a.ref.data()) as Float32Array });
        }
      }
    }
  } finally {
    disposeMaterialized(m);
  }
  const h = await hostHead(head);
  const names = peftHeadNames(enc);
  for (const k of Object.keys(names) as (keyof HostHead)[]) tensors.set(names[k], h[k]);
  const mod = m.options;
  const config: PeftLoraConfig = {
    peft_type: "LORA",
    task_type: "SEQ_CLS",
    r: mod.rank,
    lora_alpha: mod.alpha,
    lora_dropout: 0,
    target_modules: [...PEFT_TARGET_MODULES],
    modules_to_save: peftModulesToSave(enc),
    base_model_name_or_path: opts.baseModel ?? null,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
  };
  return { config, tensors, labelNames: ckpt.tasks[t].labelNames };
}

/** Write a PEFT LoRA folder (adapter_config.json + adapter_model.safetensors), each file atomically. */
export async function writePeftFolder(dir: string, config: PeftLoraConfig, tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): Promise<{ configFile: string; modelFile: string }> {
  const configFile = path.join(dir, PEFT_CONFIG_FILE);
  const modelFile = path.join(dir, PEFT_MODEL_FILE);
  const entries: Record<string, TensorInput> = {};
  for (const [name, t] of tensors) entries[name] = { dtype: "F32", shape: t.shape, data: t.data };
  // PEFT and transformers write {"format": "pt"} into the header's metadata.
  await writeFileAtomic(modelFile, serializeSafetensors(entries, { format: "pt" }, modelFile));
  await writeFileAtomic(configFile, JSON.stringify(config, null, 2) + "\n");
  return { configFile, modelFile };
}

/** Options of a LoraConfig that propetl reads, and the value each must have when present. */
const ACCEPTED: Readonly<Record<string, (v: unknown) => boolean>> = {
  bias: (v) => v === "none",
  fan_in_fan_out: (v) => v === false,
  use_rslora: (v) => v === false || v === undefined,
  use_dora: (v) => v === false || v === undefined,
  layers_to_transform: (v) => v === null,
  layers_pattern: (v) => v === null || (Array.isArray(v) && v.length === 0),
  rank_pattern: (v) => v === null || (typeof v === "object" && v !== null && Object.keys(v).length === 0),
  alpha_pattern: (v) => v === null || (typeof v === "object" && v !== null && Object.keys(v).length === 0),
  megatron_config: (v) => v === null,
  loftq_config: (v) => v === null || (typeof v === "object" && v !== null && Object.keys(v).length === 0),
  layer_replication: (v) => v === null,
  trainable_token_indices: (v) => v === null,
  exclude_modules: (v) => v === null,
};
/** Keys read elsewhere, or without effect on inference. */
const IGNORED = new Set(["peft_type", "task_type", "r", "lora_alpha", "target_modules", "modules_to_save", "base_model_name_or_path", "lora_dropout", "inference_mode", "init_lora_weights", "revision", "auto_mapping", "megatron_core", "runtime_config", "lora_bias", "corda_config", "eva_config", "qalora_group_size", "use_qalora", "target_parameters", "peft_version", "layers_to_transform_pattern", "alora_invocation_tokens", "arrow_config", "ensure_weight_tying"]);

/** Read a PEFT LoRA SEQ_CLS folder as a plain `lora` method state and a head, for `cfg` (see the file comment). */
export function readPeftLora(dir: string, cfg: EncoderConfig): { method: MethodConfig; state: MethodState; head: HostHead; baseModel: string | null } {
  const configFile = path.join(dir, PEFT_CONFIG_FILE);
  const fail = (file: string, msg: string): never => {
    throw new PeftFormatError(`${file}: ${msg}`);
  };
  let json: unknown;
  try {
    const text = readFileSync(configFile, "utf8");
    checkJsonDepth(text, configFile);
    json = JSON.parse(text);
  } catch (e) {
    return fail(configFile, `not a readable JSON file (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(configFile, "expected a JSON object");
  const c = json as Record<string, unknown>;
  if (c.peft_type !== "LORA") return fail(configFile, `"peft_type" must be "LORA" (propetl imports LoRA adapters), got ${JSON.stringify(c.peft_type)}`);
  if (c.task_type !== "SEQ_CLS") return fail(configFile, `"task_type" must be "SEQ_CLS" (sequence classification), got ${JSON.stringify(c.task_type)}`);
  const r = c.r;
  const alpha = c.lora_alpha;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 1) return fail(configFile, `"r" must be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) return fail(configFile, `"lora_alpha" must be a number > 0, got ${JSON.stringify(alpha)}`);
  const targets = c.target_modules;
  if (!Array.isArray(targets) || targets.length === 0 || !targets.every((t) => typeof t === "string" && (PEFT_TARGET_MODULES as readonly string[]).includes(t))) {
    return fail(configFile, `"target_modules" must list some of ${PEFT_TARGET_MODULES.join(", ")} (propetl's LoRA adapts query and value), got ${JSON.stringify(targets)}`);
  }
  for (const [key, value] of Object.entries(c)) {
    if (IGNORED.has(key)) continue;
    const ok = ACCEPTED[key];
    if (!ok) return fail(configFile, `unsupported PEFT option "${key}" (${JSON.stringify(value)}); propetl reads plain LoRA on query/value`);
    if (!ok(value)) return fail(configFile, `unsupported PEFT option "${key}": ${JSON.stringify(value)} (propetl's LoRA needs the default)`);
  }
  const modelFile = path.join(dir, PEFT_MODEL_FILE);
  let file;
  try {
    file = readSafetensorsFileSync(modelFile);
  } catch (e) {
    return fail(modelFile, (e as Error).message.replace(`${modelFile}: `, ""));
  }
  const byName = file.tensors;
  const seen = new Set<string>();
  const take = (name: string, shape: number[]): Float32Array => {
    const e = byName.get(name);
    if (!e) return fail(modelFile, `missing tensor "${name}"`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) return fail(modelFile, `tensor "${name}" has shape [${e.shape.join(", ")}], expected [${shape.join(", ")}]`);
    if (e.dtype !== "F32" && e.dtype !== "F16" && e.dtype !== "BF16") return fail(modelFile, `tensor "${name}" is ${e.dtype}; expected F32, F16 or BF16`);
    seen.add(name);
    return weightsFloat32(e, name, modelFile);
  };
  const method: MethodConfig = { method: "lora", rank: r, alpha };
  const spec = createMethod(method).stateSpec(cfg);
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  for (const [name, shape] of spec.tensors) {
    const m = /^encoder\.layer\.(\d+)\.self_attention\.(query|value)_lora_(A|B)$/.exec(name);
    if (!m) throw new Error(`peft import: unexpected LoRA state name ${name}`);
    const target = m[2] as Target;
    const peftName = peftLoraName(cfg, Number(m[1]), target, m[3] as "A" | "B");
    // A projection PEFT did not adapt gets a zero update (B = 0), as a fresh LoRA has.
    const data = targets.includes(target) ? take(peftName, shape) : new Float32Array(shape.reduce((a, b) => a * b, 1));
    state.tensors.set(name, { shape, data });
  }
  const H = cfg.hiddenSize;
  const names = peftHeadNames(cfg);
  const outE = byName.get(names["out_proj.weight"]);
  if (!outE || outE.shape.length !== 2 || outE.shape[1] !== H) return fail(modelFile, `missing tensor "${names["out_proj.weight"]}" [labels, ${H}] (the classifier; propetl imports adapters saved with it in modules_to_save)`);
  const C = outE.shape[0];
  const head: HostHead = {
    "dense.weight": { shape: [H, H], data: take(names["dense.weight"], [H, H]) },
    "dense.bias": { shape: [H], data: take(names["dense.bias"], [H]) },
    "out_proj.weight": { shape: [C, H], data: take(names["out_proj.weight"], [C, H]) },
    "out_proj.bias": { shape: [C], data: take(names["out_proj.bias"], [C]) },
  };
  const unknown = [...byName.keys()].filter((n) => !seen.has(n));
  if (unknown.length) return fail(modelFile, `unexpected tensor(s) for a LoRA adapter on query/value: ${unknown.slice(0, 6).join(", ")}${unknown.length > 6 ? ", ..." : ""}`);
  const base = c.base_model_name_or_path;
  return { method, state, head, baseModel: typeof base === "string" ? base : null };
}
