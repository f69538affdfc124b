/**
 * Load and save a Hugging Face model directory (config.json + model.safetensors) into our
 * parameter trees, with strict key checking.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { np, random } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile } from "../io/safetensors.js";
import type { TensorEntry, TensorInput } from "../io/safetensors.js";
import { readEncoderConfig } from "./config.js";
import type { EncoderConfig } from "./config.js";
import { initMlmHead, MLM_HF_NAMES } from "./mlm.js";
import type { MlmHeadParams } from "./mlm.js";
import { encoderSlots, fullHfName, getLeaf, headSlots, setLeaf } from "./params.js";
import type { EncoderParams, HeadParams, ParamSlot } from "./params.js";

export class ModelLoadError extends Error {}

export interface LoadedModel {
  config: EncoderConfig;
  encoder: EncoderParams;
  head: HeadParams;
  /** "checkpoint" when the head came from the file, else "initialized" (fresh, seeded). */
  headSource: "checkpoint" | "initialized" | "partial";
}

/** Keys a model file may carry that we do not use (MLM heads, buffers). */
function ignorable(name: string): boolean {
  return /(^|\.)position_ids$/.test(name) || /^(cls|lm_head)\./.test(name) || name.startsWith("bert.cls.") || name.startsWith("roberta.lm_head.");
}

function toDevice(entry: TensorEntry, name: string, file: string, slot: ParamSlot): JArray {
  if (entry.shape.length !== slot.shape.length || entry.shape.some((d, i) => d !== slot.shape[i])) {
    throw new ModelLoadError(`${file}: tensor "${name}" has shape [${entry.shape.join(",")}], expected [${slot.shape.join(",")}] from config.json`);
  }
  return np.array(toFloat32(entry, name, file)).reshape(slot.shape);
}

/** Fresh head parameters: normal(0, 0.02) weights, zero biases (HF's initializer_range). */
export function initHead(cfg: EncoderConfig, seed: number): HeadParams {
  const [k1, k2] = random.split(random.key(seed), 2);
  const H = cfg.hiddenSize;
  return {
    dense: { w: random.normal(k1, [H, H]).mul(0.02), b: np.zeros([H]) },
    out: { w: random.normal(k2, [cfg.numLabels, H]).mul(0.02), b: np.zeros([cfg.numLabels]) },
  };
}

/**
 * A fresh encoder as HF initialises BERT (`BertPreTrainedModel._init_weights`): embeddings
 * and linear weights normal(0, 0.02), the word embedding row of the pad token zeroed, zero
 * biases, unit LayerNorm. Deterministic in `seed`.
 */
export function initEncoder(cfg: EncoderConfig, seed: number): EncoderParams {
  const slots = encoderSlots(cfg);
  const keys = [...random.split(random.key(seed), slots.length)];
  const encoder: Record<string, unknown> = {};
  slots.forEach((slot, i) => {
    const last = slot.path[slot.path.length - 1];
    let leaf: JArray;
    if (last === "g") leaf = np.ones(slot.shape);
    else if (last === "b") leaf = np.zeros(slot.shape);
    else leaf = random.normal(keys[i], slot.shape).mul(0.02);
    if (last === "g" || last === "b") keys[i].dispose();
    if (slot.path[1] === "word" && cfg.padTokenId >= 0 && cfg.padTokenId < cfg.vocabSize) {
      const keep = new Float32Array(cfg.vocabSize).fill(1);
      keep[cfg.padTokenId] = 0;
      leaf = leaf.mul(np.array(keep).reshape([cfg.vocabSize, 1]));
    }
    setLeaf(encoder, slot.path, leaf);
  });
  return encoder as unknown as EncoderParams;
}

/**
 * The head stored in a model file's tensors (`cls.predictions.*`), or null when the file has
 * none of them. A partial or mis-shaped head is an error naming the tensors. HF may also store
 * the tied decoder (`cls.predictions.decoder.*`): its bias is used when `cls.predictions.bias`
 * is absent; its weight is the word embedding matrix and is not read.
 */
