/**
 * Resume checkpoints: one safetensors tensor set holding the trainable parameters, the AdamW
 * moments, the best parameters so far, and (in its `__metadata__`) the loop position and
 * history as JSON, kept in a `TrainStateStore`. Platform-free: on Node the store is a file
 * (`trainStateFile`, train-state.ts), written atomically (temp file + fsync + rename), so a kill
 * at any moment leaves either the previous checkpoint or the new one; elsewhere any object with
 * `read` and `write` (memory, IndexedDB).
 *
 * Tensor names: `params.<path>`, `mu.<path>`, `nu.<path>`, `best.<path>`, where <path> is the
 * dotted tree path (see tree-util.ts). Loading checks every name and shape against the
 * freshly initialised tree and names what is missing, unexpected or mis-shaped.
 */
import { np } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { weightsFloat32 } from "../io/safetensors-format.js";
import type { SafetensorsFile, TensorInput } from "../io/safetensors-format.js";
import { fillSkeleton, namedLeaves, skeletonOf } from "./tree-util.js";
import { checkJsonDepth } from "../io/json-depth.js";

export const TRAIN_STATE_FORMAT = "propetl-train-state";
export const TRAIN_STATE_VERSION = 1;
const META_KEY = "propetl_train_state";

/** One evaluation in the history. */
export interface EvalRecord {
  /** The epoch it ran in (1-based). */
  epoch: number;
  /** Optimiser steps done when it ran. */
  step: number;
  /** The model-selection score (NaN in a history without evaluation). */
  main: number;
  /** Every score, by name. */
  scores: Record<string, number>;
  /** Mean training loss over the epoch. */
  trainLoss?: number;
}

/** Where the loop is and what it has seen; JSON in the checkpoint's metadata. */
export interface LoopPosition {
  format: typeof TRAIN_STATE_FORMAT;
  version: number;
  /** Hash of everything that must match for a resume to be exact (config, data, seed). */
  fingerprint: string;
  /** 0-based epoch in progress. */
  epoch: number;
  /** Optimizer steps already done in `epoch`. */
  stepInEpoch: number;
  /** Optimizer steps done in total. */
  globalStep: number;
  /** AdamW step count. */
  optCount: number;
  /** Sum and count of micro-batch losses (weighted by examples) in the current epoch. */
  epochLossSum: number;
  epochLossCount: number;
  history: EvalRecord[];
  best: EvalRecord | null;
  /** Evaluations since the last improvement (early stopping). */
  badEvals: number;
  /** True once the loop has finished (resuming then just returns the result). */
  finished: boolean;
  stoppedEarly: boolean;
}

export interface TrainStateTrees<P> {
  params: P;
  mu: P;
  nu: P;
  best: P | null;
}

export class TrainStateError extends Error {}

/**
 * Where a training run keeps its resume checkpoint: `trainLoop` writes it at every epoch end
 * (and every `everySteps` steps) and reads it back to resume.
 */
export interface TrainStateStore {
  /** Names the checkpoint in messages and events (a file path, a key). */
  readonly name: string;
  /** The stored tensors and metadata, or null when nothing is stored yet. */
  read(): Promise<SafetensorsFile | null>;
  /** Replace the stored checkpoint with these tensors and metadata (atomically where the medium allows). */
  write(tensors: Record<string, TensorInput>, metadata: Record<string, string>): Promise<void>;
}

/**
 * Make sure an array is backed by a device buffer. jax-js keeps small arrays whose values are
 * all equal (e.g. a [1] gate, a zero bias) as inline constants, and operations on constants
 * are folded on the host in float64 instead of running float32 kernels, so a parameter
 * loaded from a checkpoint would not round exactly like the same parameter in the running
 * process (a buffer written by the optimizer). Realizing it keeps resumed runs bit-identical.
 */
export function deviceBuffer(arr: JArray): JArray {
  const r = arr as unknown as { _realizeSource?: () => unknown };
  if (typeof r._realizeSource === "function") r._realizeSource();
  return arr;
}

async function hostTensors(prefix: string, tree: unknown, out: Record<string, TensorInput>): Promise<void> {
  for (const [path, leaf] of namedLeaves(tree)) {
    const data = (await leaf.ref.data()) as Float32Array;
    if (!(data instanceof Float32Array)) throw new TrainStateError(`parameter "${path}" is not float32`);
    out[`${prefix}.${path}`] = { dtype: "F32", shape: leaf.shape, data };
  }
}

