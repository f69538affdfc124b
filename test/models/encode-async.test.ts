/**
 * The layer-by-layer inference forward (`encodeAsync`, `t5EncodeAsync`,
 * engine/layer-by-layer.ts) gives byte for byte what the synchronous forward gives, on
 * tiny-bert, tiny-roberta and tiny-t5, with every PETL method's hooks (adapter, Houlsby, LoRA,
 * prefix, their ProPETL versions, the ablations, full fine-tuning's encoder), multi-task
 * masks with a batch mixing tasks, and a mixed-task checkpoint's stacked modules; and it frees
 * a layer's intermediates before the next (its peak live bytes stay below the lazy pass's).
 * Runs with a worker pool of 2, the case where a synchronous flush was refused.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { jit, np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { settle } from "../../src/engine/layer-by-layer.js";
import { wasmHeapStatsReader } from "../../src/engine/live-buffers.js";
import { asEncoderParams, asT5Params } from "../../src/models/architecture.js";
import { encodeAsync } from "../../src/models/bert/encode-async.js";
import { disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import type { DeviceBatch } from "../../src/models/bert/encoder.js";
import { initHead } from "../../src/models/bert/init.js";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import type { ModelHooks } from "../../src/models/hooks.js";
import { loadBackboneDir, loadModelDir } from "../../src/models/load.js";
import { disposeT5EncoderBatch, makeT5EncoderBatch } from "../../src/models/t5/batch.js";
import { isT5Config } from "../../src/models/t5/config.js";
import { t5Encode, t5EncodeAsync } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { HostRng } from "../../src/petl/mask.js";
import type { HookContext, MethodName } from "../../src/petl/method.js";
import { METHOD_NAMES } from "../../src/petl/methods.js";
import { createMethod } from "../../src/petl/registry.js";
import { taskModules } from "../../src/train/mixed-task.js";
import { modelFixtureDir, readExpected } from "../helpers/fixtures.js";

const OPTIONS = { bottleneck: 8, rank: 4, alpha: 8, prefixLength: 4, prefixHidden: 16 } as const;
const TASKS = ["alpha", "beta", "gamma"];

before(async () => {
  await initEngine({ threads: 2 });
});

/** Every float leaf nudged away from its init (LoRA's B and adapters' up start at zero). Consumes `t`. */
function nudge<T>(t: T, seed: number): T {
  const rng = new HostRng(seed);
  return tree.map((x: JArray) => (x.dtype === np.float32 ? x.add(np.array(rng.normalArray(x.size, 0.05)).reshape(x.shape)) : x), t as never) as T;
}

async function bytesOf(x: JArray): Promise<Uint8Array> {
  const f = (await x.data()) as Float32Array;
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** Sync and layer-by-layer outputs of the same forward; asserts equal bytes. */
async function assertSame(what: string, sync: () => JArray, layered: () => Promise<JArray>): Promise<void> {
  const a = await bytesOf(sync());
  const b = await bytesOf(await layered());
  assert.equal(b.length, a.length, `${what}: output sizes`);
  assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${what}: the layer-by-layer output differs from the synchronous one`);
}

function bertBatch(cfg: EncoderConfig, name: string): DeviceBatch {
  const exp = readExpected(name);
  const [B, T] = exp.shape("input_ids");
  return makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), tokenTypeIds: exp.i32("token_type_ids") });
}

for (const modelName of ["tiny-bert", "tiny-roberta"]) {
  describe(`${modelName}: encodeAsync = encode`, () => {
    let cfg: EncoderConfig;
    let encoder: ReturnType<typeof asEncoderParams>;
    let batch: DeviceBatch;
    before(async () => {
      const model = await loadModelDir(modelFixtureDir(modelName));
      cfg = model.config;
      encoder = model.encoder;
      tree.dispose(model.head);
      batch = bertBatch(cfg, modelName);
    });
    after(() => {
      disposeBatch(batch);
      tree.dispose(encoder);
    });

    test("no hooks", async () => {
      await assertSame("plain", () => encode(cfg, encoder, batch), () => encodeAsync(cfg, encoder, batch));
    });

    for (const [i, name] of METHOD_NAMES.entries()) {
      test(`${name}: evaluation hooks`, async () => {
        const m = createMethod({ method: name, ...OPTIONS }, cfg);
        const p = nudge(m.init(cfg, encoder, 3 + i), 100 + i);
        const ctx: HookContext = { batchSize: batch.batchSize, training: false };
        const enc = m.encoderOverride ? asEncoderParams(m.encoderOverride(p)) : encoder;
        await assertSame(name, () => encode(cfg, enc, batch, m.hooks(p, ctx)), () => encodeAsync(cfg, enc, batch, m.hooks(p, ctx)));
        tree.dispose(p as never);
        m.dispose();
      });
    }

    for (const name of ["propetl-adapter", "propetl-lora", "propetl-prefix", "only-mask"] as MethodName[]) {
      test(`${name}, multi-task: a batch mixing three tasks, training-mode masks and a stored checkpoint's stacked modules`, async () => {
        const m = createMethod({ method: name, ...OPTIONS, tasks: TASKS }, cfg);
        const p = nudge(m.init(cfg, encoder, 21), 22);
        const host = Int32Array.from({ length: batch.batchSize }, (_, b) => b % TASKS.length);
        const taskIds = np.array(host, { dtype: np.int32 });
        const ctx: HookContext = { batchSize: batch.batchSize, training: false, taskIds, taskIdsHost: host };
        await assertSame(`${name} multi-task`, () => encode(cfg, encoder, batch, m.hooks(p, ctx)), () => encodeAsync(cfg, encoder, batch, m.hooks(p, ctx)));
        // The mixed-task predictor's modules (train/mixed-task.ts): per-example gathered weights.
        const dir = mkdtempSync(path.join(tmpdir(), "propetl-encode-async-"));
        try {
          const heads = TASKS.map((_, t) => initHead({ ...cfg, numLabels: 2 }, 30 + t));
          await saveTaskCheckpoint(dir, { method: m, params: p, encoderConfig: cfg, heads, labelNames: TASKS.map(() => ["no", "yes"]) });
          tree.dispose(heads);
          const ckpt = await loadTaskCheckpoint(dir, { encoderConfig: cfg });
          const modules = taskModules(ckpt);
          ckpt.dispose();
          await assertSame(`${name} stacked modules`, () => encode(cfg, encoder, batch, modules.hooks(taskIds)), () => encodeAsync(cfg, encoder, batch, modules.hooks(taskIds)));
          modules.dispose();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        taskIds.dispose();
        tree.dispose(p as never);
        m.dispose();
      });
    }
  });
}

