/**
 * The wasm heap during text-to-text fine-tuning with generation at evaluation: the bundled
 * propetl-mini-t5 with a Pfeiffer adapter (bottleneck 64) on the first bible-es-en pairs
 * (sources and targets cut to 96 tokens), batch 16, validation by greedy generation (up to 96
 * new tokens) every 2 steps. After every step and evaluation it prints the heap size, the live
 * bytes, and the peak of live bytes since the previous line (`wasmHeapStats`).
 *
 *   node dist/bench/t5-heap.js [TRAIN_PAIRS=96] [VALIDATION_PAIRS=64] [THREADS=2]
 *
 * With the engine's old allocator (free lists per size class, no merging) this workload's heap
 * outgrew its live bytes at every new pattern of shapes; see bench/RESULTS.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadSeq2SeqTask } from "../src/data/seq2seq.js";
import { loadTokenizer } from "../src/data/tokenizer.js";
import { initEngine } from "../src/engine/engine.js";
import { tree } from "../src/engine/jax.js";
import { wasmHeapStatsReader } from "../src/engine/live-buffers.js";
import { loadBackboneDir } from "../src/models/load.js";
import type { T5Config } from "../src/models/t5/config.js";
import type { T5Params } from "../src/models/t5/params.js";
import type { PetlMethod } from "../src/petl/method.js";
import { createMethod } from "../src/petl/registry.js";
import { encodePairs } from "../src/train/seq2seq-batching.js";
import { seq2seqFinetune } from "../src/train/seq2seq.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const MiB = 2 ** 20;

async function main(): Promise<void> {
  const [nTrain, nVal, threads] = [Number(process.argv[2] ?? 96), Number(process.argv[3] ?? 64), Number(process.argv[4] ?? 2)];
  await initEngine({ threads });
  const dir = path.join(ROOT, "models", "propetl-mini-t5");
  const model = await loadBackboneDir(dir);
  const tokenizer = await loadTokenizer(dir);
  const task = loadSeq2SeqTask("bible-es-en");
  const enc = (pairs: readonly { source: string; target: string }[], n: number) => encodePairs(tokenizer, pairs.slice(0, n), { maxSourceLength: 96, maxTargetLength: 96, prefix: task.task.prefix }).pairs;
  const train = enc(task.train, nTrain);
  const validation = enc(task.validation, nVal);
  const method = createMethod({ method: "adapter", bottleneck: 64 }) as PetlMethod<unknown>;
  const started = Date.now();
  const heap = await wasmHeapStatsReader();
  heap({ resetPeak: true });
  const line = (what: string): void => {
    const s = heap({ resetPeak: true });
    console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s  ${what.padEnd(8)} heap ${(s.heapBytes / MiB).toFixed(0).padStart(5)} MiB  live ${(s.liveBytes / MiB).toFixed(0).padStart(4)} MiB  peak since last ${(s.peakLiveBytes / MiB).toFixed(0).padStart(5)} MiB  free extents ${s.freeExtents}`);
  };
  const res = await seq2seqFinetune<unknown>({
    backbone: { config: model.config as T5Config, params: model.encoder as T5Params },
    method,
    tokenizer,
    metric: "bleu",
    train,
    validation,
    validationReferences: task.validation.slice(0, validation.length).map((p) => p.target),
    hyper: { epochs: 1, batchSize: 16, gradAccumSteps: 1, lr: 1e-3, maskLr: 1e-2, weightDecay: 0.1, warmupRatio: 0.1, maxGradNorm: 1, seed: 1, evalBatchSize: 64, evalSteps: 2, generation: { maxNewTokens: 96, numBeams: 1 } },
    onEvent: (e) => {
      if (e.type === "step" || e.type === "eval") line(`${e.type} ${e.step}`);
    },
  });
  tree.dispose(res.params);
  if (res.best) tree.dispose(res.best);
  tree.dispose(model.encoder);
  method.dispose();
}

await main();
