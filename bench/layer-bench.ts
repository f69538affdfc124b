/**
 * Times one BERT-base-shaped layer (forward; forward+backward w.r.t. a Pfeiffer adapter after
 * the FFN with the backbone frozen) and one training step of a 4-layer hidden-256 model.
 * Prints JSON lines; bench/run.ts compares them with PyTorch.
 */
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, np, nn, random, tree, valueAndGrad } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import type { EncoderConfig } from "../src/models/bert/config.js";
import { classify, disposeBatch, encode, encoderLayer, makeBatch, sequenceLoss } from "../src/models/bert/encoder.js";
import { linear } from "../src/models/layers.js";
import type { LayerHooks } from "../src/models/hooks.js";
import type { EncoderLayerParams, EncoderParams, HeadParams, Linear } from "../src/models/bert/params.js";
import { LAYER_BENCH, STEP_BENCH } from "./shapes.js";

let seed = 1;
const rnd = (shape: number[], scale = 0.02): JArray => random.normal(random.key(seed++), shape).mul(scale);
const lin = (i: number, o: number): Linear => ({ w: rnd([o, i]), b: rnd([o]) });
const ln = (d: number) => ({ g: np.ones([d]), b: np.zeros([d]) });

function layerParams(H: number, F: number): EncoderLayerParams {
  return { query: lin(H, H), key: lin(H, H), value: lin(H, H), attnOut: lin(H, H), attnLn: ln(H), inter: lin(H, F), out: lin(F, H), outLn: ln(H) };
}

function config(H: number, heads: number, F: number, L: number, vocab: number, seq: number): EncoderConfig {
  return { modelType: "bert", vocabSize: vocab, hiddenSize: H, numLayers: L, numHeads: heads, intermediateSize: F, hiddenAct: "gelu", layerNormEps: 1e-12, maxPositions: seq, typeVocabSize: 2, padTokenId: 0, numLabels: 2 };
}

type Adapter = { down: Linear; up: Linear };
const adapterHook = (a: Adapter): LayerHooks => ({
  ffnOutput: (h) => h.ref.add(linear(a.up, nn.relu(linear(a.down, h)))),
});

function hostBatch(B: number, T: number, vocab: number) {
  const ids = new Int32Array(B * T);
  for (let i = 0; i < ids.length; i++) ids[i] = 1 + ((i * 7919) % (vocab - 1));
  return { batchSize: B, seqLen: T, inputIds: ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) };
}

async function time(label: string, reps: number, fn: () => Promise<void>): Promise<void> {
  await fn(); // warm-up: kernel compilation
  await fn();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  console.log(JSON.stringify({ engine: "jax-js", case: label, median_ms: ts[Math.floor(ts.length / 2)], min_ms: ts[0] }));
}

async function main(): Promise<void> {
  const info = await initEngine();
  console.error(`jax-js ${info.backend}, ${info.threads} threads`);
  const reps = Number(process.env.BENCH_REPS ?? 5);
  {
    const { hidden: H, heads, ffn: F, batch: B, seq: T, bottleneck: bn } = LAYER_BENCH;
    const cfg = config(H, heads, F, 1, 1000, T);
    const p = layerParams(H, F);
    const x = rnd([B, T, H], 1);
    const batch = makeBatch(cfg, hostBatch(B, T, 1000));
    const adapter: Adapter = { down: lin(H, bn), up: lin(bn, H) };
    await blockUntilReady([p, x, adapter]);
    await time("layer_forward", reps, async () => {
      const y = encoderLayer(cfg, p, x.ref, batch, adapterHook(adapter));
      await y.blockUntilReady();
      y.dispose();
    });
    const loss = (a: Adapter) => {
      const y = encoderLayer(cfg, p, x.ref, batch, adapterHook(a));
      tree.dispose(a);
      return np.mean(np.square(y));
    };
    await time("layer_forward_backward_adapter", reps, async () => {
      const [l, g] = valueAndGrad(loss)(tree.ref(adapter));
      await blockUntilReady([l, g]);
      l.dispose();
      tree.dispose(g);
    });
    tree.dispose([p, x, adapter]);
    disposeBatch(batch);
  }
  {
    const { hidden: H, heads, ffn: F, layers: L, batch: B, seq: T, bottleneck: bn, vocab } = STEP_BENCH;
    const cfg = config(H, heads, F, L, vocab, T);
    const enc: EncoderParams = {
      embeddings: { word: rnd([vocab, H]), position: rnd([T, H]), tokenType: rnd([2, H]), ln: ln(H) },
      layers: Array.from({ length: L }, () => layerParams(H, F)),
    };
    type Trainable = { adapters: Adapter[]; head: HeadParams };
    let params: Trainable = { adapters: Array.from({ length: L }, () => ({ down: lin(H, bn), up: lin(bn, H) })), head: { dense: lin(H, H), out: lin(H, 2) } };
    const batch = makeBatch(cfg, hostBatch(B, T, vocab));
    const labels = np.array(new Int32Array(B).map((_, i) => i % 2), { dtype: np.int32 });
    await blockUntilReady([enc, params]);
    const loss = (t: Trainable) => {
      const h = encode(cfg, enc, batch, { encoder: t.adapters.map(adapterHook) });
      const l = sequenceLoss(classify(t.head, h), labels.ref, 2);
      tree.dispose(t);
      return l;
    };
    await time("train_step_4L_h256", reps, async () => {
      const [l, g] = valueAndGrad(loss)(tree.ref(params));
      // Plain SGD update so the step includes writing new parameters.
      const next = tree.map((pp: JArray, gg: JArray) => pp.sub(gg.mul(1e-3)), params, g) as Trainable;
      params = next;
      await blockUntilReady([l, params]);
      l.dispose();
    });
    tree.dispose([enc, params, labels]);
    disposeBatch(batch);
  }
}

await main();