describe("tiny-t5: t5EncodeAsync = t5Encode", () => {
  let cfg: Parameters<typeof t5Encode>[0];
  let params: T5Params;
  let enc: ReturnType<typeof makeT5EncoderBatch>;
  before(async () => {
    const model = await loadBackboneDir(modelFixtureDir("tiny-t5"));
    if (!isT5Config(model.config)) throw new Error("tiny-t5 is not a T5 model");
    cfg = model.config;
    params = asT5Params(model.encoder);
    const exp = readExpected("tiny-t5");
    const [B, S] = exp.shape("input_ids");
    enc = makeT5EncoderBatch(cfg, { batchSize: B, encoderLength: S, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask") });
  });
  after(() => {
    disposeT5EncoderBatch(enc);
    tree.dispose(params);
  });

  test("no hooks", async () => {
    await assertSame("plain", () => t5Encode(cfg, params, enc), () => t5EncodeAsync(cfg, params, enc));
  });

  for (const [i, name] of METHOD_NAMES.entries()) {
    test(`${name}: evaluation hooks`, async () => {
      const m = createMethod({ method: name, ...OPTIONS }, cfg);
      const p = nudge(m.init(cfg, params, 5 + i), 200 + i);
      const weights = m.encoderOverride ? asT5Params(m.encoderOverride(p)) : params;
      const hooks = (): ModelHooks => m.hooks(p, { batchSize: enc.batchSize, training: false });
      await assertSame(name, () => t5Encode(cfg, weights, enc, hooks()), () => t5EncodeAsync(cfg, weights, enc, hooks()));
      tree.dispose(p as never);
      m.dispose();
    });
  }
});

test("layer by layer frees each layer's intermediates: 12 layers' peak live bytes stay near one layer's", async (t) => {
  const heap = await wasmHeapStatsReader();
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  tree.dispose(model.head);
  // tiny-bert's two layers twelve times over, at batch 32 x 64: a deep pass whose pending work
  // is large next to the weights.
  const cfg: EncoderConfig = { ...model.config, numLayers: 12 };
  const encoder = { ...model.encoder, layers: Array.from({ length: 12 }, (_, i) => model.encoder.layers[i % model.encoder.layers.length]) };
  const B = 32;
  const T = 64;
  const ids = Int32Array.from({ length: B * T }, (_, k) => 1 + ((k * 7) % (cfg.vocabSize - 1)));
  const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) });
  await Promise.all([batch.inputIds, batch.positionIds, batch.tokenTypeIds, batch.maskBias].map((x) => settle(x)));
  const peakOf = async (run: () => Promise<JArray>): Promise<{ peak: number; out: Uint8Array }> => {
    const base = heap({ resetPeak: true }).liveBytes;
    const out = await bytesOf(await run());
    return { peak: heap({ resetPeak: true }).peakLiveBytes - base, out };
  };
  const lazy = await peakOf(async () => encode(cfg, encoder, batch));
  const layered = await peakOf(() => encodeAsync(cfg, encoder, batch));
  disposeBatch(batch);
  tree.dispose(model.encoder);
  t.diagnostic(`peak live bytes over the pass: lazy ${(lazy.peak / 2 ** 20).toFixed(1)} MiB, layer by layer ${(layered.peak / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(Buffer.from(lazy.out).equals(Buffer.from(layered.out)), "the same bytes");
  // One layer's pending work is the same in both; the lazy pass holds all twelve.
  assert.ok(layered.peak * 4 < lazy.peak, `peak live bytes: layer by layer ${(layered.peak / 2 ** 20).toFixed(1)} MiB, lazy ${(lazy.peak / 2 ** 20).toFixed(1)} MiB`);
});

test("inside jit the forward's values are tracers: settle refuses them with a clear error", async () => {
  let message = "";
  const g = (x: JArray): JArray => {
    settle(x).catch((e: unknown) => (message = String(e)));
    return x.mul(2);
  };
  const out = jit(g)(np.array([1, 2, 3]));
  assert.deepEqual(Array.from((await out.data()) as Float32Array), [2, 4, 6]);
  await new Promise((r) => setImmediate(r));
  assert.match(message, /settle: expected a concrete array, got a tracer/);
});
