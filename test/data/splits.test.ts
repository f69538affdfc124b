import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readTaskSplit, type Example } from "../../src/data/read-examples.js";
import { LARGE_TASK_VALIDATION_SIZE, makeSplits, mulberry32, sampleIndices } from "../../src/data/splits.js";
import { getTask } from "../../src/data/tasks.js";
import { customTask } from "../../src/data/custom-task.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const GLUE = resolve(ROOT, "../shared/data/glue");
const noGlue = existsSync(join(GLUE, "RTE", "train.tsv")) ? false : `GLUE data not found at ${GLUE}`;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("small tasks: dev halves", { skip: noGlue }, () => {
  test("RTE: 2490 train, 138 validation, 139 test", async () => {
    const rte = getTask("rte");
    const train = (await readTaskSplit(rte, GLUE, "train")).examples;
    const dev = (await readTaskSplit(rte, GLUE, "dev")).examples;
    const s = makeSplits(rte, { train, dev }, 42);
    assert.equal(s.protocol, "dev-halves");
    assert.equal(s.sizeClass, "small");
    assert.equal(s.train.length, 2490);
    assert.equal(s.validation.length, 138);
    assert.equal(s.test.length, 139);
    // first half is validation, second half is test, in file order
    assert.deepEqual(s.validation, dev.slice(0, 138));
    assert.deepEqual(s.test, dev.slice(138));
    assert.equal(s.validation[0].line, 2);
    assert.equal(s.test[0].line, 140);
    assert.deepEqual(s.train, train);
    // no overlap between validation and test
    const v = new Set(s.validation.map((e) => e.line));
    assert.ok(s.test.every((e) => !v.has(e.line)));
    // seed does not matter for small tasks
    assert.deepEqual(makeSplits(rte, { train, dev }, 7), s);
  });
});

describe("large tasks: 1k held out from train", { skip: noGlue }, () => {
  let train: Example[] = [];
  let dev: Example[] = [];
  const sst2 = getTask("sst2");

  test("SST-2 sizes, no overlap, union = train", async () => {
    train = (await readTaskSplit(sst2, GLUE, "train")).examples;
    dev = (await readTaskSplit(sst2, GLUE, "dev")).examples;
    const s = makeSplits(sst2, { train, dev }, 1);
    assert.equal(s.protocol, "train-holdout");
    assert.equal(s.sizeClass, "large");
    assert.equal(s.validation.length, 1000);
    assert.equal(s.train.length, 67349 - 1000);
    assert.equal(s.test.length, 872);
    assert.deepEqual(s.test, dev);
    const trainLines = new Set(s.train.map((e) => e.line));
    const valLines = s.validation.map((e) => e.line);
    assert.equal(new Set(valLines).size, 1000);
    assert.ok(valLines.every((l) => !trainLines.has(l)), "validation overlaps train");
    assert.equal(trainLines.size + valLines.length, train.length);
    // both keep file order
    const sorted = (a: Example[]): boolean => a.every((e, i) => i === 0 || a[i - 1].line < e.line);
    assert.ok(sorted(s.train) && sorted(s.validation));
  });

  test("deterministic for a seed, different across seeds", () => {
    const a = makeSplits(sst2, { train, dev }, 1);
    const b = makeSplits(sst2, { train, dev }, 1);
    const c = makeSplits(sst2, { train, dev }, 2);
    const lines = (x: Example[]): number[] => x.map((e) => e.line);
    assert.deepEqual(lines(a.validation), lines(b.validation));
    assert.deepEqual(lines(a.train), lines(b.train));
    assert.notDeepEqual(lines(a.validation), lines(c.validation));
    const shared = new Set(lines(a.validation));
    const overlap = lines(c.validation).filter((l) => shared.has(l)).length;
    assert.ok(overlap < 100, `two seeds share ${overlap} of 1000 validation examples`);
  });
});

