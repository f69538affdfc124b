/**
 * The backbone registry: architectures by `model_type`, and how a config.json without one is
 * resolved. Hugging Face reads `model_type`; configs written before it existed (2019-era
 * BERT checkpoints) are recognised here, in this order, from
 *   1. `architectures` (class names such as "BertForMaskedLM", "RobertaModel"),
 *   2. the prefix of the weights' tensor names ("bert.", "roberta."),
 *   3. else BERT (what such old checkpoints are).
 * The caller is told which rule decided (`ResolvedConfig.inferred`).
 */
import type { Architecture, ClassifierConfig, ModelConfig, ModelType } from "./architecture.js";
import { BERT_ARCHITECTURE } from "./bert/architecture.js";
import { isEncoderConfig } from "./bert/config.js";
import { ConfigError } from "./config-values.js";
import { T5_ARCHITECTURE } from "./t5/architecture.js";

/** Every registered architecture. */
export const ARCHITECTURES: readonly Architecture[] = [BERT_ARCHITECTURE, T5_ARCHITECTURE];

/** Every model_type the registry loads. */
export const MODEL_TYPES: readonly ModelType[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

/** The model types of the architectures with a sequence-classification head (task checkpoints' backbones). */
export const CLASSIFIER_MODEL_TYPES: readonly ModelType[] = ARCHITECTURES.filter((a) => a.head !== null).flatMap((a) => a.modelTypes);

/** The architecture of a model type. */
export function architectureFor(modelType: string): Architecture {
  const arch = ARCHITECTURES.find((a) => (a.modelTypes as readonly string[]).includes(modelType));
  if (!arch) throw new ConfigError(`model_type ${JSON.stringify(modelType)} is not supported; supported: ${MODEL_TYPES.join(", ")}`);
  return arch;
}

/** The architecture of a parsed config. */
export function architectureOf(cfg: Pick<ModelConfig, "modelType">): Architecture {
  return architectureFor(cfg.modelType);
}

/** A config with how its model type was found. */
export interface ResolvedConfig {
  /** The parsed config. */
  config: ModelConfig;
  /** null when config.json names model_type; else what decided it, for the user to see. */
  inferred: string | null;
}

type Json = Record<string, unknown>;

/**
 * The model type of a config.json object (see the file comment). `tensorNames` is asked only
 * when `model_type` and `architectures` do not decide.
 */
export function resolveModelType(json: Record<string, unknown>, file: string, tensorNames?: () => string[]): {
  /** The model type. */
  modelType: ModelType;
  /** null when config.json names `model_type`; else the rule that decided. */
  inferred: string | null;
} {
  const given = json.model_type;
  if (given !== undefined) {
    if (typeof given !== "string" || !(MODEL_TYPES as readonly string[]).includes(given)) {
      throw new ConfigError(`${file}: "model_type" must be one of ${MODEL_TYPES.join(", ")}, got ${JSON.stringify(given)}`);
    }
    return { modelType: given as ModelType, inferred: null };
  }
  const classes = json.architectures;
  if (Array.isArray(classes)) {
    for (const c of classes) {
      if (typeof c !== "string") continue;
      for (const arch of ARCHITECTURES) {
        for (const [prefix, type] of Object.entries(arch.classPrefixes)) {
          if (c.startsWith(prefix)) return { modelType: type, inferred: `model_type "${type}" from architectures ${JSON.stringify(c)}` };
        }
      }
    }
  }
  const names = tensorNames?.() ?? [];
  for (const arch of ARCHITECTURES) {
    for (const [prefix, type] of Object.entries(arch.tensorPrefixes)) {
      const hit = names.find((n) => n.startsWith(prefix));
      if (hit !== undefined) return { modelType: type, inferred: `model_type "${type}" from the tensor name "${hit}"` };
    }
  }
  return { modelType: "bert", inferred: `model_type "bert" (config.json names no model_type or architectures, and no tensor name tells)` };
}

/** Parse a config.json object of any registered architecture. */
export function parseModelConfig(json: unknown, file = "config.json", tensorNames?: () => string[]): ResolvedConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`${file}: expected a JSON object`);
  const { modelType, inferred } = resolveModelType(json as Json, file, tensorNames);
  return { config: architectureFor(modelType).parseConfig(json, file, modelType), inferred };
}

/**
 * Whether a config is one the fine-tuning pipeline (sequence classification, MLM pretraining)
 * runs on: an architecture with a classification head, i.e. BERT/RoBERTa.
 */
export function isClassifierConfig(cfg: ModelConfig): cfg is ClassifierConfig {
  return isEncoderConfig(cfg) && architectureOf(cfg).head !== null;
}
