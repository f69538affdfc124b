/**
 * The Hugging Face safetensors format, platform-free: parsing bytes (`parseSafetensors`),
 * serializing (`serializeSafetensors`), dtype conversions. The file readers and writers
 * (positioned reads, atomic writes) are `safetensors.ts`, on Node; both validate with the same
 * header parser here.
 *
 * Layout:
 *   - 8 bytes: little-endian u64 `N`, the header length;
 *   - `N` bytes: UTF-8 JSON object mapping tensor names to
 *     `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` plus an
 *     optional `"__metadata__": {string: string}` entry (the writer pads the
 *     JSON with trailing spaces so `N` is a multiple of 8);
 *   - the data section: raw little-endian tensor bytes, offsets relative to
 *     its start. Tensors must cover the data section exactly, without overlaps
 *     or gaps.
 *
 * No platform module is used. All multi-byte values are read and written
 * little-endian regardless of the host byte order.
 */
import { checkJsonDepth } from "./json-depth.js";

/** Element types supported by this implementation. */
export type SafetensorsDType = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

/** Byte size of one element of each dtype. */
export const DTYPE_SIZES: Readonly<Record<SafetensorsDType, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
});

/** All supported dtype names. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = Object.freeze(
  Object.keys(DTYPE_SIZES) as SafetensorsDType[],
);

/** The dtypes weights may be stored in (`weightsFloat32`). */
export const WEIGHT_DTYPES: readonly SafetensorsDType[] = Object.freeze(["F32", "F16", "BF16", "F64"] as SafetensorsDType[]);

/** Largest header accepted by the reader (same limit as the reference implementation). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor as stored in a file. */
export interface TensorEntry {
  /** The element type, the header's `"dtype"`; each element takes `DTYPE_SIZES[dtype]` bytes. */
  dtype: SafetensorsDType;
  /**
   * The dimensions, outermost first (row-major), the header's `"shape"`; `[]` is a scalar.
   * Their product times the element size is `data.byteLength`: `parseSafetensors` refuses a
   * header where it is not, and `toFloat32` / `toInt32` check an entry built by hand.
   */
  shape: number[];
  /** Raw little-endian bytes. For parsed files this is a view into the input buffer (no copy). */
  data: Uint8Array;
}

/** Result of parsing a safetensors file. */
export interface SafetensorsFile {
  /** Tensors in data-section order. */
  tensors: Map<string, TensorEntry>;
  /** Contents of `__metadata__` (empty when absent). */
  metadata: Record<string, string>;
}

/** Error for malformed files or invalid tensors; the message names the file and, where relevant, the tensor. */
export class SafetensorsError extends Error {
  /** Always "SafetensorsError". */
  override name = "SafetensorsError";
}

/**
 * Tensor data accepted by the writer.
 *
 * - `Uint8Array` is always taken as the raw little-endian bytes of the tensor
 *   (for U8/BOOL those are the elements themselves).
 * - `Uint16Array` is taken as raw bit patterns when the dtype is F16 or BF16.
 * - A typed array matching the dtype (Float32Array for F32, BigInt64Array for
 *   I64, ...) is written as is.
 * - Anything else is converted element-wise: floats are rounded to nearest
 *   even, integers must be exact and in range, BOOL values must be 0 or 1.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | readonly number[];

/** A tensor to be written. */
export interface TensorInput {
  /** The element type to store; `serializeSafetensors` refuses a name outside `SAFETENSORS_DTYPES`. */
  dtype: SafetensorsDType;
  /** The dimensions, outermost first (row-major); `[]` is a scalar. Non-negative integers. */
  shape: readonly number[];
  /**
   * The values in row-major order, one per element of `shape` (a `Uint8Array`: the raw bytes,
   * `DTYPE_SIZES[dtype]` per element); see `TensorData` for how each kind is converted. A
   * length or value that does not fit `shape` and `dtype` is a `SafetensorsError` naming the
   * tensor.
   */
  data: TensorData;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------
// Half / bfloat16 conversions
// ---------------------------------------------------------------------------

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * Bits of `x` rounded to float32 with round-to-odd. Rounding to odd first and
 * then to nearest-even at a precision at least 2 bits narrower gives the same
 * result as rounding `x` directly, so this avoids double-rounding errors when
 * narrowing float64 values to float16/bfloat16. Exact float32 inputs are
 * returned unchanged.
 */
function float32BitsRoundOdd(x: number): number {
  scratchF32[0] = x;
  const f = scratchF32[0];
  let u = scratchU32[0];
  if (f !== x && f === f && f !== Infinity && f !== -Infinity) {
    // Inexact: take the truncation toward zero and set the sticky (odd) bit.
    if (Math.abs(f) > Math.abs(x)) u -= 1;
    u |= 1;
  }
  return u >>> 0;
}

/** float32 bit pattern -> float16 bit pattern, round to nearest even. NaN keeps its sign and top payload bits. */
function halfBitsFromFloat32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00; // >= 2^16: overflow to infinity
  if (e <= 0) {
    // float16 subnormal (or zero). Values below 2^-25 round to zero.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    const halfway = 1 << (shift - 1);
    const rem = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rem > halfway || (rem === halfway && (h & 1) !== 0)) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry may reach 0x7c00 (infinity): correct
  return sign | h;
}

