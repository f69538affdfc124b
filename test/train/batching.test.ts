import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { evalBatches, padBatch, planBatches } from "../../src/train/batching.js";
import type { EncodedExample } from "../../src/train/batching.js";
import { planMultiTaskBatches, temperatureProbabilities } from "../../src/train/multitask.js";

function ex(ids: number[], label: number, index: number): EncodedExample {
  return { inputIds: Int32Array.from(ids), tokenTypeIds: new Int32Array(ids.length), label, index };
}

describe("padBatch (dynamic padding)", () => {
  test("pads to the longest row with the pad id; mask marks real tokens", () => {
    const b = padBatch([ex([2, 5, 3], 1, 7), ex([2, 3], 0, 9)], { padTokenId: 0, regression: false });
    assert.equal(b.seqLen, 3);
    assert.deepEqual([...b.inputIds], [2, 5, 3, 2, 3, 0]);
    assert.deepEqual([...b.attentionMask], [1, 1, 1, 1, 1, 0]);
    assert.ok(b.labels instanceof Int32Array);
    assert.deepEqual([...b.labels], [1, 0]);
    assert.deepEqual(b.indices, [7, 9]);
  });
  test("regression labels are float32; padToMultipleOf rounds up but not past maxLength", () => {
    const b = padBatch([ex([2, 5, 3], 0.5, 0)], { padTokenId: 1, regression: true, padToMultipleOf: 8, maxLength: 6 });
    assert.ok(b.labels instanceof Float32Array);
    assert.equal(b.seqLen, 6);
    assert.deepEqual([...b.inputIds], [2, 5, 3, 1, 1, 1]);
  });
});

describe("planBatches (seeded shuffling + length bucketing)", () => {
  const lengths = Array.from({ length: 103 }, (_, i) => 3 + ((i * 37) % 50));
  test("each epoch covers every example once; same (seed, epoch) gives the same plan", () => {
    const a = planBatches(lengths, { batchSize: 8, seed: 42, epoch: 0 });
    const b = planBatches(lengths, { batchSize: 8, seed: 42, epoch: 0 });
    const c = planBatches(lengths, { batchSize: 8, seed: 42, epoch: 1 });
    const d = planBatches(lengths, { batchSize: 8, seed: 43, epoch: 0 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notDeepEqual(a, d);
    assert.deepEqual(a.flat().sort((x, y) => x - y), lengths.map((_, i) => i));
    assert.equal(a.length, Math.ceil(103 / 8));
  });
  test("bucketing cuts padding compared with random batches", () => {
    const padding = (plan: number[][]): number =>
      plan.reduce((s, bt) => s + bt.length * Math.max(...bt.map((i) => lengths[i])) - bt.reduce((t, i) => t + lengths[i], 0), 0);
    const bucketed = planBatches(lengths, { batchSize: 8, seed: 1, epoch: 0 });
    const random = planBatches(lengths, { batchSize: 8, seed: 1, epoch: 0, bucketBatches: 1 });
    assert.ok(padding(bucketed) < padding(random) / 2, `${padding(bucketed)} vs ${padding(random)}`);
  });
  test("shuffle: false keeps order; dropLast drops the short batch", () => {
    assert.deepEqual(planBatches([1, 1, 1, 1, 1], { batchSize: 2, seed: 0, epoch: 0, shuffle: false }), [[0, 1], [2, 3], [4]]);
    assert.equal(planBatches([1, 1, 1, 1, 1], { batchSize: 2, seed: 0, epoch: 0, dropLast: true }).length, 2);
  });
  test("evalBatches sorts by length, longest first", () => {
    assert.deepEqual(evalBatches([1, 5, 3, 5], 2), [[1, 3], [2, 0]]);
  });
});

describe("multi-task temperature sampling (T = 10)", () => {
  test("p_i ∝ N_i^(1/T)", () => {
    const p = temperatureProbabilities([1000, 10], 10);
    const ratio = Math.pow(100, 0.1);
    assert.ok(Math.abs(p[0] / p[1] - ratio) < 1e-12);
    assert.ok(Math.abs(p[0] + p[1] - 1) < 1e-12);
    const uniformish = temperatureProbabilities([1000, 10], 1e9);
    assert.ok(Math.abs(uniformish[0] - 0.5) < 1e-6);
    const proportional = temperatureProbabilities([300, 100], 1);
    assert.ok(Math.abs(proportional[0] - 0.75) < 1e-12);
  });
  test("plans are deterministic, single-task batches, with empirical frequencies near p", () => {
    const lengths = [Array.from({ length: 4000 }, (_, i) => 1 + (i % 30)), Array.from({ length: 40 }, () => 5)];
    const a = planMultiTaskBatches(lengths, { batchSize: 4, seed: 3, epoch: 0 });
    assert.deepEqual(a, planMultiTaskBatches(lengths, { batchSize: 4, seed: 3, epoch: 0 }));
    assert.equal(a.length, 1000 + 10);
    for (const b of a) for (const i of b.indices) assert.ok(i < lengths[b.task].length);
    const p = temperatureProbabilities([4000, 40]);
    const small = a.filter((b) => b.task === 1).length / a.length;
    assert.ok(Math.abs(small - p[1]) < 0.04, `${small} vs ${p[1]}`);
  });
});
