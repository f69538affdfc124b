// Multi-task ProPETL (paper Sec. 3.4): one prototype, layer masks and a task mask per task, on
// two built-in tasks with the bundled backbone; then one batch that mixes both tasks runs in a
// single encoder pass, each example under its own task's masks and head.
//
//   node examples/multi-task.mjs [OUTPUT_DIR] [MAX_STEPS]
import { bundledModelDir, initEngine, loadBuiltinSplits, loadMultiTaskPredictor, resolveBuiltinTask, resolveMethodConfig, trainMultiTask, TRAIN_DEFAULTS } from "propetl";

const output = process.argv[2] ?? "runs/example-multi-task";
const maxSteps = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;

await initEngine();
const modelDir = bundledModelDir();
const tasks = ["spam", "sotu-party"].map((n) => {
  const { name, task } = resolveBuiltinTask(n);
  return { task, splits: (seed) => loadBuiltinSplits(name, seed) };
});
const result = await trainMultiTask({
  modelDir,
  tasks,
  method: resolveMethodConfig({ method: "propetl-adapter", bottleneck: 64, k: 0.3, taskK: 0.3, combine: "or", tasks: tasks.map((t) => t.task.name) }),
  hyper: { ...TRAIN_DEFAULTS, epochs: 1, lr: 1e-3, maskLr: 3e-2, headLr: 1e-3, jit: false, padToMultipleOf: 1, ...(maxSteps !== undefined ? { maxSteps } : {}) },
  temperature: 10,
  seeds: [42],
  outputDir: output,
  maxTrainExamples: 800,
  maxEvalExamples: 128,
  maxLength: 64,
  log: (m) => console.log(m),
});
console.log(`mean of the tasks' test metrics: ${result.seeds[0].test.main.toFixed(4)}; checkpoint ${result.seeds[0].dir}`);

const predictor = await loadMultiTaskPredictor(modelDir, result.seeds[0].dir);
try {
  const items = [
    { text: "Congratulations, you won a free cruise! Reply now.", task: "spam" },
    { text: "We will cut taxes for working families and balance the budget.", task: "sotu-party" },
  ];
  const logits = await predictor.logits(predictor.encode(items, 64));
  items.forEach((item, i) => {
    const t = predictor.tasks.find((x) => x.name === item.task);
    const row = Array.from(logits[i]);
    console.log(JSON.stringify({ task: item.task, text: item.text, label: t.labelNames[row.indexOf(Math.max(...row))] }));
  });
} finally {
  predictor.dispose();
}
