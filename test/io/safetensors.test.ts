import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DTYPE_SIZES,
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPES,
  SafetensorsError,
  bfloat16BitsToFloat,
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBFloat16Bits,
  float32ToFloat16Bits,
  floatToBFloat16Bits,
  floatToHalfBits,
  halfBitsToFloat,
  parseSafetensors,
  readSafetensorsFile,
  readSafetensorsFileSync,
  serializeSafetensors,
  toFloat32,
  toInt32,
  writeSafetensorsFile,
  writeSafetensorsFileSync,
  type TensorInput,
} from "../../src/io/safetensors.js";
import { writeFileAtomic, writeFileAtomicSync } from "../../src/io/atomic-write.js";

const FILE = "model.safetensors";

/** Build a file by hand: u64 LE header length, the header text exactly as given, then the data bytes. */
function rawFile(header: string, data: ArrayLike<number> = [], headerLen?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  const view = new DataView(out.buffer);
  const n = headerLen ?? h.length;
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function headerText(bytes: Uint8Array): string {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

function throwsSt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected SafetensorsError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

/** All finite float16 values, ascending, with their bit patterns: an independent RNE reference. */
const HALF_VALUES: { v: number; h: number }[] = (() => {
  const list: { v: number; h: number }[] = [];
  for (let h = 0; h < 0x7c00; h++) list.push({ v: halfBitsToFloat(h), h });
  return list;
})();

/** Reference float16 rounding (round to nearest, ties to even) by search over all finite halves. */
function refHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const maxV = 65504;
  const limit = 65520; // max + half an ulp: ties to even go to infinity
  if (a >= limit) return sign | 0x7c00;
  if (a >= maxV) return sign | 0x7bff;
  let lo = 0;
  let hi = HALF_VALUES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALF_VALUES[mid].v <= a) lo = mid;
    else hi = mid;
  }
  const below = HALF_VALUES[lo];
  const above = HALF_VALUES[hi];
  if (below.v === a) return sign | below.h;
  const dl = a - below.v;
  const du = above.v - a;
  if (dl < du) return sign | below.h;
  if (du < dl) return sign | above.h;
  return sign | ((below.h & 1) === 0 ? below.h : above.h);
}

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

