/**
 * A model folder's generation defaults read from disk (Node): `generation_config.json` when the
 * folder has one, else `config.json`, parsed by `parseGenerationDefaults`
 * (generation-defaults.ts, re-exported here).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { readJsonFileSync } from "../io/json-file.js";
import { GENERATION_CONFIG_FILE, GenerationConfigError, parseGenerationDefaults } from "./generation-defaults.js";
import type { GenerationDefaults } from "./generation-defaults.js";

export * from "./generation-defaults.js";

/**
 * The generation defaults of a model folder. Values of the wrong type are errors naming the
 * file and key; `null` means unset (HF's `None`).
 */
export function readGenerationDefaults(modelDir: string): GenerationDefaults {
  const genFile = path.join(modelDir, GENERATION_CONFIG_FILE);
  const cfgFile = path.join(modelDir, "config.json");
  const file = existsSync(genFile) ? genFile : existsSync(cfgFile) ? cfgFile : null;
  if (file === null) return { file, unsupported: [] };
  return parseGenerationDefaults(readJsonFileSync(file, (m) => new GenerationConfigError(m)), file);
}