/** float32 bit pattern -> bfloat16 bit pattern, round to nearest even. NaN stays NaN (quiet). */
function bfloat16BitsFromFloat32Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Round a number to the nearest float16 (ties to even) and return its bit pattern. */
export function floatToHalfBits(x: number): number {
  return halfBitsFromFloat32Bits(float32BitsRoundOdd(x));
}

/** Round a number to the nearest bfloat16 (ties to even) and return its bit pattern. */
export function floatToBFloat16Bits(x: number): number {
  return bfloat16BitsFromFloat32Bits(float32BitsRoundOdd(x));
}

/** Exact value of a float16 bit pattern (subnormals, infinities and NaN included). */
export function halfBitsToFloat(h: number): number {
  const sign = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** Exact value of a bfloat16 bit pattern. */
export function bfloat16BitsToFloat(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0];
}

let halfTable: Uint32Array | undefined;

/** Lazily built table: float16 bits -> float32 bits (exact, NaN payloads preserved). */
function getHalfTable(): Uint32Array {
  if (halfTable !== undefined) return halfTable;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0x1f) {
      t[h] = (sign | 0x7f800000 | (m << 13)) >>> 0;
    } else if (e === 0) {
      scratchF32[0] = m * 2 ** -24; // exact in float32
      t[h] = (scratchU32[0] | sign) >>> 0;
    } else {
      t[h] = (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
    }
  }
  halfTable = t;
  return t;
}

/** Convert float32 values to float16 bit patterns with round-to-nearest-even. */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = halfBitsFromFloat32Bits(bits[i]);
  return out;
}

/** Convert float16 bit patterns to float32 values (exact). */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array<ArrayBuffer> {
  const table = getHalfTable();
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < out.length; i++) out[i] = table[bits[i]];
  return new Float32Array(out.buffer);
}

/** Convert float32 values to bfloat16 bit patterns with round-to-nearest-even. */
export function float32ToBFloat16Bits(values: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = bfloat16BitsFromFloat32Bits(bits[i]);
  return out;
}

