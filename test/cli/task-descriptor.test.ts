/**
 * Custom tasks in `propetl train --tasks` (cli/task-descriptor.ts): a folder with the split files
 * and propetl-task.json, listed by path. The descriptor's checks, a multi-task run on the bundled
 * encoder with a built-in and a custom task, and one on a tiny T5 with a custom text-to-text task.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readTaskDescriptor, TASK_DESCRIPTOR_FILE } from "../../src/cli/task-descriptor.js";
import { initEngine } from "../../src/engine/engine.js";
import { runCli } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { writeTinyT5Dir } from "../helpers/t5-model.js";

let work: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-task-descriptor-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

function taskDir(name: string, descriptor: unknown, files: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, TASK_DESCRIPTOR_FILE), typeof descriptor === "string" ? descriptor : JSON.stringify(descriptor));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

/** A small TSV task from the built-in spam data: the first `n` rows of a split, with a header. */
function spamRows(split: string, n: number): string {
  return readFileSync(path.join(REPO_ROOT, "data", "spam", `${split}.tsv`), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
}

describe("propetl-task.json", () => {
  test("a classification descriptor becomes the single-task flags; a text-to-text one too", () => {
    const d = readTaskDescriptor(taskDir("ok", { name: "mail", text_column: "text", label_column: "label", labels: ["ham", "spam"] }));
    assert.equal(d.kind, "classification");
    assert.deepEqual(d.values, { "task-dir": path.join(work, "ok"), "task-name": "mail", "text-column": "text", "label-column": "label", labels: "ham,spam" });
    const s = readTaskDescriptor(taskDir("s2s", { name: "copy", source_column: "src", target_column: "tgt", prefix: "copy: ", metric: "rouge2" }));
    assert.equal(s.kind, "text-to-text");
    assert.equal(s.values.prefix, "copy: ");
  });

  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{name:", /propetl-task\.json: not a readable JSON file/],
    ["no name", { text_column: "t", label_column: "l", labels: ["a", "b"] }, /"name" must be a task name/],
    ["a name with a space", { name: "my task", text_column: "t", label_column: "l", labels: ["a", "b"] }, /"name" must be a task name .*got "my task"/],
    ["unknown key", { name: "t", text_column: "t", label_column: "l", labels: ["a", "b"], lables: 1 }, /unknown key "lables"; known keys: name, format, text_column/],
    ["a text-to-text key in a classification task", { name: "t", text_column: "t", label_column: "l", labels: ["a", "b"], prefix: "x" }, /unknown key "prefix" for a classification task/],
    ["labels not an array", { name: "t", text_column: "t", label_column: "l", labels: "a,b" }, /"labels" must be an array of two or more label names/],
    ["a label with a comma", { name: "t", text_column: "t", label_column: "l", labels: ["a,b", "c"] }, /label "a,b" contains a comma/],
    ["neither labels nor regression", { name: "t", text_column: "t", label_column: "l" }, /give "labels" .* or "regression": true/],
    ["labels and regression", { name: "t", text_column: "t", label_column: "l", labels: ["a", "b"], regression: true }, /not both/],
    ["no label column", { name: "t", text_column: "t", labels: ["a", "b"] }, /needs "text_column" and "label_column"/],
    ["half a text-to-text task", { name: "t", source_column: "s" }, /needs both "source_column" and "target_column"/],
    ["a boolean as a string", { name: "t", text_column: "t", label_column: "l", labels: ["a", "b"], no_header: "yes" }, /"no_header" must be true or false/],
  ];
  for (const [what, json, re] of bad) {
    test(`refused: ${what}, naming the file`, () => {
      const dir = taskDir(`bad-${what.replace(/\W+/g, "-")}`, json);
      assert.throws(() => readTaskDescriptor(dir), (e: unknown) => re.test((e as Error).message) && (e as Error).message.startsWith(path.join(dir, TASK_DESCRIPTOR_FILE)), what);
    });
  }
});

describe("custom tasks in --tasks", () => {
  test("the bundled encoder: spam + a custom TSV task, one checkpoint, predict --task on the custom task", async () => {
    const mail = taskDir("mail", { name: "mail", text_column: "text", label_column: "label", labels: ["ham", "spam"] }, { "train.tsv": spamRows("train", 24), "dev.tsv": spamRows("dev", 16) });
    const out = path.join(work, "mt-bert");
    const r = await runCli(["train", "--tasks", `sotu-party,${mail}`, "--max-train-examples", "16", "--max-eval-examples", "8", "--max-steps", "2", "--batch-size", "8", "--bottleneck", "4", "--max-length", "32", "--output", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { tasks: string[] };
    assert.deepEqual(cfg.tasks, ["sotu-party", "mail"]);
    const p = await runCli(["predict", "--model", path.join(REPO_ROOT, "models", "propetl-mini"), "--checkpoint", out, "--task", "mail", "--text", "win money now", "--json"]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /"label":"(ham|spam)"/);
    // A text-to-text descriptor with an encoder model is refused, naming the file.
    const s2s = taskDir("copy-bert", { name: "copy", source_column: "src", target_column: "tgt" }, { "train.jsonl": '{"src":"a","tgt":"b"}\n', "validation.jsonl": '{"src":"c","tgt":"d"}\n' });
    const bad = await runCli(["train", "--tasks", `spam,${s2s}`, "--model", path.join(REPO_ROOT, "models", "propetl-mini"), "--output", path.join(work, "x")]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /multi-task training with text-to-text tasks \(spam, copy: every task is trained as text\) needs an encoder–decoder \(T5\) model, but model_type is "bert"/);
  });

  test("a T5 model: bible-es-en + a custom text-to-text task from JSONL", async () => {
    const modelDir = path.join(work, "tiny-t5-32k");
    await writeTinyT5Dir(modelDir);
    const rows = (n: number, off: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ src: `number ${i + off}`, tgt: `número ${i + off}` })).join("\n") + "\n";
    const copy = taskDir("numbers", { name: "numbers", source_column: "src", target_column: "tgt", prefix: "to spanish: " }, { "train.jsonl": rows(8, 0), "validation.jsonl": rows(3, 100) });
    const out = path.join(work, "mt-t5");
    const r = await runCli(["train", "--tasks", `bible-es-en,${copy}`, "--model", modelDir, "--max-train-examples", "8", "--max-eval-examples", "3", "--max-steps", "2", "--batch-size", "4", "--max-new-tokens", "4", "--eval-batch-size", "3", "--output", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { task_prefixes: Record<string, string> };
    assert.deepEqual(cfg.task_prefixes, { "bible-es-en": "translate Spanish to English: ", numbers: "to spanish: " });
    const m = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { tasks: Record<string, { mainMetric: string; data: { train: number; validation: number; test: number } }> };
    assert.equal(m.tasks.numbers.mainMetric, "bleu");
    const { train, validation, test: testCount } = m.tasks.numbers.data;
    assert.deepEqual({ train, validation, test: testCount }, { train: 8, validation: 3, test: 0 });
  });
});
