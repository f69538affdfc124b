/**
 * Load and save a Hugging Face model directory (config.json + model.safetensors) into our
 * parameter trees, with strict key checking, for any registered architecture (the
 * architecture's tensor slots are the key list).
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile } from "../io/safetensors.js";
import type { TensorEntry, TensorInput } from "../io/safetensors.js";
import type { BackboneParams, ModelConfig, TaskHeadParams } from "./architecture.js";
import { architectureOf, parseModelConfig } from "./registry.js";
import { disposeTree, getLeaf, setLeaf } from "./slots.js";
import type { ParamSlot } from "./slots.js";

export class ModelLoadError extends Error {}

export interface LoadedModel {
  config: ModelConfig;
  encoder: BackboneParams;
  head: TaskHeadParams;
  /** "checkpoint" when the head came from the file, else "initialized" (fresh, seeded). */
  headSource: "checkpoint" | "initialized" | "partial";
  /** How the model type was found when config.json names none (null when it does). */
  modelTypeInferred: string | null;
}

function toDevice(entry: TensorEntry, name: string, file: string, slot: ParamSlot): JArray {
  if (entry.shape.length !== slot.shape.length || entry.shape.some((d, i) => d !== slot.shape[i])) {
    throw new ModelLoadError(`${file}: tensor "${name}" has shape [${entry.shape.join(",")}], expected [${slot.shape.join(",")}] from config.json`);
  }
  return np.array(toFloat32(entry, name, file)).reshape(slot.shape);
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
  const file = await readSafetensorsFile(weightsFile);
  const resolved = parseModelConfig(readJson(configFile), configFile, () => [...file.tensors.keys()]);
  let config = resolved.config;
  const arch = architectureOf(config);
  const newLabels = opts.numLabels !== undefined && opts.numLabels !== config.numLabels;
  if (opts.numLabels !== undefined) {
    config = { ...config, numLabels: opts.numLabels };
    delete config.labelNames;
  }
  if (opts.labelNames) config = { ...config, labelNames: opts.labelNames };
  const used = new Set<string>();
  const find = (slot: ParamSlot): [string, TensorEntry] | undefined => {
    for (const n of arch.hfNames(slot, config)) {
      const e = file.tensors.get(n);
      if (e) return [n, e];
    }
    return undefined;
  };
  const encoder = {} as Record<string, unknown>;
  const missing: string[] = [];
  const disposeAll: JArray[] = [];
  try {
    for (const slot of arch.backboneSlots(config)) {
      const hit = find(slot);
      if (!hit) {
        missing.push(arch.hfNames(slot, config)[0]);
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
    const head = arch.initHead(config, opts.seed ?? 0) as unknown as Record<string, unknown>;
    let found = 0;
    const hSlots = arch.headSlots(config);
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
    const unknown = [...file.tensors.keys()].filter((n) => !used.has(n) && !arch.ignorableTensor(n));
    if (unknown.length) {
      disposeTree(head);
      throw new ModelLoadError(`${weightsFile}: ${unknown.length} unexpected tensor(s) for a ${config.modelType} model with this config.json: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", ..." : ""}`);
    }
    const headSource = found === hSlots.length ? "checkpoint" : found === 0 ? "initialized" : "partial";
    return { config, encoder: encoder as unknown as BackboneParams, head: head as unknown as TaskHeadParams, headSource, modelTypeInferred: resolved.inferred };
  } catch (e) {
    for (const a of disposeAll) if (a.refCount > 0) a.dispose();
    throw e;
  }
}

/** Host copy of every tensor under its HF name (weights back in [out, in] layout). */
export async function exportHfTensors(config: ModelConfig, encoder: BackboneParams, head: TaskHeadParams | null): Promise<Record<string, TensorInput>> {
  const out: Record<string, TensorInput> = {};
  const arch = architectureOf(config);
  const slots = [...arch.backboneSlots(config), ...(head ? arch.headSlots(config) : [])];
  for (const slot of slots) {
    const src = slot.tree === "encoder" ? encoder : head;
    const arr = getLeaf(src, slot.path);
    const data = (await arr.ref.data()) as Float32Array;
    out[arch.hfNames(slot, config)[0]] = { dtype: "F32", shape: slot.shape, data };
  }
  return out;
}

/** Write model.safetensors (atomically) for a model. */
export async function saveModelWeights(file: string, config: ModelConfig, encoder: BackboneParams, head: TaskHeadParams | null): Promise<void> {
  await writeSafetensorsFile(file, await exportHfTensors(config, encoder, head), { format: "pt" });
}


function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ModelLoadError(`${file}: cannot read model config (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelLoadError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}
