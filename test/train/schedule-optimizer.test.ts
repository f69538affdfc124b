import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { linearWarmupDecay, warmupStepsFor } from "../../src/train/schedule.js";
import { AdamW, clipCoefficient, globalNorm, OptimizerConfigError } from "../../src/train/optimizer.js";

before(async () => {
  await initEngine();
});

describe("linearWarmupDecay (HF get_linear_schedule_with_warmup)", () => {
  test("warmup = ceil(total * 0.1), 0 at step 0, peak 1, linear decay to 0", () => {
    assert.equal(warmupStepsFor(100, 0.1), 10);
    assert.equal(warmupStepsFor(15, 0.1), 2);
    const s = linearWarmupDecay({ totalSteps: 100 });
    assert.equal(s(0), 0);
    assert.equal(s(5), 0.5);
    assert.equal(s(10), 1);
    assert.equal(s(55), 0.5);
    assert.equal(s(100), 0);
    assert.equal(s(120), 0);
  });
  test("no warmup starts at 1", () => {
    const s = linearWarmupDecay({ totalSteps: 4, warmupRatio: 0 });
    assert.deepEqual([0, 1, 2, 3].map(s), [1, 0.75, 0.5, 0.25]);
  });
  test("bad ratios are rejected", () => {
    assert.throws(() => warmupStepsFor(10, 1.5), /warmupRatio/);
  });
});

type P = { mod: { w: JArray; b: JArray }; scores: { s: JArray }; head: { w: JArray } };

/** torch.optim.AdamW in float64, one flat vector per leaf. */
function refAdamW(p: number[], g: number[][], lr: number, wd: number, scale: number[], decay: boolean): number[] {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const m = p.map(() => 0), v = p.map(() => 0);
  let x = [...p];
  g.forEach((gs, i) => {
    const t = i + 1;
    const l = lr * scale[i];
    x = x.map((xi, j) => {
      const gj = gs[j];
      if (decay) xi *= 1 - l * wd;
      m[j] = b1 * m[j] + (1 - b1) * gj;
      v[j] = b2 * v[j] + (1 - b2) * gj * gj;
      const denom = Math.sqrt(v[j]) / Math.sqrt(1 - b2 ** t) + eps;
      return xi - (l / (1 - b1 ** t)) * (m[j] / denom);
    });
  });
  return x;
}

describe("AdamW with parameter groups", () => {
  for (const useJit of [true, false]) test(`matches torch AdamW per group; scores and matrices decayed, biases not (jit ${useJit})`, async () => {
    const init = { w: [0.5, -0.25, 1, 2], b: [0.1, -0.1], s: [0.3, -0.7, 0.05], hw: [1, -1] };
    const grads = [
      { w: [0.1, 0.2, -0.3, 0.4], b: [0.5, -0.5], s: [1, -2, 3], hw: [0.01, 0.02] },
      { w: [-0.1, 0.05, 0.3, 0.0], b: [0.2, 0.1], s: [-1, 0.5, 0.25], hw: [-0.03, 0.2] },
      { w: [0.3, -0.2, 0.1, 0.1], b: [0.0, 0.3], s: [0.5, 0.5, -0.5], hw: [0.1, -0.1] },
    ];
    const scales = [0.5, 1, 0.75];
    let params: P = {
      mod: { w: np.array(init.w).reshape([2, 2]), b: np.array(init.b) },
      scores: { s: np.array(init.s) },
      head: { w: np.array(init.hw).reshape([1, 2]) },
    };
    const labels = { mod: { w: "module", b: "module" }, scores: { s: "scores" }, head: { w: "head" } };
    const opt = new AdamW<P>(params, labels, {
      groups: { module: { lr: 1e-2, weightDecay: 0.1 }, scores: { lr: 3e-2, weightDecay: 0.1 }, head: { lr: 2e-2, weightDecay: 0 } },
      jit: useJit,
    });
    const plan = opt.leafPlan();
    assert.equal(plan.get("mod.w")?.decay, true);
    assert.equal(plan.get("mod.b")?.decay, false);
    assert.equal(plan.get("scores.s")?.decay, true);
    assert.equal(plan.get("head.w")?.decay, false);
    let state = opt.init(params);
    for (let i = 0; i < grads.length; i++) {
      const g: P = {
        mod: { w: np.array(grads[i].w).reshape([2, 2]), b: np.array(grads[i].b) },
        scores: { s: np.array(grads[i].s) },
        head: { w: np.array(grads[i].hw).reshape([1, 2]) },
      };
      ({ params, state } = opt.update(params, g, state, scales[i]));
    }
    assert.equal(state.count, 3);
    const close = async (a: JArray, ref: number[]): Promise<void> => {
      const got = await a.ref.data();
      ref.forEach((r, j) => assert.ok(Math.abs(got[j] - r) < 1e-6, `${got[j]} vs ${r}`));
    };
    await close(params.mod.w, refAdamW(init.w, grads.map((g) => g.w), 1e-2, 0.1, scales, true));
    await close(params.mod.b, refAdamW(init.b, grads.map((g) => g.b), 1e-2, 0.1, scales, false));
    await close(params.scores.s, refAdamW(init.s, grads.map((g) => g.s), 3e-2, 0.1, scales, true));
    await close(params.head.w, refAdamW(init.hw, grads.map((g) => g.hw), 2e-2, 0, scales, false));
    tree.dispose(params);
    tree.dispose([state.mu, state.nu]);
  });

  test("labels must cover every leaf and name known groups", () => {
    const params = { a: np.zeros([2]) };
    assert.throws(() => new AdamW(params, {}, { groups: { module: { lr: 1, weightDecay: 0 } } }), /no optimizer group label for parameter "a"/);
    assert.throws(() => new AdamW(params, { a: "scores" }, { groups: { module: { lr: 1, weightDecay: 0 } } }), (e: Error) => e instanceof OptimizerConfigError && /group "scores"/.test(e.message));
    tree.dispose(params);
  });

  test("global norm and clipping coefficient (torch clip_grad_norm_)", async () => {
    const g = { a: np.array([3, 0]), b: np.array([4]) };
    const n = (await globalNorm(g).data())[0];
    assert.ok(Math.abs(n - 5) < 1e-6);
    assert.ok(Math.abs(clipCoefficient(5, 1) - 1 / (5 + 1e-6)) < 1e-12);
    assert.equal(clipCoefficient(0.5, 1), 1);
    assert.equal(clipCoefficient(5, 0), 1);
    tree.dispose(g);
  });
});