/** Convert bfloat16 bit patterns to float32 values (exact). */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array<ArrayBuffer> {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < out.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  try {
    const s: string | undefined = JSON.stringify(value);
    if (s === undefined) return String(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Product of the shape, or undefined if it is not a safe integer. */
function numElements(shape: readonly number[]): number | undefined {
  let n = 1;
  for (const d of shape) n *= d;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Validate a shape value; returns an error description or undefined. */
function checkShape(shape: unknown): string | undefined {
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    return `shape must be an array of non-negative integers, got ${describe(shape)}`;
  }
  if (numElements(shape) === undefined) return `shape ${fmtShape(shape)} has too many elements`;
  return undefined;
}

interface ParsedInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * A validated safetensors header: where every tensor's bytes lie in the file, without the
 * bytes. `dataStart` is the file offset of the data section (8 + header length); tensor
 * offsets are relative to it.
 */
export interface SafetensorsIndex {
  fileName: string;
  /** Size of the whole file in bytes. */
  fileSize: number;
  dataStart: number;
  /** Tensors in data-section order. */
  entries: Map<string, { dtype: SafetensorsDType; shape: number[]; begin: number; end: number }>;
  metadata: Record<string, string>;
}

/**
 * Validate a header against the size of the file it came from: `prefix` holds at least the
 * first 8 bytes, and the whole header when it is long enough (see `headerLength`).
 */
export function headerLength(prefix: Uint8Array, fileSize: number, fileName: string): number {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${fileName}: ${msg}`);
  };
  if (fileSize < 8) fail(`file is ${fileSize} bytes, too short for the 8-byte header length (truncated file)`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const headerLen = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true); // exact below 2^53, and anything larger is rejected anyway
  if (headerLen > MAX_HEADER_BYTES) {
    fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES / (1024 * 1024)} MB limit (corrupt file?)`);
  }
  if (8 + headerLen > fileSize) {
    fail(`header length ${headerLen} extends past the end of the file (${fileSize} bytes; truncated file?)`);
  }
  return headerLen;
}

/** Parse and validate the header bytes (`headerBytes`: the N bytes after the length) of a file of `fileSize` bytes. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, fileName: string): SafetensorsIndex {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${fileName}: ${msg}`);
  };
  const failTensor: (name: string, msg: string) => never = (name, msg) =>
    fail(`tensor ${JSON.stringify(name)}: ${msg}`);
  const headerLen = headerBytes.length;

  let headerText = "";
  try {
    headerText = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    checkJsonDepth(headerText, `${fileName} header`);
    header = JSON.parse(headerText);
  } catch (err) {
    fail(`header is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlainObject(header)) {
    fail(`header must be a JSON object, got ${Array.isArray(header) ? "an array" : describe(header)}`);
  }

  const dataStart = 8 + headerLen;
  const dataLen = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const infos: ParsedInfo[] = [];

  for (const name of Object.keys(header)) {
    const value = header[name];
    if (name === "__metadata__") {
      if (!isPlainObject(value)) fail(`__metadata__ must be an object of strings, got ${describe(value)}`);
      const entries: [string, string][] = [];
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") {
          fail(`__metadata__ value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
        }
        entries.push([k, v]);
      }
      metadata = Object.fromEntries(entries);
      continue;
    }
    if (!isPlainObject(value)) failTensor(name, `entry must be an object, got ${describe(value)}`);
    const dtype = value.dtype;
    if (!isDType(dtype)) {
      failTensor(name, `unknown dtype ${describe(dtype)} (supported: ${SAFETENSORS_DTYPES.join(", ")})`);
    }
    const shapeError = checkShape(value.shape);
    if (shapeError !== undefined) failTensor(name, shapeError);
    const shape = (value.shape as number[]).slice();
    const offsets = value.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !isNonNegativeInt(offsets[0]) ||
      !isNonNegativeInt(offsets[1]) ||
      offsets[0] > offsets[1]
    ) {
      failTensor(
        name,
        `data_offsets must be [begin, end] with non-negative integers and begin <= end, got ${describe(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const needed = (numElements(shape) as number) * DTYPE_SIZES[dtype];
    if (needed !== end - begin) {
      failTensor(name, `shape ${fmtShape(shape)} of ${dtype} needs ${needed} bytes but data_offsets give ${end - begin}`);
    }
    infos.push({ name, dtype, shape, begin, end });
  }

  // A file cut short: the header describes more data than the file holds.
  const described = infos.reduce((m, t) => Math.max(m, t.end), 0);
  if (described > dataLen) {
    const last = infos.find((t) => t.end === described) as ParsedInfo;
    failTensor(
      last.name,
      `data_offsets [${last.begin},${last.end}] extend past the end of the data section (${dataLen} bytes): ` +
        `truncated file (${fileSize} bytes; its header describes ${dataStart + described})`,
    );
  }

  // Coverage: sorted by offsets, tensors must tile [0, dataLen) exactly.
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: ParsedInfo | undefined;
  for (const t of infos) {
    if (t.begin < pos && prev !== undefined) {
      fail(
        `tensors ${JSON.stringify(prev.name)} [${prev.begin},${prev.end}] and ` +
          `${JSON.stringify(t.name)} [${t.begin},${t.end}] overlap`,
      );
    }
    if (t.begin > pos) {
      fail(
        prev === undefined
          ? `data section bytes [0,${t.begin}) before tensor ${JSON.stringify(t.name)} are not covered by any tensor`
          : `data section bytes [${pos},${t.begin}) between tensors ${JSON.stringify(prev.name)} and ` +
              `${JSON.stringify(t.name)} are not covered by any tensor`,
      );
    }
    pos = t.end;
    prev = t;
  }
  if (pos !== dataLen) {
    fail(
      prev === undefined
        ? `data section has ${dataLen} bytes but the header lists no tensors`
        : `data section bytes [${pos},${dataLen}) after tensor ${JSON.stringify(prev.name)} are not covered by any tensor`,
    );
  }
  const entries: SafetensorsIndex["entries"] = new Map();
  for (const t of infos) entries.set(t.name, { dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end });
  return { fileName, fileSize, dataStart, entries, metadata };
}

/**
 * Parse a safetensors file held in memory. Tensor data are views into `bytes`.
 * `fileName` is only used in error messages.
 */
export function parseSafetensors(bytes: Uint8Array, fileName: string): SafetensorsFile {
  const headerLen = headerLength(bytes, bytes.length, fileName);
  const index = parseHeader(bytes.subarray(8, 8 + headerLen), bytes.length, fileName);
  const tensors = new Map<string, TensorEntry>();
  for (const [name, t] of index.entries) {
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(index.dataStart + t.begin, index.dataStart + t.end) });
  }
  return { tensors, metadata: index.metadata };
}

