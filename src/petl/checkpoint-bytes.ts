/**
 * Task checkpoints from bytes or from a checkpoint folder's URL, validated by the folder
 * loader's code (`checkpointFromParts`: config keys, method settings, hook points, backbone,
 * tensors, mask counts), so the errors are the same `CheckpointError`s, naming the file or URL
 * and the field. Single- and multi-task checkpoints alike. Platform-free.
 */
import { fetchBytes, fetchOf, folderUrl } from "../io/fetch-bytes.js";
import type { FetchLike } from "../io/fetch-bytes.js";
import { checkpointFromBytes, CheckpointError, CONFIG_FILE, MODEL_FILE } from "./checkpoint-format.js";
import type { LoadCheckpointOptions, LoadedCheckpoint } from "./checkpoint-format.js";

/** A task checkpoint folder's two files as bytes. */
export interface TaskCheckpointBytes {
  /** adapter_config.json */
  adapterConfig: Uint8Array;
  /** adapter_model.safetensors */
  weights: Uint8Array;
}

/** Options of the byte and URL checkpoint loaders. */
export interface TaskCheckpointLoadOptions extends LoadCheckpointOptions {
  /** Names the checkpoint in messages (its folder or URL); file names are appended. Default "checkpoint". */
  source?: string;
  /** URL loader: the fetch to use (default the platform's). */
  fetch?: FetchLike;
}

/**
 * A task checkpoint from its files' bytes, validated as `loadTaskCheckpoint` validates a folder.
 * Give `encoderConfig` (the backbone's `config`) to check the checkpoint was trained on it.
 * The result is owned: `dispose()` it.
 */
export function loadTaskCheckpointFromBytes(files: TaskCheckpointBytes, opts: TaskCheckpointLoadOptions = {}): Promise<LoadedCheckpoint> {
  const source = (opts.source ?? "checkpoint").replace(/[\\/]+$/, "");
  return checkpointFromBytes(files.adapterConfig, files.weights, { source, configFile: `${source}/${CONFIG_FILE}`, modelFile: `${source}/${MODEL_FILE}` }, opts.encoderConfig ? { encoderConfig: opts.encoderConfig } : {});
}

/**
 * A task checkpoint from a folder served over HTTP(S) (`baseUrl`, relative URLs resolve
 * against the page): adapter_config.json and adapter_model.safetensors. A missing file, any
 * other HTTP error and a network failure are `CheckpointError`s naming the URL and the status;
 * then validated as `loadTaskCheckpointFromBytes` (errors name the URLs).
 */
export async function loadTaskCheckpointFromUrl(baseUrl: string | URL, opts: TaskCheckpointLoadOptions = {}): Promise<LoadedCheckpoint> {
  const error = (m: string): Error => new CheckpointError(m);
  const base = folderUrl(baseUrl, error);
  const fetchFn = fetchOf(opts.fetch, error);
  const missing = `a task checkpoint needs ${CONFIG_FILE} and ${MODEL_FILE}`;
  const [adapterConfig, weights] = await Promise.all([
    fetchBytes(fetchFn, new URL(CONFIG_FILE, base), error, { missing }),
    fetchBytes(fetchFn, new URL(MODEL_FILE, base), error, { missing }),
  ]);
  return loadTaskCheckpointFromBytes({ adapterConfig: adapterConfig as Uint8Array, weights: weights as Uint8Array }, { ...opts, source: base.href });
}
