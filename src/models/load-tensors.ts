/**
 * A Hugging Face model (config.json + model.safetensors contents) into our parameter trees,
 * with strict key checking, for any registered architecture (the architecture's tensor slots
 * are the key list); and back to HF tensors. Platform-free: `load.ts` reads a model folder on
 * Node, the byte and URL loaders (`models/load-bytes.ts`) parse bytes, and both build the
 * trees here.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { parseJsonBytes } from "../io/json-bytes.js";
import { parseSafetensors, weightsFloat32 } from "../io/safetensors-format.js";
import type { SafetensorsFile, TensorEntry, TensorInput } from "../io/safetensors-format.js";
import type { Architecture, BackboneParams, ClassifierConfig, ClassifierParams, ModelConfig, TaskHeadParams } from "./architecture.js";
import { architectureOf, isClassifierConfig, parseModelConfig } from "./registry.js";
import { disposeTree, getLeaf, setLeaf } from "./slots.js";
import type { ParamSlot } from "./slots.js";

/** A model folder that cannot be loaded: a missing file, or a tensor that is absent, unknown or of the wrong shape or dtype; the message names the file. */
export class ModelLoadError extends Error {
  /** Always "ModelLoadError". */
  override name = "ModelLoadError";
}

/** A backbone of any registered architecture, without a task head. */
export interface LoadedBackbone {
  /** The parsed config.json. */
  config: ModelConfig;
  /** The backbone's weights (T5: both stacks and the embeddings). */
  encoder: BackboneParams;
  /** How the model type was found when config.json names none (null when it does). */
  modelTypeInferred: string | null;
}

/** A sequence-classification model: backbone and task head. */
export interface LoadedModel {
  /** The parsed config.json (`numLabels` as loaded or overridden). */
  config: ClassifierConfig;
  /** The encoder's weights. */
  encoder: ClassifierParams;
  /** The classification head's weights. */
  head: TaskHeadParams;
  /**
   * "checkpoint" when the head came from the file, "initialized" when the file had none (fresh,
   * seeded), "partial" when the file had only part of it (e.g. the pooler without a classifier,
   * or a classifier dropped for a new `numLabels`); the rest is fresh.
   */
  headSource: "checkpoint" | "initialized" | "partial";
  /** How the model type was found when config.json names none (null when it does). */
  modelTypeInferred: string | null;
}

function toDevice(entry: TensorEntry, name: string, file: string, slot: ParamSlot): JArray {
  if (entry.shape.length !== slot.shape.length || entry.shape.some((d, i) => d !== slot.shape[i])) {
    throw new ModelLoadError(`${file}: tensor "${name}" has shape [${entry.shape.join(",")}], expected [${slot.shape.join(",")}] from config.json`);
  }
  return np.array(weightsFloat32(entry, name, file)).reshape(slot.shape);
}

/** Options of `loadModelDir`. */
export interface LoadOptions {
  /** Override the number of labels (a new task); the checkpoint's head is then not used. */
  numLabels?: number;
  /** Label names in id order (the loaded config's `labelNames`). */
  labelNames?: string[];
  /** Seed for a freshly initialised head. */
  seed?: number;
}

/** A model's two files, parsed: config.json's config and the tensors of model.safetensors (names: paths or URLs, for messages). */
export interface ModelFiles {
  /** config.json's path or URL; errors about the config name it. */
  configFile: string;
  /** model.safetensors' path or URL; errors about a tensor name it. */
  weightsFile: string;
  /**
   * model.safetensors' tensors by their Hugging Face names, as parsed (bytes not yet converted:
   * `backboneFromFiles` / `modelFromFiles` check each shape against the config and convert it
   * with `weightsFloat32`).
   */
  tensors: ReadonlyMap<string, TensorEntry>;
  /** config.json, parsed by its architecture's parser (`parseModelConfig`). */
  config: ModelConfig;
  /** How the model type was found when config.json names no `model_type` (null when it does; `ResolvedConfig.inferred`). */
  modelTypeInferred: string | null;
}

/** A model's files from config.json's parsed JSON and the parsed safetensors (the config is resolved as `parseModelConfig` does). */
export function modelFiles(configJson: unknown, weights: SafetensorsFile, configFile: string, weightsFile: string): ModelFiles {
  const resolved = parseModelConfig(configJson, configFile, () => [...weights.tensors.keys()]);
  return { configFile, weightsFile, tensors: weights.tensors, config: resolved.config, modelTypeInferred: resolved.inferred };
}

/**
 * A model's files from their bytes: model.safetensors (`SafetensorsError`), then config.json
 * (strict UTF-8 JSON, `ModelLoadError`), in the order the folder loader reads them.
 */
export function modelFilesFromBytes(config: Uint8Array, weights: Uint8Array, configFile: string, weightsFile: string): ModelFiles {
  const st = parseSafetensors(weights, weightsFile);
  return modelFiles(parseJsonBytes(config, configFile, (m) => new ModelLoadError(m)), st, configFile, weightsFile);
}

/** The first of a slot's names that the file has, with its entry. */
function findSlot(arch: Architecture, cfg: ModelConfig, tensors: ReadonlyMap<string, TensorEntry>, slot: ParamSlot): [string, TensorEntry] | undefined {
  for (const n of arch.hfNames(slot, cfg)) {
    const e = tensors.get(n);
    if (e) return [n, e];
  }
  return undefined;
}

