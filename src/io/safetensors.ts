/**
 * Reader and writer of safetensors files on Node: the header first, then each tensor by a
 * positioned read (files of 2 GiB and more load; a file shorter than its header says is
 * "truncated"), and atomic writes. The format itself (header validation, parsing bytes,
 * serializing, dtype conversions) is `safetensors-format.ts`, re-exported here, which the
 * byte and URL loaders use too.
 */
import { promises as fsp } from "node:fs";
import * as fs from "node:fs";
import { writeFileAtomic, writeFileAtomicSync } from "./atomic-write.js";
import type { AtomicWriteOptions } from "./atomic-write.js";
import { headerLength, parseHeader, serializeSafetensors, SafetensorsError } from "./safetensors-format.js";
import type { SafetensorsFile, SafetensorsIndex, TensorEntry, TensorInput } from "./safetensors-format.js";

export * from "./safetensors-format.js";

/**
 * Largest single read: `read(2)` moves at most about 2 GiB per call on Linux, and Node refuses
 * a length above 2^31 − 1, so bigger spans are read in pieces.
 */
const READ_CHUNK = 1 << 30;

/** Fill `out` from `fd` at file offset `position` (positioned reads; a short read is an error naming the file). */
function readFullySync(fd: number, out: Uint8Array, position: number, fileName: string): void {
  let done = 0;
  while (done < out.length) {
    const n = fs.readSync(fd, out, done, Math.min(READ_CHUNK, out.length - done), position + done);
    if (n === 0) throw new SafetensorsError(`${fileName}: truncated file: the file ended at byte ${position + done} while reading ${out.length} bytes from byte ${position}`);
    done += n;
  }
}

async function readFully(handle: fsp.FileHandle, out: Uint8Array, position: number, fileName: string): Promise<void> {
  let done = 0;
  while (done < out.length) {
    const { bytesRead } = await handle.read(out, done, Math.min(READ_CHUNK, out.length - done), position + done);
    if (bytesRead === 0) throw new SafetensorsError(`${fileName}: truncated file: the file ended at byte ${position + done} while reading ${out.length} bytes from byte ${position}`);
    done += bytesRead;
  }
}

/** An I/O error of reading `path` as a named error (a folder where a file is expected, a missing file). */
function ioError(e: unknown, path: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "EISDIR") return new SafetensorsError(`${path}: is a folder, expected a safetensors file`);
  if (code === "ENOENT") return new SafetensorsError(`${path}: not found`);
  if (code === "EACCES" || code === "EPERM") return new SafetensorsError(`${path}: not readable (permission denied)`);
  return e;
}

/** Options of the file readers. */
export interface ReadSafetensorsOptions {
  /** Read only the tensors this accepts (the rest are validated from the header but not read). */
  only?: (name: string) => boolean;
}

/**
 * The validated header of a safetensors file, read with positioned reads: a file of any size
 * (model weights of several GiB) costs its header only. A file shorter than its header
 * describes is a `SafetensorsError` saying it is truncated.
 */
export async function readSafetensorsIndex(path: string): Promise<SafetensorsIndex> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, "r");
    return await indexOf(handle, path);
  } catch (e) {
    throw ioError(e, path);
  } finally {
    await handle?.close();
  }
}

async function indexOf(handle: fsp.FileHandle, path: string): Promise<SafetensorsIndex> {
  const stat = await handle.stat();
  if (stat.isDirectory()) throw new SafetensorsError(`${path}: is a folder, expected a safetensors file`);
  const size = stat.size;
  const prefix = new Uint8Array(8);
  if (size >= 8) await readFully(handle, prefix, 0, path);
  const headerLen = headerLength(prefix, size, path);
  const headerBytes = new Uint8Array(headerLen);
  await readFully(handle, headerBytes, 8, path);
  return parseHeader(headerBytes, size, path);
}

/**
 * Read and parse a safetensors file: the header, then each tensor by a positioned read into
 * its own buffer, so no buffer holds the whole file (`readFile` fails at 2 GiB, and BERT-large
 * or T5-large weights are bigger).
 */
export async function readSafetensorsFile(path: string, opts: ReadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, "r");
    const index = await indexOf(handle, path);
    const tensors = new Map<string, TensorEntry>();
    for (const [name, t] of index.entries) {
      if (opts.only && !opts.only(name)) continue;
      const data = new Uint8Array(t.end - t.begin);
      await readFully(handle, data, index.dataStart + t.begin, path);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, data });
    }
    return { tensors, metadata: index.metadata };
  } catch (e) {
    throw ioError(e, path);
  } finally {
    await handle?.close();
  }
}

/** Synchronous variant of {@link readSafetensorsIndex}. */
export function readSafetensorsIndexSync(path: string): SafetensorsIndex {
  return readSync(path, () => false).index;
}

function readSync(path: string, only: (name: string) => boolean): { index: SafetensorsIndex; file: SafetensorsFile } {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, "r");
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new SafetensorsError(`${path}: is a folder, expected a safetensors file`);
    const prefix = new Uint8Array(8);
    if (stat.size >= 8) readFullySync(fd, prefix, 0, path);
    const headerLen = headerLength(prefix, stat.size, path);
    const headerBytes = new Uint8Array(headerLen);
    readFullySync(fd, headerBytes, 8, path);
    const index = parseHeader(headerBytes, stat.size, path);
    const tensors = new Map<string, TensorEntry>();
    for (const [name, t] of index.entries) {
      if (!only(name)) continue;
      const data = new Uint8Array(t.end - t.begin);
      readFullySync(fd, data, index.dataStart + t.begin, path);
      tensors.set(name, { dtype: t.dtype, shape: t.shape, data });
    }
    return { index, file: { tensors, metadata: index.metadata } };
  } catch (e) {
    throw ioError(e, path);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Synchronous variant of {@link readSafetensorsFile}. */
export function readSafetensorsFileSync(path: string, opts: ReadSafetensorsOptions = {}): SafetensorsFile {
  return readSync(path, opts.only ?? (() => true)).file;
}

/**
 * The tensor names of a safetensors file, reading only its header (for a model file of
 * gigabytes this is what is needed to tell a `bert.`- from a `roberta.`-prefixed model).
 */
export function readTensorNamesSync(path: string): string[] {
  return [...readSafetensorsIndexSync(path).entries.keys()];
}

/** Serialize and write a safetensors file atomically (temp file + fsync + rename). */
export async function writeSafetensorsFile(
  path: string,
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata, path), opts);
}

/** Synchronous variant of {@link writeSafetensorsFile}. */
export function writeSafetensorsFileSync(
  path: string,
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  writeFileAtomicSync(path, serializeSafetensors(tensors, metadata, path));
}
