/**
 * Load and save a Hugging Face model directory (config.json + model.safetensors) on Node: the
 * files are checked to exist and read, then built into parameter trees by `load-tensors.ts`
 * (re-exported here), which the byte and URL loaders use too.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { readJsonFileSync } from "../io/json-file.js";
import { readSafetensorsFile, writeSafetensorsFile } from "../io/safetensors.js";
import type { BackboneParams, ModelConfig, TaskHeadParams } from "./architecture.js";
import { backboneFromFiles, exportHfTensors, modelFiles, modelFromFiles, ModelLoadError } from "./load-tensors.js";
import type { LoadedBackbone, LoadedModel, LoadOptions, ModelFiles } from "./load-tensors.js";

export * from "./load-tensors.js";

async function readModelFiles(dir: string): Promise<ModelFiles> {
  const configFile = path.join(dir, "config.json");
  const weightsFile = path.join(dir, "model.safetensors");
  if (!existsSync(dir)) throw new ModelLoadError(`model directory ${dir} does not exist`);
  if (!existsSync(configFile)) throw new ModelLoadError(`${configFile}: not found (a Hugging Face model dir needs config.json and model.safetensors)`);
  if (!existsSync(weightsFile)) {
    const bin = existsSync(path.join(dir, "pytorch_model.bin")) ? " (pytorch_model.bin is not supported: convert it to safetensors)" : "";
    throw new ModelLoadError(`${weightsFile}: not found${bin}`);
  }
  const file = await readSafetensorsFile(weightsFile);
  return modelFiles(readJsonFileSync(configFile, (m) => new ModelLoadError(m)), file, configFile, weightsFile);
}

/**
 * Load the backbone of `dir/config.json` + `dir/model.safetensors`, for any registered
 * architecture (T5 included). A task head the file may carry is accepted and not read.
 * Errors name the file and the keys.
 */
export async function loadBackboneDir(dir: string): Promise<LoadedBackbone> {
  return backboneFromFiles(await readModelFiles(dir));
}

/**
 * Load a sequence-classification model from `dir/config.json` + `dir/model.safetensors`: the
 * backbone, and the head from the file (or a fresh one, seeded, for a new label count). The
 * architecture must have a classification head (BERT/RoBERTa; T5 has none: `loadBackboneDir`).
 * Errors name the file and the keys.
 */
export async function loadModelDir(dir: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  return modelFromFiles(await readModelFiles(dir), opts);
}

/** Write model.safetensors (atomically) for a model. */
export async function saveModelWeights(file: string, config: ModelConfig, encoder: BackboneParams, head: TaskHeadParams | null): Promise<void> {
  await writeSafetensorsFile(file, await exportHfTensors(config, encoder, head), { format: "pt" });
}
