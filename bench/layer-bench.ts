/**
 * Times one BERT-base-shaped layer (forward; forward+backward w.r.t. a Pfeiffer adapter after
 * the FFN with the backbone frozen) and one training step of a 4-layer hidden-256 model.
 * Prints JSON lines; bench/run.ts compares them with PyTorch.
 */
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, np, tree, valueAndGrad } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import { classify, disposeBatch, encode, encoderLayer, makeBatch, sequenceLoss } from "../src/models/bert/encoder.js";
import type { EncoderParams, HeadParams } from "../src/models/bert/params.js";
import { adapterHook, config, encoderParams, hostBatch, layerParams, lin, rnd, time } from "./bench-model.js";
import type { Adapter } from "./bench-model.js";
import { LAYER_BENCH, STEP_BENCH } from "./shapes.js";

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
    const enc: EncoderParams = encoderParams(cfg);
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