describe("float16 / bfloat16 conversion", () => {
  test("known float16 bit patterns", () => {
    const cases: [number, number][] = [
      [1.0, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -24, 0x03ff],
      [0, 0x0000],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [0.5, 0x3800],
      [1 / 3, 0x3555],
      [65519, 0x7bff], // below the halfway point to 65536
      [65520, 0x7c00], // halfway: ties to even rounds to infinity
      [1e6, 0x7c00],
      [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to even (0)
      [2 ** -25 * 1.5, 0x0001],
      [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 ulps: ties to even (2)
      [1 + 2 ** -11, 0x3c00], // halfway: even
      [1 + 3 * 2 ** -11, 0x3c02], // halfway: even (up)
      [1e-10, 0x0000],
      [-1e-10, 0x8000],
    ];
    for (const [x, bits] of cases) {
      assert.equal(floatToHalfBits(x), bits, `floatToHalfBits(${x})`);
      assert.equal(float32ToFloat16Bits(new Float32Array([x]))[0], bits, `float32ToFloat16Bits(${x})`);
    }
    const nan = floatToHalfBits(NaN);
    assert.equal(nan & 0x7c00, 0x7c00);
    assert.notEqual(nan & 0x3ff, 0);
    assert.equal(float32ToFloat16Bits(new Float32Array([NaN]))[0] & 0x7fff, 0x7e00);
  });

  test("known float16 values", () => {
    assert.equal(halfBitsToFloat(0x3c00), 1);
    assert.equal(halfBitsToFloat(0xc000), -2);
    assert.equal(halfBitsToFloat(0x7bff), 65504);
    assert.equal(halfBitsToFloat(0x0001), 2 ** -24);
    assert.equal(halfBitsToFloat(0x03ff), 1023 * 2 ** -24);
    assert.equal(halfBitsToFloat(0x7c00), Infinity);
    assert.equal(halfBitsToFloat(0xfc00), -Infinity);
    assert.ok(Number.isNaN(halfBitsToFloat(0x7e00)));
    assert.ok(Number.isNaN(halfBitsToFloat(0xfc01)));
    assert.ok(Object.is(halfBitsToFloat(0x8000), -0));
    const f = float16BitsToFloat32(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00, 0x8000]));
    assert.deepEqual(Array.from(f.subarray(0, 5)), [1, -2, 65504, 2 ** -24, Infinity]);
    assert.ok(Number.isNaN(f[5]));
    assert.ok(Object.is(f[6], -0));
  });

  test("all 65536 float16 patterns: table and scalar agree, and round trip exactly", () => {
    const all = new Uint16Array(65536);
    for (let h = 0; h < 65536; h++) all[h] = h;
    const wide = float16BitsToFloat32(all);
    const back = float32ToFloat16Bits(wide);
    for (let h = 0; h < 65536; h++) {
      const v = halfBitsToFloat(h);
      if (Number.isNaN(v)) {
        assert.ok(Number.isNaN(wide[h]));
        assert.equal(back[h], h | 0x200, "NaN keeps sign and payload and becomes quiet");
        continue;
      }
      assert.ok(Object.is(wide[h], v), `table value for 0x${h.toString(16)}`);
      assert.equal(back[h], h);
      assert.equal(floatToHalfBits(v), h);
    }
  });

  test("round to nearest even matches a brute-force reference on random floats", () => {
    const next = rng(1234);
    const u = new Uint32Array(200_000);
    for (let i = 0; i < u.length; i++) {
      // Bias exponents into and around the float16 range so rounding edges are exercised.
      const exp = 100 + Math.floor(next() * 50);
      u[i] = ((next() < 0.5 ? 0x80000000 : 0) | (exp << 23) | Math.floor(next() * 0x800000)) >>> 0;
    }
    const f = new Float32Array(u.buffer);
    const bulk = float32ToFloat16Bits(f);
    for (let i = 0; i < f.length; i++) {
      const expected = refHalf(f[i]);
      assert.equal(bulk[i], expected, `x=${f[i]}`);
      assert.equal(floatToHalfBits(f[i]), expected);
    }
  });

  test("float64 inputs are rounded once (no double rounding through float32)", () => {
    // 1 + 2^-11 + 2^-40 is just above the halfway point, but float32 would round it to exactly halfway.
    const x = 1 + 2 ** -11 + 2 ** -40;
    assert.equal(Math.fround(x), 1 + 2 ** -11);
    assert.equal(floatToHalfBits(x), 0x3c01);
    assert.equal(floatToHalfBits(-x), 0xbc01);
    assert.equal(floatToHalfBits(1 + 2 ** -11 - 2 ** -40), 0x3c00);
    const y = 1 + 2 ** -8 + 2 ** -30;
    assert.equal(floatToBFloat16Bits(y), 0x3f81);
    assert.equal(floatToBFloat16Bits(1 + 2 ** -8 - 2 ** -30), 0x3f80);
    const next = rng(99);
    for (let i = 0; i < 20_000; i++) {
      const v = (next() - 0.5) * 2 ** Math.floor(next() * 40 - 28);
      assert.equal(floatToHalfBits(v), refHalf(v), `x=${v}`);
    }
  });

  test("bfloat16 known bit patterns and exact widening", () => {
    const cases: [number, number][] = [
      [1.0, 0x3f80],
      [-2, 0xc000],
      [0, 0x0000],
      [-0, 0x8000],
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [1 + 2 ** -8, 0x3f80], // halfway: even
      [1 + 3 * 2 ** -8, 0x3f82], // halfway: even (up)
      [65504, 0x4780], // rounds up to 65536
      [3.4028234663852886e38, 0x7f80], // float32 max rounds to infinity
    ];
    for (const [x, bits] of cases) {
      assert.equal(floatToBFloat16Bits(x), bits, `floatToBFloat16Bits(${x})`);
      assert.equal(float32ToBFloat16Bits(new Float32Array([x]))[0], bits);
    }
    const nan = floatToBFloat16Bits(NaN);
    assert.equal(nan & 0x7f80, 0x7f80);
    assert.notEqual(nan & 0x7f, 0);
    // A NaN whose payload sits only in the low 16 bits must stay NaN.
    const lowNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer);
    assert.equal(float32ToBFloat16Bits(lowNaN)[0] & 0x7fc0, 0x7fc0);
    assert.equal(bfloat16BitsToFloat(0x3f80), 1);
    assert.equal(bfloat16BitsToFloat(0xc000), -2);
    const all = new Uint16Array(65536);
    for (let h = 0; h < 65536; h++) all[h] = h;
    const wide = bfloat16BitsToFloat32(all);
    const back = float32ToBFloat16Bits(wide);
    for (let h = 0; h < 65536; h++) {
      assert.equal(f32Bits(wide[h]) >>> 16 === h || Number.isNaN(wide[h]), true);
      if (!Number.isNaN(wide[h])) assert.equal(back[h], h);
    }
  });
});

