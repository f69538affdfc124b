/**
 * Resume checkpoints as files (Node): `trainStateFile(file)` is the `TrainStateStore`
 * (train-state-store.ts, re-exported here) that the CLI's runs give `trainLoop`: a safetensors
 * file written atomically (temp file + fsync + rename; its folder recreated if the run's folder
 * was removed), read with the file reader. The file-path helpers below read and write it.
 */
import { existsSync } from "node:fs";
import { readSafetensorsFile, writeSafetensorsFile } from "../io/safetensors.js";
import { loadStoredTrainState, readStoredPosition, storeTrainState } from "./train-state-store.js";
import type { LoopPosition, TrainStateStore, TrainStateTrees } from "./train-state-store.js";

export * from "./train-state-store.js";

/** The resume checkpoint kept in `file` (absent until the first write). */
export function trainStateFile(file: string): TrainStateStore {
  return {
    name: file,
    read: async () => (existsSync(file) ? readSafetensorsFile(file) : null),
    // The run's own folder: if it was removed during the run, create it again rather than lose the state.
    write: (tensors, metadata) => writeSafetensorsFile(file, tensors, metadata, { createFolder: true }),
  };
}

/** Write the resume checkpoint file atomically. Trees are borrowed. */
export function saveTrainState<P>(file: string, trees: TrainStateTrees<P>, position: LoopPosition): Promise<void> {
  return storeTrainState(trainStateFile(file), trees, position);
}

/** Read just the position (cheap check before loading tensors); null when there is no file. */
export function readTrainPosition(file: string): Promise<LoopPosition | null> {
  return readStoredPosition(trainStateFile(file));
}

/**
 * Load a resume checkpoint file into trees shaped like `template` (borrowed; only its structure
 * and shapes are used). Returns owned trees.
 */
export function loadTrainState<P>(file: string, template: P): Promise<{ trees: TrainStateTrees<P>; position: LoopPosition }> {
  return loadStoredTrainState(trainStateFile(file), template);
}
