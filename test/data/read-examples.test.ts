import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DataFormatError,
  parseExamples,
  readExamples,
  readExamplesSync,
  readTaskFile,
  readTaskFileSync,
  readTaskSplit,
  schemaOf,
  taskSplitPath,
  type ReadResult,
  type RowSchema,
} from "../../src/data/read-examples.js";
import { getTask, type TaskSpec } from "../../src/data/tasks.js";
import { customTask } from "../../src/data/custom-task.js";

// dist/test/data/ -> repository root; GLUE data lives in ../shared/data/glue
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const GLUE = resolve(ROOT, "../shared/data/glue");
const noGlue = existsSync(join(GLUE, "RTE", "train.tsv")) ? false : `GLUE data not found at ${GLUE}`;

let tmp = "";
before(() => {
  tmp = mkdtempSync(join(tmpdir(), "propetl-read-"));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Write `content` to tmp/<rel> and return its path. */
function write(rel: string, content: string): string {
  const p = join(tmp, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** Read with both the streaming and the sync reader; check they agree. */
async function readBoth(task: TaskSpec, file: string, opts: Parameters<typeof readTaskFile>[2] = {}): Promise<ReadResult> {
  const a = await readTaskFile(task, file, opts);
  const b = readTaskFileSync(task, file, opts);
  assert.deepEqual(a, b, "stream and sync readers disagree");
  return a;
}

/** Expect both readers to throw DataFormatError with exactly `message`. */
async function rejectsBoth(task: TaskSpec, file: string, message: string, opts: Parameters<typeof readTaskFile>[2] = {}): Promise<void> {
  const check = (e: unknown): boolean => {
    assert.ok(e instanceof DataFormatError, `expected DataFormatError, got ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  };
  await assert.rejects(readTaskFile(task, file, opts), check);
  assert.throws(() => readTaskFileSync(task, file, opts), check);
}

describe("real GLUE files", { skip: noGlue }, () => {
  test("RTE train and dev", async () => {
    const rte = getTask("rte");
    const train = await readTaskSplit(rte, GLUE, "train");
    assert.equal(train.examples.length, 2490);
    assert.equal(train.skipped, 0);
    assert.deepEqual(train.header, ["index", "sentence1", "sentence2", "label"]);
    assert.equal(train.file, "RTE/train.tsv");
    const first = train.examples[0];
    assert.deepEqual(first, {
      text: "No Weapons of Mass Destruction Found in Iraq Yet.",
      textPair: "Weapons of Mass Destruction Found in Iraq.",
      label: 1,
      task: "rte",
      line: 2,
    });
    assert.equal(train.examples.filter((e) => e.label === 0).length, 1249);
    assert.equal(train.examples.filter((e) => e.label === 1).length, 1241);
    // stray double quotes are kept verbatim (quoting off)
    assert.ok(train.examples.some((e) => e.text.includes('"extensive"')));
    const dev = await readTaskSplit(rte, GLUE, "dev");
    assert.equal(dev.examples.length, 277);
    assert.equal(dev.examples.filter((e) => e.label === 0).length, 146);
    assert.equal(dev.examples[276].line, 278);
    assert.deepEqual(readTaskFileSync(rte, join(GLUE, "RTE", "dev.tsv")), dev);
  });

  test("SST-2 train and dev", async () => {
    const sst2 = getTask("sst2");
    const train = await readTaskSplit(sst2, GLUE, "train");
    assert.equal(train.examples.length, 67349);
    assert.equal(train.examples.filter((e) => e.label === 1).length, 37569);
    assert.equal(train.examples[0].text, "hide new secretions from the parental units ");
    assert.equal(train.examples[0].textPair, undefined);
    const dev = await readBoth(sst2, join(GLUE, "SST-2", "dev.tsv"));
    assert.equal(dev.examples.length, 872);
    assert.equal(dev.examples.filter((e) => e.label === 1).length, 444);
    assert.equal(dev.file, "SST-2/dev.tsv");
  });

  test("CoLA dev (no header, no final newline) and reassembled train", async () => {
    const cola = getTask("cola");
    const dev = await readBoth(cola, join(GLUE, "CoLA", "dev.tsv"));
    assert.equal(dev.examples.length, 1043);
    assert.equal(dev.header, undefined);
    assert.equal(dev.examples.filter((e) => e.label === 1).length, 721);
    const last = dev.examples[1042];
    assert.equal(last.line, 1043);
    assert.equal(last.text, "John talked to Bill about himself.");
    assert.equal(last.label, 1);
    assert.equal(dev.examples[0].text, "The sailors rode the breeze clear of the rocks.");
    const train = await readTaskFile(cola, join(GLUE, "CoLA", "train.REASSEMBLED-order-differs.tsv"));
    assert.equal(train.examples.length, 8551);
    assert.equal(train.examples.filter((e) => e.label === 1).length, 6023);
  });
});

describe("GLUE layouts on hand-made files", () => {
  test("MRPC with byte-order mark and official header", async () => {
    const f = write("MRPC/dev.tsv", "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA first.\tA second.\n0\t3\t4\tB one.\tB two.\n");
    const r = await readBoth(getTask("mrpc"), f);
    assert.deepEqual(r.header, ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]);
    assert.deepEqual(r.examples.map((e) => [e.text, e.textPair, e.label, e.line]), [
      ["A first.", "A second.", 1, 2],
      ["B one.", "B two.", 0, 3],
    ]);
  });

  test("STS-B: 10 columns, float scores", async () => {
    const h = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
    const f = write("STS-B/dev.tsv", h + "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man.\tA guy.\t5.000\n1\tx\tx\tx\tx\tx\tx\tA.\tB.\t0.8\n");
    const r = await readBoth(getTask("stsb"), f);
    assert.deepEqual(r.examples.map((e) => e.label), [5, 0.8]);
    assert.equal(r.examples[0].textPair, "A guy.");
  });

  test("QQP", async () => {
    const f = write("QQP/dev.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n7\t1\t2\tWhy?\tHow?\t0\n8\t3\t4\tWhat?\tWhich?\t1\n");
    const r = await readBoth(getTask("qqp"), f);
    assert.deepEqual(r.examples.map((e) => [e.text, e.textPair, e.label]), [["Why?", "How?", 0], ["What?", "Which?", 1]]);
  });

  test("MNLI dev_matched: 16 columns, sentence1/2 at 8/9, gold_label last", async () => {
    const cols = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "label1", "label2", "label3", "label4", "label5", "gold_label"];
    const row = (s1: string, s2: string, gold: string): string => ["0", "1", "1n", "gov", "(x)", "(y)", "(X)", "(Y)", s1, s2, gold, gold, gold, gold, gold, gold].join("\t");
    const f = write("MNLI/dev_matched.tsv", [cols.join("\t"), row("P1.", "H1.", "neutral"), row("P2.", "H2.", "contradiction"), row("P3.", "H3.", "entailment")].join("\n") + "\n");
    const mnli = getTask("mnli");
    const r = await readBoth(mnli, f);
    assert.deepEqual(r.examples.map((e) => [e.text, e.textPair, e.label]), [["P1.", "H1.", 1], ["P2.", "H2.", 2], ["P3.", "H3.", 0]]);
    const viaSplit = await readTaskSplit(mnli, tmp, "dev_matched");
    assert.deepEqual(viaSplit, r);
  });

  test("QNLI and WNLI", async () => {
    const q = write("QNLI/dev.tsv", "index\tquestion\tsentence\tlabel\n0\tWho?\tHim.\tnot_entailment\n");
    assert.deepEqual((await readBoth(getTask("qnli"), q)).examples.map((e) => [e.text, e.textPair, e.label]), [["Who?", "Him.", 1]]);
    const w = write("WNLI/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n");
    assert.deepEqual((await readBoth(getTask("wnli"), w)).examples.map((e) => e.label), [1]);
  });

  test("CRLF line endings and missing final newline", async () => {
    const f = write("RTE/crlf.tsv", "index\tsentence1\tsentence2\tlabel\r\n0\tA.\tB.\tentailment\r\n1\tC.\tD.\tnot_entailment");
    const r = await readBoth(getTask("rte"), f);
    assert.deepEqual(r.examples.map((e) => [e.textPair, e.label, e.line]), [["B.", 0, 2], ["D.", 1, 3]]);
  });

  test("blank lines are skipped; line numbers stay physical", async () => {
    const f = write("SST-2/blank.tsv", "sentence\tlabel\n\ngood .\t1\n\r\nbad .\t0\n\n");
    const r = await readBoth(getTask("sst2"), f);
    assert.deepEqual(r.examples.map((e) => e.line), [3, 5]);
  });

  test("stream reader handles chunk boundaries and multi-byte characters", async () => {
    const lines = ["sentence\tlabel"];
    for (let i = 0; i < 40_000; i++) lines.push(`naïve café ${"é".repeat(i % 50)} ${i}\t${i % 2}`);
    const f = write("SST-2/big.tsv", lines.join("\n"));
    const r = await readBoth(getTask("sst2"), f);
    assert.equal(r.examples.length, 40_000);
    assert.equal(r.examples[39_999].text, `naïve café ${"é".repeat(39_999 % 50)} 39999`);
    assert.equal(r.examples[39_999].line, 40_001);
  });
});

describe("unlabelled test files", () => {
  test("RTE test.tsv has no label column", async () => {
    const f = write("RTE/test.tsv", "index\tsentence1\tsentence2\n0\tA.\tB.\n1\tC.\tD.\n");
    const rte = getTask("rte");
    const r = await readBoth(rte, f, { labelled: false });
    assert.deepEqual(r.examples.map((e) => [e.text, e.textPair, e.label]), [["A.", "B.", -1], ["C.", "D.", -1]]);
    const viaSplit = await readTaskSplit(rte, tmp, "test");
    assert.deepEqual(viaSplit, r);
    // reading it as labelled fails on the missing label column
    await rejectsBoth(rte, f, 'RTE/test.tsv:1: header has no column "label" needed for the label (columns: index, sentence1, sentence2)');
  });

  test("CoLA and SST-2 test files (header index, sentence)", async () => {
    const f = write("CoLA/test.tsv", "index\tsentence\n0\tBill left.\n");
    assert.deepEqual((await readBoth(getTask("cola"), f, { labelled: false })).examples, [{ text: "Bill left.", label: -1, task: "cola", line: 2 }]);
    const s = write("SST-2/test.tsv", "index\tsentence\n0\tfine .\n");
    assert.equal((await readBoth(getTask("sst2"), s, { labelled: false })).examples[0].text, "fine .");
  });

  test("labelled: false on a labelled layout ignores the label column", () => {
    const schema: RowSchema = { layout: getTask("rte").layout, kind: "classification", labels: ["entailment", "not_entailment"] };
    const r = parseExamples("index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tnonsense\n", "x/dev.tsv", schema, { labelled: false });
    assert.equal(r.examples[0].label, -1);
    assert.equal(r.examples[0].task, undefined);
  });
});

describe("row errors name the file and 1-based line", () => {
  const RTE_HEADER = "index\tsentence1\tsentence2\tlabel\n";

  test("wrong column count", async () => {
    const f = write("RTE/dev.tsv", RTE_HEADER + "0\tA.\tB.\tentailment\n1\tC.\tnot_entailment\n");
    await rejectsBoth(getTask("rte"), f, "RTE/dev.tsv:3: expected 4 columns (index, sentence1, sentence2, label), found 3");
  });

  test("too many columns (e.g. a tab inside the text)", async () => {
    const f = write("RTE/extra.tsv", RTE_HEADER + "0\tA.\tB\tC.\tentailment\n");
    await rejectsBoth(getTask("rte"), f, "RTE/extra.tsv:2: expected 4 columns (index, sentence1, sentence2, label), found 5");
  });

  test("header-less CoLA: count from the layout's columns", async () => {
    const f = write("CoLA/bad.tsv", "gj04\t1\t\tFine.\ngj04\t1\tOnly three.");
    await rejectsBoth(getTask("cola"), f, "CoLA/bad.tsv:2: expected 4 columns (source, label, mark, sentence), found 3");
  });

  test("unknown label lists the known labels", async () => {
    const f = write("RTE/label.tsv", RTE_HEADER + "0\tA.\tB.\tentailment\n1\tC.\tD.\tcontradiction\n");
    await rejectsBoth(getTask("rte"), f, 'RTE/label.tsv:3: unknown label "contradiction" in column "label" (known labels: entailment, not_entailment)');
    const c = write("CoLA/label.tsv", "gj04\t2\t\tFine.\n");
    await rejectsBoth(getTask("cola"), c, 'CoLA/label.tsv:1: unknown label "2" in column "label" (known labels: 0, 1)');
  });

  test("empty text and empty text pair", async () => {
    const f = write("RTE/empty.tsv", RTE_HEADER + "0\t  \tB.\tentailment\n");
    await rejectsBoth(getTask("rte"), f, 'RTE/empty.tsv:2: empty text in column "sentence1"');
    const g = write("RTE/empty2.tsv", RTE_HEADER + "0\tA.\t\tentailment\n");
    await rejectsBoth(getTask("rte"), g, 'RTE/empty2.tsv:2: empty text in column "sentence2"');
    const c = write("CoLA/empty.tsv", "gj04\t1\t\tFine.\ngj04\t1\t\t\n");
    await rejectsBoth(getTask("cola"), c, 'CoLA/empty.tsv:2: empty text in column "sentence"');
  });

  test("unparsable regression score", async () => {
    const h = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
    const ok = "0\tg\tf\ty\to\ts\ts\tA.\tB.\t3.2\n";
    const stsb = getTask("stsb");
    await rejectsBoth(stsb, write("STS-B/bad.tsv", h + ok + "1\tg\tf\ty\to\ts\ts\tA.\tB.\tabc\n"), 'STS-B/bad.tsv:3: cannot parse regression score "abc" in column "score"');
    await rejectsBoth(stsb, write("STS-B/empty.tsv", h + "1\tg\tf\ty\to\ts\ts\tA.\tB.\t\n"), 'STS-B/empty.tsv:2: cannot parse regression score "" in column "score"');
    await rejectsBoth(stsb, write("STS-B/hex.tsv", h + "1\tg\tf\ty\to\ts\ts\tA.\tB.\t0x1\n"), 'STS-B/hex.tsv:2: cannot parse regression score "0x1" in column "score"');
    await rejectsBoth(stsb, write("STS-B/nan.tsv", h + "1\tg\tf\ty\to\ts\ts\tA.\tB.\tNaN\n"), 'STS-B/nan.tsv:2: cannot parse regression score "NaN" in column "score"');
  });

  test("missing header column is fatal even with skipBadRows", async () => {
    const f = write("QNLI/dev.tsv", "index\tquestion\tsentenc\tlabel\n0\tQ?\tS.\tentailment\n");
    await rejectsBoth(getTask("qnli"), f, 'QNLI/dev.tsv:1: header has no column "sentence" needed for the text pair (columns: index, question, sentenc, label)', { skipBadRows: true });
  });

  test("empty file", async () => {
    const f = write("RTE/nothing.tsv", "");
    await rejectsBoth(getTask("rte"), f, "RTE/nothing.tsv:1: file is empty (no header line)");
  });

  test("displayName option", async () => {
    const f = write("RTE/dn.tsv", RTE_HEADER + "0\tA.\tB.\tmaybe\n");
    await rejectsBoth(getTask("rte"), f, 'my-file:2: unknown label "maybe" in column "label" (known labels: entailment, not_entailment)', { displayName: "my-file" });
  });
});

describe("skipBadRows", () => {
  test("skips, counts and keeps the first few messages", async () => {
    const rows = ["index\tsentence1\tsentence2\tlabel", "0\tA.\tB.\tentailment", "1\tC.\tnot_entailment", "2\tE.\tF.\tbogus", "3\t\tH.\tentailment", "4\tI.\tJ.\tnot_entailment"];
    for (let i = 0; i < 6; i++) rows.push(`${5 + i}\tX.\tY.\tbad${i}`);
    const f = write("RTE/skip.tsv", rows.join("\n") + "\n");
    const r = await readBoth(getTask("rte"), f, { skipBadRows: true });
    assert.equal(r.skipped, 9);
    assert.deepEqual(r.examples.map((e) => e.line), [2, 6]);
    assert.equal(r.messages.length, 5);
    assert.deepEqual(r.messages.slice(0, 3), [
      "RTE/skip.tsv:3: expected 4 columns (index, sentence1, sentence2, label), found 3",
      'RTE/skip.tsv:4: unknown label "bogus" in column "label" (known labels: entailment, not_entailment)',
      'RTE/skip.tsv:5: empty text in column "sentence1"',
    ]);
    const r2 = await readTaskFile(getTask("rte"), f, { skipBadRows: true, maxMessages: 1 });
    assert.equal(r2.messages.length, 1);
    assert.equal(r2.skipped, 9);
  });
});

describe("CSV (RFC 4180)", () => {
  const task = customTask({ path: "/unused", format: "csv", textColumn: "text", textPairColumn: "pair", labelColumn: "label", kind: "classification", labels: ["neg", "pos"] });

  test("quotes, escaped quotes, commas and newlines inside fields", async () => {
    const f = write("csv/ok.csv", 'id,text,pair,label\r\n1,"Hello, world","She said ""hi""",pos\r\n2,"multi\nline\ntext",plain,neg\r\n3,no quotes,x,"pos"\n');
    const r = await readBoth(task, f);
    assert.deepEqual(r.examples.map((e) => [e.text, e.textPair, e.label, e.line]), [
      ["Hello, world", 'She said "hi"', 1, 2],
      ["multi\nline\ntext", "plain", 0, 3],
      ["no quotes", "x", 1, 6],
    ]);
    assert.equal(r.examples[0].task, "custom:unused");
  });

  test("column count, unknown label, empty text", async () => {
    const f = write("csv/bad.csv", 'id,text,pair,label\n1,a,b\n2,"a, b",c,meh\n3,"",c,pos\n4,"ok",c,neg\n');
    await rejectsBoth(task, f, "csv/bad.csv:2: expected 4 columns (id, text, pair, label), found 3");
    const r = await readBoth(task, f, { skipBadRows: true });
    assert.equal(r.skipped, 3);
    assert.deepEqual(r.messages, [
      "csv/bad.csv:2: expected 4 columns (id, text, pair, label), found 3",
      'csv/bad.csv:3: unknown label "meh" in column "label" (known labels: neg, pos)',
      'csv/bad.csv:4: empty text in column "text"',
    ]);
    assert.deepEqual(r.examples.map((e) => e.line), [5]);
  });

  test("malformed and unterminated quotes", async () => {
    const f = write("csv/quote.csv", 'id,text,pair,label\n1,"a"x,b,pos\n2,ok,b,neg\n');
    await rejectsBoth(task, f, 'csv/quote.csv:2: malformed CSV: unexpected character "x" after a closing quote');
    const g = write("csv/open.csv", 'id,text,pair,label\n1,ok,b,pos\n2,"never closed,b,neg\n3,x,y,pos\n');
    await rejectsBoth(task, g, "csv/open.csv:3: malformed CSV: quoted field is not closed before the end of the file");
    const r = await readBoth(task, f, { skipBadRows: true });
    assert.deepEqual(r.examples.map((e) => e.line), [3]);
  });

  test("header-less CSV with index columns, regression", async () => {
    const reg = customTask({ path: "/unused", format: "csv", header: false, textColumn: 0, labelColumn: 1, kind: "regression" });
    const f = write("csv/reg.csv", "good,4.5\n\"meh, ok\",2\nbad,x\n");
    await rejectsBoth(reg, f, 'csv/reg.csv:3: cannot parse regression score "x" in column "#1"');
    const r = await readBoth(reg, f, { skipBadRows: true });
    assert.deepEqual(r.examples.map((e) => [e.text, e.label]), [["good", 4.5], ["meh, ok", 2]]);
  });
});

describe("JSONL", () => {
  const task = customTask({ path: "/unused", format: "jsonl", textColumn: "premise", textPairColumn: "hypothesis", labelColumn: "label", kind: "classification", labels: ["0", "1", "2"], name: "nli" });

  test("reads objects; numeric labels match their string form", async () => {
    const f = write("jsonl/ok.jsonl", '{"premise":"P.","hypothesis":"H.","label":2}\n\n{"premise":"Q.","hypothesis":"I.","label":"0","extra":true}\r\n');
    const r = await readBoth(task, f);
    assert.deepEqual(r.examples, [
      { text: "P.", textPair: "H.", label: 2, task: "custom:nli", line: 1 },
      { text: "Q.", textPair: "I.", label: 0, task: "custom:nli", line: 3 },
    ]);
  });

  test("every error case", async () => {
    const lines = [
      '{"premise":"P.","hypothesis":"H.","label":1}',
      "{not json",
      "[1,2]",
      '{"hypothesis":"H.","label":1}',
      '{"premise":7,"hypothesis":"H.","label":1}',
      '{"premise":" ","hypothesis":"H.","label":1}',
      '{"premise":"P.","hypothesis":"H.","label":5}',
      '{"premise":"P.","hypothesis":"H."}',
      '{"premise":"P.","hypothesis":"H.","label":null}',
    ];
    const f = write("jsonl/bad.jsonl", lines.join("\n"));
    const r = await readBoth(task, f, { skipBadRows: true, maxMessages: 10 });
    assert.equal(r.skipped, 8);
    assert.equal(r.examples.length, 1);
    assert.match(r.messages[0], /^jsonl\/bad\.jsonl:2: invalid JSON: /);
    assert.deepEqual(r.messages.slice(1), [
      "jsonl/bad.jsonl:3: expected a JSON object, found an array",
      'jsonl/bad.jsonl:4: missing key "premise"',
      'jsonl/bad.jsonl:5: key "premise" must be a string, found number',
      'jsonl/bad.jsonl:6: empty text in column "premise"',
      'jsonl/bad.jsonl:7: unknown label "5" in column "label" (known labels: 0, 1, 2)',
      'jsonl/bad.jsonl:8: missing key "label"',
      'jsonl/bad.jsonl:9: key "label" must be a string or number, found null',
    ]);
    await assert.rejects(readTaskFile(task, f), /^DataFormatError: jsonl\/bad\.jsonl:2: invalid JSON/);
  });

  test("regression JSONL and unlabelled JSONL", async () => {
    const reg = customTask({ path: "/unused", format: "jsonl", textColumn: "t", labelColumn: "y", kind: "regression" });
    const f = write("jsonl/reg.jsonl", '{"t":"a","y":0.25}\n{"t":"b","y":"1.5"}\n{"t":"c","y":"high"}\n');
    await rejectsBoth(reg, f, 'jsonl/reg.jsonl:3: cannot parse regression score "high" in column "y"');
    const r = await readBoth(reg, f, { labelled: false });
    assert.deepEqual(r.examples.map((e) => e.label), [-1, -1, -1]);
  });
});

describe("split paths and schemas", () => {
  test("taskSplitPath resolves GLUE and custom locations", () => {
    assert.deepEqual(taskSplitPath(getTask("mnli"), "/data/glue", "dev_mismatched"), { path: "/data/glue/MNLI/dev_mismatched.tsv", labelled: true });
    assert.deepEqual(taskSplitPath(getTask("cola"), "/data/glue", "test"), { path: "/data/glue/CoLA/test.tsv", labelled: false });
    const c = customTask({ path: "/my/task", format: "jsonl", textColumn: "t", labelColumn: "l", kind: "regression" });
    assert.deepEqual(taskSplitPath(c, "/ignored", "train"), { path: "/my/task/train.jsonl", labelled: true });
    assert.throws(() => taskSplitPath(getTask("rte"), "/d", "validation"), /unknown split "validation" \(known: train, dev, test\)/);
  });

  test("schemaOf picks the labelled or test layout", () => {
    const cola = getTask("cola");
    assert.equal(schemaOf(cola).layout.header, false);
    assert.equal(schemaOf(cola, false).layout.header, true);
    assert.equal(schemaOf(cola).task, "cola");
  });

  test("readExamples / readExamplesSync with an explicit schema", async () => {
    const schema: RowSchema = { layout: { format: "tsv", header: true, textColumn: 0, labelColumn: "y" }, kind: "classification", labels: ["no", "yes"] };
    const f = write("misc/s.tsv", "x\ty\nhello\tyes\n");
    const a = await readExamples(f, schema);
    assert.deepEqual(a.examples, [{ text: "hello", label: 1, line: 2 }]);
    assert.deepEqual(readExamplesSync(f, schema), a);
  });
});
