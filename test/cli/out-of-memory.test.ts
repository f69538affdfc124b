/** The wasm heap-full error is recognised and answered with the flags that shrink the step. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isWasmHeapExhausted } from "../../src/engine/engine.js";
import { outOfMemoryMessage, seq2seqOutOfMemoryMessage } from "../../src/cli/out-of-memory.js";

test("only jax-js's 4 GiB RangeError counts as the heap being full", () => {
  assert.ok(isWasmHeapExhausted(new RangeError("Allocation exceeds the 4 GiB memory32 limit")));
  assert.ok(!isWasmHeapExhausted(new RangeError("Invalid array length")));
  assert.ok(!isWasmHeapExhausted(new Error("Allocation exceeds the 4 GiB memory32 limit")));
  assert.ok(!isWasmHeapExhausted("Allocation exceeds the 4 GiB memory32 limit"));
});

test("the advice keeps the effective batch and names the step's size", () => {
  const m = outOfMemoryMessage({ batchSize: 32, gradAccumSteps: 1, maxLength: 128, numLayers: 12, hiddenSize: 768 });
  assert.match(m, /a micro-batch of 32 × 128 tokens on a 12-layer, hidden-768 model \(4,096 tokens\)/);
  assert.match(m, /--batch-size 8 --grad-accum 4 \(the same effective batch of 32\)/);
  assert.match(m, /a smaller --max-length \(now 128\)/);
  const odd = outOfMemoryMessage({ batchSize: 6, gradAccumSteps: 2, maxLength: 64, numLayers: 4, hiddenSize: 256 });
  assert.match(odd, /--batch-size 3 --grad-accum 4 \(the same effective batch of 12\)/);
  assert.doesNotMatch(odd, /max-length/, "64 tokens is already short");
  assert.match(outOfMemoryMessage({ batchSize: 7, gradAccumSteps: 1, maxLength: 128, numLayers: 4, hiddenSize: 256, lengthFlag: "--seq-len" }), /--batch-size 3 --grad-accum 2 \(an effective batch of 6\).*--seq-len \(now 128\)/);
  assert.doesNotMatch(outOfMemoryMessage({ batchSize: 1, gradAccumSteps: 1, maxLength: 64, numLayers: 4, hiddenSize: 256 }), /Try/);
});

test("a module larger than half the backbone is named as the likely cause (a --bottleneck 100000 typo), not the batch", () => {
  const m = outOfMemoryMessage({ batchSize: 32, gradAccumSteps: 1, maxLength: 64, numLayers: 4, hiddenSize: 256, moduleParams: 51_300_000, backboneParams: 5_300_000 });
  assert.match(m, /the method's module has 51,300,000 parameters, 9\.7× the backbone's 5,300,000: check its size flags \(--bottleneck/);
  assert.doesNotMatch(m, /--batch-size/);
  // A normal module keeps the batch advice.
  assert.match(outOfMemoryMessage({ batchSize: 32, gradAccumSteps: 1, maxLength: 64, numLayers: 4, hiddenSize: 256, moduleParams: 33_000, backboneParams: 5_300_000 }), /--batch-size 8 --grad-accum 4/);
});

test("the advice names --remat unless the run forced it on, and only for commands that have it", () => {
  const size = { batchSize: 32, gradAccumSteps: 1, maxLength: 128, numLayers: 12, hiddenSize: 768 };
  assert.match(outOfMemoryMessage({ ...size, remat: "auto" }), /or --remat \(recompute each layer's activations/);
  assert.match(outOfMemoryMessage({ ...size, remat: false }), /--remat/);
  assert.doesNotMatch(outOfMemoryMessage({ ...size, remat: true }), /--remat/);
  assert.doesNotMatch(outOfMemoryMessage({ ...size, lengthFlag: "--seq-len" }), /--remat/, "pretraining has no --remat");
  const s2s = { tasks: ["bible-es-en"], batchSize: 16, maxSourceLength: 128, maxTargetLength: 128 };
  assert.match(seq2seqOutOfMemoryMessage({ ...s2s, remat: "auto" }), /bible-es-en.*or use --remat/);
  assert.doesNotMatch(seq2seqOutOfMemoryMessage({ ...s2s, remat: true }), /--remat/);
});