describe("safetensors round trips", () => {
  const inputs: Record<string, TensorInput> = {
    f32: { dtype: "F32", shape: [2, 3], data: new Float32Array([1, -2.5, 3.25, 0.1, 1e30, -0]) },
    f16: { dtype: "F16", shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
    bf16: { dtype: "BF16", shape: [2], data: new Uint16Array([0x3f80, 0xc000]) },
    f64: { dtype: "F64", shape: [3], data: new Float64Array([Math.PI, -1e-300, 2 ** 60]) },
    i64: { dtype: "I64", shape: [3], data: new BigInt64Array([0n, -5n, 2147483647n]) },
    i32: { dtype: "I32", shape: [2, 2], data: new Int32Array([1, -2, 2147483647, -2147483648]) },
    i16: { dtype: "I16", shape: [2], data: new Int16Array([-32768, 32767]) },
    i8: { dtype: "I8", shape: [3], data: new Int8Array([-128, 0, 127]) },
    u8: { dtype: "U8", shape: [3], data: new Uint8Array([0, 128, 255]) },
    bool: { dtype: "BOOL", shape: [1, 3], data: new Uint8Array([1, 0, 1]) },
    empty: { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: "I32", shape: [], data: new Int32Array([42]) },
  };

  test("every dtype survives serialize -> parse with identical bytes", () => {
    const bytes = serializeSafetensors(inputs, { format: "pt", note: "héllo" });
    const { tensors, metadata } = parseSafetensors(bytes, FILE);
    assert.deepEqual(metadata, { format: "pt", note: "héllo" });
    assert.equal(tensors.size, Object.keys(inputs).length);
    for (const [name, t] of Object.entries(inputs)) {
      const e = tensors.get(name);
      assert.ok(e, name);
      assert.equal(e.dtype, t.dtype);
      assert.deepEqual(e.shape, t.shape);
      const d = t.data as Exclude<TensorInput["data"], readonly number[]>;
      assert.deepEqual(e.data, new Uint8Array(d.buffer, d.byteOffset, d.byteLength), name);
    }
    const f = (n: string) => Array.from(toFloat32(tensors.get(n)!, n, FILE));
    const i = (n: string) => Array.from(toInt32(tensors.get(n)!, n, FILE));
    assert.deepEqual(f("f32"), Array.from(new Float32Array([1, -2.5, 3.25, 0.1, 1e30, -0])));
    assert.deepEqual(f("f16"), [1, -2, 65504, 2 ** -24]);
    assert.deepEqual(f("bf16"), [1, -2]);
    assert.deepEqual(f("f64"), Array.from(new Float32Array([Math.PI, -1e-300, 2 ** 60])));
    assert.deepEqual(f("i64"), [0, -5, 2147483648]); // nearest float32
    assert.deepEqual(i("i64"), [0, -5, 2147483647]);
    assert.deepEqual(i("i32"), [1, -2, 2147483647, -2147483648]);
    assert.deepEqual(f("i32"), [1, -2, 2147483648, -2147483648]);
    assert.deepEqual(i("i16"), [-32768, 32767]);
    assert.deepEqual(f("i16"), [-32768, 32767]);
    assert.deepEqual(i("i8"), [-128, 0, 127]);
    assert.deepEqual(f("i8"), [-128, 0, 127]);
    assert.deepEqual(i("u8"), [0, 128, 255]);
    assert.deepEqual(f("u8"), [0, 128, 255]);
    assert.deepEqual(i("bool"), [1, 0, 1]);
    assert.deepEqual(f("bool"), [1, 0, 1]);
    assert.deepEqual(f("empty"), []);
    assert.deepEqual(i("scalar"), [42]);
  });

  test("Float32 data is converted when written as F16/BF16/F64, and numbers arrays are accepted", () => {
    const x = new Float32Array([1, -2, 65504, 2 ** -24, 0.1, 70000]);
    const bytes = serializeSafetensors({
      h: { dtype: "F16", shape: [6], data: x },
      b: { dtype: "BF16", shape: [6], data: x },
      d: { dtype: "F64", shape: [6], data: x },
      n: { dtype: "F16", shape: [2], data: [1, -2] },
      l: { dtype: "I64", shape: [2], data: [2 ** 40, -3] },
      s: { dtype: "I16", shape: [2], data: new Int32Array([5, -6]) },
    });
    const { tensors } = parseSafetensors(bytes, FILE);
    const h = tensors.get("h")!;
    assert.deepEqual(Array.from(new Uint16Array(new Uint8Array(h.data).buffer)), Array.from(float32ToFloat16Bits(x)));
    assert.deepEqual(Array.from(toFloat32(h, "h", FILE)), [1, -2, 65504, 2 ** -24, halfBitsToFloat(0x2e66), Infinity]);
    assert.deepEqual(
      Array.from(toFloat32(tensors.get("b")!, "b", FILE)),
      Array.from(bfloat16BitsToFloat32(float32ToBFloat16Bits(x))),
    );
    assert.deepEqual(Array.from(toFloat32(tensors.get("d")!, "d", FILE)), Array.from(x));
    assert.deepEqual(Array.from(toFloat32(tensors.get("n")!, "n", FILE)), [1, -2]);
    assert.deepEqual(Array.from(toFloat32(tensors.get("l")!, "l", FILE)), [2 ** 40, -3]);
    assert.deepEqual(Array.from(toInt32(tensors.get("s")!, "s", FILE)), [5, -6]);
  });

  test("unaligned tensor data converts correctly (copied into an aligned buffer)", () => {
    const bytes = serializeSafetensors({
      a: { dtype: "I8", shape: [3], data: new Int8Array([1, 2, 3]) },
      b: { dtype: "F32", shape: [2], data: new Float32Array([1.5, -7]) },
      c: { dtype: "F64", shape: [1], data: new Float64Array([0.25]) },
      d: { dtype: "I64", shape: [1], data: new BigInt64Array([-9n]) },
    });
    const { tensors } = parseSafetensors(bytes, FILE);
    assert.equal(tensors.get("b")!.data.byteOffset % 4 !== 0, true);
    assert.deepEqual(Array.from(toFloat32(tensors.get("b")!, "b", FILE)), [1.5, -7]);
    assert.deepEqual(Array.from(toFloat32(tensors.get("c")!, "c", FILE)), [0.25]);
    assert.deepEqual(Array.from(toInt32(tensors.get("d")!, "d", FILE)), [-9]);
    // Parsing a copy at an odd byte offset inside a larger buffer.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const again = parseSafetensors(shifted.subarray(1), FILE);
    assert.deepEqual(Array.from(toFloat32(again.tensors.get("b")!, "b", FILE)), [1.5, -7]);
  });

  test("header is padded with spaces to a multiple of 8 bytes", () => {
    for (let len = 1; len <= 17; len++) {
      const name = "x".repeat(len);
      const bytes = serializeSafetensors({ [name]: { dtype: "U8", shape: [1], data: new Uint8Array([7]) } });
      const n = new DataView(bytes.buffer).getUint32(0, true);
      assert.equal(new DataView(bytes.buffer).getUint32(4, true), 0);
      assert.equal(n % 8, 0);
      assert.equal(bytes.length, 8 + n + 1);
      const text = headerText(bytes);
      assert.match(text, /^\{.*\} *$/);
      assert.equal(text.trimEnd().length > n - 8, true, "at most 7 padding bytes");
      assert.equal(bytes[8 + n], 7);
    }
    assert.deepEqual(Array.from(serializeSafetensors({})), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  });

  test("keys are sorted by code point, __metadata__ first, data in the same order", () => {
    const names = ["b", "a", "10", "2", "é", "z", "\u{1F600}", "\uFF01", "A"];
    const rec: Record<string, TensorInput> = {};
    names.forEach((n, i) => (rec[n] = { dtype: "U8", shape: [1], data: new Uint8Array([i]) }));
    const bytes = serializeSafetensors(rec, { k: "v" });
    const text = headerText(bytes).trimEnd();
    const sorted = ["10", "2", "A", "a", "b", "z", "é", "\uFF01", "\u{1F600}"];
    const keyOrder = [...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    assert.deepEqual(keyOrder, sorted);
    assert.ok(text.startsWith('{"__metadata__":{"k":"v"},'));
    const { tensors } = parseSafetensors(bytes, FILE);
    assert.deepEqual([...tensors.keys()], sorted);
    const n = new DataView(bytes.buffer).getUint32(0, true);
    assert.deepEqual(Array.from(bytes.subarray(8 + n)), sorted.map((s) => names.indexOf(s)));
  });

  test("exact bytes of a small file", () => {
    const bytes = serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, -2]) } });
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes -> padded to 56
    const expected = [56, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(header), 32, 32, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
    assert.deepEqual(Array.from(bytes), expected);
  });
});

