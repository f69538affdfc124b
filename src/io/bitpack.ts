/**
 * 1-bit mask packing.
 *
 * Bit order: entry `i` is stored in byte `i >> 3` at bit position `i & 7`,
 * LSB-first (bit 0 = value 1 is the first entry of the byte). This matches
 * `numpy.packbits(mask, bitorder="little")`. A mask of `n` entries packs into
 * exactly `ceil(n / 8)` bytes and the unused high bits of the last byte
 * (the padding bits) are always zero.
 */

/** Error raised for malformed masks or corrupt packed data. */
export class BitpackError extends Error {
  override name = "BitpackError";
}

/** Options for {@link packBits}. */
export interface PackBitsOptions {
  /**
   * When true (the default), every mask value must be exactly 0 or 1 and a
   * `BitpackError` naming the first offending index is thrown otherwise.
   * When false, any nonzero value (including NaN) counts as 1.
   */
  strict?: boolean;
  /** Label used in error messages (e.g. a tensor or file name). */
  label?: string;
}

/** Number of bytes needed to pack `n` bits: `ceil(n / 8)`. */
export function packedByteLength(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BitpackError(`invalid bit count ${n}: must be a non-negative integer`);
  }
  return Math.ceil(n / 8);
}

function prefix(label: string | undefined): string {
  return label ? `${label}: ` : "";
}

/**
 * Pack a 0/1 mask LSB-first into `ceil(mask.length / 8)` bytes.
 * Padding bits of the last byte are zero.
 */
export function packBits(mask: ArrayLike<number>, options: PackBitsOptions = {}): Uint8Array<ArrayBuffer> {
  const strict = options.strict ?? true;
  const n = mask.length;
  const out = new Uint8Array(packedByteLength(n));
  const fullBytes = n >>> 3;
  let i = 0;
  if (strict) {
    for (let b = 0; b < fullBytes; b++, i += 8) {
      const v0 = mask[i], v1 = mask[i + 1], v2 = mask[i + 2], v3 = mask[i + 3];
      const v4 = mask[i + 4], v5 = mask[i + 5], v6 = mask[i + 6], v7 = mask[i + 7];
      const byte = v0 | (v1 << 1) | (v2 << 2) | (v3 << 3) | (v4 << 4) | (v5 << 5) | (v6 << 6) | (v7 << 7);
      // Verify all eight values are exactly 0 or 1 before storing the byte.
      if ((v0 === 0 || v0 === 1) && (v1 === 0 || v1 === 1) && (v2 === 0 || v2 === 1) && (v3 === 0 || v3 === 1) &&
          (v4 === 0 || v4 === 1) && (v5 === 0 || v5 === 1) && (v6 === 0 || v6 === 1) && (v7 === 0 || v7 === 1)) {
        out[b] = byte;
      } else {
        throwNonBinary(mask, i, i + 8, options.label);
      }
    }
    let last = 0;
    for (let bit = 0; i < n; i++, bit++) {
      const v = mask[i];
      if (v !== 0 && v !== 1) throwNonBinary(mask, i, i + 1, options.label);
      last |= v << bit;
    }
    if (n & 7) out[fullBytes] = last;
  } else {
    for (let b = 0; b < fullBytes; b++, i += 8) {
      out[b] =
        (mask[i] !== 0 ? 1 : 0) | (mask[i + 1] !== 0 ? 2 : 0) | (mask[i + 2] !== 0 ? 4 : 0) |
        (mask[i + 3] !== 0 ? 8 : 0) | (mask[i + 4] !== 0 ? 16 : 0) | (mask[i + 5] !== 0 ? 32 : 0) |
        (mask[i + 6] !== 0 ? 64 : 0) | (mask[i + 7] !== 0 ? 128 : 0);
    }
    let last = 0;
    for (let bit = 0; i < n; i++, bit++) {
      // NaN is "nonzero" here: `NaN !== 0` is true.
      if (mask[i] !== 0) last |= 1 << bit;
    }
    if (n & 7) out[fullBytes] = last;
  }
  return out;
}

function throwNonBinary(mask: ArrayLike<number>, from: number, to: number, label: string | undefined): never {
  for (let j = from; j < to; j++) {
    const v = mask[j];
    if (v !== 0 && v !== 1) {
      throw new BitpackError(`${prefix(label)}mask value at index ${j} is ${v}, expected 0 or 1`);
    }
  }
  /* c8 ignore next */
  throw new BitpackError(`${prefix(label)}internal error: non-binary value not found in [${from}, ${to})`);
}

/** Check that `packed` is a valid packing of exactly `n` bits (length and zero padding). */
function validatePacked(packed: Uint8Array, n: number, label: string | undefined): void {
  const expected = packedByteLength(n);
  if (packed.length !== expected) {
    throw new BitpackError(
      `${prefix(label)}packed mask has ${packed.length} bytes but ${n} bits need exactly ${expected}`,
    );
  }
  const rem = n & 7;
  if (rem !== 0) {
    const padding = packed[expected - 1] >>> rem;
    if (padding !== 0) {
      throw new BitpackError(
        `${prefix(label)}corrupt mask: padding bits after bit ${n} are not zero (last byte 0x${packed[expected - 1]
          .toString(16)
          .padStart(2, "0")})`,
      );
    }
  }
}

/** Unpack `n` LSB-first bits into a Uint8Array of 0/1 values. Validates length and zero padding. */
export function unpackBits(packed: Uint8Array, n: number, label?: string): Uint8Array<ArrayBuffer> {
  validatePacked(packed, n, label);
  return unpackInto(packed, n, new Uint8Array(n));
}

/** Unpack `n` LSB-first bits into a Float32Array of 0.0/1.0 values. Validates length and zero padding. */
export function unpackBitsToFloat32(packed: Uint8Array, n: number, label?: string): Float32Array<ArrayBuffer> {
  validatePacked(packed, n, label);
  return unpackInto(packed, n, new Float32Array(n));
}

/** Write the first `n` bits of `packed` (LSB first) into the zero-filled `out`; returns `out`. */
function unpackInto<T extends Uint8Array<ArrayBuffer> | Float32Array<ArrayBuffer>>(packed: Uint8Array, n: number, out: T): T {
  const fullBytes = n >>> 3;
  let i = 0;
  for (let b = 0; b < fullBytes; b++, i += 8) {
    const byte = packed[b];
    if (byte === 0) continue; // output is already zero-filled
    out[i] = byte & 1;
    out[i + 1] = (byte >>> 1) & 1;
    out[i + 2] = (byte >>> 2) & 1;
    out[i + 3] = (byte >>> 3) & 1;
    out[i + 4] = (byte >>> 4) & 1;
    out[i + 5] = (byte >>> 5) & 1;
    out[i + 6] = (byte >>> 6) & 1;
    out[i + 7] = byte >>> 7;
  }
  if (i < n) {
    const byte = packed[fullBytes];
    for (let bit = 0; i < n; i++, bit++) out[i] = (byte >>> bit) & 1;
  }
  return out;
}

/** Population count of each byte value 0..255. */
const POPCOUNT8: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let v = 1; v < 256; v++) t[v] = (v & 1) + t[v >>> 1];
  return t;
})();

/**
 * Number of set bits in `packed`. Padding bits are zero in valid packed data,
 * so this equals the number of ones in the original mask.
 */
export function countOnes(packed: Uint8Array): number {
  let count = 0;
  for (let b = 0; b < packed.length; b++) count += POPCOUNT8[packed[b]];
  return count;
}
