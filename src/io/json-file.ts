/**
 * The one reader of JSON files (config.json, adapter_config.json, generation_config.json) on
 * Node: the bytes of the file through `parseJsonBytes` (json-bytes.ts: strict UTF-8, nesting
 * limit, JSON.parse), which the byte and URL loaders call too. `error` makes the caller's
 * named error from a message that already names the file.
 */
import { readFileSync } from "node:fs";
import { promises as fsp } from "node:fs";
import { parseJsonBytes } from "./json-bytes.js";
import type { MakeError } from "./json-bytes.js";

export { firstInvalidUtf8, parseJsonBytes } from "./json-bytes.js";

/** Read and parse a JSON file; an unreadable file is `error` too (naming it and the cause). */
export function readJsonFileSync(file: string, error: MakeError): unknown {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw error(`${file}: cannot read (${(e as Error).message})`);
  }
  return parseJsonBytes(bytes, file, error);
}

/** Async variant of {@link readJsonFileSync}. */
export async function readJsonFile(file: string, error: MakeError): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    throw error(`${file}: cannot read (${(e as Error).message})`);
  }
  return parseJsonBytes(bytes, file, error);
}