describe("compatibility", () => {
  test("parses a file written byte by byte per the spec", () => {
    // Unpadded header, keys in arbitrary order, metadata last, I64 stored first in data.
    const header =
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"ids":{"shape":[1],"dtype":"I64","data_offsets":[0,8]},' +
      '"h":{"dtype":"F16","shape":[1,1],"data_offsets":[16,18]},"__metadata__":{"format":"pt"}}';
    const data = [
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // ids = [-1]
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, // w = [1, 2]
      0x00, 0x3c, // h = [[1]]
    ];
    const { tensors, metadata } = parseSafetensors(rawFile(header, data), FILE);
    assert.deepEqual(metadata, { format: "pt" });
    assert.deepEqual([...tensors.keys()], ["ids", "w", "h"]);
    assert.deepEqual(Array.from(toInt32(tensors.get("ids")!, "ids", FILE)), [-1]);
    assert.deepEqual(Array.from(toFloat32(tensors.get("w")!, "w", FILE)), [1, 2]);
    assert.deepEqual(tensors.get("h")!.shape, [1, 1]);
    assert.deepEqual(Array.from(toFloat32(tensors.get("h")!, "h", FILE)), [1]);
  });

  // Produced with Debian python3-torch 1.13 (no `safetensors` package available): tensor bytes from
  // torch (`.numpy().tobytes()`, bf16 via `.view(torch.int16)`) laid out like the HF Rust serializer
  // (sorted by dtype then name, __metadata__ first, header padded with spaces). Source tensor:
  // x = torch.tensor([[1.0, -2.5, 3.25], [0.1, 65504.0, 1e-7]]) and x.to(float16/bfloat16/float64).
  const TORCH_FILE_B64 =
  "KAMAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCJpZHMiOnsiZHR5cGUiOiJJNjQiLCJzaGFwZSI6WzRdLCJk" +
  "YXRhX29mZnNldHMiOlswLDMyXX0sImVuY29kZXIud2VpZ2h0X2Y2NCI6eyJkdHlwZSI6IkY2NCIsInNoYXBlIjpbMiwzXSwiZGF0" +
  "YV9vZmZzZXRzIjpbMzIsODBdfSwiZW1wdHkiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzAsM10sImRhdGFfb2Zmc2V0cyI6Wzgw" +
  "LDgwXX0sImVuY29kZXIud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOls4MCwxMDRd" +
  "fSwic2NhbGFyIjp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOltdLCJkYXRhX29mZnNldHMiOlsxMDQsMTA4XX0sImkzMiI6eyJkdHlw" +
  "ZSI6IkkzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzEwOCwxMTZdfSwiZW5jb2Rlci53ZWlnaHRfYmYxNiI6eyJkdHlw" +
  "ZSI6IkJGMTYiLCJzaGFwZSI6WzIsM10sImRhdGFfb2Zmc2V0cyI6WzExNiwxMjhdfSwiZW5jb2Rlci53ZWlnaHRfZjE2Ijp7ImR0" +
  "eXBlIjoiRjE2Iiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOlsxMjgsMTQwXX0sImkxNiI6eyJkdHlwZSI6IkkxNiIsInNo" +
  "YXBlIjpbMiwxXSwiZGF0YV9vZmZzZXRzIjpbMTQwLDE0NF19LCJpOCI6eyJkdHlwZSI6Ikk4Iiwic2hhcGUiOlszXSwiZGF0YV9v" +
  "ZmZzZXRzIjpbMTQ0LDE0N119LCJ1OCI6eyJkdHlwZSI6IlU4Iiwic2hhcGUiOlsyXSwiZGF0YV9vZmZzZXRzIjpbMTQ3LDE0OV19" +
  "LCJtYXNrIjp7ImR0eXBlIjoiQk9PTCIsInNoYXBlIjpbM10sImRhdGFfb2Zmc2V0cyI6WzE0OSwxNTJdfX0gICAgAAAAAAAAAAD/" +
  "/////////////38AAAAAAAAAgP////8AAAAAAADwPwAAAAAAAATAAAAAAAAACkAAAACgmZm5PwAAAAAA/O9AAAAAoPLXej4AAIA/" +
  "AAAgwAAAUEDNzMw9AOB/R5W/1jMAAABABwAAAPj///+APyDAUEDNPYBH1zMAPADBgEJmLv97AgAsAdT+gH8AAP8BAAE=";

  test("reads a file produced from PyTorch tensors and matches torch's own f16/bf16 rounding", () => {
    const bytes = new Uint8Array(Buffer.from(TORCH_FILE_B64, "base64"));
    const { tensors, metadata } = parseSafetensors(bytes, "torch.safetensors");
    assert.deepEqual(metadata, { format: "pt" });
    const x = new Float32Array([1.0, -2.5, 3.25, 0.1, 65504.0, 1e-7]);
    const get = (n: string) => tensors.get(n)!;
    assert.deepEqual(toFloat32(get("encoder.weight"), "w", FILE), x);
    assert.deepEqual(get("encoder.weight").shape, [2, 3]);
    // Values printed by torch for x.to(float16).float() and x.to(bfloat16).float():
    assert.deepEqual(
      Array.from(toFloat32(get("encoder.weight_f16"), "f16", FILE)),
      [1.0, -2.5, 3.25, 0.0999755859375, 65504.0, 1.1920928955078125e-7],
    );
    assert.deepEqual(
      Array.from(toFloat32(get("encoder.weight_bf16"), "bf16", FILE)),
      [1.0, -2.5, 3.25, 0.10009765625, 65536.0, 1.0011717677116394e-7],
    );
    // Our rounding produces byte-identical F16/BF16 data to torch's.
    const ours = parseSafetensors(
      serializeSafetensors({
        h: { dtype: "F16", shape: [2, 3], data: x },
        b: { dtype: "BF16", shape: [2, 3], data: x },
      }),
      FILE,
    ).tensors;
    assert.deepEqual(ours.get("h")!.data, get("encoder.weight_f16").data);
    assert.deepEqual(ours.get("b")!.data, get("encoder.weight_bf16").data);
    assert.deepEqual(Array.from(toFloat32(get("encoder.weight_f64"), "f64", FILE)), Array.from(x));
    assert.deepEqual(Array.from(toInt32(get("ids"), "ids", FILE)), [0, -1, 2147483647, -2147483648]);
    assert.deepEqual(Array.from(toInt32(get("i32"), "i32", FILE)), [7, -8]);
    assert.deepEqual(get("i16").shape, [2, 1]);
    assert.deepEqual(Array.from(toInt32(get("i16"), "i16", FILE)), [300, -300]);
    assert.deepEqual(Array.from(toInt32(get("i8"), "i8", FILE)), [-128, 127, 0]);
    assert.deepEqual(Array.from(toInt32(get("u8"), "u8", FILE)), [0, 255]);
    assert.deepEqual(Array.from(toInt32(get("mask"), "mask", FILE)), [1, 0, 1]);
    assert.deepEqual(get("empty").shape, [0, 3]);
    assert.equal(get("empty").data.length, 0);
    assert.deepEqual(get("scalar").shape, []);
    assert.deepEqual(Array.from(toFloat32(get("scalar"), "scalar", FILE)), [2]);
  });
});

