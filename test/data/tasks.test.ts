import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { defaultEpochs, getTask, GLUE_TASK_NAMES, glueTasks, isGlueTaskName, resolveSizeClass } from "../../src/data/tasks.js";
import { customTask } from "../../src/data/custom-task.js";

describe("GLUE task registry", () => {
  test("all nine GLUE tasks are registered", () => {
    assert.deepEqual([...GLUE_TASK_NAMES].sort(), ["cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "wnli"]);
    assert.equal(glueTasks().length, 9);
    for (const n of GLUE_TASK_NAMES) assert.equal(getTask(n).name, n);
  });

  test("label names in HF/GLUE order", () => {
    assert.deepEqual(getTask("mnli").labels, ["entailment", "neutral", "contradiction"]);
    assert.deepEqual(getTask("rte").labels, ["entailment", "not_entailment"]);
    assert.deepEqual(getTask("qnli").labels, ["entailment", "not_entailment"]);
    for (const n of ["cola", "sst2", "mrpc", "qqp", "wnli"]) assert.deepEqual(getTask(n).labels, ["0", "1"], n);
    for (const t of glueTasks()) {
      if (t.kind === "classification") assert.equal(t.numLabels, t.labels.length);
    }
  });

  test("STS-B is regression with one output", () => {
    const t = getTask("stsb");
    assert.equal(t.kind, "regression");
    assert.equal(t.numLabels, 1);
    assert.deepEqual(t.labels, []);
    assert.equal(t.layout.labelColumn, "score");
    assert.equal(t.layout.textColumn, "sentence1");
    assert.equal(t.layout.textPairColumn, "sentence2");
  });

  test("metrics and main metric per task", () => {
    const expected: Record<string, [string[], string]> = {
      cola: [["matthews"], "matthews"],
      sst2: [["accuracy"], "accuracy"],
      mrpc: [["f1", "accuracy"], "mean"],
      qqp: [["f1", "accuracy"], "mean"],
      stsb: [["pearson", "spearman"], "mean"],
      mnli: [["accuracy"], "accuracy"],
      qnli: [["accuracy"], "accuracy"],
      rte: [["accuracy"], "accuracy"],
      wnli: [["accuracy"], "accuracy"],
    };
    for (const [n, [metrics, main]] of Object.entries(expected)) {
      const t = getTask(n);
      assert.deepEqual(t.metrics, metrics, n);
      assert.equal(t.mainMetric, main, n);
    }
  });

  test("size classes and paper epochs", () => {
    for (const n of ["rte", "mrpc", "stsb", "cola", "wnli"]) {
      const t = getTask(n);
      assert.equal(t.sizeClass, "small", n);
      assert.equal(t.epochs, 20, n);
      assert.ok((t.officialTrainSize ?? Infinity) < 10_000, n);
    }
    for (const n of ["sst2", "qnli", "qqp", "mnli"]) {
      const t = getTask(n);
      assert.equal(t.sizeClass, "large", n);
      assert.equal(t.epochs, 10, n);
      assert.ok((t.officialTrainSize ?? 0) >= 10_000, n);
    }
  });

  test("file names and layouts", () => {
    for (const t of glueTasks()) {
      assert.equal(t.train.file, "train.tsv");
      assert.equal(t.layout.format, "tsv");
    }
    assert.deepEqual(getTask("mnli").dev.map((d) => [d.name, d.file]), [
      ["dev_matched", "dev_matched.tsv"],
      ["dev_mismatched", "dev_mismatched.tsv"],
    ]);
    assert.deepEqual(getTask("rte").dev, [{ name: "dev", file: "dev.tsv" }]);
    const cola = getTask("cola");
    assert.equal(cola.layout.header, false);
    assert.deepEqual(cola.layout.columns, ["source", "label", "mark", "sentence"]);
    assert.equal(cola.testLayout.header, true);
    assert.equal(getTask("mrpc").layout.textColumn, "#1 String");
    assert.equal(getTask("mrpc").layout.labelColumn, "Quality");
    assert.equal(getTask("qqp").layout.labelColumn, "is_duplicate");
    assert.equal(getTask("mnli").layout.labelColumn, "gold_label");
    assert.equal(getTask("qnli").layout.textColumn, "question");
    assert.equal(getTask("sst2").layout.textPairColumn, undefined);
    for (const t of glueTasks()) assert.equal(t.testLayout.labelColumn, undefined, t.name);
    assert.equal(getTask("SST-2").dir, "SST-2");
    assert.equal(getTask("sts-b").dir, "STS-B");
  });

  test("names are case-insensitive; aliases", () => {
    assert.equal(getTask("RTE").name, "rte");
    assert.equal(getTask("SST-2").name, "sst2");
    assert.equal(getTask(" STS-B ").name, "stsb");
    assert.ok(isGlueTaskName("qqp"));
    assert.ok(!isGlueTaskName("QQP"));
  });

  test("unknown task lists the known ones", () => {
    assert.throws(() => getTask("squad"), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /unknown task "squad"/);
      assert.match(e.message, /cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli/);
      return true;
    });
  });

  test("returned specs are fresh copies at top level", () => {
    const a = getTask("rte");
    a.epochs = 99;
    assert.equal(getTask("rte").epochs, 20);
  });
});

