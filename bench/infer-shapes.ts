/**
 * Inference memory over many batch shapes: `predict`'s code path (`loadPredictor(...).logits`)
 * on batches of random size and length, printing RSS and the wasm heap's figures every
 * `--every` batches, as JSON lines. Measures whether memory grows with the number of distinct
 * shapes seen (bench/RESULTS.md, "Inference memory").
 *
 *   node dist/bench/infer-shapes.js --model models/propetl-mini --checkpoint runs/spam \
 *     --batches 400 --max-batch 64 --max-length 128 [--pad-multiple 8] [--threads 2] [--seed 1]
 *     [--program-limit N]
 */
import { initEngine } from "../src/engine/engine.js";
import { wasmHeapStatsReader, wasmProgramCache } from "../src/engine/live-buffers.js";
import { mulberry32 } from "../src/data/splits.js";
import type { EncodedExample } from "../src/train/batching.js";
import { loadPredictor } from "../src/train/predictor.js";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

const batches = Number(arg("batches", "400"));
const maxBatch = Number(arg("max-batch", "64"));
const maxLength = Number(arg("max-length", "128"));
const every = Number(arg("every", "20"));
const padMultiple = Number(arg("pad-multiple", "1"));
await initEngine({ threads: Number(arg("threads", "2")) });
const heap = await wasmHeapStatsReader();
if (process.argv.includes("--program-limit")) await wasmProgramCache({ limit: Number(arg("program-limit")) });
const predictor = await loadPredictor(arg("model"), arg("checkpoint"), { padToMultipleOf: padMultiple });
const next = mulberry32(Number(arg("seed", "1")));
const uniform = (lo: number, hi: number): number => lo + (next() % (hi - lo + 1));
const vocab = predictor.config.vocabSize;
const shapes = new Set<string>();
const t0 = performance.now();
for (let b = 1; b <= batches; b++) {
  const B = uniform(1, maxBatch);
  const T = uniform(2, maxLength);
  const data: EncodedExample[] = Array.from({ length: B }, (_, i) => {
    const ids = Int32Array.from({ length: i === 0 ? T : uniform(2, T) }, () => uniform(5, vocab - 1));
    return { inputIds: ids, tokenTypeIds: new Int32Array(ids.length), label: -1, index: i };
  });
  shapes.add(`${B}x${Math.ceil(T / padMultiple) * padMultiple}`);
  heap({ resetPeak: true });
  await predictor.logits(data, { batchSize: B });
  if (b % every === 0) {
    global.gc?.();
    const h = heap();
    const mb = (x: number): number => Math.round((x / 2 ** 20) * 10) / 10;
    console.log(JSON.stringify({ batch: b, shapes: shapes.size, rssMiB: mb(process.memoryUsage().rss), jsHeapMiB: mb(process.memoryUsage().heapUsed), externalMiB: mb(process.memoryUsage().external), heapMiB: mb(h.heapBytes), liveMiB: mb(h.liveBytes), peakLiveMiB: mb(h.peakLiveBytes), programs: (await wasmProgramCache()).size, seconds: Math.round((performance.now() - t0) / 100) / 10 }));
  }
}
predictor.dispose();