describe("sampling and PRNG", () => {
  test("mulberry32 reference values", () => {
    // mulberry32(0) first outputs as uint32 (matches the reference JS implementation * 2^32)
    const g = mulberry32(0);
    const first = [g(), g(), g()];
    const ref = (seed: number): number[] => {
      // reference implementation returning floats in [0, 1)
      let a = seed;
      const next = (): number => {
        a |= 0;
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      return [next(), next(), next()];
    };
    assert.deepEqual(first.map((x) => x / 4294967296), ref(0));
    const h = mulberry32(123456789);
    assert.deepEqual([h(), h(), h()].map((x) => x / 4294967296), ref(123456789));
    for (const x of first) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
    // pinned values: splits must not change across versions for a given seed
    assert.deepEqual(first, [1144304738, 1416247, 958946056]);
    assert.deepEqual(sampleIndices(67349, 5, 1), [42906, 31282, 16750, 11988, 58897]);
  });

  test("sampleIndices: distinct, in range, deterministic, full permutation when k = n", () => {
    const s = sampleIndices(100, 30, 5);
    assert.equal(new Set(s).size, 30);
    assert.ok(s.every((i) => Number.isInteger(i) && i >= 0 && i < 100));
    assert.deepEqual(sampleIndices(100, 30, 5), s);
    assert.deepEqual([...sampleIndices(50, 50, 9)].sort((a, b) => a - b), range(50));
    assert.deepEqual(sampleIndices(10, 0, 1), []);
    assert.throws(() => sampleIndices(5, 6, 1), /k must be an integer in \[0, 5\]/);
    assert.throws(() => sampleIndices(5, 2, 1.5), /seed must be an integer/);
  });

  test("sampleIndices is roughly uniform", () => {
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of sampleIndices(10, 3, seed)) counts[i]++;
    // each index expected 600 times
    for (const c of counts) assert.ok(c > 480 && c < 720, `count ${c}`);
  });
});

describe("makeSplits on synthetic data", () => {
  test("odd and even dev sizes", () => {
    const t = getTask("mrpc");
    const s = makeSplits(t, { train: range(10), dev: range(7) }, 0);
    assert.deepEqual(s.validation, [0, 1, 2]);
    assert.deepEqual(s.test, [3, 4, 5, 6]);
    const e = makeSplits(t, { train: range(10), dev: range(8) }, 0);
    assert.deepEqual([e.validation.length, e.test.length], [4, 4]);
  });

  test("custom tasks choose the protocol from the training-set size", () => {
    const c = customTask({ path: "/x", format: "jsonl", textColumn: "t", labelColumn: "l", kind: "classification", labels: ["a", "b"] });
    assert.equal(makeSplits(c, { train: range(9_999), dev: range(10) }, 0).protocol, "dev-halves");
    const big = makeSplits(c, { train: range(10_000), dev: range(10) }, 0);
    assert.equal(big.protocol, "train-holdout");
    assert.equal(big.validation.length, LARGE_TASK_VALIDATION_SIZE);
    assert.equal(big.train.length, 9_000);
  });

  test("validationSize option and errors", () => {
    const q = getTask("qnli");
    const s = makeSplits(q, { train: range(500), dev: range(5) }, 3, { validationSize: 50 });
    assert.equal(s.validation.length, 50);
    assert.equal(s.train.length, 450);
    assert.throws(() => makeSplits(q, { train: range(1000), dev: range(5) }, 3), /need more than 1000/);
    assert.throws(() => makeSplits(getTask("rte"), { train: range(10), dev: range(1) }, 3), /need at least 2/);
    assert.throws(() => makeSplits(q, { train: range(5000), dev: [] }, Number.NaN), /seed must be an integer/);
    assert.throws(() => makeSplits(q, { train: range(5000), dev: [] }, 1, { validationSize: 0 }), /positive integer/);
  });

  test("inputs are not mutated; outputs are fresh arrays", () => {
    const train = range(2000);
    const dev = range(20);
    const s = makeSplits(getTask("sst2"), { train, dev }, 11);
    assert.deepEqual(train, range(2000));
    assert.notEqual(s.test, dev);
    const m = makeSplits(getTask("cola"), { train, dev }, 11);
    assert.notEqual(m.train, train);
  });
});