describe("validation errors name the file and the tensor", () => {
  const ok = (name = "t", offsets = "[0,4]", shape = "[1]", dtype = "F32") =>
    `"${name}":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

  test("truncated file (< 8 bytes)", () => {
    throwsSt(() => parseSafetensors(new Uint8Array(5), FILE), /^model\.safetensors: file is 5 bytes, too short .*truncated/);
    throwsSt(() => parseSafetensors(new Uint8Array(0), FILE), /^model\.safetensors: file is 0 bytes/);
  });

  test("header length larger than the file", () => {
    throwsSt(
      () => parseSafetensors(rawFile("{}", [], 100), FILE),
      /^model\.safetensors: header length 100 extends past the end of the file \(10 bytes; truncated file\?\)/,
    );
  });

  test("header length over 100 MB", () => {
    throwsSt(() => parseSafetensors(rawFile("{}", [], MAX_HEADER_BYTES + 1), FILE), /^model\.safetensors: header length 104857601 exceeds the 100 MB limit/);
    throwsSt(() => parseSafetensors(rawFile("{}", [], 2 ** 40), FILE), /exceeds the 100 MB limit/);
  });

  test("header not valid UTF-8 / JSON / object", () => {
    const bad = rawFile("{}");
    bad[8] = 0xff;
    throwsSt(() => parseSafetensors(bad, FILE), /^model\.safetensors: header is not valid UTF-8$/);
    throwsSt(() => parseSafetensors(rawFile('{"a":'), FILE), /^model\.safetensors: header is not valid JSON: /);
    throwsSt(() => parseSafetensors(rawFile("\uFEFF{}"), FILE), /header is not valid JSON/);
    throwsSt(() => parseSafetensors(rawFile("[]"), FILE), /^model\.safetensors: header must be a JSON object, got an array$/);
    throwsSt(() => parseSafetensors(rawFile("null"), FILE), /header must be a JSON object, got null/);
    throwsSt(() => parseSafetensors(rawFile("42"), FILE), /header must be a JSON object, got 42/);
    throwsSt(() => parseSafetensors(rawFile(""), FILE), /header is not valid JSON/);
  });

  test("tensor entry not an object", () => {
    throwsSt(() => parseSafetensors(rawFile('{"w":[1,2]}'), FILE), /^model\.safetensors: tensor "w": entry must be an object, got \[1,2\]$/);
  });

  test("unknown dtype", () => {
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("enc.w", "[0,1]", "[1]", "F8_E4M3")}}`, [0]), FILE),
      /^model\.safetensors: tensor "enc\.w": unknown dtype "F8_E4M3" \(supported: /,
    );
    throwsSt(() => parseSafetensors(rawFile('{"w":{"shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), FILE), /tensor "w": unknown dtype undefined/);
    throwsSt(() => parseSafetensors(rawFile(`{${ok("w", "[0,4]", "[1]", "f32")}}`, [0, 0, 0, 0]), FILE), /tensor "w": unknown dtype "f32"/);
  });

  test("shape not an array of non-negative integers", () => {
    for (const shape of ["[-1]", "[1.5]", '["2"]', "2", "null", "[[1]]", "[1e300,1e300]"]) {
      throwsSt(
        () => parseSafetensors(rawFile(`{${ok("layer.0", "[0,4]", shape)}}`, [0, 0, 0, 0]), FILE),
        /^model\.safetensors: tensor "layer\.0": shape (must be an array of non-negative integers, got .*|\[.*\] has too many elements)$/,
      );
    }
    throwsSt(() => parseSafetensors(rawFile('{"w":{"dtype":"F32","data_offsets":[0,0]}}'), FILE), /tensor "w": shape must be an array of non-negative integers, got undefined/);
  });

  test("data_offsets malformed", () => {
    for (const offsets of ["[0]", "[0,4,8]", "[4,0]", "[-1,4]", "[0,4.5]", '["0",4]', "null", "{}"]) {
      throwsSt(
        () => parseSafetensors(rawFile(`{${ok("w", offsets)}}`, [0, 0, 0, 0]), FILE),
        /^model\.safetensors: tensor "w": data_offsets must be \[begin, end\] with non-negative integers and begin <= end, got /,
      );
    }
  });

  test("data_offsets beyond the data section", () => {
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("w", "[0,8]", "[2]")}}`, [0, 0, 0, 0]), FILE),
      /^model\.safetensors: tensor "w": data_offsets \[0,8\] extend past the end of the data section \(4 bytes\): truncated file \(66 bytes; its header describes 70\)$/,
    );
  });

  test("byte size mismatch", () => {
    const header = `{${ok("encoder.layer.0.x", "[0,20]", "[2,3]")}}`;
    throwsSt(
      () => parseSafetensors(rawFile(header, new Uint8Array(20)), FILE),
      /^model\.safetensors: tensor "encoder\.layer\.0\.x": shape \[2,3\] of F32 needs 24 bytes but data_offsets give 20$/,
    );
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("b", "[0,2]", "[1]", "BF16")},${ok("e", "[2,3]", "[0]", "F64")}}`, [0, 0, 0]), FILE),
      /tensor "e": shape \[0\] of F64 needs 0 bytes but data_offsets give 1/,
    );
  });

  test("overlapping tensors", () => {
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("a", "[0,8]", "[2]")},${ok("b", "[4,8]", "[1]")}}`, new Uint8Array(8)), FILE),
      /^model\.safetensors: tensors "a" \[0,8\] and "b" \[4,8\] overlap$/,
    );
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("a", "[0,4]")},${ok("b", "[0,4]")}}`, new Uint8Array(4)), FILE),
      /tensors "a" \[0,4\] and "b" \[0,4\] overlap/,
    );
  });

  test("data section not fully covered", () => {
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("a", "[0,4]")},${ok("b", "[8,12]")}}`, new Uint8Array(12)), FILE),
      /^model\.safetensors: data section bytes \[4,8\) between tensors "a" and "b" are not covered by any tensor$/,
    );
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("a", "[4,8]")}}`, new Uint8Array(8)), FILE),
      /^model\.safetensors: data section bytes \[0,4\) before tensor "a" are not covered by any tensor$/,
    );
    throwsSt(
      () => parseSafetensors(rawFile(`{${ok("a", "[0,4]")}}`, new Uint8Array(6)), FILE),
      /^model\.safetensors: data section bytes \[4,6\) after tensor "a" are not covered by any tensor$/,
    );
    throwsSt(() => parseSafetensors(rawFile("{}", [1, 2]), FILE), /^model\.safetensors: data section has 2 bytes but the header lists no tensors$/);
  });

  test("__metadata__ must map strings to strings", () => {
    throwsSt(
      () => parseSafetensors(rawFile('{"__metadata__":{"format":"pt","epoch":3}}'), FILE),
      /^model\.safetensors: __metadata__ value for key "epoch" must be a string, got 3$/,
    );
    throwsSt(() => parseSafetensors(rawFile('{"__metadata__":["pt"]}'), FILE), /^model\.safetensors: __metadata__ must be an object of strings/);
    throwsSt(() => parseSafetensors(rawFile('{"__metadata__":null}'), FILE), /__metadata__ must be an object of strings, got null/);
    // "__proto__" is an ordinary key and must not change the prototype.
    const { metadata } = parseSafetensors(rawFile('{"__metadata__":{"__proto__":"x"}}'), FILE);
    assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(metadata, "__proto__")?.value, "x");
  });

  test("an empty file (no tensors, no data) is valid", () => {
    const { tensors, metadata } = parseSafetensors(rawFile("{}"), FILE);
    assert.equal(tensors.size, 0);
    assert.deepEqual(metadata, {});
  });

  test("toInt32 rejects out-of-range I64 values and float dtypes", () => {
    const bytes = serializeSafetensors({
      big: { dtype: "I64", shape: [3], data: new BigInt64Array([1n, 2147483648n, 0n]) },
      neg: { dtype: "I64", shape: [1], data: new BigInt64Array([-2147483649n]) },
      f: { dtype: "F32", shape: [1], data: new Float32Array([1]) },
    });
    const { tensors } = parseSafetensors(bytes, FILE);
    throwsSt(
      () => toInt32(tensors.get("big")!, "big", FILE),
      /^model\.safetensors: tensor "big": I64 value 2147483648 at index 1 is outside the int32 range$/,
    );
    throwsSt(() => toInt32(tensors.get("neg")!, "neg", FILE), /tensor "neg": I64 value -2147483649 at index 0/);
    throwsSt(() => toInt32(tensors.get("f")!, "f", FILE), /^model\.safetensors: tensor "f": cannot convert dtype "F32" to int32$/);
    throwsSt(
      () => toFloat32({ dtype: "F32", shape: [2], data: new Uint8Array(4) }, "w", FILE),
      /^model\.safetensors: tensor "w": shape \[2\] of F32 does not match 4 data bytes$/,
    );
  });

  test("serializer validation", () => {
    throwsSt(
      () => serializeSafetensors({ w: { dtype: "F32", shape: [2, 3], data: new Float32Array(5) } }),
      /^serializeSafetensors: tensor "w": shape \[2,3\] has 6 elements but the data has 5$/,
    );
    throwsSt(
      () => serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Uint8Array(7) } }),
      /tensor "w": shape \[2\] of F32 needs 8 bytes but the Uint8Array has 7/,
    );
    throwsSt(() => serializeSafetensors({ m: { dtype: "BOOL", shape: [2], data: new Uint8Array([1, 2]) } }), /tensor "m": BOOL value at index 1 is 2/);
    throwsSt(() => serializeSafetensors({ m: { dtype: "BOOL", shape: [2], data: [0, 0.5] } }), /tensor "m": BOOL value at index 1 is 0.5/);
    throwsSt(() => serializeSafetensors({ q: { dtype: "I8", shape: [1], data: [128] } }), /tensor "q": I8 value at index 0 is 128, expected an integer in \[-128, 127\]/);
    throwsSt(() => serializeSafetensors({ q: { dtype: "I32", shape: [1], data: [1.5] } }), /tensor "q": I32 value at index 0 is 1.5/);
    throwsSt(() => serializeSafetensors({ q: { dtype: "I64", shape: [1], data: [2 ** 60] } }), /tensor "q": I64 value at index 0 .* expected a safe integer/);
    throwsSt(() => serializeSafetensors({ q: { dtype: "F32", shape: [1], data: new BigInt64Array(1) } }), /BigInt64Array data can only be written as I64/);
    throwsSt(() => serializeSafetensors({ q: { dtype: "F32", shape: [-1], data: [] } }), /tensor "q": shape must be an array of non-negative integers/);
    throwsSt(
      () => serializeSafetensors({ q: { dtype: "F8" as unknown as "F32", shape: [1], data: [1] } }),
      /tensor "q": unknown dtype "F8"/,
    );
    throwsSt(() => serializeSafetensors({ __metadata__: { dtype: "F32", shape: [0], data: [] } }), /tensor "__metadata__": this name is reserved/);
    throwsSt(
      () => serializeSafetensors({}, { n: 1 as unknown as string }),
      /__metadata__ value for key "n" must be a string, got 1/,
    );
  });

  test("dtype table", () => {
    assert.deepEqual([...SAFETENSORS_DTYPES].sort(), ["BF16", "BOOL", "F16", "F32", "F64", "I16", "I32", "I64", "I8", "U8"]);
    assert.equal(DTYPE_SIZES.BF16, 2);
    assert.equal(DTYPE_SIZES.I64, 8);
  });
});

