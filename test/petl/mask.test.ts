/**
 * Masks: exact kept counts n − ⌊(1−k)·n⌋ with deterministic ties (device = host), the
 * straight-through gradient, OR / AND hybrids, score initialisation and random masks.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { grad, np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import {
  HostRng,
  combineMasks,
  combineMasksHost,
  kaimingUniform,
  keptCount,
  randomMaskHost,
  straightThroughMask,
  topKMask,
  topKMaskHost,
} from "../../src/petl/mask.js";

before(async () => {
  await initEngine();
});

async function host(x: JArray): Promise<number[]> {
  return Array.from((await x.data()) as Float32Array);
}

describe("top-k masks", () => {
  test("keptCount is n − ⌊(1−k)·n⌋ (the authors' GetSubnet count)", () => {
    assert.equal(keptCount(10, 0.5), 5);
    assert.equal(keptCount(7, 0.5), 4); // j = ⌊3.5⌋ = 3 zeroed
    assert.equal(keptCount(10, 0.3), 3); // (1−0.3)·10 = 7 exactly
    assert.equal(keptCount(10, 0.7), 7); // (1−0.7)·10 = 3.0000000000000004 → 3
    assert.equal(keptCount(3, 0.1), 1);
    assert.equal(keptCount(98304, 0.5), 49152);
    assert.equal(keptCount(5, 1), 5);
    assert.throws(() => keptCount(5, 0), /k must be a number in \(0, 1\]/);
    assert.throws(() => keptCount(5, 1.5), /\(0, 1\]/);
  });

  test("device and host masks keep exactly keptCount entries, largest |s| first, ties to the lower index", async () => {
    // Magnitude ties: |−0.5| = |0.5| = 0.5 four times, zeros twice.
    const s = [0.5, -0.5, 0.1, 0.5, 0, -0.9, 0.5, 0, -0.1, 0.2];
    for (const [k, want] of [
      [0.1, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]],
      [0.3, [1, 1, 0, 0, 0, 1, 0, 0, 0, 0]], // 3 kept: −0.9 then the two lowest-index 0.5s
      [0.5, [1, 1, 0, 1, 0, 1, 1, 0, 0, 0]],
      [0.6, [1, 1, 0, 1, 0, 1, 1, 0, 0, 1]],
      [0.7, [1, 1, 1, 1, 0, 1, 1, 0, 0, 1]], // 7 kept: 0.1 (index 2) before −0.1 (index 8)
      // (1−0.8)·10 = 1.9999999999999996 in doubles, so ⌊·⌋ = 1 and 9 are kept (as Python's int()).
      [0.8, [1, 1, 1, 1, 1, 1, 1, 0, 1, 1]],
      [1, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ] as [number, number[]][]) {
      const dev = await host(topKMask(np.abs(np.array(s)), k));
      assert.deepEqual(dev, want, `device k=${k}`);
      assert.deepEqual(Array.from(topKMaskHost(s, k)), want, `host k=${k}`);
      assert.equal(want.reduce((a, b) => a + b, 0), keptCount(s.length, k));
    }
  });

  test("all-equal scores keep the first keptCount entries; shapes are kept", async () => {
    const m = topKMask(np.ones([3, 5]), 0.4);
    assert.deepEqual(m.shape, [3, 5]);
    assert.deepEqual(await host(m), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test("random scores: exact counts for many sizes and k, device equals host", async () => {
    const rng = new HostRng(3);
    for (const n of [1, 7, 64, 257, 1000]) {
      for (const k of [0.1, 0.3, 0.5, 0.9]) {
        // Coarse values so that ties are frequent.
        const s = Float32Array.from(rng.uniformArray(n, -1, 1), (x) => Math.round(x * 8) / 8);
        const dev = await host(topKMask(np.abs(np.array(s)), k));
        const hst = Array.from(topKMaskHost(s, k));
        assert.deepEqual(dev, hst, `n=${n} k=${k}`);
        assert.equal(hst.reduce((a, b) => a + b, 0), keptCount(n, k));
      }
    }
  });
});

describe("straight-through estimator", () => {
  test("forward is exactly the top-k mask of |s|; d/ds = sign(s) ⊙ dL/dm", async () => {
    const s = [0.3, -0.7, 0.05, -0.2, 0.9, -0.01];
    const w = [1, 2, 3, 4, 5, 6];
    const fwd = await host(straightThroughMask(np.array(s), 0.5));
    assert.deepEqual(fwd, Array.from(topKMaskHost(s, 0.5)));
    assert.ok(fwd.every((v) => v === 0 || v === 1), "forward values are exactly 0/1");
    // L = Σ w ⊙ m  ⇒  dL/dm = w, dL/ds = sign(s)·w (also where the mask is 0).
    const g = await host(grad((x: JArray) => np.sum(straightThroughMask(x, 0.5).mul(np.array(w))))(np.array(s)));
    assert.deepEqual(g, s.map((v, i) => Math.sign(v) * w[i]));
  });

  test("the score gradient equals sign(s) ⊙ θ ⊙ (gradient w.r.t. the masked weight θ ⊙ m)", async () => {
    const rng = new HostRng(11);
    const theta = np.array(rng.normalArray(12, 1)).reshape([3, 4]);
    const s = np.array(rng.uniformArray(12, -1, 1)).reshape([3, 4]);
    const x = np.array(rng.normalArray(4, 1));
    const f = (w: JArray) => np.sum(np.tanh(np.matmul(w, x.ref)));
    const viaScores = await host(grad((sc: JArray) => f(theta.ref.mul(straightThroughMask(sc, 0.5))))(s.ref));
    const m = topKMask(np.abs(s.ref), 0.5);
    const gW = await host(grad(f)(theta.ref.mul(m)));
    const th = await host(theta.ref);
    const sv = await host(s.ref);
    const want = gW.map((g, i) => Math.sign(sv[i]) * th[i] * g);
    viaScores.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-6 * (1 + Math.abs(want[i])), `entry ${i}: ${v} vs ${want[i]}`));
    theta.dispose();
    s.dispose();
    x.dispose();
  });
});

describe("hybrid masks", () => {
  test("OR = 1−(1−a)(1−b) and AND = a·b, on 0/1 inputs exactly; host versions agree", async () => {
    const a = [0, 0, 1, 1];
    const b = [0, 1, 0, 1];
    assert.deepEqual(await host(combineMasks(np.array(a), np.array(b), "or")), [0, 1, 1, 1]);
    assert.deepEqual(await host(combineMasks(np.array(a), np.array(b), "and")), [0, 0, 0, 1]);
    assert.deepEqual(Array.from(combineMasksHost(Uint8Array.from(a), Uint8Array.from(b), "or")), [0, 1, 1, 1]);
    assert.deepEqual(Array.from(combineMasksHost(Uint8Array.from(a), Uint8Array.from(b), "and")), [0, 0, 0, 1]);
  });

  test("OR passes gradient to both masks: d/da = 1−b, d/db = 1−a; AND: d/da = b, d/db = a", async () => {
    const a = np.array([0, 0, 1, 1]);
    const b = np.array([0, 1, 0, 1]);
    const gOrA = await host(grad((x: JArray) => np.sum(combineMasks(x, b.ref, "or")))(a.ref));
    const gOrB = await host(grad((y: JArray) => np.sum(combineMasks(a.ref, y, "or")))(b.ref));
    assert.deepEqual(gOrA, [1, 0, 1, 0]);
    assert.deepEqual(gOrB, [1, 1, 0, 0]);
    const gAndA = await host(grad((x: JArray) => np.sum(combineMasks(x, b.ref, "and")))(a.ref));
    const gAndB = await host(grad((y: JArray) => np.sum(combineMasks(a.ref, y, "and")))(b.ref));
    assert.deepEqual(gAndA, [0, 1, 0, 1]);
    assert.deepEqual(gAndB, [0, 0, 1, 1]);
    a.dispose();
    b.dispose();
  });

  test("straight-through through OR reaches the layer and the task scores", async () => {
    const sl = np.array([0.9, -0.1, 0.5, -0.3]);
    const st = np.array([0.2, 0.8, -0.05, -0.6]);
    const w = np.array([1, 2, 3, 4]);
    const f = (l: JArray, t: JArray) => np.sum(combineMasks(straightThroughMask(l, 0.5), straightThroughMask(t, 0.5), "or").mul(w.ref));
    // m_l = [1,0,1,0], m_t = [0,1,0,1] → OR = 1 everywhere; d/dm_l = w(1−m_t), d/dm_t = w(1−m_l).
    const gl = await host(grad((l: JArray) => f(l, st.ref))(sl.ref));
    const gt = await host(grad((t: JArray) => f(sl.ref, t))(st.ref));
    assert.deepEqual(gl.map((v) => v + 0), [1, 0, 3, 0].map((v, i) => v * Math.sign([0.9, -0.1, 0.5, -0.3][i]) + 0));
    assert.deepEqual(gt.map((v) => v + 0), [0, 2, 0, 4].map((v, i) => v * Math.sign([0.2, 0.8, -0.05, -0.6][i]) + 0));
    sl.dispose();
    st.dispose();
    w.dispose();
  });
});

describe("initialisation and random masks", () => {
  test("kaiming-uniform(a=√5) scores lie in ±1/√fan_in and are seeded", async () => {
    const a = await host(kaimingUniform(new HostRng(1), [8, 32]));
    const b = await host(kaimingUniform(new HostRng(1), [8, 32]));
    assert.deepEqual(a, b);
    const bound = 1 / Math.sqrt(32);
    assert.ok(a.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...a.map(Math.abs)) > 0.9 * bound);
  });

  test("random masks keep exactly keptCount entries and depend on the seed", () => {
    const m1 = randomMaskHost(new HostRng(5), 1000, 0.3);
    const m2 = randomMaskHost(new HostRng(5), 1000, 0.3);
    const m3 = randomMaskHost(new HostRng(6), 1000, 0.3);
    assert.deepEqual(m1, m2);
    assert.notDeepEqual(m1, m3);
    assert.equal(m1.reduce((a, b) => a + b, 0), keptCount(1000, 0.3));
  });
});
