/**
 * T5 training memory per token with block-by-block rematerialisation (train/remat.ts
 * `rematEncoderDecoderValueAndGrad`), read from the wasm allocator's peak of live bytes
 * (`wasmHeapStatsReader`) during one loss-and-gradient of the text-to-text objective, above
 * what was live before it (weights, trainable tree, batch).
 *
 * A small randomly initialised T5 (d_model 64, 4 heads of 16, d_ff 256, ReLU, vocabulary 200)
 * with ProPETL-adapter, batch 4 pairs of 32 source and 32 target tokens. Per token means per
 * source + target token; the figures are in "width units" U = (d + d_ff + heads·(S + T)) · 4
 * bytes (train/remat-choice.ts `t5DecoderUnit`: a decoder block's hidden state, FFN and
 * self- plus cross-attention rows), so the bound reads the same at any model size. Measured
 * when written (2026-12-02): with remat, 2 + 2 blocks peak at 8.3 U per token, and each further
 * pair of blocks adds exactly one hidden state per token (each block's kept input: 256 bytes);
 * the whole-network gradient adds 16.6 U per token per pair of blocks, and at 6 + 6 blocks
 * holds 11.8× what remat holds. The bounds leave about 15% above the first figure, so a
 * regression shows. Partial (`keepLayers`, the decoder's blocks first): each kept block adds
 * its residuals, more than a hidden state and less than the whole-network gradient's block,
 * whose figures `t5RematPlan` sizes the kept blocks with.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { blockUntilReady, tree } from "../../src/engine/jax.js";
import { wasmHeapStatsReader } from "../../src/engine/live-buffers.js";
import type { WasmHeapStats } from "../../src/engine/live-buffers.js";
import { parseT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { initT5 } from "../../src/models/t5/init.js";
import type { PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import { t5DecoderUnit } from "../../src/train/remat-choice.js";
import type { EncodedPair } from "../../src/train/seq2seq-batching.js";
import { seq2seqObjective } from "../../src/train/seq2seq.js";
import type { Seq2seqTrainable } from "../../src/train/seq2seq.js";
import { makeLossAndGrad } from "../../src/train/trainer.js";

const [D, HEADS, FFN, B, L] = [64, 4, 256, 4, 32];

let heap: (opts?: { resetPeak?: boolean }) => WasmHeapStats;
before(async () => {
  await initEngine();
  heap = await wasmHeapStatsReader();
});

function config(blocks: number, vocab = 200): T5Config {
  return parseT5Config(
    { model_type: "t5", vocab_size: vocab, d_model: D, d_kv: D / HEADS, d_ff: FFN, num_layers: blocks, num_decoder_layers: blocks, num_heads: HEADS, feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 },
    "test T5",
  );
}

/** Bytes per token (source + target) of one width unit at this test's widths. */
const U = t5DecoderUnit({ dModel: D, dFf: FFN, numHeads: HEADS, feedForwardProj: "relu" }, L, L);

/** Peak live bytes per source+target token above the live bytes before one loss-and-gradient (the second of two). */
async function t5PeakPerToken(cfg: T5Config, remat: boolean, keepLayers = 0): Promise<number> {
  const params = initT5(cfg, 1);
  const method = createMethod({ method: "propetl-adapter", bottleneck: 16 }, cfg) as PetlMethod<unknown>;
  const trainable: Seq2seqTrainable<unknown> = { method: method.init(cfg, params, 1) };
  const V = cfg.vocabSize;
  const data: EncodedPair[] = Array.from({ length: B }, (_, index) => ({
    inputIds: Int32Array.from({ length: L }, (_, t) => (t === L - 1 ? 1 : 2 + ((t * 7 + index * 13) % (V - 2)))),
    labels: Int32Array.from({ length: L }, (_, t) => (t === L - 1 ? 1 : 2 + ((t * 5 + index * 3) % (V - 2)))),
    index,
  }));
  const objective = seq2seqObjective({ config: cfg, params }, method, data, { remat, keepLayers });
  assert.equal(objective.valueAndGrad !== undefined, remat);
  const lossAndGrad = objective.valueAndGrad ? objective.valueAndGrad.bind(objective) : makeLossAndGrad(objective.loss, false);
  await blockUntilReady([params, trainable] as never);
  let peak = 0;
  for (let rep = 0; rep < 2; rep++) {
    const d = objective.toDevice(data.map((e) => e.index));
    await blockUntilReady(d as never);
    const before = heap({ resetPeak: true });
    const [loss, grads] = await lossAndGrad(tree.ref(trainable), d);
    const value = ((await loss.data()) as Float32Array)[0];
    await blockUntilReady(grads as never);
    peak = heap().peakLiveBytes - before.liveBytes;
    tree.dispose(grads);
    assert.ok(Number.isFinite(value), "finite loss");
  }
  tree.dispose([trainable, params] as never);
  method.dispose();
  return peak / (B * 2 * L);
}

