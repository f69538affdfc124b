/**
 * `remat: "auto"` (train/remat-choice.ts): the whole-network gradient where its activations fit
 * comfortably (faster), layer by layer where they would not; explicit choices are kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { plainActivationBytes, resolveRemat, resolveT5Remat, REMAT_AUTO_BYTES, t5PlainActivationBytes } from "../../src/train/remat-choice.js";
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
});

test("--remat with --no-remat is a usage error naming both", async () => {
  await assert.rejects(train(["--task", "spam", "--remat", "--no-remat", "--max-steps", "1"]), (e: unknown) => e instanceof CliError && /--remat and --no-remat/.test(e.message));
});
