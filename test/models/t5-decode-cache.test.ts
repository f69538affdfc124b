/**
 * Incremental T5 decoding (src/models/t5/decode-cache.ts) against the full pass: on tiny-t5
 * (v1.0) and tiny-t5-v1_1, with the padded encoder batch of their fixtures, feeding the
 * teacher-forced decoder inputs one position at a time gives the logits of `t5Decode` +
 * `t5LmLogits` at every position within 1e-5, without hooks, with PETL methods' materialised
 * modules (adapter, Houlsby, LoRA on q/v and cross q/v, prefix, ProPETL versions) and with
 * additive hooks at every site incl. self- and cross-attention prefixes; reordering the
 * cache's rows equals decoding the reordered inputs; the live-array count stays flat per step;
 * the block-by-block step that generation runs (`t5DecodeStepAsync`) gives the same bytes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import type { LayerHooks, ModelHooks } from "../../src/models/hooks.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { disposeT5Batch, makeT5Batch, shiftRight } from "../../src/models/t5/batch.js";
import type { T5Batch } from "../../src/models/t5/batch.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { disposeT5DecoderCache, reorderT5DecoderCache, startT5Decoding, t5DecodeStep, t5DecodeStepAsync } from "../../src/models/t5/decode-cache.js";
import { t5Decode, t5Encode, t5LmLogits } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodState } from "../../src/petl/method.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { modelFixtureDir, readExpected } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

interface Setup {
  cfg: T5Config;
  params: T5Params;
  batch: T5Batch;
  B: number;
  T: number;
  /** Decoder input ids [B*T] (teacher forcing, every position real). */
  decoderIds: Int32Array;
}

async function setup(name: string): Promise<Setup> {
  const model = await loadBackboneDir(modelFixtureDir(name));
  if (!isT5Config(model.config)) throw new Error(`${name} is not a T5 model`);
  const cfg = model.config;
  const exp = readExpected(name);
  const [B, S] = exp.shape("input_ids");
  const T = exp.shape("labels")[1];
  // Labels of padded rows hold -100: shiftRight turns them into pad tokens, all attended.
  const decoderIds = shiftRight(cfg, exp.i32("labels"), B);
  const batch = makeT5Batch(cfg, { batchSize: B, encoderLength: S, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), decoderLength: T, decoderInputIds: decoderIds });
  return { cfg, params: model.encoder as T5Params, batch, B, T, decoderIds };
}

/** Teacher-forced logits [B*T*V] of the full pass. */
async function fullLogits(s: Setup, hooks: ModelHooks | undefined): Promise<Float32Array> {
  const enc = t5Encode(s.cfg, s.params, s.batch, hooks);
  return (await t5LmLogits(s.cfg, s.params, t5Decode(s.cfg, s.params, s.batch, enc, hooks)).data()) as Float32Array;
}

/** Step-by-step logits [B*T*V] (same layout), and the live-array count after each step. */
async function stepLogits(s: Setup, hooks: ModelHooks | undefined, settled = false): Promise<{ logits: Float32Array; live: number[] }> {
  const live = await trackLiveBuffers();
  const { B, T } = s;
  const V = s.cfg.vocabSize;
  const cache = startT5Decoding(s.cfg, s.params, t5Encode(s.cfg, s.params, s.batch, hooks), s.batch.encoderMaskBias, hooks);
  const out = new Float32Array(B * T * V);
  const counts: number[] = [];
  try {
    for (let t = 0; t < T; t++) {
      const ids = Int32Array.from({ length: B }, (_, r) => s.decoderIds[r * T + t]);
      const states = settled ? await t5DecodeStepAsync(s.cfg, s.params, cache, ids) : t5DecodeStep(s.cfg, s.params, cache, ids);
      const step = (await t5LmLogits(s.cfg, s.params, states).data()) as Float32Array;
      for (let r = 0; r < B; r++) out.set(step.subarray(r * V, (r + 1) * V), (r * T + t) * V);
      counts.push(live());
    }
  } finally {
    disposeT5DecoderCache(cache);
  }
  return { logits: out, live: counts };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A random state of the method's stored shapes (every tensor nonzero, so LoRA's B acts; masks about half kept). */
