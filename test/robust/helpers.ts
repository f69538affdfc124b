/** Small task checkpoints on tiny-bert for the robustness tests, and file-editing helpers. */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { initHead } from "../../src/models/bert/init.js";
import { loadModelDir } from "../../src/models/load.js";
import { saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodName } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import { modelFixtureDir } from "../helpers/fixtures.js";

/** A checkpoint of `method` on tiny-bert with nudged module weights; several `tasks` make a multi-task file. */
export async function makeCheckpoint(dir: string, method: MethodName, opts: { tasks?: string[]; seed?: number } = {}): Promise<void> {
  const seed = opts.seed ?? 3;
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  const tasks = opts.tasks;
  const m = createMethod({ method, bottleneck: 8, rank: 4, alpha: 8, prefixLength: 4, prefixHidden: 16, ...(tasks ? { tasks } : {}) });
  const init = m.init(model.config, model.encoder, seed) as { source: unknown };
  const rng = new HostRng(seed);
  const params = { ...init, source: tree.map((x: JArray) => x.add(np.array(rng.normalArray(x.size, 0.05)).reshape(x.shape)), init.source as never) };
  const heads = (tasks ?? ["default"]).map((_, t) => initHead({ ...model.config, numLabels: 2 }, seed + t));
  await saveTaskCheckpoint(dir, { method: m, params, encoderConfig: model.config, heads, ...(tasks ? { labelNames: tasks.map(() => ["no", "yes"]) } : {}) });
  tree.dispose([params as never, heads, model.encoder, model.head]);
  m.dispose();
}

export const CONFIG = "adapter_config.json";
export const MODEL = "adapter_model.safetensors";

/** Rewrite a checkpoint's adapter_config.json through `edit`. */
export function editConfig(dir: string, edit: (json: Record<string, unknown>) => void): void {
  const file = path.join(dir, CONFIG);
  const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
}

/** Rewrite a checkpoint's safetensors file (a valid file) with `edit` applied to copies of its tensors and metadata. */
export function editTensors(dir: string, edit: (tensors: Record<string, TensorInput>, metadata: Record<string, string>) => void): void {
  const file = path.join(dir, MODEL);
  const st = parseSafetensors(readFileSync(file), file);
  const tensors: Record<string, TensorInput> = {};
  for (const [name, e] of st.tensors) tensors[name] = { dtype: e.dtype, shape: [...e.shape], data: e.data.slice() };
  const metadata = { ...st.metadata };
  edit(tensors, metadata);
  writeFileSync(file, serializeSafetensors(tensors, metadata));
}
