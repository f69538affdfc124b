/**
 * Gradients of every method on tiny-bert:
 *  - against PyTorch (scripts/make_petl_fixtures.py): loss, logits, masks and the gradient
 *    w.r.t. every module parameter, layer score and task score (adapter, Houlsby, LoRA,
 *    prefix, the four ProPETL variants, only-mask, multi-task OR and AND with a mixed batch);
 *  - against central finite differences in float32 along random and gradient directions;
 *  - the prefix hook against the model fixture's prefix.* tensors.
 */
import { asEncoderParams } from "../../src/models/architecture.js";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { jit, np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { classify, encode, sequenceLoss } from "../../src/models/bert/encoder.js";
import { HostRng, topKMask } from "../../src/petl/mask.js";
import type { HookContext, MethodConfig, Unit } from "../../src/petl/method.js";
import { materializedHooks } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { readExpected } from "../helpers/fixtures.js";
import { ALL_METHODS, SMALL, leaves, lossAndGrad, lossOf, petlFixture, relErr, scalar, setLeafAt, tinyBert } from "./petl-helpers.js";
import type { Setup } from "./petl-helpers.js";

let s: Setup;
before(async () => {
  await initEngine();
  s = await tinyBert();
});

describe("gradients against the PyTorch fixture", () => {
  const fx = petlFixture();
  for (const name of fx.cases()) {
    test(name, async () => {
      const config = JSON.parse(fx.file.metadata[`${name}.config`]) as MethodConfig;
      const method = createMethod(config);
      const params = method.init(s.model.config, s.model.encoder, 0);
      const paths = leaves(params).map(([p]) => p);
      const inputs = [...fx.file.tensors.keys()].filter((k) => k.startsWith(`${name}.`) && /^(source|scores|taskScores)\./.test(k.slice(name.length + 1))).map((k) => k.slice(name.length + 1));
      assert.deepEqual([...inputs].sort(), [...paths].sort(), "fixture inputs are exactly the trainable tree's leaves");
      for (const p of inputs) setLeafAt(params, p, np.array(fx.f32(`${name}.${p}`)).reshape(fx.shape(`${name}.${p}`)));
      const idsJson = fx.file.metadata[`${name}.task_ids`];
      const ctx: HookContext = { batchSize: s.B, training: true };
      let ids: JArray | undefined;
      if (idsJson) {
        const host = Int32Array.from(JSON.parse(idsJson) as number[]);
        ids = np.array(host, { dtype: np.int32 });
        ctx.taskIds = ids;
        ctx.taskIdsHost = host;
      }
      const [loss, grads] = lossAndGrad(s, method, params, s.batch, s.labels, ctx);
      const lv = await scalar(loss);
      const want = fx.f32(`${name}.loss`)[0];
      assert.ok(Math.abs(lv - want) < 1e-4 * Math.max(1, Math.abs(want)), `loss ${lv} vs PyTorch ${want}`);
      const enc = method.encoderOverride ? asEncoderParams(method.encoderOverride(params)) : s.model.encoder;
      const logits = classify(s.model.head, encode(s.model.config, enc, s.batch, method.hooks(params, ctx)));
      assert.ok(relErr((await logits.data()) as Float32Array, fx.f32(`${name}.logits`)) < 1e-4, "logits");
      for (const [p, g] of leaves(grads)) {
        const e = relErr((await g.ref.data()) as Float32Array, fx.f32(`${name}.grad.${p}`));
        assert.ok(e < 2e-3, `${name}: gradient ${p}: relative error ${e}`);
      }
      // The masks our top-k rule picks are the reference's.
      const trees = params as { scores?: Unit[]; taskScores?: Unit[] };
      for (const [which, list, k] of [["mask", trees.scores, config.k], ["taskmask", trees.taskScores, config.taskK]] as const) {
        for (const [p, u] of (list ?? []).entries()) {
          for (const [t, sc] of Object.entries(u)) {
            const got = (await topKMask(np.abs(sc.ref), k ?? 0.5).data()) as Float32Array;
            assert.deepEqual(Array.from(got), Array.from(fx.f32(`${name}.${which}.${p}.${t}`)), `${which} ${p}.${t}`);
          }
        }
      }
      tree.dispose(grads as never);
      tree.dispose(params as never);
      ids?.dispose();
      method.dispose();
    });
  }
});

describe("gradients against finite differences (float32)", () => {

  for (const name of ALL_METHODS) {
    test(name, async () => {
      const method = createMethod({ method: name, ...SMALL } as MethodConfig);
      const params = method.init(s.model.config, s.model.encoder, 3);
      // Move LoRA's B (zero at init) and the adapters off their initial point so that every
      // parameter has a non-trivial gradient.
      const rng = new HostRng(17);
      for (const [p, leaf] of leaves(params)) {
        if (p.startsWith("source.") && !/bias/.test(p)) setLeafAt(params, p, leaf.ref.add(np.array(rng.normalArray(leaf.size, 0.2)).reshape(leaf.shape)));
      }
      const ctx: HookContext = { batchSize: s.B, training: true };
      const lossJ = jit((p: typeof params) => lossOf(s, method, p, s.batch, s.labels, ctx));
      /** Loss at params (borrowed), compiled. */
      const lossAt = async (p: typeof params): Promise<number> => scalar(lossJ(tree.ref(p as never) as never));
      const [loss, grads] = lossAndGrad(s, method, params, s.batch, s.labels, ctx);
      const l0 = await scalar(loss);
      // Directions: over the module parameters only (masks are piecewise constant in the scores).
      const gradLeaves = new Map(leaves(grads));
      const trainable = leaves(params).filter(([p]) => !p.startsWith("scores") && !p.startsWith("taskScores"));
      const g = new Map<string, Float32Array>();
      for (const [p] of trainable) g.set(p, (await (gradLeaves.get(p) as JArray).ref.data()) as Float32Array);
      const norm = (m: Map<string, Float32Array>) => Math.sqrt([...m.values()].reduce((a, v) => a + v.reduce((x, y) => x + y * y, 0), 0));
      const gNorm = norm(g);
      assert.ok(gNorm > 1e-3, `${name}: gradient norm ${gNorm} too small to check`);
      const random = new Map(trainable.map(([p, leaf]) => [p, rng.normalArray(leaf.size, 1)]));
      const directions: [string, Map<string, Float32Array>][] = [
        ["gradient", g],
        ["random", random],
      ];
      for (const [label, dir] of directions) {
        const dn = norm(dir);
        const eps = 1e-2 / dn; // a step of norm 0.01
        const shifted = async (sign: number): Promise<number> => {
          const moved = tree.ref(params as never) as typeof params;
          for (const [p, leaf] of trainable) {
            const d = dir.get(p) as Float32Array;
            setLeafAt(moved, p, leaf.ref.add(np.array(d.map((v) => v * eps * sign)).reshape(leaf.shape)));
          }
          const l = await lossAt(moved);
          tree.dispose(moved as never);
          return l;
        };
        const fd = ((await shifted(1)) - (await shifted(-1))) / (2 * eps);
        let dot = 0;
        for (const [p, d] of dir) {
          const gp = g.get(p) as Float32Array;
          for (let i = 0; i < d.length; i++) dot += gp[i] * d[i];
        }
        const tol = 2e-2 * gNorm * dn;
        assert.ok(Math.abs(fd - dot) <= tol, `${name} (${label} direction): finite difference ${fd} vs gradient·direction ${dot} (tolerance ${tol}, loss ${l0})`);
      }
      // Scores: the loss is flat under perturbations that cross no threshold.
      const scoreLeaves = leaves(params).filter(([p]) => p.startsWith("scores"));
      if (scoreLeaves.length) {
        const moved = tree.ref(params as never) as typeof params;
        for (const [p, leaf] of scoreLeaves) setLeafAt(moved, p, leaf.ref.mul(1.0001));
        assert.equal(await lossAt(moved), await lossAt(params), "scaling all scores keeps the masks");
        tree.dispose(moved as never);
      }
      lossJ.dispose();
      tree.dispose(grads as never);
      tree.dispose(params as never);
      method.dispose();
    });
  }
});

describe("prefix hook", () => {
  test("prefix keys/values through materialised prefix modules match the fixture's prefix run", async () => {
    const exp = readExpected("tiny-bert");
    const cfg = s.model.config;
    const L = cfg.numLayers;
    const H = cfg.hiddenSize;
    // Per-example [B, P, 2H] key_value units (the fixture's prefixes differ per example).
    const kvs = Array.from({ length: L }, (_, i) => {
      const [B, P] = exp.shape(`prefix.layer.${i}.key`);
      const k = np.array(exp.f32(`prefix.layer.${i}.key`)).reshape([B, P, H]);
      const v = np.array(exp.f32(`prefix.layer.${i}.value`)).reshape([B, P, H]);
      return np.concatenate([k, v], 2);
    });
    const f = (units: JArray[]) => {
      const m = { kind: "prefix" as const, layers: units.map((_, i) => ({ stack: "encoder" as const, layer: i })), units: units.map((kv) => [{ key_value: kv }]), options: { bottleneck: 0, rank: 0, alpha: 0, prefixLength: 4, prefixHidden: 0 } };
      const logits = classify(s.model.head, encode(cfg, s.model.encoder, s.batch, materializedHooks(m)));
      tree.dispose(units);
      return sequenceLoss(logits, s.labels.ref, cfg.numLabels);
    };
    const [loss, grads] = valueAndGrad(f)(tree.ref(kvs));
    const lv = await scalar(loss);
    assert.ok(Math.abs(lv - exp.f32("prefix.loss")[0]) < 1e-4, `loss ${lv} vs ${exp.f32("prefix.loss")[0]}`);
    const m = { kind: "prefix" as const, layers: kvs.map((_, i) => ({ stack: "encoder" as const, layer: i })), units: kvs.map((kv) => [{ key_value: kv.ref }]), options: { bottleneck: 0, rank: 0, alpha: 0, prefixLength: 4, prefixHidden: 0 } };
    const logits = classify(s.model.head, encode(cfg, s.model.encoder, s.batch, materializedHooks(m)));
    assert.ok(relErr((await logits.data()) as Float32Array, exp.f32("prefix.logits")) < 1e-4);
    for (let i = 0; i < L; i++) {
      const g = (await grads[i].ref.data()) as Float32Array;
      const [B, P] = exp.shape(`prefix.layer.${i}.key`);
      const gk = new Float32Array(B * P * H);
      const gv = new Float32Array(B * P * H);
      for (let r = 0; r < B * P; r++) {
        gk.set(g.subarray(r * 2 * H, r * 2 * H + H), r * H);
        gv.set(g.subarray(r * 2 * H + H, (r + 1) * 2 * H), r * H);
      }
      assert.ok(relErr(gk, exp.f32(`prefix.grad.layer.${i}.prefix_key`)) < 1e-3, `layer ${i} key gradient`);
      assert.ok(relErr(gv, exp.f32(`prefix.grad.layer.${i}.prefix_value`)) < 1e-3, `layer ${i} value gradient`);
    }
    tree.dispose([grads, kvs, m.units]);
  });
});
