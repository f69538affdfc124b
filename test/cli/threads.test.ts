/**
 * `--threads N` reaches the engine as initEngine({ threads }) and wins over PROPETL_THREADS;
 * a bad value is a usage error. One optimizer step on the built-in spam task with a tiny BERT.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir, tinyModelDir } from "../train/helpers.js";

const MAIN = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let work: string;
let model: string;
before(() => {
  work = tempDir("propetl-cli-threads-");
  model = tinyModelDir(path.join(work, "model"));
});
after(() => rmSync(work, { recursive: true, force: true }));

test("--threads 2 overrides PROPETL_THREADS=1: the log and metrics.json report 2 threads", () => {
  const out = path.join(work, "run");
  const args = ["--model", model, "--task", "spam", "--max-train-examples", "16", "--max-eval-examples", "8", "--epochs", "1", "--batch-size", "8", "--bottleneck", "4", "--max-steps", "1", "--output", out, "--json"];
  const r = cli(["train", "--threads", "2", ...args]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /engine wasm with 2 thread\(s\)/);
  const metrics = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { engine: { backend: string; threads: number } };
  assert.deepEqual(metrics.engine, { backend: "wasm", threads: 2 });
});

test("a bad --threads is a usage error naming the flag", () => {
  for (const [args, got] of [
    [["--threads", "0"], '"0"'],
    [["--threads=two"], '"two"'],
    [["--threads"], "nothing"],
  ] as const) {
    const r = cli(["train", ...args]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), `propetl: --threads must be a positive integer, got ${got}`);
  }
});