// ---------------------------------------------------------------------------
// Conversion of parsed tensors
// ---------------------------------------------------------------------------

function entryError(name: string, fileName: string, msg: string): SafetensorsError {
  return new SafetensorsError(`${fileName}: tensor ${JSON.stringify(name)}: ${msg}`);
}

/** Check that the byte length matches shape and dtype; returns the element count. */
function checkEntry(entry: TensorEntry, name: string, fileName: string): number {
  const size = isDType(entry.dtype) ? DTYPE_SIZES[entry.dtype] : undefined;
  if (size === undefined) throw entryError(name, fileName, `unknown dtype ${describe(entry.dtype)}`);
  const shapeError = checkShape(entry.shape);
  if (shapeError !== undefined) throw entryError(name, fileName, shapeError);
  const n = numElements(entry.shape);
  if (n === undefined || n * size !== entry.data.byteLength) {
    throw entryError(
      name,
      fileName,
      `shape ${fmtShape(entry.shape)} of ${entry.dtype} does not match ${entry.data.byteLength} data bytes`,
    );
  }
  return n;
}

/** Copy little-endian bytes into a fresh, aligned buffer laid out in host order for `elemSize`-byte elements. */
function alignedHostCopy(data: Uint8Array, elemSize: number): ArrayBuffer {
  const buf = new ArrayBuffer(data.byteLength);
  const out = new Uint8Array(buf);
  out.set(data);
  if (!HOST_LITTLE_ENDIAN && elemSize > 1) {
    for (let i = 0; i < out.length; i += elemSize) out.subarray(i, i + elemSize).reverse();
  }
  return buf;
}

