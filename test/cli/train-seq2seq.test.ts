/**
 * `propetl train` on text-to-text tasks, end to end on a tiny random T5 with the t5-small
 * tokenizer: the built-in bible-es-en task (checkpoint with its task prefix, metrics.json,
 * test generations), --remat and --no-remat alike, full fine-tuning of the whole T5, a custom JSONL task with --source-column/--target-column, resume of a
 * finished run, and the bad inputs: a source longer than the limit (cut and counted), an
 * empty target (named by file and line), an unknown task, a tokenizer that does not match the
 * model's vocabulary, a BERT model, and flags of the other task kind.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { runCli } from "../helpers/cli.js";
import { modelFixtureDir, REPO_ROOT } from "../helpers/fixtures.js";
import { T5_SMALL_TOKENIZER_DIR, writeTinyT5Dir } from "../helpers/t5-model.js";

let work: string;
let modelDir: string;

before(async () => {
  await initEngine({ threads: 1 });
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-train-s2s-"));
  modelDir = path.join(work, "tiny-t5-32k");
  await writeTinyT5Dir(modelDir);
});
after(() => rmSync(work, { recursive: true, force: true }));

const QUICK = ["--max-train-examples", "8", "--max-eval-examples", "3", "--max-steps", "2", "--batch-size", "4", "--max-new-tokens", "5", "--eval-batch-size", "3"];

function lines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
}

describe("propetl train on text-to-text tasks", () => {
  test("bible-es-en: checkpoint with the task prefix, metrics.json, test generations; --resume of a finished run", async () => {
    const out = path.join(work, "bible");
    const r = await runCli(["train", "--task", "bible-es-en", "--model", modelDir, ...QUICK, "--output", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { task_prefixes: Record<string, string>; method: string; stacks: Record<string, number> };
    assert.deepEqual(cfg.task_prefixes, { default: "translate Spanish to English: " });
    assert.equal(cfg.method, "propetl-adapter");
    assert.deepEqual(cfg.stacks, { encoder: 2, decoder: 2 });
    const m = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { taskKind: string; mainMetric: string; steps: number; data: Record<string, number>; test: { examples: number; scores: Record<string, number> }; validation: { step: number } | null; storage: { bits: number } };
    assert.equal(m.taskKind, "text-to-text");
    assert.equal(m.mainMetric, "bleu");
    assert.equal(m.steps, 2);
    assert.deepEqual(m.data, { train: 8, validation: 3, test: 3 });
    assert.equal(m.test.examples, 3);
    assert.ok(Number.isFinite(m.test.scores.bleu));
    assert.equal(m.validation?.step, 2);
    assert.ok(m.storage.bits > 0);
    assert.equal(lines(path.join(out, "test_predictions.txt")).length, 3);
    assert.ok(!existsSync(path.join(out, "train_state.safetensors")));
    const result = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string }).find((e) => e.type === "result");
    assert.ok(result, r.stdout);
    // The checkpoint generates the same test texts through `propetl generate` (task prefix from the file).
    const sources = readFileSync(path.join(REPO_ROOT, "data", "bible-es-en", "test.jsonl"), "utf8").split("\n").slice(0, 3).map((l) => (JSON.parse(l) as { source: string }).source);
    const input = path.join(work, "test-sources.txt");
    writeFileSync(input, sources.join("\n") + "\n");
    const gen = await runCli(["generate", "--model", modelDir, "--checkpoint", out, "--input", input, "--max-new-tokens", "5"]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.deepEqual(gen.stdout.split("\n").filter((l) => l !== ""), lines(path.join(out, "test_predictions.txt")));
    const unknownTask = await runCli(["generate", "--model", modelDir, "--checkpoint", out, "--task", "fr-en", "--text", "hola"]);
    assert.notEqual(unknownTask.code, 0);
    assert.match(unknownTask.stderr, /unknown task "fr-en"; this checkpoint has: default/);
    const again = await runCli(["train", "--task", "bible-es-en", "--model", modelDir, ...QUICK, "--output", out, "--resume"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /seed 42: already finished/);
  });

  test("--remat and --no-remat: the same training to float rounding, recorded in metrics.json", async () => {
    const runs: { hyper: { remat: unknown }; history: { trainLoss: number }[]; test: { scores: Record<string, number> } }[] = [];
    for (const flag of ["--remat", "--no-remat"]) {
      const out = path.join(work, `remat-${flag.slice(2)}`);
      const r = await runCli(["train", "--task", "bible-es-en", "--model", modelDir, ...QUICK, "--output", out, "--json", flag]);
      assert.equal(r.code, 0, r.stderr);
      runs.push(JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as (typeof runs)[number]);
    }
    assert.deepEqual(runs.map((m) => m.hyper.remat), [true, false]);
    const [a, b] = runs.map((m) => m.history[0].trainLoss);
    assert.ok(Number.isFinite(a) && Math.abs(a - b) <= 1e-5 * Math.abs(b), `train loss ${a} (--remat) vs ${b} (--no-remat)`);
    assert.deepEqual(runs[0].test.scores, runs[1].test.scores);
  });

  test("--method full: the whole T5 is tuned and stored; `propetl generate` on the checkpoint gives the run's test texts", async () => {
    const out = path.join(work, "full");
    const r = await runCli(["train", "--task", "bible-es-en", "--method", "full", "--lr", "1e-3", "--model", modelDir, ...QUICK, "--output", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { method: string };
    assert.equal(cfg.method, "full");
    const m = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { steps: number; storage: { bits: number; percentOfBackbone: number } | null };
    assert.equal(m.steps, 2);
    const preds = lines(path.join(out, "test_predictions.txt"));
    assert.equal(preds.length, 3);
    const sources = readFileSync(path.join(REPO_ROOT, "data", "bible-es-en", "test.jsonl"), "utf8").split("\n").slice(0, 3).map((l) => (JSON.parse(l) as { source: string }).source);
    const input = path.join(work, "full-sources.txt");
    writeFileSync(input, sources.join("\n") + "\n");
    const gen = await runCli(["generate", "--model", modelDir, "--checkpoint", out, "--input", input, "--max-new-tokens", "5"]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.deepEqual(gen.stdout.split("\n").filter((l) => l !== ""), preds);
  });

  test("a custom JSONL task: columns, prefix and ROUGE-2; long sources are cut and counted", async () => {
    const dir = path.join(work, "custom");
    mkdirSync(dir, { recursive: true });
    const row = (i: number, doc: string): string => JSON.stringify({ doc, sum: `summary number ${i}` });
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    writeFileSync(path.join(dir, "train.jsonl"), [0, 1, 2, 3, 4, 5].map((i) => row(i, i === 0 ? long : `a short text ${i}`)).join("\n") + "\n");
    writeFileSync(path.join(dir, "validation.jsonl"), [6, 7].map((i) => row(i, `another text ${i}`)).join("\n") + "\n");
    const out = path.join(work, "custom-out");
    const r = await runCli(["train", "--task-dir", dir, "--source-column", "doc", "--target-column", "sum", "--prefix", "summarize: ", "--metric", "rouge2", "--method", "lora", "--model", modelDir, ...QUICK, "--max-source-length", "16", "--output", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /custom train: 1 source\(s\) cut to 16 tokens, 0 target\(s\) cut to 128 tokens/);
    const m = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { task: string; mainMetric: string; prefix: string; data: Record<string, number> };
    assert.equal(m.task, "custom");
    assert.equal(m.mainMetric, "rouge2");
    assert.equal(m.prefix, "summarize: ");
    assert.deepEqual(m.data, { train: 6, validation: 2, test: 0 });
    // An empty target is named by file and line.
    writeFileSync(path.join(dir, "validation.jsonl"), row(6, "x") + "\n" + JSON.stringify({ doc: "y", sum: "  " }) + "\n");
    const bad = await runCli(["train", "--task-dir", dir, "--source-column", "doc", "--target-column", "sum", "--model", modelDir, ...QUICK, "--output", path.join(work, "bad-target")]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /validation\.jsonl:2: .*"sum".*empty/);
  });

  test("bad inputs: unknown task, mismatched tokenizer, a BERT model, flags of the other task kind", async () => {
    const unknown = await runCli(["train", "--task", "bible-xx-en", "--output", path.join(work, "u")]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown task "bible-xx-en"; known tasks: .*bible-es-en \(built in, text-to-text\)/);
    // tiny-t5 (vocab 64) with the t5-small tokenizer (32,100 ids).
    const small = path.join(work, "tiny-t5-big-tokenizer");
    mkdirSync(small, { recursive: true });
    for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(modelFixtureDir("tiny-t5"), f), path.join(small, f));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(path.join(T5_SMALL_TOKENIZER_DIR, f), path.join(small, f));
    const big = await runCli(["train", "--task", "bible-es-en", "--model", small, ...QUICK, "--output", path.join(work, "big")]);
    assert.equal(big.code, 1);
    assert.match(big.stderr, /the tokenizer has 32100 ids but the model's vocab_size is 64/);
    const bert = await runCli(["train", "--task", "bible-es-en", "--model", modelFixtureDir("tiny-bert"), "--output", path.join(work, "bert")]);
    assert.equal(bert.code, 2);
    assert.match(bert.stderr, /bible-es-en is a text-to-text task and needs an encoder–decoder \(T5\) model, but model_type is "bert"/);
    const headLr = await runCli(["train", "--task", "bible-es-en", "--model", modelDir, "--head-lr", "1e-3", "--output", path.join(work, "h")]);
    assert.equal(headLr.code, 2);
    assert.match(headLr.stderr, /--head-lr does not apply to the text-to-text task bible-es-en/);
    const beams = await runCli(["train", "--task", "spam", "--num-beams", "2", "--output", path.join(work, "b")]);
    assert.equal(beams.code, 2);
    assert.match(beams.stderr, /--num-beams applies only to text-to-text tasks/);
    const half = await runCli(["train", "--task-dir", work, "--source-column", "doc", "--model", modelDir, "--output", path.join(work, "half")]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /needs both --source-column and --target-column/);
  });
});
