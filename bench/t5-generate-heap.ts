/**
 * The wasm heap during T5 generation (`t5Generate`, KV cache) on a random t5-small-shaped model
 * (v1.0: d_model 512, 8 heads × 64, FFN 2048, 6 + 6 blocks, vocab 32,128): for greedy search
 * and 4-beam search, after every decoding step the live bytes, and the peak of live bytes
 * during the step above the live bytes before it (`wasmHeapStatsReader`). The self-attention
 * cache grows by one position per step, so live bytes grow by
 * rows × 2 (keys, values) × inner × 4 bytes × blocks per step; the peak above it is the step's
 * own work. Also printed: the most live bytes at any point of steps 2 to the last.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/t5-generate-heap.js [threads=2]
 *
 * Environment: BENCH_BATCH (default 8), BENCH_SOURCE (source tokens, default 64),
 * BENCH_NEW (new tokens, default 32).
 */
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, tree } from "../src/engine/jax.js";
import { wasmHeapStatsReader } from "../src/engine/live-buffers.js";
import { t5Generate } from "../src/models/t5/generate.js";
import { paddedSources, t5SmallShaped } from "./t5-bench-model.js";

const threads = Number(process.argv[2] ?? 2);
const B = Number(process.env.BENCH_BATCH ?? 8);
const S = Number(process.env.BENCH_SOURCE ?? 64);
const NEW = Number(process.env.BENCH_NEW ?? 32);
const MiB = 2 ** 20;

await initEngine({ threads });
const heap = await wasmHeapStatsReader();
const { cfg, params } = t5SmallShaped();
await blockUntilReady(params as never);
const source = paddedSources(B, S);

console.log(`t5-small-shaped random model, ${threads} thread(s), batch ${B}, source ${S} tokens, ${NEW} new tokens (no EOS)`);
for (const numBeams of [1, 4]) {
  const rows = B * numBeams;
  const before = heap({ resetPeak: true });
  let last = before;
  const live: number[] = [];
  const stepPeak: number[] = [];
  const absPeak: number[] = [];
  const sequences = (
    await t5Generate(cfg, params, undefined, source, {
      maxNewTokens: NEW,
      numBeams,
      eosTokenId: null,
      onStep: () => {
        const h = heap({ resetPeak: true });
        live.push(h.liveBytes);
        stepPeak.push(h.peakLiveBytes - last.liveBytes);
        absPeak.push(h.peakLiveBytes);
        last = h;
      },
    })
  ).sequences;
  const cacheGrowth = rows * 2 * cfg.numHeads * cfg.dKv * 4 * cfg.numDecoderLayers;
  const fmt = (x: number): string => (x / MiB).toFixed(1);
  console.log(
    `${numBeams === 1 ? "greedy" : `${numBeams} beams`} (${rows} rows): before ${fmt(before.liveBytes)} MiB live; live after step 1 / ${NEW}: ${fmt(live[0])} / ${fmt(live[live.length - 1])} MiB ` +
      `(+${((live[live.length - 1] - live[0]) / (live.length - 1) / 1024).toFixed(1)} KiB per step; the self-attention cache's growth: ${(cacheGrowth / 1024).toFixed(1)} KiB); ` +
      `peak live bytes in steps 2-${NEW}: ${fmt(Math.max(...absPeak.slice(1)))} MiB; peak above the live bytes before the step: step 1 ${fmt(stepPeak[0])} MiB (encoder, cross-attention keys/values), steps 2-${NEW}: max ${fmt(Math.max(...stepPeak.slice(1)))} MiB, last ${fmt(stepPeak[stepPeak.length - 1])} MiB; ` +
      `first ids ${sequences[0].slice(0, 6).join(",")}`,
  );
}
tree.dispose(params);