/** Row-major index `flat` of `shape` as "[i,j,k]". */
function multiIndex(flat: number, shape: readonly number[]): string {
  const idx: number[] = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(",")}]`;
}

/**
 * Every value finite, or an error naming the file, the tensor, the first bad index and its
 * value: a NaN or infinite weight makes every output wrong while looking like a result, so
 * the loaders refuse it (also an F64 value beyond float32's range, which rounds to infinity).
 */
export function checkFinite(values: Float32Array, shape: readonly number[], name: string, fileName: string): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x !== 0) {
      let count = 0;
      for (let j = i; j < values.length; j++) if (values[j] - values[j] !== 0) count++;
      throw entryError(name, fileName, `${Number.isNaN(x) ? "NaN" : x > 0 ? "+Infinity" : "-Infinity"} at index ${multiIndex(i, shape)}${count > 1 ? ` (${count} non-finite values in all)` : ""}: weights must be finite`);
    }
  }
}

/**
 * Weights as float32 for the model, checkpoint and train-state loaders: `toFloat32`, then
 * `checkFinite` — the one finite check every weight goes through at load.
 */
export function weightsFloat32(entry: TensorEntry, name: string, fileName: string): Float32Array<ArrayBuffer> {
  // Weights are floats: an integer or boolean tensor here is a damaged or foreign file, and
  // converting its values would give numbers that merely look like weights.
  if (!(WEIGHT_DTYPES as readonly string[]).includes(entry.dtype)) {
    throw entryError(name, fileName, `dtype ${entry.dtype} is not a floating-point type; weights must be ${WEIGHT_DTYPES.join(", ")}`);
  }
  const out = toFloat32(entry, name, fileName);
  checkFinite(out, entry.shape, name, fileName);
  return out;
}

/**
 * Tensor values as float32 (exact conversion, infinities and NaN kept; the loaders use
 * `weightsFloat32`). F32 is copied, F16/BF16 are widened exactly, F64 is rounded to nearest,
 * integer and BOOL types are converted (I64 via the nearest double).
 */
export function toFloat32(entry: TensorEntry, name: string, fileName: string): Float32Array<ArrayBuffer> {
  const n = checkEntry(entry, name, fileName);
  const d = entry.data;
  switch (entry.dtype) {
    case "F32":
      return new Float32Array(alignedHostCopy(d, 4));
    case "F16": {
      const table = getHalfTable();
      const out = new Uint32Array(n);
      for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = table[d[j] | (d[j + 1] << 8)];
      return new Float32Array(out.buffer);
    }
    case "BF16": {
      const out = new Uint32Array(n);
      for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = ((d[j] << 16) | (d[j + 1] << 24)) >>> 0;
      return new Float32Array(out.buffer);
    }
    case "F64":
      return Float32Array.from(new Float64Array(alignedHostCopy(d, 8)));
    case "I64": {
      // hi * 2^32 + lo is exact for |v| < 2^53; larger values round to a double first.
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const out = new Float32Array(n);
      for (let i = 0, j = 0; i < n; i++, j += 8) {
        out[i] = v.getInt32(j + 4, true) * 4294967296 + v.getUint32(j, true);
      }
      return out;
    }
    case "I32":
      return Float32Array.from(new Int32Array(alignedHostCopy(d, 4)));
    case "I16":
      return Float32Array.from(new Int16Array(alignedHostCopy(d, 2)));
    case "I8":
      return Float32Array.from(new Int8Array(d.buffer, d.byteOffset, d.byteLength));
    case "U8":
    case "BOOL":
      return Float32Array.from(d);
    default:
      throw entryError(name, fileName, `cannot convert dtype ${describe(entry.dtype)} to float32`);
  }
}

/**
 * Tensor values as int32 for integer and BOOL dtypes. I64 values outside the
 * int32 range are an error; float dtypes are an error.
 */
export function toInt32(entry: TensorEntry, name: string, fileName: string): Int32Array<ArrayBuffer> {
  const n = checkEntry(entry, name, fileName);
  const d = entry.data;
  switch (entry.dtype) {
    case "I64": {
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = v.getInt32(8 * i, true);
        const hi = v.getInt32(8 * i + 4, true);
        if (hi !== (lo < 0 ? -1 : 0)) {
          throw entryError(
            name,
            fileName,
            `I64 value ${v.getBigInt64(8 * i, true)} at index ${i} is outside the int32 range`,
          );
        }
        out[i] = lo;
      }
      return out;
    }
    case "I32":
      return new Int32Array(alignedHostCopy(d, 4));
    case "I16":
      return Int32Array.from(new Int16Array(alignedHostCopy(d, 2)));
    case "I8":
      return Int32Array.from(new Int8Array(d.buffer, d.byteOffset, d.byteLength));
    case "U8":
    case "BOOL":
      return Int32Array.from(d);
    default:
      throw entryError(name, fileName, `cannot convert dtype ${describe(entry.dtype)} to int32`);
  }
}

// ---------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------

type HostTypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array;

/** Little-endian bytes of a typed array (a view on little-endian hosts, a swapped copy otherwise). */
function leBytes(arr: HostTypedArray): Uint8Array {
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (HOST_LITTLE_ENDIAN || arr.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = bytes.slice();
  const k = arr.BYTES_PER_ELEMENT;
  for (let i = 0; i < copy.length; i += k) copy.subarray(i, i + k).reverse();
  return copy;
}

const INT_RANGES: Record<"I32" | "I16" | "I8" | "U8" | "BOOL", [number, number]> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
};

/** Encode one tensor's data as little-endian bytes, validating length and values. */
function encodeData(t: TensorInput, n: number, fail: (msg: string) => never): Uint8Array {
  const { dtype, data } = t;
  const size = DTYPE_SIZES[dtype];
  if (data instanceof Uint8Array) {
    if (data.byteLength !== n * size) {
      fail(`shape ${fmtShape(t.shape)} of ${dtype} needs ${n * size} bytes but the Uint8Array has ${data.byteLength}`);
    }
    if (dtype === "BOOL") {
      for (let i = 0; i < data.length; i++) {
        if (data[i] > 1) fail(`BOOL value at index ${i} is ${data[i]}, expected 0 or 1`);
      }
    }
    return data;
  }
  if (data.length !== n) {
    fail(`shape ${fmtShape(t.shape)} has ${n} elements but the data has ${data.length}`);
  }
  if (data instanceof BigInt64Array) {
    if (dtype !== "I64") fail(`BigInt64Array data can only be written as I64, not ${dtype}`);
    return leBytes(data);
  }
  const values = data as ArrayLike<number>;
  switch (dtype) {
    case "F32":
      return leBytes(data instanceof Float32Array ? data : Float32Array.from(values));
    case "F64":
      return leBytes(data instanceof Float64Array ? data : Float64Array.from(values));
    case "F16":
    case "BF16": {
      if (data instanceof Uint16Array) return leBytes(data);
      if (data instanceof Float32Array) {
        return leBytes(dtype === "F16" ? float32ToFloat16Bits(data) : float32ToBFloat16Bits(data));
      }
      const conv = dtype === "F16" ? floatToHalfBits : floatToBFloat16Bits;
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = conv(values[i]);
      return leBytes(out);
    }
    case "I64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (!Number.isSafeInteger(v)) fail(`I64 value at index ${i} is ${v}, expected a safe integer`);
        out[i] = BigInt(v);
      }
      return leBytes(out);
    }
    case "I32":
    case "I16":
    case "I8":
    case "U8":
    case "BOOL": {
      const matching =
        (dtype === "I32" && data instanceof Int32Array) ||
        (dtype === "I16" && data instanceof Int16Array) ||
        (dtype === "I8" && data instanceof Int8Array);
      if (matching) return leBytes(data as Int32Array | Int16Array | Int8Array);
      const [lo, hi] = INT_RANGES[dtype];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (!Number.isInteger(v) || v < lo || v > hi) {
          fail(`${dtype} value at index ${i} is ${v}, expected an integer in [${lo}, ${hi}]`);
        }
      }
      const out =
        dtype === "I32" ? Int32Array.from(values) :
        dtype === "I16" ? Int16Array.from(values) :
        dtype === "I8" ? Int8Array.from(values) :
        Uint8Array.from(values);
      return leBytes(out);
    }
    default:
      return fail(`unknown dtype ${describe(dtype)}`);
  }
}

/** Compare strings by Unicode code point (equivalently, by UTF-8 bytes). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

/**
 * Serialize tensors to safetensors bytes. Tensors are written in sorted name
 * order (header keys and data alike), `__metadata__` first when given, and the
 * header is padded with spaces to a multiple of 8 bytes.
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
  label = "serializeSafetensors",
): Uint8Array<ArrayBuffer> {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${label}: ${msg}`);
  };
  const names = Object.keys(tensors).sort(compareCodePoints);
  const parts: string[] = [];
  if (metadata !== undefined) {
    const entries = Object.keys(metadata).sort(compareCodePoints).map((k) => {
      const v: unknown = metadata[k];
      if (typeof v !== "string") {
        fail(`__metadata__ value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${entries.join(",")}}`);
  }

  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const failTensor: (msg: string) => never = (msg) => fail(`tensor ${JSON.stringify(name)}: ${msg}`);
    if (name === "__metadata__") failTensor("this name is reserved for metadata");
    const t = tensors[name];
    if (!isDType(t.dtype)) {
      failTensor(`unknown dtype ${describe(t.dtype)} (supported: ${SAFETENSORS_DTYPES.join(", ")})`);
    }
    const shapeError = checkShape(t.shape);
    if (shapeError !== undefined) failTensor(shapeError);
    const n = numElements(t.shape) as number;
    const bytes = encodeData(t, n, failTensor);
    chunks.push(bytes);
    const end = offset + bytes.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":${JSON.stringify(t.dtype)},"shape":[${t.shape.join(",")}],` +
        `"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }

  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}
