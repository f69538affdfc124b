/**
 * Times one BERT-base-shaped layer (forward; forward+backward w.r.t. a Pfeiffer adapter after
 * the FFN with the backbone frozen), one training step of a 4-layer hidden-256 model and one
 * BERT-base ProPETL-adapter training step at batch 8 × 128 (bench/bench-steps.ts).
 * $BENCH_CASES (comma-separated, bench/shapes.ts) picks some.
 * Prints JSON lines; bench/run.ts compares them with PyTorch.
 */
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, np, tree, valueAndGrad } from "../src/engine/jax.js";
import { disposeBatch, encoderLayer, makeBatch } from "../src/models/bert/encoder.js";
import { adapterHook, config, hostBatch, layerParams, lin, rnd, time } from "./bench-model.js";
import type { Adapter } from "./bench-model.js";
import { step4L, stepBertBase } from "./bench-steps.js";
import { LAYER_BENCH, benchCases } from "./shapes.js";

async function main(): Promise<void> {
  const info = await initEngine();
  console.error(`jax-js ${info.backend}, ${info.threads} threads`);
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const cases = benchCases();
  if (cases.includes("layer_forward") || cases.includes("layer_forward_backward_adapter")) {
    const { hidden: H, heads, ffn: F, batch: B, seq: T, bottleneck: bn } = LAYER_BENCH;
    const cfg = config(H, heads, F, 1, 1000, T);
    const p = layerParams(H, F);
    const x = rnd([B, T, H], 1);
    const batch = makeBatch(cfg, hostBatch(B, T, 1000));
    const adapter: Adapter = { down: lin(H, bn), up: lin(bn, H) };
    await blockUntilReady([p, x, adapter]);
    if (cases.includes("layer_forward")) await time("layer_forward", reps, async () => {
      const y = encoderLayer(cfg, p, x.ref, batch, adapterHook(adapter));
      await y.blockUntilReady();
      y.dispose();
    });
    const loss = (a: Adapter) => {
      const y = encoderLayer(cfg, p, x.ref, batch, adapterHook(a));
      tree.dispose(a);
      return np.mean(np.square(y));
    };
    if (cases.includes("layer_forward_backward_adapter")) await time("layer_forward_backward_adapter", reps, async () => {
      const [l, g] = valueAndGrad(loss)(tree.ref(adapter));
      await blockUntilReady([l, g]);
      l.dispose();
      tree.dispose(g);
    });
    tree.dispose([p, x, adapter]);
    disposeBatch(batch);
  }
  if (cases.includes("train_step_4L_h256")) {
    const step = await step4L();
    await time("train_step_4L_h256", reps, () => step.run());
    step.dispose();
  }
  if (cases.includes("train_step_bert_base_8x128")) {
    const step = await stepBertBase();
    await time("train_step_bert_base_8x128", reps, () => step.run(), { remat: step.remat, keepLayers: step.keepLayers });
    step.dispose();
  }
}

await main();
