/**
 * Task checkpoints as folders on Node: `saveTaskCheckpoint` / `writeTaskCheckpoint` write
 * adapter_config.json and adapter_model.safetensors (atomically), `loadTaskCheckpoint` reads a
 * folder and validates it with `checkpointFromParts`. The format, its validation and the byte
 * form are `checkpoint-format.ts` (platform-free, re-exported here).
 */
import { existsSync, statSync } from "node:fs";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../io/atomic-write.js";
import { readJsonFile } from "../io/json-file.js";
import { readSafetensorsFile, writeSafetensorsFile } from "../io/safetensors.js";
import { adapterConfigText, checkpointContents, checkpointFromParts, checkpointState, CheckpointError, CONFIG_FILE, MODEL_FILE } from "./checkpoint-format.js";
import type { LoadCheckpointOptions, LoadedCheckpoint, SaveCheckpointOptions, WriteCheckpointOptions } from "./checkpoint-format.js";

export * from "./checkpoint-format.js";

/** Write a task checkpoint folder (created if needed; both files written atomically). */
export async function saveTaskCheckpoint<T>(dir: string, opts: SaveCheckpointOptions<T>): Promise<{
  /** The path of adapter_config.json written (`dir` joined with `CONFIG_FILE`). */
  configFile: string;
  /** The path of adapter_model.safetensors written (`dir` joined with `MODEL_FILE`). */
  modelFile: string;
  /** The size of adapter_model.safetensors on disk, in bytes (adapter_config.json not counted). */
  bytes: number;
}> {
  return writeTaskCheckpoint(dir, await checkpointState(opts));
}

/** Write a task checkpoint folder from a host state (both files atomically; the state is checked against the method's `stateSpec`). */
export async function writeTaskCheckpoint(dir: string, opts: WriteCheckpointOptions): Promise<{ configFile: string; modelFile: string; bytes: number }> {
  const c = checkpointContents(opts);
  await fsp.mkdir(dir, { recursive: true });
  const configFile = path.join(dir, CONFIG_FILE);
  const modelFile = path.join(dir, MODEL_FILE);
  await writeSafetensorsFile(modelFile, c.tensors, c.metadata);
  await writeFileAtomic(configFile, adapterConfigText(c.config));
  return { configFile, modelFile, bytes: statSync(modelFile).size };
}

/** Read and validate a task checkpoint folder. */
export async function loadTaskCheckpoint(dir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const configFile = path.join(dir, CONFIG_FILE);
  const modelFile = path.join(dir, MODEL_FILE);
  if (!existsSync(configFile)) throw new CheckpointError(`${configFile}: not found (a task checkpoint needs ${CONFIG_FILE} and ${MODEL_FILE})`);
  if (!existsSync(modelFile)) throw new CheckpointError(`${modelFile}: not found`);
  const json = await readJsonFile(configFile, (m) => new CheckpointError(m));
  return checkpointFromParts(json, () => readSafetensorsFile(modelFile), { source: dir, configFile, modelFile }, opts);
}
