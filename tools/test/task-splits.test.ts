import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILTIN_SPLIT_SEED, groupSplit, sampleSorted, seededPermutation, splitSizes, stratifiedSplit } from "../task-splits.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("split helpers", () => {
  test("splitSizes rounds dev and test, train takes the rest", () => {
    assert.deepEqual(splitSizes(100, [0.8, 0.1, 0.1]), [80, 10, 10]);
    assert.deepEqual(splitSizes(7, [0.8, 0.1, 0.1]), [5, 1, 1]);
    assert.deepEqual(splitSizes(0, [0.8, 0.1, 0.1]), [0, 0, 0]);
  });

  test("stratifiedSplit is deterministic and stratified", () => {
    const labels = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? "a" : "b"));
    const s1 = stratifiedSplit(labels, [0.8, 0.1, 0.1], 5);
    assert.deepEqual(stratifiedSplit(labels, [0.8, 0.1, 0.1], 5), s1);
    assert.notDeepEqual(stratifiedSplit(labels, [0.8, 0.1, 0.1], 6), s1);
    for (const lab of ["a", "b"]) {
      const idx = labels.map((l, i) => (l === lab ? i : -1)).filter((i) => i >= 0);
      const [tr, dv, te] = splitSizes(idx.length, [0.8, 0.1, 0.1]);
      assert.equal(idx.filter((i) => s1[i] === "train").length, tr);
      assert.equal(idx.filter((i) => s1[i] === "dev").length, dv);
      assert.equal(idx.filter((i) => s1[i] === "test").length, te);
    }
  });

  test("groupSplit keeps groups whole and stratifies groups", () => {
    const groups = ["g1", "g1", "g2", "g3", "g3", "g4", "g5", "g6", "g7", "g8", "g9", "g10"];
    const strata = new Map(groups.map((g) => [g, Number(g.slice(1)) % 2 === 0 ? "even" : "odd"]));
    const m = groupSplit(groups, strata, [0.6, 0.2, 0.2], 3);
    assert.equal(m.size, 10);
    assert.deepEqual(groupSplit(groups, strata, [0.6, 0.2, 0.2], 3), m);
    const count = (stratum: string, split: string): number => [...m].filter(([g, s]) => strata.get(g) === stratum && s === split).length;
    assert.deepEqual([count("even", "train"), count("even", "dev"), count("even", "test")], [3, 1, 1]);
    assert.throws(() => groupSplit(["x"], new Map(), [0.8, 0.1, 0.1], 1), /no stratum/);
  });

  test("seededPermutation and sampleSorted", () => {
    const p = seededPermutation(50, 9);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual(seededPermutation(50, 9), p);
    const s = sampleSorted(100, 10, 4);
    assert.equal(s.length, 10);
    assert.deepEqual(s, [...s].sort((a, b) => a - b));
    assert.equal(new Set(s).size, 10);
    assert.equal(sampleSorted(5, 10, 1).length, 5);
  });
});

describe("the shipped fixed tasks", () => {
  test("their manifests record the generator's seed", () => {
    for (const name of ["spam", "sotu-party"]) {
      const m = JSON.parse(readFileSync(join(ROOT, "data", name, "manifest.json"), "utf8")) as { seed: number };
      assert.equal(m.seed, BUILTIN_SPLIT_SEED, name);
    }
  });
});
