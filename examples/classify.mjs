// Classify texts with a task checkpoint on the bundled backbone (what `propetl predict` does).
//
//   node examples/classify.mjs CHECKPOINT_DIR "first text" ["second text" ...]
//
// Train a checkpoint first, e.g. with examples/fine-tune.mjs or `propetl train --task spam`.
import { bundledModelDir, initEngine, loadPredictor } from "propetl";

const [checkpoint, ...texts] = process.argv.slice(2);
if (!checkpoint || texts.length === 0) {
  console.error('usage: node examples/classify.mjs CHECKPOINT_DIR "text" ["text" ...]');
  process.exit(2);
}
await initEngine();
const predictor = await loadPredictor(bundledModelDir(), checkpoint);
try {
  const examples = predictor.encode(texts.map((text) => ({ text })), 128);
  const logits = await predictor.logits(examples);
  const n = predictor.numLabels;
  texts.forEach((text, i) => {
    const row = Array.from(logits.subarray(i * n, (i + 1) * n));
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const probs = exp.map((v) => v / sum);
    const best = probs.indexOf(Math.max(...probs));
    console.log(JSON.stringify({ text, label: predictor.labelNames[best], probs }));
  });
} finally {
  predictor.dispose();
}
