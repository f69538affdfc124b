import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { builtinDataDir, builtinTaskNames, isBuiltinTaskName, loadBuiltinSplits, missingBuiltinData, packageRoot, resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import { readTaskSplit, taskSplitPath } from "../../src/data/read-examples.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SHARED_GLUE = resolve(ROOT, "../shared/data/glue");

const sha256 = (p: string): string => createHash("sha256").update(readFileSync(p)).digest("hex");

interface FileInfo {
  file: string;
  rows: number;
  labels: Record<string, number>;
  bytes: number;
  sha256: string;
}
interface TaskManifest {
  task: string;
  labels: string[];
  seed: number;
  files: Record<"train" | "dev" | "test", FileInfo>;
}

function manifestOf(task: string): TaskManifest {
  return JSON.parse(readFileSync(join(ROOT, "data", task, "manifest.json"), "utf8")) as TaskManifest;
}

describe("registry", () => {
  test("names, aliases and unknown names", () => {
    assert.deepEqual(builtinTaskNames(), ["spam", "sotu-party", "rte", "cola", "sst2"]);
    assert.ok(isBuiltinTaskName("spam"));
    assert.ok(!isBuiltinTaskName("mnli"));
    assert.equal(resolveBuiltinTask("SST-2").name, "sst2");
    assert.equal(resolveBuiltinTask("sotu").name, "sotu-party");
    assert.equal(resolveBuiltinTask("SOTU_PARTY").name, "sotu-party");
    assert.throws(() => resolveBuiltinTask("mnli"), /unknown built-in task "mnli"; built-in tasks: spam, sotu-party, rte, cola, sst2/);
  });

  test("the package root and data dir are found from the module's location", () => {
    assert.equal(packageRoot(), ROOT);
    assert.equal(builtinDataDir(), join(ROOT, "data"));
  });

  test("spam and sotu-party task specs", () => {
    const spam = resolveBuiltinTask("spam");
    assert.equal(spam.protocol, "fixed");
    assert.deepEqual(spam.task.labels, ["ham", "spam"]);
    assert.equal(spam.task.numLabels, 2);
    assert.deepEqual(spam.task.metrics, ["f1", "accuracy"]);
    assert.equal(spam.task.mainMetric, "f1");
    assert.equal(spam.dataDir, join(ROOT, "data"));
    assert.equal(spam.taskDir, join(ROOT, "data", "spam"));
    assert.equal(taskSplitPath(spam.task, spam.dataDir, "train").path, join(ROOT, "data", "spam", "train.tsv"));
    const sotu = resolveBuiltinTask("sotu-party");
    assert.deepEqual(sotu.task.labels, ["Democratic", "Republican"]);
    assert.deepEqual(sotu.task.metrics, ["accuracy"]);
    assert.equal(sotu.task.mainMetric, "accuracy");
    // callers get their own copy
    (spam.task.labels as string[]).push("x");
    assert.deepEqual(resolveBuiltinTask("spam").task.labels, ["ham", "spam"]);
  });

  test("GLUE built-ins point at data/glue", () => {
    const rte = resolveBuiltinTask("rte");
    assert.equal(rte.protocol, "paper");
    assert.equal(rte.dataDir, join(ROOT, "data", "glue"));
    assert.equal(rte.taskDir, join(ROOT, "data", "glue", "RTE"));
    assert.equal(resolveBuiltinTask("cola").task.dir, "CoLA");
    assert.equal(resolveBuiltinTask("sst2").task.dir, "SST-2");
  });

  test("where GLUE's text is absent (the npm package), the message asks for --data-dir", () => {
    const rte = { ...resolveBuiltinTask("rte"), taskDir: "/nonexistent/data/glue/RTE" };
    assert.match(missingBuiltinData(rte), /built-in task rte reads \/nonexistent\/data\/glue\/RTE, which this installation lacks: the npm package does not carry GLUE's text .*Give --data-dir, a folder holding GLUE's RTE\/ \(train.tsv, dev.tsv\)/);
  });
});

for (const name of ["spam", "sotu-party"] as const) {
  describe(`shipped ${name} files`, () => {
    const m = manifestOf(name);
    const dir = join(ROOT, "data", name);

    test("match their manifest (sha256, rows, labels) and stay commit-sized", () => {
      let bytes = 0;
      for (const split of ["train", "dev", "test"] as const) {
        const f = m.files[split];
        const p = join(dir, f.file);
        assert.equal(sha256(p), f.sha256, `${p} changed: regenerate with experiments/data/make-builtin-tasks.ts`);
        assert.equal(statSync(p).size, f.bytes);
        bytes += f.bytes;
      }
      assert.ok(bytes < 3e6, `${name}: ${bytes} bytes`);
    });

    test("read through the task reader with valid labels and the manifest's counts", async () => {
      const b = resolveBuiltinTask(name);
      const s = await loadBuiltinSplits(name);
      assert.equal(s.protocol, "fixed");
      const parts = { train: s.train, dev: s.validation, test: s.test };
      for (const split of ["train", "dev", "test"] as const) {
        const ex = parts[split];
        assert.equal(ex.length, m.files[split].rows);
        const counts: Record<string, number> = {};
        for (const e of ex) {
          assert.ok(e.label === 0 || e.label === 1);
          assert.ok(e.text.trim().length > 0);
          assert.equal(e.task, name);
          const l = b.task.labels[e.label] as string;
          counts[l] = (counts[l] ?? 0) + 1;
        }
        assert.deepEqual(counts, m.files[split].labels);
      }
      // readTaskSplit works on the train and dev splits as for GLUE
      const dev = await readTaskSplit(b.task, b.dataDir, "dev");
      assert.deepEqual(dev.examples, s.validation);
    });

    test("no id and no text in two splits", () => {
      const seenIds = new Map<string, string>();
      const seenTexts = new Map<string, string>();
      for (const split of ["train", "dev", "test"]) {
        const rows = readFileSync(join(dir, `${split}.tsv`), "utf8").split("\n").filter((l) => l !== "");
        assert.equal(rows[0], "id\tlabel\ttext");
        for (const r of rows.slice(1)) {
          const [id, , text] = r.split("\t") as [string, string, string];
          assert.equal(r.split("\t").length, 3);
          assert.ok(!seenIds.has(id), `${id} in ${seenIds.get(id)} and ${split}`);
          seenIds.set(id, split);
          const other = seenTexts.get(text);
          assert.ok(other === undefined || other === split, `text of ${id} also in ${other}`);
          seenTexts.set(text, split);
        }
      }
    });
  });
}

describe("task-specific properties", () => {
  test("spam: 80/10/10 stratified, ~30% spam in every split", () => {
    const m = manifestOf("spam");
    const total = m.files.train.rows + m.files.dev.rows + m.files.test.rows;
    assert.equal(total, 5845);
    for (const split of ["train", "dev", "test"] as const) {
      const f = m.files[split];
      const frac = (f.labels["spam"] ?? 0) / f.rows;
      assert.ok(frac > 0.28 && frac < 0.32, `${split}: ${frac}`);
    }
    assert.deepEqual(m.files.dev.labels, { ham: 411, spam: 174 });
  });

  test("sotu-party: balanced, and no speech in two splits", () => {
    const m = manifestOf("sotu-party");
    assert.deepEqual(m.files.train.labels, { Democratic: 2500, Republican: 2500 });
    assert.deepEqual(m.files.dev.labels, { Democratic: 250, Republican: 250 });
    assert.deepEqual(m.files.test.labels, { Democratic: 500, Republican: 500 });
    const speechSplit = new Map<string, string>();
    for (const split of ["train", "dev", "test"]) {
      const rows = readFileSync(join(ROOT, "data", "sotu-party", `${split}.tsv`), "utf8").split("\n").filter((l) => l !== "").slice(1);
      for (const r of rows) {
        const speech = (r.split("\t")[0] as string).replace(/#\d+$/, "");
        const prev = speechSplit.get(speech);
        assert.ok(prev === undefined || prev === split, `${speech} in ${prev} and ${split}`);
        speechSplit.set(speech, split);
      }
    }
    // speeches.tsv agrees
    const lines = readFileSync(join(ROOT, "data", "sotu-party", "speeches.tsv"), "utf8").split("\n").filter((l) => l !== "");
    assert.equal(lines[0], "id\tyear\tpresident\tparty\tsplit\tparagraphs\tsampled");
    for (const l of lines.slice(1)) {
      const [id, , , party, split, , sampled] = l.split("\t") as string[];
      assert.ok(party === "Democratic" || party === "Republican");
      if (Number(sampled) > 0) assert.equal(speechSplit.get(id as string), split);
    }
  });
});

describe("GLUE copies", () => {
  test("paper protocol split sizes", async () => {
    const rte = await loadBuiltinSplits("rte", 1);
    assert.deepEqual([rte.train.length, rte.validation.length, rte.test.length], [2490, 138, 139]);
    const cola = await loadBuiltinSplits("cola", 1);
    assert.deepEqual([cola.train.length, cola.validation.length, cola.test.length], [8551, 521, 522]);
    const sst2 = await loadBuiltinSplits("sst2", 1);
    assert.deepEqual([sst2.train.length, sst2.validation.length, sst2.test.length], [9000, 1000, 872]);
    assert.equal(sst2.protocol, "paper");
    // the seed changes the SST-2 held-out rows only
    const other = await loadBuiltinSplits("sst2", 2);
    assert.notDeepEqual(other.validation, sst2.validation);
    assert.deepEqual(other.test, sst2.test);
  });

  test("verbatim copies of ../shared/data/glue; SST-2 train is an order-preserving sample of its rows", { skip: existsSync(SHARED_GLUE) ? false : "no ../shared/data/glue" }, () => {
    const same: [string, string][] = [
      ["RTE/train.tsv", "RTE/train.tsv"],
      ["RTE/dev.tsv", "RTE/dev.tsv"],
      ["SST-2/dev.tsv", "SST-2/dev.tsv"],
      ["CoLA/dev.tsv", "CoLA/dev.tsv"],
      ["CoLA/train.tsv", "CoLA/train.REASSEMBLED-order-differs.tsv"],
    ];
    for (const [ours, theirs] of same) assert.equal(sha256(join(ROOT, "data", "glue", ours)), sha256(join(SHARED_GLUE, theirs)), ours);
    const full = readFileSync(join(SHARED_GLUE, "SST-2", "train.tsv"), "utf8").split("\n").filter((l) => l !== "");
    const sample = readFileSync(join(ROOT, "data", "glue", "SST-2", "train.tsv"), "utf8").split("\n").filter((l) => l !== "");
    assert.equal(sample[0], full[0]);
    assert.equal(sample.length, 10_001);
    let j = 1;
    for (const line of sample.slice(1)) {
      while (j < full.length && full[j] !== line) j++;
      assert.ok(j < full.length, `row not found in order: ${line}`);
      j++;
    }
  });

  test("SOURCES.md is shipped", () => {
    const md = readFileSync(join(ROOT, "data", "glue", "SOURCES.md"), "utf8");
    assert.match(md, /SST-2\/train\.tsv \| 10000 \|/);
    assert.match(md, /Warstadt/);
  });
});
