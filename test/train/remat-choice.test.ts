/**
 * `remat: "auto"` (train/remat-choice.ts): the whole-network gradient where its activations fit
 * comfortably (faster), layer by layer where they would not, keeping the residuals of as many
 * top layers as the budget holds beside the layer-by-layer gradient's work; explicit choices
 * are kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { KEPT_UNITS_PER_TOKEN_LAYER, plainActivationBytes, PLAIN_UNITS_PER_TOKEN_LAYER, REMAT_WORK_UNITS_PER_TOKEN, rematPlan, resolveRemat, resolveT5Remat, REMAT_AUTO_BYTES, T5_PLAIN_UNITS, t5DecoderUnit, t5EncoderUnit, t5PlainActivationBytes, t5RematPlan } from "../../src/train/remat-choice.js";
import type { RematPlan } from "../../src/train/remat-choice.js";
import { CliError } from "../../src/cli/args.js";
import { run as train } from "../../src/cli/train.js";

const MINI = { hiddenSize: 256, intermediateSize: 1024, numHeads: 4, numLayers: 4 }; // propetl-mini
const BASE = { hiddenSize: 768, intermediateSize: 3072, numHeads: 12, numLayers: 12 }; // BERT-base

test("auto: off for propetl-mini at the demo's 32 x 64, on for a BERT-base-sized model from 8 x 64", () => {
  assert.equal(resolveRemat("auto", MINI, 32, 64), false);
  assert.equal(resolveRemat(undefined, MINI, 32, 64), false);
  // BERT-base at 4 x 64 trained in 2,205 MiB with the whole-network gradient; 8 x 64 peaked at
  // 3,610 MiB of the 4 GiB heap and 8 x 128 overflowed it (bench/RESULTS.md).
  assert.equal(resolveRemat("auto", BASE, 4, 64), false);
  assert.equal(resolveRemat("auto", BASE, 8, 64), true);
  assert.equal(resolveRemat("auto", BASE, 32, 128), true);
  assert.ok(plainActivationBytes(BASE, 8, 128) > 2 * REMAT_AUTO_BYTES);
});

const T5_BASE = { dModel: 768, dFf: 3072, numHeads: 12, numLayers: 12, numDecoderLayers: 12, vocabSize: 32128, feedForwardProj: "relu" };
const MINI_T5 = { dModel: 256, dFf: 1024, numHeads: 4, numLayers: 4, numDecoderLayers: 4, vocabSize: 8000, feedForwardProj: "relu" }; // propetl-mini-t5

test("T5 auto: on for a T5-base-sized model from 2 x (64 + 64), off for propetl-mini-t5 at 16 x (96 + 96)", () => {
  // T5-base's whole-network gradient held 2,290 MiB above the weights at 2 x (64 + 64) and
  // overflowed the 4 GiB heap at 8 x (128 + 128) (bench/RESULTS.md).
  assert.equal(resolveT5Remat("auto", T5_BASE, 2, 64, 64), true);
  assert.equal(resolveT5Remat("auto", T5_BASE, 8, 128, 128), true);
  assert.equal(resolveT5Remat("auto", T5_BASE, 1, 32, 32), false);
  const est = t5PlainActivationBytes(T5_BASE, 2, 64, 64);
  assert.ok(est >= 0.9 * 2290 * 2 ** 20 && est <= 1.3 * 2290 * 2 ** 20, `estimate ${(est / 2 ** 20).toFixed(0)} MiB vs 2,290 measured`);
  // propetl-mini-t5 at 16 x (96 + 96): 2,450 MiB peak measured in a whole step (bench/RESULTS.md, "Inference memory").
  assert.equal(resolveT5Remat("auto", MINI_T5, 16, 96, 96), true);
  assert.equal(resolveT5Remat("auto", MINI_T5, 4, 64, 64), false);
  assert.equal(resolveT5Remat(false, T5_BASE, 8, 128, 128), false);
  assert.equal(resolveT5Remat(true, MINI_T5, 1, 8, 8), true);
});

test("explicit choices are kept whatever the size", () => {
  assert.equal(resolveRemat(true, MINI, 1, 8), true);
  assert.equal(resolveRemat(false, BASE, 32, 128), false);
  assert.deepEqual(rematPlan(true, MINI, 1, 8), { remat: true, keepLayers: 0 });
  assert.deepEqual(rematPlan(false, BASE, 32, 128), { remat: false });
  assert.deepEqual(t5RematPlan(true, MINI_T5, 1, 8, 8), { remat: true, keepLayers: 0 });
  assert.deepEqual(t5RematPlan(false, T5_BASE, 8, 128, 128), { remat: false });
});

/** `keepLayers` of a plan that rematerialises (fails the test otherwise). */
function kept(plan: RematPlan): number {
  assert.ok(plan.remat, "rematerialised");
  return plan.keepLayers;
}

