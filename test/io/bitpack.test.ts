import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BitpackError,
  countOnes,
  packBits,
  packedByteLength,
  unpackBits,
  unpackBitsToFloat32,
} from "../../src/io/bitpack.js";

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Obvious bit-by-bit reference packer (LSB-first). */
function refPack(mask: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[Math.floor(i / 8)] |= 1 << i % 8;
  return out;
}

function randomMask(n: number, next: () => number, density = 0.5): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = next() < density ? 1 : 0;
  return m;
}

test("round trip for every length 0..1000", () => {
  const next = rng(7);
  for (let n = 0; n <= 1000; n++) {
    const mask = randomMask(n, next, next());
    const packed = packBits(mask);
    assert.equal(packed.length, Math.ceil(n / 8));
    assert.deepEqual(packed, refPack(mask), `n=${n}`);
    assert.deepEqual(unpackBits(packed, n), mask, `n=${n}`);
    assert.deepEqual(unpackBitsToFloat32(packed, n), Float32Array.from(mask), `n=${n}`);
    assert.equal(countOnes(packed), mask.reduce((a, b) => a + b, 0));
    // Plain arrays and Float32Array masks give the same packing.
    assert.deepEqual(packBits(Array.from(mask)), packed);
    assert.deepEqual(packBits(Float32Array.from(mask)), packed);
  }
});

test("bit order is LSB-first within each byte, padding bits zero", () => {
  assert.deepEqual(Array.from(packBits([1, 0, 0, 0, 0, 0, 0, 0])), [0x01]);
  assert.deepEqual(Array.from(packBits([0, 0, 0, 0, 0, 0, 0, 1])), [0x80]);
  assert.deepEqual(Array.from(packBits([1, 1, 0, 1, 0, 0, 0, 0, 0, 1])), [0x0b, 0x02]);
  assert.deepEqual(Array.from(packBits([1, 1, 1])), [0x07]);
  assert.deepEqual(Array.from(packBits([])), []);
  assert.deepEqual(Array.from(unpackBits(new Uint8Array([0x01, 0x80]), 16)), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(unpackBits(new Uint8Array([0x05]), 3)), [1, 0, 1]);
  assert.deepEqual(Array.from(unpackBitsToFloat32(new Uint8Array([0x06]), 3)), [0, 1, 1]);
});

test("packed length must be exactly ceil(n/8)", () => {
  assert.throws(() => unpackBits(new Uint8Array(2), 17), (e: unknown) =>
    e instanceof BitpackError && /packed mask has 2 bytes but 17 bits need exactly 3/.test(e.message));
  assert.throws(() => unpackBits(new Uint8Array(3), 16), /3 bytes but 16 bits need exactly 2/);
  assert.throws(() => unpackBits(new Uint8Array(1), 0), /1 bytes but 0 bits need exactly 0/);
  assert.throws(() => unpackBitsToFloat32(new Uint8Array(0), 1), BitpackError);
  assert.throws(() => unpackBits(new Uint8Array(0), -1), /invalid bit count -1/);
  assert.throws(() => unpackBits(new Uint8Array(1), 2.5), /invalid bit count 2.5/);
  assert.deepEqual(unpackBits(new Uint8Array(0), 0), new Uint8Array(0));
});

test("nonzero padding bits are rejected as a corrupt mask", () => {
  assert.throws(() => unpackBits(new Uint8Array([0x08]), 3), (e: unknown) =>
    e instanceof BitpackError && /corrupt mask: padding bits after bit 3 are not zero \(last byte 0x08\)/.test(e.message));
  assert.throws(() => unpackBitsToFloat32(new Uint8Array([0xff, 0x80]), 15, "layer.0.mask"),
    /^BitpackError: layer\.0\.mask: corrupt mask: padding bits after bit 15/);
  // Exactly n bits set in the last byte is fine.
  assert.deepEqual(Array.from(unpackBits(new Uint8Array([0xff, 0x7f]), 15)), new Array(15).fill(1));
});

test("strict packing rejects non-binary values and names the index", () => {
  assert.throws(() => packBits([0, 1, 2]), (e: unknown) =>
    e instanceof BitpackError && e.message === "mask value at index 2 is 2, expected 0 or 1");
  assert.throws(() => packBits([1, 1, 1, 1, 1, 1, 0.5, 1, 1]), /index 6 is 0.5/);
  assert.throws(() => packBits([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NaN], { label: "m" }), /^BitpackError: m: mask value at index 10 is NaN/);
  assert.throws(() => packBits(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 255])), /index 9 is 255/);
  assert.throws(() => packBits([-1]), /index 0 is -1/);
  // Non-strict: anything nonzero (NaN included) is a one.
  assert.deepEqual(Array.from(packBits([0, 2, -1, 0.5, NaN, 0, 0, 0, 7], { strict: false })), [0x1e, 0x01]);
  assert.deepEqual(Array.from(packBits([0, 2, -1, 0.5, NaN, 0, 0, 0], { strict: false })), [0x1e]);
});

test("countOnes", () => {
  assert.equal(countOnes(new Uint8Array(0)), 0);
  assert.equal(countOnes(new Uint8Array([0xff, 0x01, 0x80, 0x55])), 14);
  assert.equal(packedByteLength(0), 0);
  assert.equal(packedByteLength(9), 2);
  assert.equal(packedByteLength(2 ** 40 + 1), 2 ** 37 + 1);
});

test("1e6 entries pack and unpack in under 50 ms each", () => {
  const n = 1_000_000;
  const next = rng(42);
  const mask = randomMask(n, next);
  // Warm up the JIT on a smaller input first.
  for (let k = 0; k < 3; k++) unpackBitsToFloat32(packBits(mask.subarray(0, 50_000)), 50_000);
  const best = (fn: () => void): number => {
    let min = Infinity;
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      fn();
      min = Math.min(min, performance.now() - t0);
    }
    return min;
  };
  let packed: Uint8Array = new Uint8Array(0);
  const tPack = best(() => {
    packed = packBits(mask);
  });
  const tUnpack = best(() => {
    unpackBits(packed, n);
  });
  const tUnpackF = best(() => {
    unpackBitsToFloat32(packed, n);
  });
  const tCount = best(() => {
    countOnes(packed);
  });
  assert.deepEqual(unpackBits(packed, n), mask);
  assert.ok(tPack < 50, `packBits took ${tPack.toFixed(1)} ms`);
  assert.ok(tUnpack < 50, `unpackBits took ${tUnpack.toFixed(1)} ms`);
  assert.ok(tUnpackF < 50, `unpackBitsToFloat32 took ${tUnpackF.toFixed(1)} ms`);
  assert.ok(tCount < 50, `countOnes took ${tCount.toFixed(1)} ms`);
});
