/**
 * Weight files of 2 GiB or more (BERT-large, T5-large): `readFile` refuses them, so the reader
 * takes the header and then each tensor by a positioned read. The test file is sparse: its
 * header declares a data section of 2 GiB + 16 bytes, but only the header and the last tensor
 * are written, so it costs a few KiB of disk. A file cut short is a named error.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SafetensorsError, readSafetensorsFile, readSafetensorsFileSync, readSafetensorsIndex, readTensorNamesSync } from "../../src/io/safetensors.js";

const BIG = 2 ** 31 + 8;
let dir: string;
let file: string;
let size: number;

/** The sparse test file at `f`, then cut short by `cut` bytes. */
function writeSparse(f: string, cut = 0): number {
  const header = JSON.stringify({
    big: { dtype: "U8", shape: [BIG], data_offsets: [0, BIG] },
    tail: { dtype: "F32", shape: [2], data_offsets: [BIG, BIG + 8] },
  });
  const headerBytes = Buffer.from(header.padEnd(Math.ceil(header.length / 8) * 8, " "));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  const tail = Buffer.from(new Float32Array([1.5, -2.25]).buffer);
  const fd = fs.openSync(f, "w");
  fs.writeSync(fd, len, 0, 8, 0);
  fs.writeSync(fd, headerBytes, 0, headerBytes.length, 8);
  fs.writeSync(fd, tail, 0, 8, 8 + headerBytes.length + BIG); // leaves a 2 GiB hole
  if (cut > 0) fs.ftruncateSync(fd, fs.fstatSync(fd).size - cut);
  fs.closeSync(fd);
  return fs.statSync(f).size;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "propetl-large-"));
  file = path.join(dir, "model.safetensors");
  size = writeSparse(file);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a weight file over 2 GiB: header and tensors by positioned reads, no whole-file buffer", async () => {
  assert.ok(size > 2 ** 31, `the file is ${size} bytes`);
  const index = await readSafetensorsIndex(file);
  assert.deepEqual([...index.entries.keys()], ["big", "tail"]);
  assert.equal(index.fileSize, size);
  assert.deepEqual(readTensorNamesSync(file), ["big", "tail"]);
  for (const st of [await readSafetensorsFile(file, { only: (n) => n === "tail" }), readSafetensorsFileSync(file, { only: (n) => n === "tail" })]) {
    assert.deepEqual([...st.tensors.keys()], ["tail"]);
    const t = st.tensors.get("tail");
    assert.ok(t);
    assert.deepEqual(Array.from(new Float32Array(t.data.slice().buffer)), [1.5, -2.25]);
  }
});

test("a weight file over 2 GiB cut short: a named error saying it is truncated", async () => {
  const cut = path.join(dir, "cut.safetensors");
  assert.equal(writeSparse(cut, 3), size - 3);
  await assert.rejects(readSafetensorsIndex(cut), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, String(e));
    assert.match(e.message, /cut\.safetensors: tensor "tail": data_offsets \[2147483656,2147483664\] extend past the end of the data section .*truncated file/);
    return true;
  });
  await assert.rejects(readSafetensorsFile(cut, { only: () => true }), SafetensorsError);
  fs.rmSync(cut);
});