describe("customTask", () => {
  test("classification CSV task", () => {
    const t = customTask({ path: "data/mytask", format: "csv", textColumn: "review", labelColumn: "stars", kind: "classification", labels: ["neg", "pos"] });
    assert.equal(t.name, "custom:mytask");
    assert.equal(t.dir, resolve("data/mytask"));
    assert.equal(t.numLabels, 2);
    assert.equal(t.train.file, "train.csv");
    assert.equal(t.dev[0].file, "dev.csv");
    assert.deepEqual(t.metrics, ["accuracy"]);
    assert.equal(t.mainMetric, "accuracy");
    assert.equal(t.sizeClass, "auto");
    assert.equal(t.epochs, undefined);
    assert.equal(t.layout.header, true);
    assert.equal(t.testLayout.labelColumn, undefined);
  });

  test("regression JSONL task with pair column", () => {
    const t = customTask({ path: "/d/sim", format: "jsonl", textColumn: "a", textPairColumn: "b", labelColumn: "y", kind: "regression", name: "sim" });
    assert.equal(t.name, "custom:sim");
    assert.equal(t.numLabels, 1);
    assert.deepEqual(t.metrics, ["pearson", "spearman"]);
    assert.equal(t.mainMetric, "mean");
    assert.equal(t.layout.textPairColumn, "b");
  });

  test("options: size class, files, metrics, header-less TSV", () => {
    const t = customTask({
      path: "/d/x",
      format: "tsv",
      header: false,
      columns: ["id", "text", "label"],
      textColumn: "text",
      labelColumn: 2,
      kind: "classification",
      labels: ["a", "b", "c"],
      sizeClass: "large",
      files: { train: "tr.tsv", dev: "va.tsv" },
      metrics: ["accuracy", "matthews"],
      mainMetric: "matthews",
    });
    assert.equal(t.epochs, 10);
    assert.equal(t.train.file, "tr.tsv");
    assert.equal(t.dev[0].file, "va.tsv");
    assert.equal(t.test[0].file, "test.tsv");
    assert.equal(t.mainMetric, "matthews");
    assert.equal(t.layout.header, false);
  });

  test("auto size class resolves from the training-set size", () => {
    const t = customTask({ path: "/d/x", format: "jsonl", textColumn: "t", labelColumn: "l", kind: "classification", labels: ["0", "1"] });
    assert.equal(resolveSizeClass(t, 9_999), "small");
    assert.equal(resolveSizeClass(t, 10_000), "large");
    assert.equal(defaultEpochs(t, 500), 20);
    assert.equal(defaultEpochs(t, 50_000), 10);
    assert.throws(() => defaultEpochs(t), /pass the training-set size/);
    assert.equal(defaultEpochs(getTask("qqp")), 10);
  });

  test("errors", () => {
    assert.throws(
      () => customTask({ path: "/d", format: "csv", textColumn: "t", labelColumn: "l", kind: "classification" }),
      /classification tasks need `labels`/,
    );
    assert.throws(
      () => customTask({ path: "/d", format: "csv", textColumn: "t", labelColumn: "l", kind: "classification", labels: ["a", "a"] }),
      /duplicate label names/,
    );
    assert.throws(
      () => customTask({ path: "/d", format: "xml" as "csv", textColumn: "t", labelColumn: "l", kind: "regression" }),
      /format must be/,
    );
    assert.throws(
      () => customTask({ path: "/d", format: "jsonl", textColumn: 0, labelColumn: "l", kind: "regression" }),
      /JSONL columns are object keys/,
    );
    assert.throws(
      () => customTask({ path: "/d", format: "tsv", header: false, textColumn: "t", labelColumn: 1, kind: "regression" }),
      /column "t" must be an index or one of `columns`/,
    );
  });
});