/** Write the resume checkpoint into a store. Trees are borrowed. */
export async function storeTrainState<P>(store: TrainStateStore, trees: TrainStateTrees<P>, position: LoopPosition): Promise<void> {
  const tensors: Record<string, TensorInput> = {};
  await hostTensors("params", trees.params, tensors);
  await hostTensors("mu", trees.mu, tensors);
  await hostTensors("nu", trees.nu, tensors);
  if (trees.best) await hostTensors("best", trees.best, tensors);
  await store.write(tensors, { [META_KEY]: JSON.stringify(position), format: "pt" });
}

/** Read just the position of a stored checkpoint; null when the store holds none. */
export async function readStoredPosition(store: TrainStateStore): Promise<LoopPosition | null> {
  const st = await store.read();
  return st === null ? null : parsePosition(st.metadata, store.name);
}

function parsePosition(metadata: Record<string, string>, file: string): LoopPosition {
  const raw = metadata[META_KEY];
  if (raw === undefined) throw new TrainStateError(`${file}: not a propetl resume checkpoint (no "${META_KEY}" metadata)`);
  let pos: LoopPosition;
  try {
    checkJsonDepth(raw, `${file}: ${META_KEY}`);
    pos = JSON.parse(raw) as LoopPosition;
  } catch (e) {
    throw new TrainStateError(`${file}: invalid resume metadata (${(e as Error).message})`);
  }
  if (pos.format !== TRAIN_STATE_FORMAT || pos.version !== TRAIN_STATE_VERSION) {
    throw new TrainStateError(`${file}: unsupported resume checkpoint format ${JSON.stringify(pos.format)} version ${String(pos.version)} (expected ${TRAIN_STATE_FORMAT} v${TRAIN_STATE_VERSION})`);
  }
  return pos;
}

/**
 * Load a stored resume checkpoint into trees shaped like `template` (borrowed; only its
 * structure and shapes are used). Returns owned trees. A store holding nothing is an error.
 */
export async function loadStoredTrainState<P>(store: TrainStateStore, template: P): Promise<{ trees: TrainStateTrees<P>; position: LoopPosition }> {
  const st = await store.read();
  if (st === null) throw new TrainStateError(`${store.name}: no resume checkpoint stored`);
  return trainStateFromTensors(st, template, store.name);
}

/** A resume checkpoint's trees from its tensors (`file` names it in errors); see `loadStoredTrainState`. */
export function trainStateFromTensors<P>(st: SafetensorsFile, template: P, file: string): { trees: TrainStateTrees<P>; position: LoopPosition } {
  const position = parsePosition(st.metadata, file);
  const skeleton = skeletonOf(template);
  const shapes = new Map(namedLeaves(template).map(([p, a]) => [p, a.shape]));
  const used = new Set<string>();
  const created: JArray[] = [];
  const load = (prefix: string, optional: boolean): P | null => {
    const values = new Map<string, JArray>();
    const missing: string[] = [];
    for (const [path, shape] of shapes) {
      const name = `${prefix}.${path}`;
      const entry = st.tensors.get(name);
      if (!entry) {
        missing.push(name);
        continue;
      }
      if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
        throw new TrainStateError(`${file}: tensor "${name}" has shape [${entry.shape.join(",")}], expected [${shape.join(",")}] (was the checkpoint made with other settings?)`);
      }
      used.add(name);
      const arr = deviceBuffer(np.array(weightsFloat32(entry, name, file)).reshape(shape));
      created.push(arr);
      values.set(path, arr);
    }
    if (missing.length === shapes.size && optional) return null;
    if (missing.length) throw new TrainStateError(`${file}: missing ${missing.length} tensor(s): ${missing.slice(0, 6).join(", ")}${missing.length > 6 ? ", ..." : ""}`);
    return fillSkeleton(skeleton, values) as P;
  };
  try {
    const params = load("params", false) as P;
    const mu = load("mu", false) as P;
    const nu = load("nu", false) as P;
    const best = load("best", true);
    const unknown = [...st.tensors.keys()].filter((n) => !used.has(n));
    if (unknown.length) throw new TrainStateError(`${file}: unexpected tensor(s) ${unknown.slice(0, 6).join(", ")}${unknown.length > 6 ? ", ..." : ""} (was the checkpoint made with another method?)`);
    return { trees: { params, mu, nu, best }, position };
  } catch (e) {
    for (const a of created) if (a.refCount > 0) a.dispose();
    throw e;
  }
}
