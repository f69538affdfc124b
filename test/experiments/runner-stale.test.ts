/**
 * The grid runner counts a finished run as done only when its recorded command is the plan's:
 * a metrics.json left from an earlier plan (other budget) stops the runner before it starts
 * anything, instead of being counted as the new plan's result.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { planRuns } from "../../experiments/table2/plan.js";

const RUNNER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../experiments/compare/run.js");

function writeMetrics(dir: string, command: string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "metrics.json"), JSON.stringify({ format: "propetl-metrics", command }));
}

test("the runner lists a run recorded with the plan's arguments as done, another as stale, and refuses to run past a stale one", () => {
  const results = mkdtempSync(path.join(tmpdir(), "propetl-runner-"));
  try {
    const [first, second] = planRuns();
    writeMetrics(path.join(results, first.id), ["propetl", "train", ...first.args, "--output", path.join(results, first.id), "--json"]);
    const oldBudget = second.args.map((a, i) => (second.args[i - 1] === "--epochs" ? "3" : a));
    writeMetrics(path.join(results, second.id), ["propetl", "train", ...oldBudget, "--output", path.join(results, second.id), "--json"]);

    const list = spawnSync(process.execPath, [RUNNER, "--plan", "table2", "--results", results, "--list"], { encoding: "utf8" });
    assert.equal(list.status, 0, list.stderr);
    const statusOf = (id: string) => list.stdout.split("\n").find((l) => l.includes(` ${id} `))?.split(/\s+/)[0];
    assert.equal(statusOf(first.id), "done");
    assert.equal(statusOf(second.id), "stale");
    assert.match(list.stdout, /1\/30 done/);

    const run = spawnSync(process.execPath, [RUNNER, "--plan", "table2", "--results", results, "--limit", "1"], { encoding: "utf8" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /1 finished run\(s\) .* other arguments than the plan's/);
    assert.ok(run.stderr.includes(path.join(results, second.id, "metrics.json")), run.stderr);
    assert.doesNotMatch(run.stdout, /running/);
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

test("the runner skips a run whose lock another live runner holds, and starts nothing for it", () => {
  const results = mkdtempSync(path.join(tmpdir(), "propetl-runner-"));
  try {
    const [first] = planRuns();
    const dir = path.join(results, first.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "runner.lock"), String(process.pid)); // this test process: alive
    const only = `^${first.id}$`;
    const run = spawnSync(process.execPath, [RUNNER, "--plan", "table2", "--results", results, "--only", only], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`skip ${first.id}: another runner \\(pid ${process.pid}\\) is training it`));
    assert.match(run.stdout, /finished 0, failed 0, skipped 1/);
    assert.ok(!existsSync(path.join(dir, "train.log")), "nothing was started");
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

test("the runner prints its usage for --help and exits 2 with the usage on an unknown option or plan", () => {
  const help = spawnSync(process.execPath, [RUNNER, "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: node dist\/experiments\/compare\/run\.js \[--plan compare\|converge\|figure3\|table2\]/);
  const bad = spawnSync(process.execPath, [RUNNER, "--jbos", "2"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--jbos'[\s\S]*usage:/);
  const plan = spawnSync(process.execPath, [RUNNER, "--plan", "table3"], { encoding: "utf8" });
  assert.equal(plan.status, 2);
  assert.match(plan.stderr, /--plan must be one of compare, converge, figure3, table2, got table3/);
});