export function mlmHeadFromTensors(cfg: EncoderConfig, tensors: ReadonlyMap<string, TensorEntry>, file: string): MlmHeadParams | null {
  const H = cfg.hiddenSize;
  const want: [keyof typeof MLM_HF_NAMES, number[]][] = [
    ["denseWeight", [H, H]],
    ["denseBias", [H]],
    ["lnWeight", [H]],
    ["lnBias", [H]],
    ["bias", [cfg.vocabSize]],
  ];
  const entry = (key: keyof typeof MLM_HF_NAMES): [string, TensorEntry] | undefined => {
    const name = MLM_HF_NAMES[key];
    const e = tensors.get(name);
    if (e) return [name, e];
    if (key === "bias") {
      const d = tensors.get("cls.predictions.decoder.bias");
      if (d) return ["cls.predictions.decoder.bias", d];
    }
    return undefined;
  };
  const found = want.map(([k]) => entry(k));
  if (found.every((f) => f === undefined)) return null;
  const missing = want.filter((_, i) => found[i] === undefined).map(([k]) => MLM_HF_NAMES[k]);
  if (missing.length) throw new ModelLoadError(`${file}: the MLM head is incomplete: missing ${missing.join(", ")}`);
  const arrays: JArray[] = [];
  try {
    for (let i = 0; i < want.length; i++) {
      const [name, e] = found[i] as [string, TensorEntry];
      const shape = want[i][1];
      if (e.shape.length !== shape.length || e.shape.some((d, j) => d !== shape[j])) {
        throw new ModelLoadError(`${file}: tensor "${name}" has shape [${e.shape.join(",")}], expected [${shape.join(",")}] from config.json`);
      }
      arrays.push(np.array(toFloat32(e, name, file)).reshape(shape));
    }
  } catch (err) {
    for (const a of arrays) a.dispose();
    throw err;
  }
  const [w, b, g, lb, bias] = arrays;
  return { dense: { w, b }, ln: { g, b: lb }, bias };
}

export interface LoadOptions {
  /** Override the number of labels (a new task); the checkpoint's head is then not used. */
  numLabels?: number;
  labelNames?: string[];
  /** Seed for a freshly initialised head. */
  seed?: number;
}

/** Load `dir/config.json` + `dir/model.safetensors`. Errors name the file and the keys. */
export async function loadModelDir(dir: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const configFile = path.join(dir, "config.json");
  const weightsFile = path.join(dir, "model.safetensors");
  if (!existsSync(dir)) throw new ModelLoadError(`model directory ${dir} does not exist`);
  if (!existsSync(configFile)) throw new ModelLoadError(`${configFile}: not found (a Hugging Face model dir needs config.json and model.safetensors)`);
  if (!existsSync(weightsFile)) {
    const bin = existsSync(path.join(dir, "pytorch_model.bin")) ? " (pytorch_model.bin is not supported: convert it to safetensors)" : "";
    throw new ModelLoadError(`${weightsFile}: not found${bin}`);
  }
  let config = readEncoderConfig(configFile);
  const newLabels = opts.numLabels !== undefined && opts.numLabels !== config.numLabels;
  if (opts.numLabels !== undefined) {
    config = { ...config, numLabels: opts.numLabels };
    delete config.labelNames;
  }
  if (opts.labelNames) config = { ...config, labelNames: opts.labelNames };
  const file = await readSafetensorsFile(weightsFile);
  const used = new Set<string>();
  const find = (slot: ParamSlot): [string, TensorEntry] | undefined => {
    const names = slot.prefixed ? [`${config.modelType}.${slot.hfName}`, slot.hfName] : [slot.hfName];
    for (const n of names) {
      const e = file.tensors.get(n);
      if (e) return [n, e];
    }
    return undefined;
  };
  const encoder = {} as Record<string, unknown>;
  const missing: string[] = [];
  const disposeAll: JArray[] = [];
  try {
    for (const slot of encoderSlots(config)) {
      const hit = find(slot);
      if (!hit) {
        missing.push(fullHfName(slot, config));
        continue;
      }
      used.add(hit[0]);
      const arr = toDevice(hit[1], hit[0], weightsFile, slot);
      disposeAll.push(arr);
      setLeaf(encoder, slot.path, arr);
    }
    if (missing.length) {
      throw new ModelLoadError(`${weightsFile}: missing ${missing.length} tensor(s) required by config.json: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}`);
    }
    const head = initHead(config, opts.seed ?? 0) as unknown as Record<string, unknown>;
    let found = 0;
    const hSlots = headSlots(config);
    for (const slot of hSlots) {
      const hit = find(slot);
      if (!hit) continue;
      used.add(hit[0]);
      if (newLabels && slot.path[0] === "out") continue;
      const arr = toDevice(hit[1], hit[0], weightsFile, slot);
      getLeaf(head, slot.path).dispose();
      setLeaf(head, slot.path, arr);
      found++;
    }
    const unknown = [...file.tensors.keys()].filter((n) => !used.has(n) && !ignorable(n));
    if (unknown.length) {
      tree_dispose(head);
      throw new ModelLoadError(`${weightsFile}: ${unknown.length} unexpected tensor(s) for a ${config.modelType} model with this config.json: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", ..." : ""}`);
    }
    const headSource = found === hSlots.length ? "checkpoint" : found === 0 ? "initialized" : "partial";
    return { config, encoder: encoder as unknown as EncoderParams, head: head as unknown as HeadParams, headSource };
  } catch (e) {
    for (const a of disposeAll) if (a.refCount > 0) a.dispose();
    throw e;
  }
}

