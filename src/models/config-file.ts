/**
 * A model folder's config.json read from disk (Node): the file's JSON, and for a config that
 * names no model type the tensor names of the model.safetensors next to it (header only),
 * through `parseModelConfig` (registry.ts), which the byte and URL loaders call too.
 */
import path from "node:path";
import { readJsonFileSync } from "../io/json-file.js";
import { readTensorNamesSync } from "../io/safetensors.js";
import type { ClassifierConfig } from "./architecture.js";
import { ConfigError } from "./config-values.js";
import { ARCHITECTURES, architectureOf, isClassifierConfig, parseModelConfig } from "./registry.js";
import type { ResolvedConfig } from "./registry.js";

/**
 * Read `config.json`. When it names no model type, the tensor names of `model.safetensors`
 * next to it (header only) may decide.
 */
export function readModelConfig(file: string): ResolvedConfig {
  const json = readJsonFileSync(file, (m) => new ConfigError(m));
  const weights = path.join(path.dirname(file), "model.safetensors");
  const tensorNames = (): string[] => {
    try {
      return readTensorNamesSync(weights);
    } catch {
      return []; // a missing or bad weights file is reported by the loader, with its name
    }
  };
  return parseModelConfig(json, file, tensorNames);
}

/**
 * Read config.json's parsed config (see `readModelConfig` for how the model type is found),
 * for the pipelines that need an encoder with a classification head: another architecture
 * (T5) is an error naming the file.
 */
export function readEncoderConfig(file: string): ClassifierConfig {
  const cfg = readModelConfig(file).config;
  if (!isClassifierConfig(cfg)) {
    throw new ConfigError(`${file}: model_type "${cfg.modelType}" (${architectureOf(cfg).name}) is not supported here: sequence classification and MLM pretraining need ${ARCHITECTURES.filter((a) => a.head !== null).map((a) => a.name).join(" or ")}`);
  }
  return cfg;
}