describe("AdamW frozen leaves (multi-task: another task's head)", () => {
  for (const useJit of [false, true]) {
    test(`frozen leaves keep their values and moments; the others update as without freezing (jit ${useJit})`, async () => {
      const make = () => ({ a: np.array([1, -2, 3, 0.5]).reshape([2, 2]), b: np.array([0.25, -0.75]) });
      const grads = () => ({ a: np.array([0.1, 0.2, -0.3, 0.4]).reshape([2, 2]), b: np.array([0.5, -0.5]) });
      const labels = { a: "module", b: "head" };
      const opts = { groups: { module: { lr: 0.1, weightDecay: 0.1 }, head: { lr: 0.1, weightDecay: 0.1 } }, jit: useJit };
      const p0 = make();
      const opt = new AdamW(p0, labels, opts);
      // Two steps: the first moves both leaves (nonzero moments), the second freezes b.
      const s1 = opt.update(p0, grads(), opt.init(make()), 1);
      const bBefore = { p: Array.from(await s1.params.b.ref.data()), mu: Array.from(await s1.state.mu.b.ref.data()), nu: Array.from(await s1.state.nu.b.ref.data()) };
      const ref = new AdamW(make(), labels, opts);
      const r1 = ref.update(make(), grads(), ref.init(make()), 1);
      const s2 = opt.update(s1.params, grads(), s1.state, 1, 1, new Set(["b"]));
      const r2 = ref.update(r1.params, grads(), r1.state, 1);
      assert.deepEqual(Array.from(await s2.params.b.ref.data()), bBefore.p, "frozen value");
      assert.deepEqual(Array.from(await s2.state.mu.b.ref.data()), bBefore.mu, "frozen first moment");
      assert.deepEqual(Array.from(await s2.state.nu.b.ref.data()), bBefore.nu, "frozen second moment");
      assert.deepEqual(Array.from(await s2.params.a.ref.data()), Array.from(await r2.params.a.ref.data()), "the other leaf updates as usual");
      assert.notDeepEqual(Array.from(await r2.params.b.ref.data()), bBefore.p, "without freezing b would have moved");
      const g = grads();
      assert.throws(() => opt.update(s2.params, g, s2.state, 1, 1, new Set(["c"])), /frozen parameter "c" is not in the tree/);
      tree.dispose([g, s2.params, s2.state.mu, s2.state.nu, r2.params, r2.state.mu, r2.state.nu] as never);
    });
  }
});
