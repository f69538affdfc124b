/**
 * Tokenizers on Node: everything of `tokenizer-core.ts` (platform-free: tokenizers from
 * tokenizer.json, vocab.txt or vocab.json + merges.txt text) plus reading and writing a model
 * folder's tokenizer files. The folder reader builds the tokenizer with `tokenizerFromFiles`,
 * as the byte and URL loaders do.
 */
import * as fs from "node:fs/promises";
import { isJsonObject } from "./tokenizer-json.js";
import { TOKENIZER_FILE_NAMES, tokenizerFromFiles } from "./tokenizer-core.js";
import type { Tokenizer, TokenizerFiles } from "./tokenizer-core.js";

export * from "./tokenizer-core.js";

/**
 * Load a tokenizer from a model directory, fully offline: tokenizer.json if
 * present, else vocab.txt, else vocab.json + merges.txt (plus tokenizer_config.json).
 */
export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  let isDir = false;
  try {
    isDir = (await fs.stat(modelDir)).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new Error(
      `Tokenizer directory not found: ${modelDir} (expected a folder with tokenizer.json, or vocab.txt, or vocab.json + merges.txt)`,
    );
  }
  const files: TokenizerFiles = {};
  const base = modelDir.replace(/[\\/]+$/, "");
  for (const name of TOKENIZER_FILE_NAMES) {
    try {
      files[name] = await fs.readFile(`${base}/${name}`, "utf8");
    } catch (e) {
      if (!(isJsonObject(e) && (e["code"] === "ENOENT" || e["code"] === "EISDIR"))) throw e;
    }
  }
  return tokenizerFromFiles(files, modelDir);
}

/** Write `tokenizer.toFiles()` into `dir` (created if needed). Returns the file names written. */
export async function writeTokenizerFiles(dir: string, tokenizer: Tokenizer): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files = tokenizer.toFiles();
  const base = dir.replace(/[\\/]+$/, "");
  for (const [name, content] of Object.entries(files)) await fs.writeFile(`${base}/${name}`, content, "utf8");
  return Object.keys(files);
}
