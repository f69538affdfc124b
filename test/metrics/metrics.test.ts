import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  accuracy,
  averageRanks,
  binaryF1,
  computeTaskMetrics,
  matthewsCorrelation,
  pearson,
  spearman,
} from "../../src/metrics/index.js";

// dist/test/metrics/ -> repository root
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const FIXTURES = resolve(ROOT, "test/fixtures/metrics.json");

interface ClsCase {
  name: string;
  preds: number[];
  labels: number[];
  accuracy: number;
  matthews: number;
  f1?: number;
}
interface RegCase {
  name: string;
  x: number[];
  y: number[];
  pearson: number | null;
  spearman: number | null;
}
interface Fixtures {
  classification: ClsCase[];
  regression: RegCase[];
}

const fixtures = JSON.parse(readFileSync(FIXTURES, "utf8")) as Fixtures;
const TOL = 1e-9;

function close(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: expected ${expected}, got ${actual} (diff ${Math.abs(actual - expected)})`);
}

describe("metrics vs numpy/scipy/sklearn fixtures", () => {
  test("fixture file has the expected case families", () => {
    assert.ok(fixtures.classification.length >= 15);
    assert.ok(fixtures.regression.length >= 10);
    const names = fixtures.classification.map((c) => c.name).concat(fixtures.regression.map((c) => c.name));
    for (const n of ["all-one-preds", "all-zero-preds", "all-zero-preds-all-zero-labels", "constant-x", "integer-ties-both", "stsb-like-ties-in-gold"]) {
      assert.ok(names.includes(n), `missing fixture case ${n}`);
    }
  });

  for (const c of fixtures.classification) {
    test(`classification: ${c.name}`, () => {
      close(accuracy(c.preds, c.labels), c.accuracy, "accuracy");
      close(matthewsCorrelation(c.preds, c.labels), c.matthews, "matthews");
      if (c.f1 !== undefined) close(binaryF1(c.preds, c.labels), c.f1, "f1");
    });
  }

  for (const c of fixtures.regression) {
    test(`regression: ${c.name}`, () => {
      close(pearson(c.x, c.y), c.pearson, "pearson");
      close(spearman(c.x, c.y), c.spearman, "spearman");
    });
  }
});

describe("degenerate cases", () => {
  test("F1 is 0 with no predicted and no true positives", () => {
    assert.equal(binaryF1([0, 0, 0], [0, 0, 0]), 0);
  });
  test("F1 is 0 when every prediction is 0 but labels have positives", () => {
    assert.equal(binaryF1([0, 0, 0], [1, 0, 1]), 0);
  });
  test("F1 of all-one predictions", () => {
    // TP=2, FP=1, FN=0 -> 4/5
    assert.equal(binaryF1([1, 1, 1], [1, 0, 1]), 0.8);
  });
  test("Matthews is 0 when the denominator is 0", () => {
    assert.equal(matthewsCorrelation([1, 1, 1, 1], [0, 1, 0, 1]), 0);
    assert.equal(matthewsCorrelation([0, 1, 0, 1], [1, 1, 1, 1]), 0);
    assert.equal(matthewsCorrelation([1], [1]), 0);
  });
  test("Matthews is ±1 for perfect / inverted predictions", () => {
    assert.equal(matthewsCorrelation([0, 1, 1, 0], [0, 1, 1, 0]), 1);
    assert.equal(matthewsCorrelation([1, 0, 0, 1], [0, 1, 1, 0]), -1);
  });
  test("Pearson and Spearman are NaN for constant input (scipy)", () => {
    assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
    assert.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])));
    assert.ok(Number.isNaN(pearson([5], [3])));
  });
  test("average ranks for ties", () => {
    assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
    assert.deepEqual(averageRanks([3, 3, 3]), [2, 2, 2]);
    assert.deepEqual(averageRanks([]), []);
  });
  test("accepts typed arrays", () => {
    assert.equal(accuracy(new Float32Array([1, 0, 1]), new Int32Array([1, 1, 1])), 2 / 3);
    close(pearson(new Float64Array([1, 2, 3]), [2, 4, 7]), pearson([1, 2, 3], [2, 4, 7]), "typed pearson");
  });
});

describe("input validation", () => {
  test("length mismatch", () => {
    assert.throws(() => accuracy([1, 0], [1]), /preds has 2 entries but labels has 1/);
    assert.throws(() => pearson([1, 2], [1, 2, 3]), /pearson: x has 2 entries but y has 3/);
  });
  test("empty input", () => {
    assert.throws(() => accuracy([], []), /empty input/);
    assert.throws(() => spearman([], []), /empty input/);
  });
  test("non-finite values", () => {
    assert.throws(() => pearson([1, Number.NaN], [1, 2]), /x\[1\] is not a finite number/);
    assert.throws(() => accuracy([1, 0], [Number.POSITIVE_INFINITY, 0]), /labels\[0\]/);
  });
  test("binary F1 rejects non-binary labels", () => {
    assert.throws(() => binaryF1([0, 2], [0, 1]), /preds\[1\] = 2; binary metrics need labels 0 or 1/);
  });
  test("Matthews rejects non-integer classes", () => {
    assert.throws(() => matthewsCorrelation([0.5, 1], [0, 1]), /not an integer class index/);
  });
});

describe("computeTaskMetrics", () => {
  test("mrpc-style f1 + accuracy with mean as main metric", () => {
    const preds = [1, 1, 0, 0, 1];
    const labels = [1, 0, 0, 1, 1];
    const r = computeTaskMetrics(["f1", "accuracy"], preds, labels, "mean");
    assert.deepEqual(Object.keys(r.scores), ["f1", "accuracy"]);
    assert.equal(r.scores.accuracy, 0.6);
    close(r.scores.f1 ?? Number.NaN, 2 / 3, "f1");
    close(r.main, (0.6 + 2 / 3) / 2, "main");
    assert.equal(r.mainMetric, "mean");
  });
  test("main metric defaults to the first metric", () => {
    const r = computeTaskMetrics(["matthews"], [0, 1, 1, 0], [0, 1, 1, 0]);
    assert.equal(r.mainMetric, "matthews");
    assert.equal(r.main, 1);
    assert.deepEqual(r.scores, { matthews: 1 });
  });
  test("explicit main metric", () => {
    const r = computeTaskMetrics(["pearson", "spearman"], [1, 2, 3, 4], [1, 3, 2, 4], "spearman");
    assert.equal(r.main, r.scores.spearman);
  });
  test("errors", () => {
    assert.throws(() => computeTaskMetrics([], [1], [1]), /no metric names/);
    assert.throws(() => computeTaskMetrics(["accuracy"], [1], [1], "f1"), /main metric "f1" is not among/);
    const bogus = ["bleu"] as unknown as ["accuracy"];
    assert.throws(() => computeTaskMetrics(bogus, [1], [1]), /unknown metric "bleu" \(known: accuracy, f1, matthews, pearson, spearman\)/);
  });
});

test("correlation metrics on constant labels are an error, not a NaN main metric", async () => {
  const { computeTaskMetrics, ConstantLabelsError } = await import("../../src/metrics/task-metrics.js");
  assert.throws(() => computeTaskMetrics(["pearson", "spearman"], [0.1, 0.5, 0.9], [3, 3, 3], "mean"), (e: Error) => e instanceof ConstantLabelsError && /all 3 labels are 3: Pearson and Spearman correlations are undefined/.test(e.message));
  // Accuracy-type metrics are defined for a single class.
  assert.equal(computeTaskMetrics(["accuracy"], [1, 1], [1, 1]).main, 1);
  // Constant predictions are the model's problem, not the data's: still a (NaN) score.
  assert.ok(Number.isNaN(computeTaskMetrics(["pearson"], [2, 2, 2], [1, 2, 3]).main));
});