/** The backbone tree from a file's tensors (every slot required); records the names it used. */
function readBackbone(f: ModelFiles, cfg: ModelConfig, used: Set<string>): BackboneParams {
  const arch = architectureOf(cfg);
  const tree = {} as Record<string, unknown>;
  const missing: string[] = [];
  const made: JArray[] = [];
  try {
    for (const slot of arch.backboneSlots(cfg)) {
      const hit = findSlot(arch, cfg, f.tensors, slot);
      if (!hit) {
        missing.push(arch.hfNames(slot, cfg)[0]);
        continue;
      }
      used.add(hit[0]);
      const arr = toDevice(hit[1], hit[0], f.weightsFile, slot);
      made.push(arr);
      setLeaf(tree, slot.path, arr);
    }
    if (missing.length) {
      throw new ModelLoadError(`${f.weightsFile}: missing ${missing.length} tensor(s) required by config.json: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}`);
    }
  } catch (e) {
    for (const a of made) a.dispose();
    throw e;
  }
  return tree as unknown as BackboneParams;
}

/** Strict key checking: every tensor of the file was used or is one the architecture ignores. */
function checkUnknown(f: ModelFiles, cfg: ModelConfig, used: ReadonlySet<string>): void {
  const arch = architectureOf(cfg);
  const unknown = [...f.tensors.keys()].filter((n) => !used.has(n) && !arch.ignorableTensor(n, cfg));
  if (unknown.length) {
    throw new ModelLoadError(`${f.weightsFile}: ${unknown.length} unexpected tensor(s) for a ${cfg.modelType} model with this config.json: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", ..." : ""}`);
  }
}

/**
 * The backbone of a model's files, for any registered architecture (T5 included). A task head
 * the file may carry is accepted and not read. Errors name the file and the keys.
 */
export function backboneFromFiles(f: ModelFiles): LoadedBackbone {
  const cfg = f.config;
  const arch = architectureOf(cfg);
  const used = new Set<string>();
  const encoder = readBackbone(f, cfg, used);
  try {
    if (arch.head !== null) {
      for (const slot of arch.head.slots(cfg)) {
        const hit = findSlot(arch, cfg, f.tensors, slot);
        if (hit) used.add(hit[0]);
      }
    }
    checkUnknown(f, cfg, used);
  } catch (e) {
    disposeTree(encoder);
    throw e;
  }
  return { config: cfg, encoder, modelTypeInferred: f.modelTypeInferred };
}

/**
 * A sequence-classification model from a model's files: the backbone, and the head from the
 * file (or a fresh one, seeded, for a new label count). The architecture must have a
 * classification head (BERT/RoBERTa; T5 has none: `backboneFromFiles`). Errors name the file
 * and the keys.
 */
export function modelFromFiles(f: ModelFiles, opts: LoadOptions = {}): LoadedModel {
  const arch = architectureOf(f.config);
  const head0 = arch.head;
  if (head0 === null || !isClassifierConfig(f.config)) {
    throw new ModelLoadError(`${f.configFile}: model_type "${f.config.modelType}" (${arch.name}) has no sequence-classification head; load its backbone with loadBackboneDir`);
  }
  let config: ClassifierConfig = f.config;
  const newLabels = opts.numLabels !== undefined && opts.numLabels !== config.numLabels;
  if (opts.numLabels !== undefined) {
    config = { ...config, numLabels: opts.numLabels };
    delete config.labelNames;
  }
  if (opts.labelNames) config = { ...config, labelNames: opts.labelNames };
  const used = new Set<string>();
  const encoder = readBackbone(f, config, used) as ClassifierParams;
  const head = head0.init(config, opts.seed ?? 0) as unknown as Record<string, unknown>;
  try {
    let found = 0;
    const hSlots = head0.slots(config);
    for (const slot of hSlots) {
      const hit = findSlot(arch, config, f.tensors, slot);
      if (!hit) continue;
      used.add(hit[0]);
      if (newLabels && slot.path[0] === "out") continue;
      const arr = toDevice(hit[1], hit[0], f.weightsFile, slot);
      getLeaf(head, slot.path).dispose();
      setLeaf(head, slot.path, arr);
      found++;
    }
    checkUnknown(f, config, used);
    const headSource = found === hSlots.length ? "checkpoint" : found === 0 ? "initialized" : "partial";
    return { config, encoder, head: head as unknown as TaskHeadParams, headSource, modelTypeInferred: f.modelTypeInferred };
  } catch (e) {
    disposeTree(head);
    disposeTree(encoder);
    throw e;
  }
}

/** Host copy of every tensor under its HF name (weights back in [out, in] layout). */
export async function exportHfTensors(config: ModelConfig, encoder: BackboneParams, head: TaskHeadParams | null): Promise<Record<string, TensorInput>> {
  const out: Record<string, TensorInput> = {};
  const arch = architectureOf(config);
  if (head !== null && arch.head === null) throw new Error(`a ${arch.name} model has no task head to export`);
  const slots = [...arch.backboneSlots(config), ...(head !== null && arch.head !== null ? arch.head.slots(config) : [])];
  for (const slot of slots) {
    const src = slot.tree === "encoder" ? encoder : head;
    const arr = getLeaf(src, slot.path);
    const data = (await arr.ref.data()) as Float32Array;
    out[arch.hfNames(slot, config)[0]] = { dtype: "F32", shape: slot.shape, data };
  }
  return out;
}
