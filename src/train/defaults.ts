/**
 * Training defaults (paper Sec. 4 and App. C.2, and the authors' scripts), in one place for
 * the CLI, the README and library users.
 *
 * | setting          | default | paper / note                                                   |
 * |------------------|---------|----------------------------------------------------------------|
 * | learning rates   | method  | per method in the method table (petl/methods.ts,               |
 * |                  |         | `defaultLearningRates`): module 1e-4 (full FT 2e-5), mask       |
 * |                  |         | scores 3e-3 (LoRA-based 3e-2, Table 8), head = module lr        |
 * | weight decay     | 0.1     | also on the scores, as the authors                              |
 * | warmup ratio     | 0.1     | linear warmup, then linear decay to 0                           |
 * | max grad norm    | 1.0     | HF Trainer's default                                            |
 * | batch size       | 32      | paper 128; 32 keeps a step short on 2 CPU cores (use            |
 * |                  |         | --grad-accum 4 for the paper's effective 128)                   |
 * | epochs           | task    | 20 small (< 10k train), 10 large                               |
 * | max length       | 128     | tokens, including special tokens                                |
 * | eval batch size  | 64      |                                                                |
 * | seed             | 42      |                                                                |
 * | jit              | on      | compiled step; pad lengths rounded to a multiple of 8           |
 *
 * Module defaults are the method table's (petl/methods.ts): adapter bottleneck 64, LoRA r 32
 * with alpha 32 (plain) / 48 (with masks), prefix length 64, k 0.5.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../data/builtin-tasks.js";

export { TRAIN_DEFAULTS, resolveMaxLength } from "./hyper-defaults.js";

/** Where the package's bundled backbone lives (issue 5's propetl-mini). */
export const BUNDLED_MODEL = "models/propetl-mini";

/** The bundled encoder–decoder for text-to-text tasks (propetl-mini-t5). */
export const BUNDLED_T5_MODEL = "models/propetl-mini-t5";

/** A bundled model's folder (`model` relative to the package root), or null when this package has none. */
export function findBundledModel(model: string = BUNDLED_MODEL): string | null {
  try {
    const dir = path.join(packageRoot(), model);
    return existsSync(path.join(dir, "config.json")) && existsSync(path.join(dir, "model.safetensors")) ? dir : null;
  } catch {
    return null;
  }
}

/** The models this package bundles (`models/<name>/`, each with its model card, README.md). */
export const BUNDLED_MODELS = {
  /** The classification default. */
  "propetl-mini": "a 4-layer BERT (hidden 256) pretrained here; the default backbone for classification; no trained classification head",
  /** The text-to-text default. */
  "propetl-mini-t5": "a 4+4-block T5 v1.0 with an 8,000-id Spanish+English vocabulary; the default backbone for text-to-text tasks",
} as const;

/** A bundled model's name (a key of `BUNDLED_MODELS`). */
export type BundledModelName = keyof typeof BUNDLED_MODELS;

/**
 * The absolute path of a bundled model's folder (default propetl-mini): a Hugging Face model
 * folder for `loadModelDir`, `loadBackboneDir`, `loadTokenizer` or `propetl train --model`.
 * Throws when the name is not a bundled model or this installation lacks its files.
 */
export function bundledModelDir(name: BundledModelName = "propetl-mini"): string {
  if (!Object.hasOwn(BUNDLED_MODELS, name)) {
    throw new Error(`unknown bundled model ${JSON.stringify(name)}; bundled models: ${Object.keys(BUNDLED_MODELS).join(", ")}`);
  }
  const dir = findBundledModel(`models/${name}`);
  if (dir === null) throw new Error(`bundled model ${name}: models/${name}/config.json or model.safetensors is missing from this installation of propetl`);
  return dir;
}

/** A fresh output folder name: runs/<task>-<method>-<YYYYMMDD-HHMMSS>. */
export function defaultOutputDir(task: string, method: string, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return path.join("runs", `${task.replace(/[^A-Za-z0-9_-]+/g, "_")}-${method}-${stamp}`);
}
