/**
 * Forward and gradient fidelity of T5 (v1.0 and v1.1) against PyTorch fixtures
 * (scripts/make_t5_fixtures.py, reference scripts/t5_reference.py), with padding in both the
 * encoder and the decoder batch: encoder/decoder states, logits and loss within 1e-4 max abs;
 * gradients at every hook site of both stacks, of prefixes and of some parameters within 1e-3
 * relative. Also: the relative-position buckets equal HF's at T5's defaults, and hooks at the
 * decoder's cross-attention sites act on the logits.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { np, random, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { siteName } from "../../src/models/hooks.js";
import type { LayerAddress, LayerHooks, ModelHooks, Stack } from "../../src/models/hooks.js";
import { exportHfTensors, loadBackboneDir } from "../../src/models/load.js";
import { disposeT5Batch, disposeT5Labels, makeT5Batch, makeT5Labels, shiftRight } from "../../src/models/t5/batch.js";
import type { T5Batch, T5Labels } from "../../src/models/t5/batch.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { t5Decode, t5Encode, t5Forward, t5LmLogits, t5Loss } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { relativePositionBucket } from "../../src/models/t5/relative-position.js";
import { compare, modelFixtureDir, readExpected } from "../helpers/fixtures.js";
import type { Expected } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

const PROJECTION_SITES = ["query", "key", "value", "crossQuery", "crossKey", "crossValue"] as const;
const OUTPUT_SITES = ["attentionOutput", "crossAttentionOutput", "ffnOutput"] as const;
type DeltaSite = (typeof PROJECTION_SITES)[number] | (typeof OUTPUT_SITES)[number];
const ENCODER_SITES: readonly DeltaSite[] = ["query", "key", "value", "attentionOutput", "ffnOutput"];
const DECODER_SITES: readonly DeltaSite[] = [...ENCODER_SITES, "crossQuery", "crossKey", "crossValue", "crossAttentionOutput"];

/** Additive deltas per stack, per layer, per site. */
type Deltas = Record<Stack, Partial<Record<DeltaSite, JArray>>[]>;

function deltaHooks(d: Partial<Record<DeltaSite, JArray>>): LayerHooks {
  const hooks: LayerHooks = {};
  for (const s of PROJECTION_SITES) {
    const delta = d[s];
    if (delta) hooks[s] = (_x, y) => y.add(delta.ref);
  }
  for (const s of OUTPUT_SITES) {
    const delta = d[s];
    if (delta) hooks[s] = (h) => h.add(delta.ref);
  }
  return hooks;
}

function modelHooks(d: Deltas): ModelHooks {
  return { encoder: d.encoder.map(deltaHooks), decoder: d.decoder.map(deltaHooks) };
}

function addresses(cfg: T5Config): { at: LayerAddress; sites: readonly DeltaSite[] }[] {
  const out: { at: LayerAddress; sites: readonly DeltaSite[] }[] = [];
  for (let i = 0; i < cfg.numLayers; i++) out.push({ at: { stack: "encoder", layer: i }, sites: ENCODER_SITES });
  for (let i = 0; i < cfg.numDecoderLayers; i++) out.push({ at: { stack: "decoder", layer: i }, sites: DECODER_SITES });
  return out;
}

interface Fixture {
  cfg: T5Config;
  params: T5Params;
  exp: Expected;
  batch: T5Batch;
  labels: T5Labels;
  dispose(): void;
}

async function fixture(name: string): Promise<Fixture> {
  const exp = readExpected(name);
  const model = await loadBackboneDir(modelFixtureDir(name));
  const cfg = model.config;
  if (!isT5Config(cfg)) throw new Error(`${name} is not a T5 model`);
  const [B, S] = exp.shape("input_ids");
  const T = exp.shape("labels")[1];
  const labelIds = exp.i32("labels");
  const decoderInputIds = shiftRight(cfg, labelIds, B);
  assert.deepEqual([...decoderInputIds], [...exp.i32("decoder_input_ids")], "shiftRight matches HF's _shift_right");
  const batch = makeT5Batch(cfg, {
    batchSize: B,
    encoderLength: S,
    inputIds: exp.i32("input_ids"),
    attentionMask: exp.i32("attention_mask"),
    decoderLength: T,
    decoderInputIds,
    decoderAttentionMask: exp.i32("decoder_attention_mask"),
  });
  const labels = makeT5Labels(cfg, labelIds);
  const params = model.encoder as T5Params;
  return {
    cfg,
    params,
    exp,
    batch,
    labels,
    dispose() {
      disposeT5Batch(batch);
      disposeT5Labels(labels);
      tree.dispose(params);
    },
  };
}