function randomState(spec: { tensors: Map<string, number[]>; masks: Map<string, number[]> }, seed: number): MethodState {
  const rng = new HostRng(seed);
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  for (const [name, shape] of spec.tensors) state.tensors.set(name, { shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1), 0.3) });
  for (const [name, shape] of spec.masks) {
    const n = shape.reduce((a, b) => a * b, 1);
    state.masks.set(name, { shape, bits: Uint8Array.from(rng.uniformArray(n, 0, 1), (u) => (u < 0.5 ? 1 : 0)) });
  }
  return state;
}

/**
 * Additive hooks at every site of every block (a position-independent random vector per site),
 * and random prefixes in both attentions of the decoder (P = 2) and in the encoder (P = 3).
 */
function deltaHooks(cfg: T5Config, seed: number): { hooks: ModelHooks; dispose(): void } {
  const rng = new HostRng(seed);
  const owned: JArray[] = [];
  const vec = (n: number): JArray => {
    const a = np.array(rng.normalArray(n, 0.5));
    owned.push(a);
    return a;
  };
  const inner = cfg.numHeads * cfg.dKv;
  const layer = (decoder: boolean): LayerHooks => {
    const q = vec(inner), k = vec(inner), v = vec(inner), ao = vec(cfg.dModel), fo = vec(cfg.dModel);
    const P = decoder ? 2 : 3;
    const pk = vec(P * inner), pv = vec(P * inner);
    const h: LayerHooks = {
      query: (_x, y) => y.add(q.ref),
      key: (_x, y) => y.add(k.ref),
      value: (_x, y) => y.add(v.ref),
      prefix: () => ({ key: pk.ref.reshape([1, P, inner]), value: pv.ref.reshape([1, P, inner]) }),
      attentionOutput: (y) => y.add(ao.ref),
      ffnOutput: (y, c) => y.add(c.residual.ref.mul(0.1)).add(fo.ref),
    };
    if (decoder) {
      const cq = vec(inner), ck = vec(inner), cv = vec(inner), co = vec(cfg.dModel), cpk = vec(4 * inner), cpv = vec(4 * inner);
      h.crossQuery = (_x, y) => y.add(cq.ref);
      h.crossKey = (_x, y) => y.add(ck.ref);
      h.crossValue = (_x, y) => y.add(cv.ref);
      h.crossPrefix = (B) => ({ key: np.broadcastTo(cpk.ref.reshape([1, 4, inner]), [B, 4, inner]), value: cpv.ref.reshape([1, 4, inner]) });
      h.crossAttentionOutput = (y) => y.add(co.ref);
    }
    return h;
  };
  const hooks: ModelHooks = {
    encoder: Array.from({ length: cfg.numLayers }, () => layer(false)),
    decoder: Array.from({ length: cfg.numDecoderLayers }, () => layer(true)),
  };
  return { hooks, dispose: () => owned.forEach((a) => a.dispose()) };
}

