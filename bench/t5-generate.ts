/**
 * T5 generation speed on a random t5-small-shaped model (v1.0: d_model 512, 8 heads × 64, FFN
 * 2048, 6 + 6 blocks, vocab 32,128): ms per decoding step of `t5Generate` (KV cache) for greedy
 * and 4-beam search, against greedy without a cache (the full decoder re-run for every token,
 * as the naive loop of the tests).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/t5-generate.js [threads]
 *
 * Environment: BENCH_BATCH (default 8), BENCH_SOURCE (source tokens, default 64),
 * BENCH_NEW (new tokens, default 32).
 */
import { performance } from "node:perf_hooks";
import { initEngine } from "../src/engine/engine.js";
import { np, tree } from "../src/engine/jax.js";
import { disposeT5Batch, makeT5Batch } from "../src/models/t5/batch.js";
import { t5Generate } from "../src/models/t5/generate.js";
import { paddedSources, t5SmallShaped } from "./t5-bench-model.js";
import { t5Forward, t5LmLogits } from "../src/models/t5/model.js";

const threads = Number(process.argv[2] ?? 1);
const B = Number(process.env.BENCH_BATCH ?? 8);
const S = Number(process.env.BENCH_SOURCE ?? 64);
const NEW = Number(process.env.BENCH_NEW ?? 32);

await initEngine({ threads });
const { cfg, params } = t5SmallShaped();
const source = paddedSources(B, S);

async function timeGenerate(numBeams: number): Promise<{ ms: number; steps: number }> {
  let steps = 0;
  const t0 = performance.now();
  await t5Generate(cfg, params, undefined, source, { maxNewTokens: NEW, numBeams, eosTokenId: null, onStep: () => steps++ });
  return { ms: performance.now() - t0, steps };
}

/** Greedy without a cache: the encoder and the whole decoder again for every new token. */
async function timeNaive(): Promise<{ ms: number; steps: number }> {
  const prefix: number[][] = Array.from({ length: B }, () => [cfg.decoderStartTokenId]);
  const t0 = performance.now();
  for (let step = 0; step < NEW; step++) {
    const T = step + 1;
    const batch = makeT5Batch(cfg, { ...source, decoderLength: T, decoderInputIds: Int32Array.from(prefix.flat()) });
    const logits = t5LmLogits(cfg, params, t5Forward(cfg, params, batch)).reshape([B, T, cfg.vocabSize]);
    const last = np.argmax(logits.slice([], [T - 1, T]).reshape([B, cfg.vocabSize]), 1);
    const ids = (await last.data()) as Int32Array;
    disposeT5Batch(batch);
    for (let r = 0; r < B; r++) prefix[r].push(ids[r]);
  }
  return { ms: performance.now() - t0, steps: NEW };
}

console.log(`t5-small-shaped random model, ${threads} thread(s), batch ${B}, source ${S} tokens, ${NEW} new tokens`);
await timeGenerate(1); // warm-up
for (const [name, run] of [
  ["greedy, KV cache", () => timeGenerate(1)],
  ["4 beams, KV cache", () => timeGenerate(4)],
  ["greedy, no cache (encoder + decoder per token)", timeNaive],
] as const) {
  const { ms, steps } = await run();
  console.log(`${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms total, ${(ms / steps).toFixed(1).padStart(7)} ms/step, ${((B * steps * 1000) / ms).toFixed(1)} tokens/s (best beam counted once)`);
}
tree.dispose(params);
