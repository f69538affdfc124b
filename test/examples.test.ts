/**
 * The runnable examples in examples/ (they import the package by its name, as a user's program
 * does): fine-tune for 2 steps, classify and serve with its checkpoint, multi-task for 2 steps.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./helpers/fixtures.js";

const run = promisify(execFile);
let work: string;
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-examples-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

async function example(name: string, args: string[]): Promise<string> {
  const r = await run(process.execPath, [path.join(REPO_ROOT, "examples", name), ...args], { cwd: REPO_ROOT, env: { ...process.env, PROPETL_THREADS: "1" }, maxBuffer: 16 << 20 });
  return r.stdout;
}

function jsonLines(out: string): Record<string, unknown>[] {
  return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("fine-tune, then classify and serve with its checkpoint", async () => {
  const tasks = path.join(work, "tasks");
  mkdirSync(tasks);
  const ckpt = path.join(tasks, "spam");
  const ft = await example("fine-tune.mjs", [ckpt, "2"]);
  assert.match(ft, /test f1: \d\.\d{4} \(256 examples\); checkpoint /);
  assert.match(ft, /% of backbone +0\.688%/);
  const texts = ["win a free prize now", "lunch tomorrow?"];
  const classified = jsonLines(await example("classify.mjs", [ckpt, ...texts]));
  assert.deepEqual(classified.map((r) => r.text), texts);
  for (const r of classified) assert.ok(["ham", "spam"].includes(r.label as string));
  const served = jsonLines(await example("serve.mjs", [tasks, "spam", ...texts]));
  // The router answers as classify.mjs (predict's code path) does.
  assert.deepEqual(served.map((r) => r.label), classified.map((r) => r.label));
  served.forEach((r, i) => (r.probs as number[]).forEach((p, c) => assert.ok(Math.abs(p - (classified[i].probs as number[])[c]) < 1e-5)));
});

test("multi-task: two tasks, then one batch that mixes them", async () => {
  const out = await example("multi-task.mjs", [path.join(work, "mt"), "2"]);
  assert.match(out, /mean of the tasks' test metrics: \d\.\d{4}; checkpoint /);
  const rows = jsonLines(out);
  assert.deepEqual(rows.map((r) => r.task), ["spam", "sotu-party"]);
  assert.ok(["ham", "spam"].includes(rows[0].label as string));
  assert.ok(["Democratic", "Republican"].includes(rows[1].label as string), String(rows[1].label));
});
