import { initEngine } from "../../src/engine/engine.js";
import { loadModelDir } from "../../src/models/load.js";
import { finetune } from "../../src/train/finetune.js";
import { stopOnInterrupt } from "../../src/cli/interrupt.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { gatedAdapter, syntheticData } from "../train/helpers.js";
await initEngine({ threads: Number(process.env.T ?? 1) });
const m = await loadModelDir(modelFixtureDir("tiny-bert"), { numLabels: 2, seed: 7 });
const stop = stopOnInterrupt(() => undefined);
const t0 = Date.now();
let sentAt = 0;
try {
  await finetune({
    backbone: { config: m.config, encoder: m.encoder }, method: gatedAdapter(4), head: m.head,
    task: { kind: "classification", numLabels: 2, metrics: ["accuracy"], mainMetric: "accuracy" },
    train: syntheticData(400, 1), validation: syntheticData(8, 2), padTokenId: 0,
    hyper: { epochs: 1, batchSize: 8, gradAccumSteps: 1, lr: 3e-3, maskLr: 3e-2, weightDecay: 0.1, warmupRatio: 0.1, maxGradNorm: 1, seed: 42, evalBatchSize: 32, padToMultipleOf: 16 },
    checkpoint: { file: "/tmp/sigtest/state.safetensors" }, resume: false, fingerprint: "fp", signal: stop.signal,
    onEvent: (e) => {
      if (e.type === "step") console.log(`step ${e.step} at ${Date.now() - t0} ms`);
      if (e.type === "step" && e.step === 3) { sentAt = Date.now() - t0; setTimeout(() => process.kill(process.pid, "SIGINT"), 30); }
    },
  });
} catch (e) {
  console.log(`stopped: ${(e as Error).message}; signal sent ~${sentAt + 30} ms`);
}
stop.dispose();
process.exit(0);