describe("T5 training memory per token with block-by-block rematerialisation", () => {
  test("2 + 2 blocks: at most 9.5 width units per token; each further pair of blocks adds at most two hidden states", async () => {
    const two = await t5PeakPerToken(config(2), true);
    const six = await t5PeakPerToken(config(6), true);
    const perPair = (six - two) / 4;
    console.log(`remat: 2+2 blocks ${(two / U).toFixed(2)} U per token (${two.toFixed(0)} B); 6+6 blocks ${(six / U).toFixed(2)} U; per further pair of blocks ${perPair.toFixed(0)} B per token (hidden state ${D * 4} B)`);
    assert.ok(two <= 9.5 * U, `2+2 blocks: ${(two / U).toFixed(2)} U per token (${two.toFixed(0)} bytes), bound 9.5 U`);
    assert.ok(perPair <= 2 * D * 4, `each further pair of blocks adds ${perPair.toFixed(0)} bytes per token; bound ${2 * D * 4} (two hidden states)`);
  });

  test("the whole-network gradient grows with depth; remat holds a third of it at 6 + 6 blocks or less", async () => {
    const two = await t5PeakPerToken(config(2), false);
    const six = await t5PeakPerToken(config(6), false);
    const perPair = (six - two) / 4;
    console.log(`plain: 2+2 blocks ${(two / U).toFixed(2)} U per token; 6+6 blocks ${(six / U).toFixed(2)} U; ${(perPair / U).toFixed(2)} U per token per pair of blocks`);
    assert.ok(perPair > 8 * U, `plain valueAndGrad: ${(perPair / U).toFixed(2)} U per token per pair of blocks`);
    const rematSix = await t5PeakPerToken(config(6), true);
    assert.ok(rematSix * 3 <= six, `6+6 blocks: remat ${(rematSix / U).toFixed(2)} U vs plain ${(six / U).toFixed(2)} U per token`);
  });

  test("partial: each kept block adds more than a hidden state and less than a whole-network gradient's block", async () => {
    const none = await t5PeakPerToken(config(6), true, 0);
    const dec = await t5PeakPerToken(config(6), true, 6);
    const all = await t5PeakPerToken(config(6), true, 12);
    const plainTwo = await t5PeakPerToken(config(2), false);
    const plainSix = await t5PeakPerToken(config(6), false);
    const perDec = (dec - none) / 6;
    const perEnc = (all - dec) / 6;
    const perPlainBlock = (plainSix - plainTwo) / 8;
    console.log(`6+6 blocks, per source+target token: keep 0 ${(none / U).toFixed(2)} U, 6 (the decoder) ${(dec / U).toFixed(2)} U, 12 ${(all / U).toFixed(2)} U: a kept decoder block ${(perDec / U).toFixed(2)} U, an encoder block ${(perEnc / U).toFixed(2)} U; the whole-network gradient ${(perPlainBlock / U).toFixed(2)} U per block`);
    for (const [what, per] of [["decoder", perDec], ["encoder", perEnc]] as const) {
      assert.ok(per > D * 4, `a kept ${what} block adds ${per.toFixed(0)} bytes per token: its residuals are not kept`);
      assert.ok(per < perPlainBlock, `a kept ${what} block adds ${(per / U).toFixed(2)} U, the whole-network gradient's block ${(perPlainBlock / U).toFixed(2)} U`);
    }
  });
});