test("auto keeps as many top layers' residuals as fit: BERT-base all 12 at 8 x 128, 2 at 32 x 128", () => {
  // One width unit over 8 x 128 tokens: (768 + 3072 + 12 x 128) x 4 B x 1,024 = 22 MB. The
  // layer-by-layer gradient's work, 16 U, is 352 MB; a kept layer, 4 U, 88 MB: all 12 fit.
  assert.equal(plainActivationBytes(BASE, 8, 128) / (12 * PLAIN_UNITS_PER_TOKEN_LAYER), 22_020_096);
  assert.deepEqual(rematPlan("auto", BASE, 8, 128), { remat: true, keepLayers: 12 });
  assert.deepEqual(rematPlan(undefined, BASE, 8, 128), { remat: true, keepLayers: 12 });
  assert.deepEqual(rematPlan("auto", BASE, 8, 64), { remat: true, keepLayers: 12 });
  // 16 x 128: work 705 MB, a kept layer 176 MB: 8 fit. 32 x 128: 1,409 and 352 MB: 2 fit.
  assert.deepEqual(rematPlan("auto", BASE, 16, 128), { remat: true, keepLayers: 8 });
  assert.deepEqual(rematPlan("auto", BASE, 32, 128), { remat: true, keepLayers: 2 });
  // 64 x 128: the work alone is over the budget: every layer rematerialised.
  assert.deepEqual(rematPlan("auto", BASE, 64, 128), { remat: true, keepLayers: 0 });
  assert.deepEqual(rematPlan("auto", BASE, 4, 64), { remat: false });
  assert.deepEqual(rematPlan("auto", MINI, 32, 64), { remat: false });
});

test("auto's budget arithmetic on synthetic configs: the work and the kept layers fit, one more layer would not", () => {
  let partial = 0;
  for (const layers of [2, 3, 6, 12, 24]) {
    for (const hiddenSize of [64, 256, 768, 1024]) {
      for (const batch of [1, 2, 4, 8, 16, 32, 64]) {
        for (const seq of [32, 128, 512]) {
          const cfg = { hiddenSize, intermediateSize: 4 * hiddenSize, numHeads: hiddenSize / 64, numLayers: layers };
          const plain = plainActivationBytes(cfg, batch, seq);
          const plan = rematPlan("auto", cfg, batch, seq);
          const what = `${layers} x ${hiddenSize} at ${batch} x ${seq}`;
          if (plain <= REMAT_AUTO_BYTES) {
            assert.deepEqual(plan, { remat: false }, what);
            continue;
          }
          const m = kept(plan);
          const U = (hiddenSize + 4 * hiddenSize + (hiddenSize / 64) * seq) * 4 * batch * seq;
          const bytes = (k: number): number => (REMAT_WORK_UNITS_PER_TOKEN + k * KEPT_UNITS_PER_TOKEN_LAYER) * U;
          assert.ok(Number.isInteger(m) && m >= 0 && m <= layers, `${what}: keep ${m}`);
          if (m > 0 && m < layers) partial++;
          if (m > 0) assert.ok(bytes(m) <= REMAT_AUTO_BYTES, `${what}: the work and ${m} kept layers exceed the budget`);
          assert.ok(m === layers || bytes(m + 1) > REMAT_AUTO_BYTES, `${what}: one more layer (${m + 1}) would still fit`);
        }
      }
    }
  }
  assert.ok(partial > 10, `${partial} sizes keep some layers but not all`);
});

test("T5 auto keeps the decoder's top blocks first, then the encoder's, beside one block's work", () => {
  // T5-base at 2 x (64 + 64): a decoder block 113 MB, an encoder block 68 MB; 2 GiB holds the
  // work of one decoder block, all 12 decoder blocks and 9 encoder blocks.
  assert.deepEqual(t5RematPlan("auto", T5_BASE, 2, 64, 64), { remat: true, keepLayers: 21 });
  // 8 x (128 + 128): a decoder block is 1.16 GB, two do not fit: keep none.
  assert.deepEqual(t5RematPlan("auto", T5_BASE, 8, 128, 128), { remat: true, keepLayers: 0 });
  assert.deepEqual(t5RematPlan("auto", T5_BASE, 1, 32, 32), { remat: false });
  for (const cfg of [T5_BASE, MINI_T5, { ...T5_BASE, numLayers: 6, numDecoderLayers: 2 }]) {
    for (const batch of [1, 2, 4, 8, 16, 32]) {
      for (const [S, T] of [[32, 32], [64, 64], [128, 32], [96, 96], [256, 128]]) {
        const plan = t5RematPlan("auto", cfg, batch, S, T);
        const what = `${cfg.numLayers} + ${cfg.numDecoderLayers} blocks, d ${cfg.dModel}, at ${batch} x (${S} + ${T})`;
        if (t5PlainActivationBytes(cfg, batch, S, T) <= REMAT_AUTO_BYTES) {
          assert.deepEqual(plan, { remat: false }, what);
          continue;
        }
        const m = kept(plan);
        const enc = batch * S * T5_PLAIN_UNITS.encoder * t5EncoderUnit(cfg, S);
        const dec = batch * T * T5_PLAIN_UNITS.decoder * t5DecoderUnit(cfg, S, T);
        const keptDec = Math.min(m, cfg.numDecoderLayers);
        const keptEnc = m - keptDec;
        assert.ok(keptEnc <= cfg.numLayers, what);
        const bytes = keptDec * dec + keptEnc * enc + Math.max(enc, dec);
        if (m > 0) assert.ok(bytes <= REMAT_AUTO_BYTES, `${what}: ${m} kept + a block's work exceed the budget`);
        const next = keptDec < cfg.numDecoderLayers ? dec : keptEnc < cfg.numLayers ? enc : Infinity;
        assert.ok(next === Infinity || bytes + next > REMAT_AUTO_BYTES, `${what}: one more block would still fit after ${m}`);
      }
    }
  }
});

test("--remat with --no-remat is a usage error naming both", async () => {
  await assert.rejects(train(["--task", "spam", "--remat", "--no-remat", "--max-steps", "1"]), (e: unknown) => e instanceof CliError && /--remat and --no-remat/.test(e.message));
});
