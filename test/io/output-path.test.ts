/**
 * Output targets checked before the work (io/output-path.ts): folders made one level at a
 * time with a bound, a file or folder in the way, an unwritable place, and `predict --output`
 * refusing a folder / an unwritable path before any inference (it used to throw an unhandled
 * stream error after all of it) and writing its file whole.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../helpers/cli.js";
import { FIXTURES } from "../helpers/fixtures.js";
import { tinyModelDir } from "../train/helpers.js";
import { checkOutputFile, checkWritableFolder, makeDirBounded, MAX_NEW_LEVELS, OutputPathError } from "../../src/io/output-path.js";

let work: string;
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-output-path-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

test("makeDirBounded: creates missing levels, refuses too many and files in the way", () => {
  const d = path.join(work, "a", "b", "c");
  makeDirBounded(d);
  assert.ok(existsSync(d));
  const tooDeep = path.join(work, ...Array.from({ length: MAX_NEW_LEVELS + 1 }, (_, i) => `l${i}`));
  assert.throws(() => makeDirBounded(tooDeep), (e: Error) => e instanceof OutputPathError && /more than 32 missing folder levels/.test(e.message));
  assert.ok(!existsSync(path.join(work, "l0")), "nothing created when refused");
  const file = path.join(work, "f");
  writeFileSync(file, "x");
  assert.throws(() => makeDirBounded(path.join(file, "sub")), /f is a file, not a folder/);
});

test("checkOutputFile / checkWritableFolder: a folder as file, an unwritable place; probe files removed", () => {
  const dir = path.join(work, "out");
  mkdirSync(dir);
  assert.throws(() => checkOutputFile(dir, "--output file"), /out: is a folder, expected the --output file/);
  checkOutputFile(path.join(dir, "new", "preds.jsonl"));
  assert.deepEqual(readdirSync(path.join(dir, "new")), []);
  assert.throws(() => checkWritableFolder("/proc/propetl-test/out"), OutputPathError);
  assert.throws(() => checkOutputFile("/proc/self/preds.jsonl"), /cannot write to the folder of the output file \/proc\/self/);
});

test("predict: --output a folder or an unwritable path is refused before inference, the file is written whole; a tokenizer too large for the model is refused at load", async () => {
  const model = tinyModelDir(path.join(work, "tiny-bert-vocab"));
  const ckpt = path.join(FIXTURES, "checkpoints", "v1-prefix");
  const asDir = path.join(work, "preds-dir");
  mkdirSync(asDir);
  const r1 = await runCli(["predict", "--model", model, "--checkpoint", ckpt, "--text", "the cat", "--output", asDir]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /preds-dir: is a folder, expected the --output file/);
  const r2 = await runCli(["predict", "--model", model, "--checkpoint", ckpt, "--text", "the cat", "--output", "/proc/self/x/preds.jsonl"]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /\/proc\/self\/x/);
  const out = path.join(work, "p", "preds.jsonl");
  const r3 = await runCli(["predict", "--model", model, "--checkpoint", ckpt, "--text", "the cat", "--output", out]);
  assert.equal(r3.code, 0, r3.stderr);
  const line = JSON.parse(readFileSync(out, "utf8").trim()) as { text: string; label: string };
  assert.equal(line.text, "the cat");
  // A tokenizer larger than the model's vocabulary is refused at load (predict used to fail only when some text hit a bad id).
  const big = path.join(work, "big-vocab");
  tinyModelDir(big);
  writeFileSync(path.join(big, "vocab.txt"), Array.from({ length: 500 }, (_, i) => (i < 5 ? ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"][i] : `w${i}`)).join("\n") + "\n");
  const r4 = await runCli(["predict", "--model", big, "--checkpoint", ckpt, "--text", "the cat"]);
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /big-vocab: the tokenizer has 500 ids but the model's vocab_size is \d+ \(config\.json\): they do not belong together/);
});