function tree_dispose(t: Record<string, unknown>): void {
  for (const v of Object.values(t)) {
    if (v && typeof v === "object" && "dispose" in v && typeof (v as JArray).dispose === "function") (v as JArray).dispose();
    else if (v && typeof v === "object") tree_dispose(v as Record<string, unknown>);
  }
}

/** Host copy of every tensor under its HF name (weights back in [out, in] layout). */
export async function exportHfTensors(config: EncoderConfig, encoder: EncoderParams, head: HeadParams | null): Promise<Record<string, TensorInput>> {
  const out: Record<string, TensorInput> = {};
  const slots = [...encoderSlots(config), ...(head ? headSlots(config) : [])];
  for (const slot of slots) {
    const src = slot.tree === "encoder" ? encoder : head;
    const arr = getLeaf(src, slot.path);
    const data = (await arr.ref.data()) as Float32Array;
    out[fullHfName(slot, config)] = { dtype: "F32", shape: slot.shape, data };
  }
  return out;
}

/** Write model.safetensors (atomically) for a model. */
export async function saveModelWeights(file: string, config: EncoderConfig, encoder: EncoderParams, head: HeadParams | null): Promise<void> {
  await writeSafetensorsFile(file, await exportHfTensors(config, encoder, head), { format: "pt" });
}

/** A BERT model dir with its masked-language-model head (as `BertForMaskedLM` stores it). */
export interface LoadedMlmModel {
  config: EncoderConfig;
  encoder: EncoderParams;
  head: MlmHeadParams;
  /** "checkpoint" when the file had `cls.predictions.*`, else "initialized" (fresh, seeded). */
  headSource: "checkpoint" | "initialized";
}

/**
 * Load a BERT model dir for masked-language modelling: the encoder (strictly, as
 * `loadModelDir`) and the MLM head from `cls.predictions.*`, or a fresh head (`initMlmHead`
 * with `seed`) when the file has none. RoBERTa (`lm_head.*`) is not supported.
 */
export async function loadMlmModelDir(dir: string, opts: { seed?: number } = {}): Promise<LoadedMlmModel> {
  const model = await loadModelDir(dir);
  const dispose = (t: unknown): void => tree_dispose(t as Record<string, unknown>);
  dispose(model.head);
  if (model.config.modelType !== "bert") {
    dispose(model.encoder);
    throw new ModelLoadError(`${path.join(dir, "config.json")}: model_type "${model.config.modelType}": only BERT models (masked-LM head cls.predictions.*) can be pretrained here`);
  }
  const weightsFile = path.join(dir, "model.safetensors");
  let head: MlmHeadParams | null;
  try {
    head = mlmHeadFromTensors(model.config, (await readSafetensorsFile(weightsFile)).tensors, weightsFile);
  } catch (e) {
    dispose(model.encoder);
    throw e;
  }
  return {
    config: model.config,
    encoder: model.encoder,
    head: head ?? initMlmHead(model.config, opts.seed ?? 0),
    headSource: head ? "checkpoint" : "initialized",
  };
}
