/**
 * `propetl train --tasks` with a T5 model, end to end on a tiny random T5 with the t5-small
 * tokenizer: a text-to-text task (bible-es-en) and a classification task cast to text (rte) in
 * one checkpoint with both task prefixes and a task mask each; `propetl generate --task`
 * reproduces each task's test generations from it; and the bad inputs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadTaskData } from "../../src/cli/common.js";
import { initEngine } from "../../src/engine/engine.js";
import { labelTextPairs } from "../../src/data/text-to-text.js";
import { runCli } from "../helpers/cli.js";
import { modelFixtureDir, REPO_ROOT } from "../helpers/fixtures.js";
import { writeTinyT5Dir } from "../helpers/t5-model.js";

let work: string;
let modelDir: string;

before(async () => {
  await initEngine({ threads: 1 });
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-train-s2s-mt-"));
  modelDir = path.join(work, "tiny-t5-32k");
  await writeTinyT5Dir(modelDir);
});
after(() => rmSync(work, { recursive: true, force: true }));

const QUICK = ["--max-train-examples", "8", "--max-eval-examples", "3", "--max-steps", "3", "--batch-size", "4", "--max-new-tokens", "5", "--eval-batch-size", "3"];

function lines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
}

describe("propetl train --tasks with a T5 model", () => {
  test("bible-es-en + rte: one checkpoint, a prefix and a task mask per task; generate --task reproduces each task's test generations", async () => {
    const out = path.join(work, "mt");
    const r = await runCli(["train", "--tasks", "bible-es-en,rte", "--model", modelDir, ...QUICK, "--seed", "42", "--output", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { task_prefixes: Record<string, string>; method: string; tasks: string[]; combine: string };
    assert.deepEqual(cfg.task_prefixes, { "bible-es-en": "translate Spanish to English: ", rte: "rte " });
    assert.equal(cfg.method, "propetl-adapter");
    assert.deepEqual(cfg.tasks, ["bible-es-en", "rte"]);
    assert.equal(cfg.combine, "or");
    const m = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as {
      taskKind: string;
      steps: number;
      tasks: Record<string, { mainMetric: string; prefix: string; test: { examples: number; scores: Record<string, number> } }>;
      storage: { perTask: { bits: number } };
    };
    assert.equal(m.taskKind, "text-to-text");
    assert.equal(m.steps, 3);
    assert.equal(m.tasks["bible-es-en"].mainMetric, "bleu");
    assert.equal(m.tasks.rte.mainMetric, "accuracy");
    assert.equal(m.tasks.rte.test.examples, 3);
    assert.ok(Number.isInteger(m.tasks.rte.test.scores.noLabel), JSON.stringify(m.tasks.rte.test.scores));
    assert.ok(m.storage.perTask.bits > 0);
    const result = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string }).find((e) => e.type === "result");
    assert.ok(result, r.stdout);

    // Each task through `propetl generate --task`: its prefix and its hybrid masks.
    const bibleSources = readFileSync(path.join(REPO_ROOT, "data", "bible-es-en", "test.jsonl"), "utf8").split("\n").slice(0, 3).map((l) => (JSON.parse(l) as { source: string }).source);
    const data = await loadTaskData({ task: "rte" });
    const rteSources = labelTextPairs(data.task, (await data.splits(42)).test.slice(0, 3)).map((p) => p.source);
    for (const [task, sources] of [["bible-es-en", bibleSources], ["rte", rteSources]] as const) {
      const input = path.join(work, `${task}-sources.txt`);
      writeFileSync(input, sources.join("\n") + "\n");
      // The run cut sources to 128 tokens (the default --max-source-length), as generate must.
      const gen = await runCli(["generate", "--model", modelDir, "--checkpoint", out, "--task", task, "--input", input, "--max-new-tokens", "5", "--max-source-length", "128"]);
      assert.equal(gen.code, 0, gen.stderr);
      assert.deepEqual(gen.stdout.split("\n").filter((l) => l !== ""), lines(path.join(out, `test_predictions.${task}.txt`)), task);
    }
  });

  test("bad inputs: a task listed twice, an unknown task, full fine-tuning, a BERT model, classification-only flags", async () => {
    const twice = await runCli(["train", "--tasks", "bible-es-en,bible-es-en", "--model", modelDir, "--output", path.join(work, "x1")]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /task "bible-es-en" is listed twice/);
    const unknown = await runCli(["train", "--tasks", "bible-es-en,nope", "--model", modelDir, "--output", path.join(work, "x2")]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nope/);
    const full = await runCli(["train", "--tasks", "bible-es-en,rte", "--method", "full", "--model", modelDir, "--output", path.join(work, "x3")]);
    assert.equal(full.code, 2);
    assert.match(full.stderr, /multi-task training needs a PETL method/);
    const bert = await runCli(["train", "--tasks", "bible-es-en,rte", "--model", modelFixtureDir("tiny-bert"), "--output", path.join(work, "x4")]);
    assert.equal(bert.code, 2);
    assert.match(bert.stderr, /multi-task training with text-to-text tasks \(bible-es-en, rte: every task is trained as text\) needs an encoder–decoder \(T5\) model, but model_type is "bert"/);
    const headLr = await runCli(["train", "--tasks", "bible-es-en,rte", "--head-lr", "1e-3", "--model", modelDir, "--output", path.join(work, "x5")]);
    assert.equal(headLr.code, 2);
    assert.match(headLr.stderr, /--head-lr does not apply to text-to-text multi-task training/);
  });
});