for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
  describe(`T5 fidelity ${name}`, () => {
    test("encoder states, decoder states, logits and loss match PyTorch", async () => {
      const f = await fixture(name);
      const live = await trackLiveBuffers();
      const before = live();
      const enc = t5Encode(f.cfg, f.params, f.batch);
      const dec = t5Decode(f.cfg, f.params, f.batch, enc.ref);
      const logits = t5LmLogits(f.cfg, f.params, dec.ref);
      const loss = t5Loss(f.cfg, logits.ref, f.labels);
      const e = compare(await enc.data(), f.exp.f32("encoder_last_hidden_state"));
      const d = compare(await dec.data(), f.exp.f32("decoder_last_hidden_state"));
      const l = compare(await logits.data(), f.exp.f32("logits"));
      const lossV = (await loss.data())[0];
      assert.ok(e.maxAbs < 1e-4, `encoder_last_hidden_state max abs ${e.maxAbs}`);
      assert.ok(d.maxAbs < 1e-4, `decoder_last_hidden_state max abs ${d.maxAbs}`);
      assert.ok(l.maxAbs < 1e-4, `logits max abs ${l.maxAbs}`);
      assert.ok(Math.abs(lossV - f.exp.f32("loss")[0]) < 1e-4, `loss ${lossV} vs ${f.exp.f32("loss")[0]}`);
      console.log(`${name}: max abs error encoder ${e.maxAbs.toExponential(2)}, decoder ${d.maxAbs.toExponential(2)}, logits ${l.maxAbs.toExponential(2)}, loss ${Math.abs(lossV - f.exp.f32("loss")[0]).toExponential(2)}`);
      assert.equal(live(), before, "the forward pass frees what it allocates");
      f.dispose();
    });

    test("gradients at every hook site of both stacks and of parameters match PyTorch", async () => {
      const f = await fixture(name);
      const { cfg, batch, labels, exp } = f;
      const deltas: Deltas = { encoder: [], decoder: [] };
      for (const { at, sites } of addresses(cfg)) {
        const d: Partial<Record<DeltaSite, JArray>> = {};
        for (const s of sites) d[s] = np.zeros(exp.shape(`grad.${siteName(at, s)}`));
        deltas[at.stack][at.layer] = d;
      }
      const lossFn = (p: { backbone: T5Params; deltas: Deltas }): JArray => {
        const loss = t5Loss(cfg, t5LmLogits(cfg, p.backbone, t5Forward(cfg, p.backbone, batch, modelHooks(p.deltas))), labels);
        tree.dispose(p);
        return loss;
      };
      const [loss, grads] = valueAndGrad(lossFn)({ backbone: f.params, deltas });
      const lossV = (await loss.data())[0];
      assert.ok(Math.abs(lossV - exp.f32("loss")[0]) < 1e-4, `loss ${lossV} vs ${exp.f32("loss")[0]}`);
      let worst = 0;
      for (const { at, sites } of addresses(cfg)) {
        for (const s of sites) {
          const key = `grad.${siteName(at, s)}`;
          const c = compare(await (grads.deltas[at.stack][at.layer][s] as JArray).ref.data(), exp.f32(key));
          assert.ok(c.rel < 1e-3, `${key}: relative error ${c.rel}`);
          worst = Math.max(worst, c.rel);
        }
      }
      const hf = await exportHfTensors(cfg, grads.backbone, null);
      const params = exp.names().filter((n) => n.startsWith("grad.param."));
      assert.ok(params.length >= 5);
      for (const key of params) {
        const t = hf[key.slice("grad.param.".length)];
        assert.ok(t, `no gradient for ${key}`);
        const c = compare(t.data as Float32Array, exp.f32(key));
        assert.ok(c.rel < 1e-3, `${key}: relative error ${c.rel}`);
        worst = Math.max(worst, c.rel);
      }
      console.log(`${name}: worst relative gradient error ${worst.toExponential(2)}`);
      tree.dispose(grads);
      disposeT5Batch(batch);
      disposeT5Labels(labels);
    });

    test("prefixes in both stacks' self-attention and in cross-attention: logits, loss and prefix gradients match PyTorch", async () => {
      const f = await fixture(name);
      const { cfg, batch, labels, exp } = f;
      type Prefix = { key: JArray; value: JArray };
      const kinds = (stack: Stack): ("prefix" | "crossPrefix")[] => (stack === "decoder" ? ["prefix", "crossPrefix"] : ["prefix"]);
      const fileKind = { prefix: "prefix", crossPrefix: "cross_prefix" } as const;
      const prefixes: Record<string, Prefix> = {};
      for (const { at } of addresses(cfg)) {
        for (const k of kinds(at.stack)) {
          const n = siteName(at, k);
          prefixes[n] = { key: np.array(exp.f32(`prefix.${n}.key`)).reshape(exp.shape(`prefix.${n}.key`)), value: np.array(exp.f32(`prefix.${n}.value`)).reshape(exp.shape(`prefix.${n}.value`)) };
          assert.equal(n, `${at.stack}.layer.${at.layer}.${fileKind[k]}`);
        }
      }
      const hooksOf = (p: Record<string, Prefix>): ModelHooks => {
        const layer = (at: LayerAddress): LayerHooks => {
          const h: LayerHooks = {};
          for (const k of kinds(at.stack)) {
            const pre = p[siteName(at, k)];
            h[k] = () => ({ key: pre.key.ref, value: pre.value.ref });
          }
          return h;
        };
        return {
          encoder: Array.from({ length: cfg.numLayers }, (_, i) => layer({ stack: "encoder", layer: i })),
          decoder: Array.from({ length: cfg.numDecoderLayers }, (_, i) => layer({ stack: "decoder", layer: i })),
        };
      };
      const logits = t5LmLogits(cfg, f.params, t5Forward(cfg, f.params, batch, hooksOf(prefixes)));
      const l = compare(await logits.data(), exp.f32("prefix.logits"));
      assert.ok(l.maxAbs < 1e-4, `prefix logits max abs ${l.maxAbs}`);
      const params = f.params;
      const lossFn = (p: Record<string, Prefix>): JArray => {
        const loss = t5Loss(cfg, t5LmLogits(cfg, params, t5Forward(cfg, params, batch, hooksOf(p))), labels);
        tree.dispose(p);
        return loss;
      };
      const [loss, grads] = valueAndGrad(lossFn)(prefixes);
      const lossV = (await loss.data())[0];
      assert.ok(Math.abs(lossV - exp.f32("prefix.loss")[0]) < 1e-4, `prefix loss ${lossV} vs ${exp.f32("prefix.loss")[0]}`);
      for (const [n, g] of Object.entries(grads)) {
        for (const kv of ["key", "value"] as const) {
          const key = `prefix.grad.${n}.${kv}`;
          const c = compare(await g[kv].ref.data(), exp.f32(key));
          assert.ok(c.rel < 1e-3, `${key}: relative error ${c.rel}`);
        }
      }
      tree.dispose(grads);
      f.dispose();
    });

    test("an additive delta at a decoder cross-attention site changes the logits; encoder blocks have no cross sites", async () => {
      const f = await fixture(name);
      const { cfg, batch, exp } = f;
      const last = cfg.numDecoderLayers - 1;
      const delta = random.normal(random.key(3), exp.shape(`grad.decoder.layer.${last}.cross_value`)).mul(0.5);
      const decoder: LayerHooks[] = [];
      decoder[last] = { crossValue: (_x, v) => v.add(delta.ref) };
      const logits = t5LmLogits(cfg, f.params, t5Forward(cfg, f.params, batch, { decoder }));
      const c = compare(await logits.data(), exp.f32("logits"));
      assert.ok(c.maxAbs > 1e-3, `a cross_value delta must change the logits (max change ${c.maxAbs})`);
      assert.throws(() => t5Encode(cfg, f.params, batch, { encoder: [{ crossKey: (_x, k) => k }] }), /encoder\.layer\.0: T5 encoder blocks have no cross-attention, but a crossKey hook was given/);
      delta.dispose();
      f.dispose();
    });
  });
}

test("relative-position buckets equal Hugging Face's at T5's defaults (32 buckets, max distance 128), both directions", () => {
  const exp = readExpected("tiny-t5");
  const rel = exp.i32("buckets.relative");
  for (const [key, bidirectional] of [["buckets.bidirectional", true], ["buckets.causal", false]] as const) {
    const want = exp.i32(key);
    const got = rel.map((r) => relativePositionBucket(r, { bidirectional, numBuckets: 32, maxDistance: 128 }));
    const bad = [...rel].filter((_, i) => got[i] !== want[i]);
    assert.deepEqual(bad, [], `${key}: buckets differ at relative positions ${bad.join(", ")}`);
  }
});
