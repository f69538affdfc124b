/**
 * The one text reader (io/text-lines.ts) and the readers built on it: strict UTF-8 with the
 * file and line named, Latin-1 on request, BOM and CRLF, stream chunks that split a character,
 * and task files / predict inputs that used to turn invalid bytes into U+FFFD silently.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { parseTextEncoding, splitTextLines, streamTextLines, TextDecodeError } from "../../src/io/text-lines.js";
import { customTask } from "../../src/data/custom-task.js";
import { readTaskFile, readTaskFileSync } from "../../src/data/read-examples.js";
import { runCli } from "../helpers/cli.js";

let work: string;
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-text-lines-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test("splitTextLines: BOM, CRLF, final newline, strict UTF-8 naming the line, Latin-1 on request", () => {
  assert.deepEqual(splitTextLines(utf8("\uFEFFa\r\nb\n\nc\n"), "f"), ["a", "b", "", "c"]);
  const latin = Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x6e, 0x61, 0xef, 0x76, 0x65]); // "café\nnaïve" in Latin-1
  assert.throws(() => splitTextLines(latin, "f.tsv", { what: "train" }), (e: Error) => e instanceof TextDecodeError && e.message === "f.tsv:1: invalid UTF-8 (train)" && e.line === 1);
  assert.deepEqual(splitTextLines(latin, "f.tsv", { encoding: "latin1" }), ["café", "naïve"]);
  assert.equal(parseTextEncoding("ISO-8859-1"), "latin1");
  assert.equal(parseTextEncoding("UTF8"), "utf-8");
  assert.throws(() => parseTextEncoding("cp1252"), /unknown text encoding "cp1252" \(accepted: utf-8, latin1\)/);
});

test("streamTextLines: a character split across chunks decodes; a bad byte names its line", async () => {
  const bytes = utf8("añb\nüç\nlast");
  const chunks = Array.from(bytes, (b) => Uint8Array.of(b)); // one byte per chunk
  const out: string[] = [];
  for await (const l of streamTextLines(Readable.from(chunks), "s")) out.push(l);
  assert.deepEqual(out, ["añb", "üç", "last"]);
  const bad = Readable.from([utf8("ok\n"), Uint8Array.of(0x61, 0xff, 0x0a)]);
  await assert.rejects(async () => {
    for await (const _ of streamTextLines(bad, "in.jsonl", { hint: "pass --encoding latin1" })) void _;
  }, /in\.jsonl:2: invalid UTF-8; pass --encoding latin1/);
});

test("task files: invalid UTF-8 is an error naming file and line (both readers), --encoding latin1 keeps the accents", async () => {
  const dir = path.join(work, "task");
  mkdirSync(dir);
  const rows = Buffer.concat([Buffer.from("text\tlabel\nplain row\tpos\n"), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from("\tneg\n")]);
  writeFileSync(path.join(dir, "train.tsv"), rows);
  writeFileSync(path.join(dir, "dev.tsv"), rows);
  const task = customTask({ path: dir, format: "tsv", textColumn: "text", labelColumn: "label", labels: ["neg", "pos"], kind: "classification" });
  const file = path.join(dir, "train.tsv");
  await assert.rejects(readTaskFile(task, file), /train\.tsv:3: invalid UTF-8; if the file is Latin-1 \(ISO-8859-1\), pass --encoding latin1/);
  assert.throws(() => readTaskFileSync(task, file), /train\.tsv:3: invalid UTF-8/);
  const ok = await readTaskFile(task, file, { encoding: "latin1" });
  assert.equal(ok.examples[1].text, "café");
  const r = await runCli(["train", "--task-dir", dir, "--text-column", "text", "--label-column", "label", "--labels", "neg,pos", "--max-steps", "1", "--output", path.join(work, "out")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /train\.tsv:3: invalid UTF-8/);
  const bad = await runCli(["train", "--task-dir", dir, "--text-column", "text", "--label-column", "label", "--labels", "neg,pos", "--encoding", "cp1252", "--output", path.join(work, "out2")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--encoding: unknown text encoding "cp1252"/);
});
