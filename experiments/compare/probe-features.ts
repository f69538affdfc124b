/**
 * Sanity probe for the comparison: exports propetl-mini's frozen features (the [CLS] vector and
 * the mean over tokens of the last hidden state) for the first 1,600 training and 500 test
 * examples of a built-in task, as the experiment's runs see them (seed 1 splits, 64 tokens), so
 * that probe_head.py can check how much the features alone can learn.
 *
 *   node dist/experiments/compare/probe-features.js sst2 /tmp/feat-sst2.json
 *   /usr/bin/python3 experiments/compare/probe_head.py /tmp/feat-sst2.json
 */
import { writeFileSync } from "node:fs";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadBuiltinSplits } from "../../src/data/builtin-tasks.js";
import type { Example } from "../../src/data/read-examples.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import { loadModelDir } from "../../src/models/load.js";

const [task, outFile, modelDir = "models/propetl-mini"] = process.argv.slice(2);
if (!task || !outFile) {
  console.error("usage: probe-features.js <built-in task> <out.json> [model dir]");
  process.exit(2);
}
await initEngine();
const model = await loadModelDir(modelDir);
const tok = await loadTokenizer(modelDir);
const splits = await loadBuiltinSplits(task, 1);
const T = 64, B = 32, H = model.config.hiddenSize;
const out: Record<string, { cls: number[][]; mean: number[][]; y: number[] }> = {};
for (const [name, examples] of [["train", splits.train.slice(0, 1600)], ["test", splits.test.slice(0, 500)]] as [string, Example[]][]) {
  const cls: number[][] = [], mean: number[][] = [], y: number[] = [];
  for (let i = 0; i < examples.length; i += B) {
    const chunk = examples.slice(i, i + B);
    const ids = new Int32Array(chunk.length * T).fill(tok.padTokenId), mask = new Int32Array(chunk.length * T);
    chunk.forEach((e, j) => {
      const enc = tok.encode(e.text, e.textPair, { maxLength: T });
      enc.inputIds.forEach((id, k) => { ids[j * T + k] = id; mask[j * T + k] = 1; });
      y.push(Number(e.label));
    });
    const batch = makeBatch(model.config, { batchSize: chunk.length, seqLen: T, inputIds: ids, attentionMask: mask, tokenTypeIds: new Int32Array(chunk.length * T) });
    const h = (await encode(model.config, model.encoder, batch).data()) as Float32Array;
    disposeBatch(batch);
    for (let j = 0; j < chunk.length; j++) {
      cls.push(Array.from(h.subarray(j * T * H, j * T * H + H)));
      const m = new Array<number>(H).fill(0);
      let n = 0;
      for (let k = 0; k < T; k++) {
        if (!mask[j * T + k]) continue;
        n++;
        for (let d = 0; d < H; d++) m[d] += h[(j * T + k) * H + d];
      }
      mean.push(m.map((v) => v / n));
    }
  }
  out[name] = { cls, mean, y };
}
writeFileSync(outFile, JSON.stringify(out));
tree.dispose([model.encoder, model.head]);
console.log(`wrote ${outFile}: ${out.train.y.length} train, ${out.test.y.length} test feature rows of ${H}`);
