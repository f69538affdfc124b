/**
 * Training: every method lowers the loss of tiny-bert on a small synthetic task in 20 Adam
 * steps (the head stays frozen, so the method alone does the learning; ProPETL's masks move
 * too); a multi-task ProPETL model trains on mixed-task batches with per-example masks; and
 * 50 ProPETL-adapter steps keep the number of live device buffers flat.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { blockUntilReady, jit, np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { classify, disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import { loadModelDir } from "../../src/models/load.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import type { DeviceBatch } from "../../src/models/bert/encoder.js";
import { HostRng, topKMask } from "../../src/petl/mask.js";
import type { HookContext, MethodConfig, PetlMethod, Unit } from "../../src/petl/method.js";
import { disposeMaterialized } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { ALL_METHODS, Adam, SMALL, lossOf, scalar, tinyBert } from "./petl-helpers.js";
import type { Setup } from "./petl-helpers.js";

let s: Setup;
let task: { batch: DeviceBatch; labels: JArray; B: number };
before(async () => {
  await initEngine();
  s = await tinyBert();
  // Synthetic task: 8 sequences of 8 random tokens; the label is (first token after [CLS]) mod 3.
  const rng = new HostRng(123);
  const B = 8;
  const T = 8;
  const ids = new Int32Array(B * T);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    ids[b * T] = 2;
    for (let t = 1; t < T; t++) ids[b * T + t] = 3 + (rng.nextU32() % 117);
    labels[b] = ids[b * T + 1] % 3;
  }
  const batch = makeBatch(s.model.config, { batchSize: B, seqLen: T, inputIds: ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) });
  task = { batch, labels: np.array(labels, { dtype: np.int32 }), B };
});

/** Learning rates: Adam 1e-2 for modules (1e-3 for full fine-tuning), 5e-2 for mask scores. */
function lrFor(name: string): (path: string) => number {
  return (p) => (p.startsWith("scores") || p.startsWith("taskScores") ? 5e-2 : name === "full" ? 1e-3 : 1e-2);
}

/** Train `steps` compiled Adam steps; returns the losses. Consumes nothing the caller keeps. */
async function train<T>(method: PetlMethod<T>, params0: T, ctx: HookContext, steps: number, lr: (p: string) => number): Promise<{ losses: number[]; params: T }> {
  const f = (p: T) => {
    const l = lossOf(s, method, p, task.batch, task.labels, ctx);
    tree.dispose(p as never);
    return l;
  };
  const step = jit(valueAndGrad(f));
  const adam = new Adam(params0, lr);
  let params = params0;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [loss, grads] = step(tree.ref(params as never) as never) as [JArray, T];
    losses.push(await scalar(loss));
    params = adam.step(params, grads);
  }
  const [last] = [await scalar(lossOf(s, method, params, task.batch, task.labels, ctx))];
  losses.push(last);
  adam.dispose();
  step.dispose();
  return { losses, params };
}

async function maskBits(scores: Unit[] | undefined, k: number): Promise<number[]> {
  const out: number[] = [];
  for (const u of scores ?? []) for (const t of Object.values(u)) out.push(...((await topKMask(np.abs(t.ref), k).data()) as Float32Array));
  return out;
}

describe("every method trains tiny-bert (20 Adam steps, frozen head)", () => {
  for (const name of ALL_METHODS) {
    test(name, async () => {
      const method = createMethod({ method: name, ...SMALL } as MethodConfig);
      const params0 = method.init(s.model.config, s.model.encoder, 1);
      const k = method.config.k ?? 1;
      const before = await maskBits((params0 as { scores?: Unit[] }).scores, k);
      const { losses, params } = await train(method, params0, { batchSize: task.B, training: true }, 20, lrFor(name));
      const first = losses[0];
      const last = losses[losses.length - 1];
      assert.ok(losses.every(Number.isFinite), `${name}: non-finite loss ${losses}`);
      assert.ok(last < 0.8 * first, `${name}: loss ${first.toFixed(4)} -> ${last.toFixed(4)} (${losses.map((l) => l.toFixed(3)).join(" ")})`);
      if (before.length) {
        const after = await maskBits((params as { scores?: Unit[] }).scores, k);
        const flipped = after.filter((b, i) => b !== before[i]).length;
        assert.ok(flipped > 0, `${name}: the learned masks changed (${flipped} of ${after.length} bits)`);
      }
      tree.dispose(params as never);
      method.dispose();
    });
  }
});

