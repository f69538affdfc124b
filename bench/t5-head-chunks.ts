/**
 * T5's rematerialised loss and gradient (`rematEncoderDecoderValueAndGrad`) with the LM head and
 * loss in chunks of target positions (`headChunkRows`, the default) against one chunk of every
 * position, in the same run: the peak of live wasm bytes above what was live before, the loss,
 * the time. A random T5 with t5-base's 32,128-token vocabulary but small blocks (d_model 256,
 * 4 heads × 64, d_ff 1024, 2 + 2 blocks), ProPETL-adapter, batch 8 × (128 + 128); each setting
 * twice, alternating (the first pair includes warm-up).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/t5-head-chunks.js
 */
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, tree } from "../src/engine/jax.js";
import { wasmHeapStatsReader } from "../src/engine/live-buffers.js";
import { parseT5Config } from "../src/models/t5/config.js";
import { initT5 } from "../src/models/t5/init.js";
import type { PetlMethod } from "../src/petl/method.js";
import { createMethod } from "../src/petl/registry.js";
import { rematEncoderDecoderValueAndGrad } from "../src/train/remat.js";
import type { EncodedPair } from "../src/train/seq2seq-batching.js";
import { seq2seqDeviceInputs } from "../src/train/seq2seq.js";
import { headChunkRows, seq2seqRematStack } from "../src/train/seq2seq-remat.js";

await initEngine({ threads: 2 });
const heap = await wasmHeapStatsReader();
const [B, L] = [8, 128];
const cfg = parseT5Config(
  { model_type: "t5", vocab_size: 32128, d_model: 256, d_kv: 64, d_ff: 1024, num_layers: 2, num_decoder_layers: 2, num_heads: 4, feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 },
  "bench T5",
);
const params = initT5(cfg, 1);
const method = createMethod({ method: "propetl-adapter" }, cfg) as PetlMethod<unknown>;
const trainable = method.init(cfg, params, 1);
const V = cfg.vocabSize;
const data: EncodedPair[] = Array.from({ length: B }, (_, index) => ({
  inputIds: Int32Array.from({ length: L }, (_, t) => (t === L - 1 ? 1 : 2 + ((t * 7 + index * 13) % (V - 2)))),
  labels: Int32Array.from({ length: L }, (_, t) => (t === L - 1 ? 1 : 2 + ((t * 5 + index * 3) % (V - 2)))),
  index,
}));
await blockUntilReady([params, trainable] as never);
console.log(`random T5 (2 + 2 blocks, d_model 256, vocab ${V}), propetl-adapter, batch ${B} x (${L} + ${L}); 2 engine threads`);
for (const headRows of [headChunkRows(V), B * L, headChunkRows(V), B * L]) {
  const d = seq2seqDeviceInputs(cfg, data);
  await blockUntilReady(d as never);
  const before = heap({ resetPeak: true });
  const stack = seq2seqRematStack(method, { backbone: { config: cfg, params }, batch: { batchSize: B, encoderLength: L, decoderLength: L, ...d }, labels: d, headRows });
  const t0 = performance.now();
  const [loss, g] = await rematEncoderDecoderValueAndGrad(stack, tree.ref(trainable as never));
  const value = ((await loss.data()) as Float32Array)[0];
  await blockUntilReady(g as never);
  const ms = performance.now() - t0;
  stack.dispose();
  tree.dispose([g, d] as never);
  const peak = heap().peakLiveBytes - before.liveBytes;
  console.log(`head in chunks of ${headRows} of ${B * L} positions: loss ${value.toFixed(6)}, peak above before ${(peak / 2 ** 20).toFixed(0)} MiB (${(peak / (B * 2 * L) / 1e6).toFixed(3)} MB/token), ${(ms / 1000).toFixed(1)} s`);
}
tree.dispose([params, trainable] as never);
method.dispose();
