/**
 * 200 forward+backward steps (tiny BERT, adapter after every FFN, SGD update) keep the number
 * of live device buffers and the process RSS flat: every array allocated in a step is freed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { blockUntilReady, nn, np, random, tree, valueAndGrad } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadModelDir } from "../../src/models/load.js";
import { classify, disposeBatch, encode, makeBatch, sequenceLoss } from "../../src/models/bert/encoder.js";
import { linear } from "../../src/models/layers.js";
import type { HeadParams, Linear } from "../../src/models/bert/params.js";
import { modelFixtureDir, readExpected } from "../helpers/fixtures.js";

test("200 training steps keep live buffers and RSS flat", async () => {
  await initEngine();
  const live = await trackLiveBuffers();
  const model = await loadModelDir(modelFixtureDir("tiny-bert-relu"));
  const cfg = model.config;
  const exp = readExpected("tiny-bert-relu");
  const [B, T] = exp.shape("input_ids");
  const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), tokenTypeIds: exp.i32("token_type_ids") });
  const labels = np.array(exp.i32("labels"), { dtype: np.int32 });
  const H = cfg.hiddenSize;
  const lin = (i: number, o: number, seed: number): Linear => ({ w: random.normal(random.key(seed), [o, i]).mul(0.1), b: np.zeros([o]) });
  type Trainable = { adapters: { down: Linear; up: Linear }[]; head: HeadParams };
  let params: Trainable = {
    adapters: Array.from({ length: cfg.numLayers }, (_, i) => ({ down: lin(H, 8, 10 + i), up: lin(8, H, 20 + i) })),
    head: model.head,
  };
  const lossFn = (p: Trainable) => {
    const hooks = p.adapters.map((a) => ({ ffnOutput: (h: typeof labels) => h.ref.add(linear(a.up, nn.relu(linear(a.down, h)))) }));
    const loss = sequenceLoss(classify(p.head, encode(cfg, model.encoder, batch, { encoder: hooks })), labels.ref, cfg.numLabels);
    tree.dispose(p);
    return loss;
  };
  const step = async (): Promise<number> => {
    const [loss, grads] = valueAndGrad(lossFn)(tree.ref(params));
    const next = tree.map((w: typeof labels, g: typeof labels) => w.sub(g.mul(0.05)), params, grads) as Trainable;
    params = next;
    await blockUntilReady(params);
    return (await loss.data())[0];
  };
  const first = await step();
  for (let i = 0; i < 19; i++) await step();
  global.gc?.();
  const liveStart = live();
  const rssStart = process.memoryUsage().rss;
  let last = first;
  for (let i = 0; i < 180; i++) last = await step();
  global.gc?.();
  const liveEnd = live();
  const rssEnd = process.memoryUsage().rss;
  assert.equal(liveEnd, liveStart, `live buffers grew from ${liveStart} to ${liveEnd} over 180 steps`);
  const growthMb = (rssEnd - rssStart) / 2 ** 20;
  assert.ok(growthMb < 64, `RSS grew by ${growthMb.toFixed(1)} MiB over 180 steps`);
  assert.ok(last < first, `loss should go down: ${first} -> ${last}`);
  tree.dispose([params, model.encoder, labels]);
  disposeBatch(batch);
});
