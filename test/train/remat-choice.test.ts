/**
 * `remat: "auto"` (train/remat-choice.ts): the whole-network gradient where its activations fit
 * comfortably (faster), layer by layer where they would not; explicit choices are kept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { plainActivationBytes, resolveRemat, REMAT_AUTO_BYTES } from "../../src/train/remat-choice.js";
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

test("explicit choices are kept whatever the size", () => {
  assert.equal(resolveRemat(true, MINI, 1, 8), true);
  assert.equal(resolveRemat(false, BASE, 32, 128), false);
});

test("--remat with --no-remat is a usage error naming both", async () => {
  await assert.rejects(train(["--task", "spam", "--remat", "--no-remat", "--max-steps", "1"]), (e: unknown) => e instanceof CliError && /--remat and --no-remat/.test(e.message));
});
