// Fine-tune ProPETL-adapter on the built-in spam task with the bundled backbone (propetl-mini),
// as `propetl train --task spam` does, then print the test scores and the bit-level storage.
//
//   node examples/fine-tune.mjs [OUTPUT_DIR] [MAX_STEPS]
//
// Without MAX_STEPS it trains the task's default schedule (minutes on two cores).
import { bundledModelDir, computeStorage, defaultLearningRates, formatStorageReport, initEngine, loadBuiltinSplits, readEncoderConfig, resolveBuiltinTask, resolveMethodConfig, trainTask, TRAIN_DEFAULTS } from "propetl";
import path from "node:path";

const output = process.argv[2] ?? "runs/example-spam";
const maxSteps = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;

await initEngine();
const modelDir = bundledModelDir();
const { name, task } = resolveBuiltinTask("spam");
const method = resolveMethodConfig({ method: "propetl-adapter", bottleneck: 64, k: 0.5 });
// The method's default mask-score rate; the module rate is raised from its default (1e-4, set
// for RoBERTa-base) to 1e-3 for the 25x smaller propetl-mini.
const { maskLr } = defaultLearningRates(method);
const result = await trainTask({
  modelDir,
  task,
  splits: (seed) => loadBuiltinSplits(name, seed),
  method,
  hyper: { ...TRAIN_DEFAULTS, epochs: 1, lr: 1e-3, maskLr, headLr: 1e-3, ...(maxSteps !== undefined ? { maxSteps } : {}) },
  seeds: [42],
  outputDir: output,
  maxTrainExamples: 1600,
  maxEvalExamples: 256,
  maxLength: 64,
  log: (m) => console.log(m),
});
const seed = result.seeds[0];
console.log(`test ${task.mainMetric}: ${seed.test.main.toFixed(4)} (${seed.test.examples} examples); checkpoint ${seed.dir}`);
const storage = computeStorage({ config: readEncoderConfig(path.join(modelDir, "config.json")), numLabels: task.numLabels }, method);
console.log(formatStorageReport(storage));