describe("files and atomic writes", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "propetl-st-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tensors: Record<string, TensorInput> = {
    "encoder.w": { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    mask: { dtype: "U8", shape: [3], data: new Uint8Array([0, 1, 0]) },
  };

  test("write and read (async and sync), no temp files left behind", async () => {
    const p = path.join(dir, "a.safetensors");
    await writeSafetensorsFile(p, tensors, { step: "3" });
    const a = await readSafetensorsFile(p);
    assert.deepEqual(a.metadata, { step: "3" });
    assert.deepEqual(Array.from(toFloat32(a.tensors.get("encoder.w")!, "encoder.w", p)), [1, 2, 3, 4]);
    const q = path.join(dir, "b.safetensors");
    writeSafetensorsFileSync(q, tensors);
    const b = readSafetensorsFileSync(q);
    assert.deepEqual(b.metadata, {});
    assert.deepEqual(Array.from(toInt32(b.tensors.get("mask")!, "mask", q)), [0, 1, 0]);
    // Overwrite an existing file.
    await writeSafetensorsFile(p, { x: { dtype: "I8", shape: [1], data: [5] } });
    assert.deepEqual([...(await readSafetensorsFile(p)).tensors.keys()], ["x"]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["a.safetensors", "b.safetensors"]);
  });

  test("read errors name the path", async () => {
    const p = path.join(dir, "bad.safetensors");
    fs.writeFileSync(p, new Uint8Array(3));
    await assert.rejects(readSafetensorsFile(p), (err: unknown) => err instanceof SafetensorsError && err.message.startsWith(`${p}: file is 3 bytes`));
    assert.throws(() => readSafetensorsFileSync(p), (err: unknown) => err instanceof SafetensorsError && err.message.startsWith(`${p}: `));
    fs.rmSync(p);
  });

  test("a failed serialization leaves the existing target untouched", async () => {
    const p = path.join(dir, "keep.safetensors");
    await writeSafetensorsFile(p, tensors);
    const before = fs.readFileSync(p);
    await assert.rejects(writeSafetensorsFile(p, { w: { dtype: "F32", shape: [3], data: [1] } }), new RegExp(`^SafetensorsError: ${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: tensor "w"`));
    assert.deepEqual(fs.readFileSync(p), before);
    fs.rmSync(p);
  });

  test("writeFileAtomic replaces content and cleans up its temp file on failure", async () => {
    const p = path.join(dir, "t.txt");
    await writeFileAtomic(p, "hello");
    assert.equal(fs.readFileSync(p, "utf8"), "hello");
    writeFileAtomicSync(p, new Uint8Array([104, 105]));
    assert.equal(fs.readFileSync(p, "utf8"), "hi");
    // Renaming over a non-empty directory fails after the temp file was written: it must be removed.
    const target = path.join(dir, "adir");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "inner"), "x");
    await assert.rejects(writeFileAtomic(target, "data"));
    assert.throws(() => writeFileAtomicSync(target, "data"));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes("tmp-")), []);
    // A missing directory fails cleanly too.
    await assert.rejects(writeFileAtomic(path.join(dir, "missing", "x"), "data"), /missing: the folder does not exist/);
    assert.throws(() => writeFileAtomicSync(path.join(dir, "missing", "x"), "data"), /missing: the folder does not exist/);
  });
});
