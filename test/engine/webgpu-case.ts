/**
 * The WebGPU-vs-wasm check's workload, run once per backend in its own process (the engine starts
 * once per process): tiny-bert (H 32, 2 layers, the fixture batch) with ProPETL-adapter's hooks,
 * (1) the forward pass's logits in eval mode, (2) one training step: the loss, the gradient of
 * every trainable leaf (adapter weights and mask scores), and the parameters after a compiled
 * (jit) SGD update, (3) the loss of the updated parameters. Also the wall time of each part, cold
 * (kernel compilation included) and warm. test/engine/webgpu.test.ts compares two backends'
 * results; bench/webgpu-vs-wasm.ts prints them.
 */
import { describeEngine, initEngine } from "../../src/engine/engine.js";
import type { Backend, EngineInfo } from "../../src/engine/engine.js";
import { jit, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import type { HookContext } from "../../src/petl/method.js";
import { disposeMaterialized } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { SMALL, leaves, lossAndGrad, lossOf, mapLeaves, materializedLogits, scalar, tinyBert } from "../petl/petl-helpers.js";

/** What one backend computed, as plain numbers (JSON-safe). */
export interface WebGpuCaseResult {
  engine: EngineInfo;
  engineLine: string;
  /** Eval-mode logits of the fixture batch (materialised masks). */
  logits: number[];
  /** Training-mode loss before the update. */
  loss: number;
  /** Gradient of each trainable leaf, by dotted path. */
  grads: Record<string, number[]>;
  /** Each trainable leaf after one SGD step (lr `SGD_LR`), by dotted path. */
  updated: Record<string, number[]>;
  /** Training-mode loss of the updated parameters. */
  lossAfter: number;
  /** Wall milliseconds: forward and step, the first (compiling) and the second run. */
  ms: { forwardCold: number; forwardWarm: number; stepCold: number; stepWarm: number };
}

/** The SGD learning rate of the step: large, so that the update moves the loss visibly. */
export const SGD_LR = 0.5;

async function host(x: JArray): Promise<number[]> {
  return Array.from((await x.data()) as Float32Array);
}

/** Run the workload on `backend` (the engine must not have started in this process). */
export async function runWebGpuCase(backend: Backend): Promise<WebGpuCaseResult> {
  const engine = await initEngine({ backend, threads: 1 });
  const s = await tinyBert();
  const method = createMethod({ method: "propetl-adapter", ...SMALL });
  type P = ReturnType<typeof method.init>;
  let params: P = method.init(s.model.config, s.model.encoder, 0);
  const train: HookContext = { batchSize: s.B, training: true };

  const forward = async (): Promise<number[]> => {
    const m = method.materialize(params);
    const logits = materializedLogits(s, m, s.batch);
    const out = await host(logits);
    disposeMaterialized(m);
    return out;
  };
  let t0 = performance.now();
  await forward();
  const forwardCold = performance.now() - t0;
  t0 = performance.now();
  const logits = await forward();
  const forwardWarm = performance.now() - t0;

  const sgd = jit((p: JArray, g: JArray): JArray => p.sub(g.mul(SGD_LR)));
  const step = async (): Promise<{ loss: number; grads: Record<string, number[]>; next: P }> => {
    const [loss, grads] = lossAndGrad(s, method, params, s.batch, s.labels, train);
    const gradMap = new Map(leaves(grads));
    const next = mapLeaves(params, (p, path) => sgd(p.ref, (gradMap.get(path) as JArray).ref)) as P;
    const hostGrads: Record<string, number[]> = {};
    for (const [path, g] of leaves(grads)) hostGrads[path] = await host(g.ref);
    tree.dispose(grads as never);
    return { loss: await scalar(loss), grads: hostGrads, next };
  };
  t0 = performance.now();
  const cold = await step();
  const stepCold = performance.now() - t0;
  tree.dispose(cold.next as never);
  t0 = performance.now();
  const warm = await step();
  const stepWarm = performance.now() - t0;
  tree.dispose(params as never);
  params = warm.next;
  const updated: Record<string, number[]> = {};
  for (const [path, p] of leaves(params)) updated[path] = await host(p.ref);
  const lossAfter = await scalar(lossOf(s, method, params, s.batch, s.labels, train));

  tree.dispose(params as never);
  sgd.dispose();
  method.dispose();
  s.dispose();
  return { engine, engineLine: describeEngine(engine), logits, loss: warm.loss, grads: warm.grads, updated, lossAfter, ms: { forwardCold, forwardWarm, stepCold, stepWarm } };
}
