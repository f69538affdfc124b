import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DataFormatError } from "../../src/data/read-examples.js";
import {
  isSeq2SeqBuiltinName,
  loadSeq2SeqTask,
  readSeq2SeqFile,
  SEQ2SEQ_BUILTINS,
  seq2seqBuiltinNames,
  seq2seqInput,
  summarizationTask,
  type Seq2SeqFormat,
  type Seq2SeqTask,
} from "../../src/data/seq2seq.js";
import * as api from "../../src/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

let tmp = "";
before(() => {
  tmp = mkdtempSync(join(tmpdir(), "seq2seq-test-"));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Writes `content` (string or bytes) to a file in the temp folder and returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const p = join(tmp, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** Asserts that `fn` throws a DataFormatError whose message is exactly `${path}:${line}: ${problem}`. */
function throwsAt(fn: () => unknown, path: string, line: number, problem: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `expected a DataFormatError, got ${String(e)}`);
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    if (typeof problem === "string") assert.equal(e.message, `${path}:${line}: ${problem}`);
    else assert.match(e.problem, problem);
    return true;
  });
}

const JSONL: Seq2SeqFormat = { kind: "jsonl" };

describe("built-in bible-es-en", () => {
  test("loads, and each split has one example per line of its shipped file", () => {
    const data = loadSeq2SeqTask("bible-es-en");
    assert.equal(data.task.prefix, "translate Spanish to English: ");
    assert.equal(data.task.metric, "bleu");
    assert.equal(data.task.dir, join(ROOT, "data", "bible-es-en"));
    for (const split of ["train", "validation", "test"] as const) {
      const text = readFileSync(join(ROOT, "data", "bible-es-en", `${split}.jsonl`), "utf8");
      const lines = text.split("\n").filter((l) => l !== "").length;
      assert.ok(lines > 0, split);
      assert.equal(data[split].length, lines, split);
      const first = JSON.parse(text.slice(0, text.indexOf("\n"))) as { id: string; source: string; target: string };
      assert.deepEqual(data[split][0], first);
    }
    assert.equal(data.validation[0]?.id, "Ruth.1.1");
    // Split by book: no book in two splits.
    const books = (xs: readonly { id: string }[]): Set<string> => new Set(xs.map((x) => x.id.split(".")[0] as string));
    const [tr, va, te] = [books(data.train), books(data.validation), books(data.test)];
    assert.deepEqual([...va].sort(), ["Jonah", "Phlm", "Ruth", "Titus"]);
    assert.deepEqual([...te].sort(), ["Eph", "Esth", "Gal", "Jas"]);
    for (const b of tr) assert.ok(!va.has(b) && !te.has(b), b);
    assert.equal(seq2seqInput(data.task, data.validation[0] as api.Seq2SeqExample), `translate Spanish to English: ${data.validation[0]?.source}`);
  });

  test("builtin names, unknown names and the public API", () => {
    assert.deepEqual(seq2seqBuiltinNames(), ["bible-es-en"]);
    assert.ok(isSeq2SeqBuiltinName("bible-es-en"));
    assert.ok(!isSeq2SeqBuiltinName("toString"));
    assert.throws(() => loadSeq2SeqTask("xsum"), /unknown text-to-text task "xsum" \(built-in: bible-es-en;/);
    assert.equal(api.loadSeq2SeqTask, loadSeq2SeqTask);
    assert.equal(api.SEQ2SEQ_BUILTINS, SEQ2SEQ_BUILTINS);
  });

  test("dataDir points the built-ins at another folder (a missing file names its path)", () => {
    const dir = join(tmp, "data-copy");
    assert.throws(() => loadSeq2SeqTask("bible-es-en", { dataDir: dir }), (e: unknown) => e instanceof Error && e.message === `${join(dir, "bible-es-en", "train.jsonl")}: file not found (train split of task "bible-es-en")`);
  });
});

describe("custom files", () => {
  test("JSONL with configurable fields, ids from the file or <split>-<line>, empty lines skipped, CRLF and BOM accepted", () => {
    const p = file("a.jsonl", '\ufeff{"id":"x1","es":"Hola","en":"Hello"}\r\n\n{"es":"Adiós","en":"Goodbye","n":3}\n{"id":7,"es":" sí ","en":"yes"}');
    assert.deepEqual(readSeq2SeqFile(p, { kind: "jsonl", sourceField: "es", targetField: "en" }, "train"), [
      { id: "x1", source: "Hola", target: "Hello" },
      { id: "train-3", source: "Adiós", target: "Goodbye" },
      { id: "7", source: " sí ", target: "yes" },
    ]);
  });

  test("Hugging Face translation JSONL picks the languages", () => {
    const p = file("hf.jsonl", '{"translation":{"en":"The house","es":"La casa"}}\n{"id":"b","translation":{"es":"El perro","en":"The dog","fr":"Le chien"}}\n');
    assert.deepEqual(readSeq2SeqFile(p, { kind: "hf-translation", sourceLang: "es", targetLang: "en" }, "validation"), [
      { id: "validation-1", source: "La casa", target: "The house" },
      { id: "b", source: "El perro", target: "The dog" },
    ]);
    assert.deepEqual(readSeq2SeqFile(p, { kind: "hf-translation", sourceLang: "en", targetLang: "es" }, "v").map((x) => x.target), ["La casa", "El perro"]);
  });

  test("TSV with a header row, columns by name", () => {
    const p = file("t.tsv", 'id\tsrc\ttgt\nr1\tuno "1"\tone\nr2\tdos\ttwo\n');
    assert.deepEqual(readSeq2SeqFile(p, { kind: "tsv", sourceColumn: "src", targetColumn: "tgt" }, "test"), [
      { id: "r1", source: 'uno "1"', target: "one" },
      { id: "r2", source: "dos", target: "two" },
    ]);
    const q = file("u.tsv", "target\tsource\nuno\tone\n");
    assert.deepEqual(readSeq2SeqFile(q, { kind: "tsv" }, "train"), [{ id: "train-2", source: "one", target: "uno" }]);
  });

  test("a custom task with relative files in dir; no test file gives no test examples", () => {
    file("task1/tr.jsonl", '{"source":"a b","target":"c d"}\n');
    file("task1/va.jsonl", '{"source":"e","target":"f"}\n{"source":"g","target":"h"}\n');
    const task: Seq2SeqTask = { name: "mine", prefix: "", metric: "bleu", format: JSONL, files: { train: "tr.jsonl", validation: "va.jsonl" }, dir: join(tmp, "task1") };
    const d = loadSeq2SeqTask(task);
    assert.equal(d.train.length, 1);
    assert.equal(d.validation.length, 2);
    assert.deepEqual(d.test, []);
    assert.equal(d.validation[1]?.id, "validation-2");
  });

  test("summarization tasks: XSum-style document/summary JSONL, ROUGE-2, prefix 'summarize: '", () => {
    file("xsum/train.jsonl", '{"id":"35232142","document":"The full cost of damage in Newton Stewart is still being assessed.","summary":"Clean-up operations are continuing."}\n');
    file("xsum/validation.jsonl", '{"id":"1","document":"A long article.","summary":"Short."}\n');
    file("xsum/test.jsonl", '{"id":"2","document":"Another article.","summary":""}\n');
    const task = summarizationTask({ name: "xsum-mini", dir: join(tmp, "xsum"), files: { train: "train.jsonl", validation: "validation.jsonl" } });
    assert.equal(task.metric, "rouge2");
    assert.equal(task.prefix, "summarize: ");
    const d = loadSeq2SeqTask(task);
    assert.deepEqual(d.train, [{ id: "35232142", source: "The full cost of damage in Newton Stewart is still being assessed.", target: "Clean-up operations are continuing." }]);
    assert.equal(seq2seqInput(task, d.validation[0] as api.Seq2SeqExample), "summarize: A long article.");
    const withTest = summarizationTask({ name: "x", dir: join(tmp, "xsum"), files: { train: "train.jsonl", validation: "validation.jsonl", test: "test.jsonl" } });
    throwsAt(() => loadSeq2SeqTask(withTest), join(tmp, "xsum", "test.jsonl"), 1, 'field "summary" is empty');
    const renamed = summarizationTask({ name: "y", dir: join(tmp, "xsum"), documentField: "text", files: { train: "train.jsonl", validation: "validation.jsonl" } });
    throwsAt(() => loadSeq2SeqTask(renamed), join(tmp, "xsum", "train.jsonl"), 1, 'field "text" is missing');
  });
});

describe("bad input gives a named error", () => {
  test("JSONL: missing field, wrong type, empty text, not JSON, not an object, bad id", () => {
    const lines = Array.from({ length: 16 }, (_, i) => JSON.stringify({ source: `s${i}`, target: `t${i}` }));
    const p = file("bad1.jsonl", [...lines, '{"source":"s"}'].join("\n") + "\n");
    throwsAt(() => readSeq2SeqFile(p, JSONL, "train"), p, 17, 'field "target" is missing');
    const q = file("bad2.jsonl", '{"source":"a","target":"b"}\n{"source":"a","target":"b",}\n');
    throwsAt(() => readSeq2SeqFile(q, JSONL, "train"), q, 2, /^not valid JSON \(/);
    const r = file("bad3.jsonl", '["a","b"]\n');
    throwsAt(() => readSeq2SeqFile(r, JSONL, "train"), r, 1, "expected a JSON object, got an array");
    const s = file("bad4.jsonl", '{"source":5,"target":"b"}\n');
    throwsAt(() => readSeq2SeqFile(s, JSONL, "train"), s, 1, 'field "source" is a number, expected a string');
    const t = file("bad5.jsonl", '{"source":"a","target":"b"}\n{"source":"  ","target":"b"}\n');
    throwsAt(() => readSeq2SeqFile(t, JSONL, "train"), t, 2, 'field "source" is empty');
    const u = file("bad6.jsonl", '{"source":"a","target":""}\n');
    throwsAt(() => readSeq2SeqFile(u, JSONL, "train"), u, 1, 'field "target" is empty');
    const v = file("bad7.jsonl", '{"id":null,"source":"a","target":"b"}\n');
    throwsAt(() => readSeq2SeqFile(v, JSONL, "train"), v, 1, 'field "id" is null, expected a non-empty string or a number');
    const w = file("bad8.jsonl", '{"source":"a","target":"b"}\n   \n');
    throwsAt(() => readSeq2SeqFile(w, JSONL, "train"), w, 2, /^not valid JSON/);
  });

  test("invalid UTF-8 names the line", () => {
    const bytes = Buffer.concat([Buffer.from('{"source":"a","target":"b"}\n{"source":"caf'), Buffer.from([0xe9]), Buffer.from('","target":"b"}\n')]);
    const p = file("latin1.jsonl", bytes);
    throwsAt(() => readSeq2SeqFile(p, JSONL, "train"), p, 2, "invalid UTF-8");
    const q = file("latin1.tsv", Buffer.concat([Buffer.from("source\ttarget\n"), Buffer.from([0x61, 0xff]), Buffer.from("\tb\n")]));
    throwsAt(() => readSeq2SeqFile(q, { kind: "tsv" }, "train"), q, 2, "invalid UTF-8");
  });

  test("HF translation: missing translation, wrong type, missing language", () => {
    const p = file("hf-bad1.jsonl", '{"translation":{"es":"a","en":"b"}}\n{"es":"a","en":"b"}\n');
    throwsAt(() => readSeq2SeqFile(p, { kind: "hf-translation", sourceLang: "es", targetLang: "en" }, "train"), p, 2, 'field "translation" is missing');
    const q = file("hf-bad2.jsonl", '{"translation":"es: a"}\n');
    throwsAt(() => readSeq2SeqFile(q, { kind: "hf-translation", sourceLang: "es", targetLang: "en" }, "train"), q, 1, 'field "translation" is a string, expected an object of language code → text');
    const r = file("hf-bad3.jsonl", '{"translation":{"es":"a","fr":"b"}}\n');
    throwsAt(() => readSeq2SeqFile(r, { kind: "hf-translation", sourceLang: "es", targetLang: "en" }, "train"), r, 1, 'field "translation.en" is missing');
  });

  test("TSV: missing column in the header, wrong column count, empty cell, empty file", () => {
    const p = file("tb1.tsv", "src\ttarget\na\tb\n");
    throwsAt(() => readSeq2SeqFile(p, { kind: "tsv" }, "train"), p, 1, 'header has no column "source" (columns: src, target)');
    const q = file("tb2.tsv", "source\ttarget\na\tb\nc\td\te\n");
    throwsAt(() => readSeq2SeqFile(q, { kind: "tsv" }, "train"), q, 3, "expected 2 tab-separated columns (source, target), found 3");
    const r = file("tb3.tsv", "source\ttarget\na\t \n");
    throwsAt(() => readSeq2SeqFile(r, { kind: "tsv" }, "train"), r, 2, 'column "target" is empty');
    const s = file("tb4.tsv", "");
    throwsAt(() => readSeq2SeqFile(s, { kind: "tsv" }, "train"), s, 1, "file is empty (expected a header row naming the columns)");
  });

  test("a missing file or a folder names the path; a bad task description is rejected", () => {
    const missing = join(tmp, "nope", "train.jsonl");
    assert.throws(() => readSeq2SeqFile(missing, JSONL, "train"), (e: unknown) => e instanceof Error && e.message === `${missing}: file not found (train split)`);
    assert.throws(() => readSeq2SeqFile(tmp, JSONL, "train"), (e: unknown) => e instanceof Error && e.message === `${tmp}: is a folder, expected a file (train split)`);
    const base: Seq2SeqTask = { name: "t", prefix: "", metric: "bleu", format: JSONL, files: { train: "a", validation: "b" }, dir: tmp };
    assert.throws(() => loadSeq2SeqTask({ ...base, metric: "accuracy" as unknown as "bleu" }), /Seq2SeqTask "t": metric must be "bleu" or "rouge2", got "accuracy"/);
    assert.throws(() => loadSeq2SeqTask({ ...base, format: { kind: "csv" } as unknown as Seq2SeqFormat }), /format\.kind must be one of jsonl, hf-translation, tsv, got "csv"/);
    assert.throws(() => loadSeq2SeqTask({ ...base, format: { kind: "hf-translation", sourceLang: "", targetLang: "en" } }), /format\.sourceLang must be a language code/);
    assert.throws(() => loadSeq2SeqTask({ ...base, files: { train: "a", validation: "" } }), /files\.validation must be a file path/);
    assert.throws(() => loadSeq2SeqTask({ ...base }), (e: unknown) => e instanceof Error && e.message === `${join(tmp, "a")}: file not found (train split of task "t")`);
  });
});