describe("multi-task ProPETL with mixed-task batches", () => {
  test("each example uses its own task's hybrid mask, and training lowers the loss", async () => {
    const method = createMethod({ method: "propetl-adapter", ...SMALL, tasks: ["a", "b"] });
    const params = method.init(s.model.config, s.model.encoder, 2);
    const hostIds = Int32Array.from({ length: task.B }, (_, i) => i % 2);
    const ids = np.array(hostIds, { dtype: np.int32 });
    const logitsFor = async (ctx: HookContext): Promise<Float32Array> =>
      (await classify(s.model.head, encode(s.model.config, s.model.encoder, task.batch, method.hooks(params, ctx))).data()) as Float32Array;
    const mixed = await logitsFor({ batchSize: task.B, training: true, taskIds: ids, taskIdsHost: hostIds });
    const mixedHostOnly = await logitsFor({ batchSize: task.B, training: true, taskIdsHost: hostIds });
    const allA = await logitsFor({ batchSize: task.B, training: true, taskIdsHost: new Int32Array(task.B).fill(0) });
    const allB = await logitsFor({ batchSize: task.B, training: true, taskIdsHost: new Int32Array(task.B).fill(1) });
    const C = s.model.config.numLabels;
    for (let i = 0; i < task.B; i++) {
      const want = hostIds[i] === 0 ? allA : allB;
      for (let c = 0; c < C; c++) {
        assert.ok(Math.abs(mixed[i * C + c] - want[i * C + c]) < 1e-5, `example ${i} (task ${hostIds[i]}) logit ${c}: ${mixed[i * C + c]} vs ${want[i * C + c]}`);
        assert.equal(mixedHostOnly[i * C + c], mixed[i * C + c]);
      }
    }
    assert.ok(allA.some((v, i) => Math.abs(v - allB[i]) > 1e-6), "the two tasks' masks differ");
    assert.throws(() => method.hooks(params, { batchSize: task.B, training: true }), /has 2 tasks: the hook context needs taskIds/);
    assert.throws(() => method.hooks(params, { batchSize: 2, training: true, taskIdsHost: Int32Array.from([0, 2]) }), /task id 2 of example 1 is outside \[0, 2\)/);

    // Training on the mixed batch (traced with device task ids only: the mixed path).
    const ctx: HookContext = { batchSize: task.B, training: true, taskIds: ids };
    const before = await maskBits((params as { taskScores?: Unit[] }).taskScores, 0.3);
    const { losses, params: trained } = await train(method, params, ctx, 20, lrFor("propetl-adapter"));
    assert.ok(losses[losses.length - 1] < 0.8 * losses[0], `mixed-task loss ${losses[0]} -> ${losses[losses.length - 1]}`);
    const after = await maskBits((trained as { taskScores?: Unit[] }).taskScores, 0.3);
    assert.ok(after.some((b, i) => b !== before[i]), "task masks are learned");
    ids.dispose();
    tree.dispose(trained as never);
  });
});

describe("memory", () => {
  test("50 ProPETL-adapter training steps keep live buffers flat (eager, 1-layer tiny-bert-relu)", async () => {
    const live = await trackLiveBuffers();
    const relu = await loadModelDir(modelFixtureDir("tiny-bert-relu"));
    const r = { model: relu };
    const method = createMethod({ method: "propetl-adapter", ...SMALL });
    let params = method.init(relu.config, relu.encoder, 3);
    const ctx: HookContext = { batchSize: task.B, training: true };
    const labels = np.array(Int32Array.from({ length: task.B }, (_, i) => i % 2), { dtype: np.int32 });
    const f = (p: typeof params) => {
      const l = lossOf(r, method, p, task.batch, labels, ctx);
      tree.dispose(p as never);
      return l;
    };
    const vg = valueAndGrad(f);
    const step = async (): Promise<number> => {
      const [loss, grads] = vg(tree.ref(params as never) as never) as [JArray, typeof params];
      params = tree.map((w: JArray, g: JArray) => w.sub(g.mul(0.05)), params as never, grads as never) as typeof params;
      return scalar(loss);
    };
    const first = await step();
    await step();
    const start = live();
    let last = first;
    for (let i = 0; i < 48; i++) {
      last = await step();
      if (i % 16 === 15) assert.equal(live(), start, `live buffers after step ${i + 3}: ${live()} vs ${start}`);
    }
    assert.equal(live(), start, `live buffers grew from ${start} to ${live()} over 48 steps`);
    assert.ok(last < first, `loss ${first} -> ${last}`);
    // Materialising and exporting free what they allocate, too.
    await blockUntilReady(params as never);
    const before = live();
    const m = method.materialize(params);
    disposeMaterialized(m);
    await method.exportState(params);
    await blockUntilReady(params as never);
    assert.equal(live(), before, "materialize/exportState leave nothing behind");
    tree.dispose([params as never, relu.encoder, relu.head, labels]);
    disposeBatch(task.batch);
  });
});
