/**
 * `propetl pretrain` end to end through the CLI: a tiny BERT pretrained on a generated text,
 * then fine-tuned with `propetl train --model <that folder>` on a small custom task; the
 * usage and input errors; --help.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { runCli } from "../helpers/cli.js";
import { syntheticText, tempDir } from "../train/helpers.js";

const cli = runCli;

let work: string;
let text: string;
const TINY = ["--layers", "2", "--hidden", "32", "--heads", "2", "--max-positions", "64", "--vocab-size", "150", "--seq-len", "32", "--batch-size", "8", "--eval-batch-size", "8"];

before(() => {
  work = tempDir("propetl-pretrain-cli-");
  text = path.join(work, "text.txt");
  writeFileSync(text, syntheticText(300, 9).join("\n") + "\n");
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("propetl pretrain", () => {
  test("pretrains a tiny BERT that propetl train then fine-tunes", async () => {
    const out = path.join(work, "mini");
    const r = await cli(["pretrain", text, "--output", out, ...TINY, "--steps", "6", "--eval-every", "3", "--lr", "3e-3"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l.type === "step").length, 6);
    assert.equal(lines.filter((l) => l.type === "eval").length, 2);
    const result = lines.find((l) => l.type === "result") as { steps: number; output: string; final: { scores: { loss: number; accuracy: number } } };
    assert.equal(result.steps, 6);
    assert.ok(Number.isFinite(result.final.scores.loss));
    for (const f of ["config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "pretrain_log.jsonl", "pretrain_metrics.json"]) assert.ok(existsSync(path.join(out, f)), f);

    const task = path.join(work, "task");
    mkdirSync(task, { recursive: true });
    const rows = (n: number, off: number): string =>
      "text,label\n" + Array.from({ length: n }, (_, i) => (i + off) % 2 ? `the cat sat on the mat ${i},pos` : `a dog ran past the river ${i},neg`).join("\n") + "\n";
    writeFileSync(path.join(task, "train.csv"), rows(16, 0));
    writeFileSync(path.join(task, "dev.csv"), rows(8, 1));
    const ft = await cli(["train", "--model", out, "--task-dir", task, "--text-column", "text", "--label-column", "label", "--labels", "neg,pos", "--output", path.join(work, "ft"), "--epochs", "1", "--batch-size", "8", "--bottleneck", "4", "--max-length", "32", "--json"]);
    assert.equal(ft.code, 0, ft.stderr);
    const metrics = JSON.parse(readFileSync(path.join(work, "ft", "metrics.json"), "utf8")) as { model: { layers: number; hiddenSize: number }; test: { scores: Record<string, number> } };
    assert.deepEqual([metrics.model.layers, metrics.model.hiddenSize], [2, 32]);
    assert.ok(metrics.test.scores.accuracy >= 0);

    const again = await cli(["pretrain", text, "--output", out, ...TINY, "--steps", "6"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a finished pretraining run/);
  });

  test("usage and input errors name the flag or file", async () => {
    const cases: [string[], number, RegExp][] = [
      [["--output", path.join(work, "x")], 2, /missing text/],
      [[path.join(work, "nope.txt"), "--output", path.join(work, "x1")], 1, /nope\.txt: text file not found/],
      [[text, "--output", path.join(work, "x2"), "--hidden", "30", "--heads", "4"], 2, /--hidden 30 is not divisible by --heads 4/],
      [[text, "--output", path.join(work, "x3"), "--seq-len", "600"], 2, /--seq-len 600 exceeds --max-positions 512/],
      [[text, "--output", path.join(work, "x4"), "--init", work, "--layers", "2"], 2, /--init continues pretraining .* drop --layers/],
      [[text, "--output", path.join(work, "x5"), "--vocab", path.join(work, "vocab-nope.txt")], 1, /vocab-nope\.txt: vocabulary file not found/],
    ];
    for (const [args, code, re] of cases) {
      const r = await cli(["pretrain", ...args]);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test("propetl pretrain --help", async () => {
    const r = await cli(["pretrain", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: propetl pretrain/);
    assert.match(r.stdout, /80% are replaced by \[MASK\],\n10% by a random token and 10% left unchanged/);
    assert.match((await cli(["--help"])).stdout, /pretrain +pretrain a small BERT/);
  });
});
