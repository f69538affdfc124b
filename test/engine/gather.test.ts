/**
 * Gathered reads in the wasm backend's vector elementwise loop (engine patch 14): when a read's
 * index is affine across the four lanes of a step (transposes, slices, flips, broadcasts, an
 * embedding lookup's column), the index is evaluated once and lane l reads index + l·c; other
 * indices (a last axis whose length is not a multiple of 4, ...) keep the per-lane evaluation.
 * Each case is checked element by element against the same view computed here on the host, and
 * again in a child process with $PROPETL_WASM_GATHER=lanes (jax-js 0.1.25's per-lane code).
 * Every output has a multiple of 4 elements, so the vector loop runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initEngine } from "../../src/engine/engine.js";
import { np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";

/** Row-major strides of a shape. */
function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1] * shape[i + 1];
  return out;
}

/** The multi-index of flat position `flat` in `shape`. */
function unflatten(flat: number, shape: number[]): number[] {
  const st = strides(shape);
  return shape.map((_, i) => Math.floor(flat / st[i]) % shape[i]);
}

/** Host transpose of a row-major array. */
function transposeHost(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const st = strides(shape);
  const out = new Float32Array(data.length);
  for (let f = 0; f < out.length; f++) {
    const idx = unflatten(f, outShape);
    let src = 0;
    for (let i = 0; i < perm.length; i++) src += idx[i] * st[perm[i]];
    out[f] = data[src];
  }
  return out;
}

/** Deterministic data 0, 1, 2, ... scaled so every element is distinct. */
function iota(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);
}

type Case = { name: string; run: () => JArray; want: Float32Array };

function cases(): Case[] {
  const out: Case[] = [];
  for (const [shape, perm] of [
    [[3, 8, 4, 12], [0, 2, 1, 3]], // attention's head split
    [[3, 8, 4, 12], [0, 2, 3, 1]], // kᵀ per head
    [[2, 4, 16, 8], [0, 2, 1, 3]], // head merge
    [[6, 10], [1, 0]], // last axis 10: per-lane indices
    [[5, 8, 12], [2, 0, 1]],
    [[4, 6, 5], [0, 2, 1]], // output's last axis 6 (not a multiple of 4)
  ] as [number[], number[]][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = iota(n);
    out.push({
      name: `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`,
      run: () => np.array(data).reshape(shape).transpose(perm).mul(1),
      want: transposeHost(data, shape, perm),
    });
  }
  {
    // A slice: columns 1..8 of [8, 12].
    const data = iota(96);
    const want = new Float32Array(8 * 8);
    for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) want[r * 8 + c] = 2 * data[r * 12 + 1 + c];
    out.push({ name: "slice [8,12][:, 1:9]", run: () => np.array(data).reshape([8, 12]).slice([], [1, 9]).mul(2), want });
  }
  {
    // A flip of the last axis (lane stride -1).
    const data = iota(4 * 16);
    const want = new Float32Array(64);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 16; c++) want[r * 16 + c] = data[r * 16 + 15 - c];
    out.push({ name: "flip [4,16] last axis", run: () => np.flip(np.array(data).reshape([4, 16]), 1).mul(1), want });
  }
  {
    // Broadcasts: [4,1,8] + [1,6,8].
    const a = iota(32);
    const b = iota(48).map((v) => v * 3);
    const want = new Float32Array(4 * 6 * 8);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) for (let k = 0; k < 8; k++) want[(i * 6 + j) * 8 + k] = a[i * 8 + k] + b[j * 8 + k];
    out.push({ name: "broadcast [4,1,8] + [1,6,8]", run: () => np.array(a).reshape([4, 1, 8]).add(np.array(b).reshape([1, 6, 8])), want });
  }
  {
    // An embedding lookup: rows of a [10, 12] table by index (a nested read in the index).
    const table = iota(120);
    const ids = [3, 0, 9, 9, 1, 4];
    const want = new Float32Array(ids.length * 12);
    ids.forEach((id, r) => { for (let c = 0; c < 12; c++) want[r * 12 + c] = table[id * 12 + c]; });
    out.push({ name: "take rows of [10,12]", run: () => np.take(np.array(table).reshape([10, 12]), np.array(new Int32Array(ids)), 0), want });
  }
  {
    // Padding: a Where around a read whose index is clamped.
    const data = iota(4 * 6);
    const want = new Float32Array(4 * 8);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 6; c++) want[r * 8 + 1 + c] = data[r * 6 + c];
    out.push({ name: "pad [4,6] to [4,8]", run: () => np.pad(np.array(data).reshape([4, 6]), [[0, 0], [1, 1]]), want });
  }
  return out;
}

async function checkAll(): Promise<string[]> {
  await initEngine({ threads: 1 });
  const problems: string[] = [];
  for (const c of cases()) {
    const got = (await c.run().data()) as Float32Array;
    if (got.length !== c.want.length) {
      problems.push(`${c.name}: ${got.length} elements, want ${c.want.length}`);
      continue;
    }
    const bad = got.findIndex((v, i) => v !== c.want[i]);
    if (bad >= 0) problems.push(`${c.name}: element ${bad} is ${got[bad]}, want ${c.want[bad]}`);
  }
  return problems;
}

if (process.env.GATHER_TEST_CHILD === "1") {
  console.log(JSON.stringify(await checkAll()));
} else {
  test("gathered reads (transposes, slices, flips, broadcasts, lookups, padding) match the host", async () => {
    assert.deepEqual(await checkAll(), []);
  });

  test("jax-js 0.1.25's per-lane gathers ($PROPETL_WASM_GATHER=lanes) match too", () => {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, GATHER_TEST_CHILD: "1", PROPETL_WASM_GATHER: "lanes" },
      encoding: "utf8",
    });
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop() ?? "null"), []);
  });
}
