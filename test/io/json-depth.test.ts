/**
 * The JSON nesting limit: documents nested thousands of levels deep (which overflow
 * `JSON.parse`'s stack) are refused with a named error by every reader of user JSON —
 * config.json, safetensors headers, adapter_config.json, JSONL data — while strings that
 * merely contain brackets are not counted.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkJsonDepth, JsonDepthError, MAX_JSON_DEPTH } from "../../src/io/json-depth.js";
import { parseSafetensors } from "../../src/io/safetensors.js";
import { readModelConfig } from "../../src/models/config-file.js";
import { readSeq2SeqFile } from "../../src/data/seq2seq.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";

const deep = (n: number): string => "[".repeat(n) + "]".repeat(n);
let work: string;
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-json-depth-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

test("checkJsonDepth: the limit, the position, strings and escapes skipped", () => {
  checkJsonDepth(deep(MAX_JSON_DEPTH), "x");
  assert.throws(() => checkJsonDepth(deep(MAX_JSON_DEPTH + 1), "f.json"), (e: Error) => e instanceof JsonDepthError && e.message === `f.json: JSON nested deeper than ${MAX_JSON_DEPTH} levels at character ${MAX_JSON_DEPTH + 1}`);
  checkJsonDepth(JSON.stringify({ s: "[".repeat(5000) + '\\"{' }), "strings");
  assert.throws(() => checkJsonDepth('{"a": "\\\\"' + "{".repeat(300), "escaped backslash"), JsonDepthError);
});

test("config.json, a safetensors header, adapter_config.json and a JSONL line nested 5,000 deep are named errors", async () => {
  const cfg = path.join(work, "config.json");
  writeFileSync(cfg, `{"model_type": "bert", "x": ${deep(5000)}}`);
  assert.throws(() => readModelConfig(cfg), (e: Error) => e.message.startsWith(cfg) && e.message.includes("JSON nested deeper than 256 levels"));

  const header = Buffer.from(`{"__metadata__": {"a": "b"}, "t": {"dtype": "F32", "shape": ${deep(5000)}, "data_offsets": [0, 0]}}`);
  const bytes = new Uint8Array(8 + header.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  assert.throws(() => parseSafetensors(bytes, "w.safetensors"), /w\.safetensors header: JSON nested deeper than 256 levels/);

  const ckpt = path.join(work, "ckpt");
  mkdirSync(ckpt);
  writeFileSync(path.join(ckpt, "adapter_config.json"), `{"format": "propetl-task", "module": ${"{\"a\":".repeat(4000)}1${"}".repeat(4000)}}`);
  writeFileSync(path.join(ckpt, "adapter_model.safetensors"), bytes);
  await assert.rejects(loadTaskCheckpoint(ckpt), /adapter_config\.json: JSON nested deeper than 256 levels/);

  const jsonl = path.join(work, "train.jsonl");
  writeFileSync(jsonl, `{"source": "a", "target": "b"}\n{"source": ${deep(5000)}, "target": "b"}\n`);
  assert.throws(() => readSeq2SeqFile(jsonl, { kind: "jsonl" }, "train"), /train\.jsonl:2: JSON nested deeper than 256 levels/);
});
