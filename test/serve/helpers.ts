/**
 * A tiny serving setup: the tiny BERT model folder and a tasks folder with a single-task
 * ProPETL-adapter classifier ("sentiment", 2 labels), a regression task ("similarity"), a
 * second classifier with another prototype ("topic", 3 labels) and a multi-task checkpoint
 * ("mt" with tasks alpha and beta), every module nudged away from its init so tasks differ.
 */
import path from "node:path";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { initHead } from "../../src/models/bert/init.js";
import { loadModelDir } from "../../src/models/load.js";
import { saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodName } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import { tinyModelDir } from "../train/helpers.js";

export const TEXTS = ["the cat was on the mat", "he said it is not", "a", "that is the one with a hat", "no", "who has been there", "it was as it is", "the end of the day and the night"];

/** Write a checkpoint of `method` with label sets `labels` (one per task; one task unless `tasks` names several). */
export async function makeCheckpoint(modelDir: string, dir: string, method: MethodName, labels: string[][], seed: number, tasks?: string[]): Promise<void> {
  const model = await loadModelDir(modelDir);
  const m = createMethod({ method, bottleneck: 8, rank: 4, alpha: 8, prefixLength: 4, prefixHidden: 16, ...(tasks ? { tasks } : {}) });
  const init = m.init(model.config, model.encoder, seed) as { source?: unknown };
  const rng = new HostRng(seed);
  const params = init.source !== undefined ? { ...init, source: tree.map((x: JArray) => x.add(np.array(rng.normalArray(x.size, 0.05)).reshape(x.shape)), init.source as never) } : init;
  const heads = labels.map((l, t) => initHead({ ...model.config, numLabels: l.length }, seed + t));
  await saveTaskCheckpoint(dir, { method: m, params, encoderConfig: model.config, heads, labelNames: labels });
  tree.dispose([params as never, heads, model.encoder, model.head]);
  m.dispose();
}

/** The model folder and tasks folder under `work`. */
export async function tinyServeSetup(work: string): Promise<{ modelDir: string; tasksDir: string }> {
  const modelDir = tinyModelDir(path.join(work, "model"));
  const tasksDir = path.join(work, "tasks");
  await makeCheckpoint(modelDir, path.join(tasksDir, "sentiment"), "propetl-adapter", [["neg", "pos"]], 1);
  await makeCheckpoint(modelDir, path.join(tasksDir, "similarity"), "propetl-adapter", [["score"]], 2);
  await makeCheckpoint(modelDir, path.join(tasksDir, "topic"), "propetl-lora", [["a", "b", "c"]], 3);
  await makeCheckpoint(modelDir, path.join(tasksDir, "mt"), "propetl-adapter", [["no", "yes"], ["x", "y", "z"]], 4, ["alpha", "beta"]);
  return { modelDir, tasksDir };
}