for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
  describe(`incremental decoding = teacher-forced logits (${name})`, () => {
    let s: Setup;
    before(async () => {
      s = await setup(name);
    });
    after(() => {
      disposeT5Batch(s.batch);
      tree.dispose(s.params);
    });

    const check = async (hooks: ModelHooks | undefined, what: string): Promise<void> => {
      const want = await fullLogits(s, hooks);
      const got = await stepLogits(s, hooks);
      const d = maxAbsDiff(got.logits, want);
      assert.ok(d < 1e-5, `${what}: step-by-step vs full logits max |d| = ${d}`);
      // Every step replaces the cache's arrays: the live-array count is the same after each.
      assert.ok(got.live.every((n) => n === got.live[0]), `${what}: live arrays per step ${got.live.join(",")}`);
      // The block-by-block step (generation's) computes the same bytes.
      const settled = await stepLogits(s, hooks, true);
      assert.deepEqual(settled.logits, got.logits, `${what}: t5DecodeStepAsync = t5DecodeStep byte for byte`);
      assert.deepEqual(settled.live, got.live, `${what}: the same live arrays per step`);
    };

    test("no hooks", async () => {
      await check(undefined, "plain");
    });

    for (const method of ["adapter", "houlsby", "lora", "prefix", "propetl-adapter", "propetl-lora", "propetl-prefix"] as const) {
      test(`${method} (materialised modules, random state)`, async () => {
        const m = createMethod({ method, bottleneck: 8, rank: 4, prefixLength: 3, prefixHidden: 16 }, s.cfg);
        const mat = m.materializeState(s.cfg, randomState(m.stateSpec(s.cfg), 5));
        try {
          const hooks = materializedHooks(mat);
          // The modules act on the logits (else the test would prove nothing).
          assert.ok(maxAbsDiff(await fullLogits(s, hooks), await fullLogits(s, undefined)) > 1e-3, `${method} changes the logits`);
          await check(hooks, method);
        } finally {
          disposeMaterialized(mat);
          m.dispose();
        }
      });
    }

    test("additive hooks at every site, self- and cross-attention prefixes", async () => {
      const d = deltaHooks(s.cfg, 9);
      try {
        await check(d.hooks, "delta hooks");
      } finally {
        d.dispose();
      }
    });

    test("reordering the cache's rows = decoding reordered rows", async () => {
      const { B, T, cfg, params } = s;
      const V = cfg.vocabSize;
      const want = await fullLogits(s, undefined);
      // Rows decode their own ids for 2 steps, then row r continues as row perm[r] (all rows of one input's cross-attention: "all").
      const perm = Int32Array.from({ length: B }, (_, r) => (r + 1) % B);
      const cache = startT5Decoding(cfg, params, t5Encode(cfg, params, s.batch), s.batch.encoderMaskBias);
      try {
        for (let t = 0; t < T; t++) {
          if (t === 2) reorderT5DecoderCache(cache, perm, "all");
          const src = (r: number): number => (t >= 2 ? perm[r] : r);
          const ids = Int32Array.from({ length: B }, (_, r) => s.decoderIds[src(r) * T + t]);
          const step = (await t5LmLogits(cfg, params, t5DecodeStep(cfg, params, cache, ids)).data()) as Float32Array;
          for (let r = 0; r < B; r++) {
            const exp = want.subarray((src(r) * T + t) * V, (src(r) * T + t + 1) * V);
            assert.ok(maxAbsDiff(step.subarray(r * V, (r + 1) * V), exp) < 1e-5, `row ${r} step ${t}`);
          }
        }
      } finally {
        disposeT5DecoderCache(cache);
      }
    });

    test("bad input: ids outside the vocabulary, wrong row count, bad reorder index", () => {
      const { B, cfg, params } = s;
      const cache = startT5Decoding(cfg, params, t5Encode(cfg, params, s.batch), s.batch.encoderMaskBias);
      try {
        assert.throws(() => t5DecodeStep(cfg, params, cache, new Int32Array(B).fill(cfg.vocabSize)), new RegExp(`token id ${cfg.vocabSize} of row 0 is outside the vocabulary \\(size ${cfg.vocabSize}\\)`));
        assert.throws(() => t5DecodeStep(cfg, params, cache, new Int32Array(B + 1)), new RegExp(`${B + 1} token ids for a cache of ${B} rows`));
        assert.throws(() => reorderT5DecoderCache(cache, new Int32Array(B).fill(B)), new RegExp(`row index ${B} at 0 is outside \\[0, ${B}\\)`));
      } finally {
        disposeT5DecoderCache(cache);
      }
    });
  });
}
