/**
 * The seed loop shared by every kind of task (`runSeeds`): one folder per seed, repeated seeds
 * refused, finished seeds skipped on resume, and the mean ± sample std written once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { checkpointDigest, METRICS_FILE, rewriteCheckpoint, runSeeds, TrainTaskError } from "../../src/train/task-run.js";
import type { SeedResult } from "../../src/train/task-run.js";
import { tempDir } from "./helpers.js";

function fakeRun(calls: number[]) {
  return async (seed: number, dir: string): Promise<{ result: SeedResult; storage: null }> => {
    calls.push(seed);
    const test = { main: seed, scores: { accuracy: seed }, examples: 1 };
    const metricsFile = path.join(dir, METRICS_FILE);
    writeFileSync(metricsFile, JSON.stringify({ test, validation: null }));
    return { result: { seed, dir, validation: null, test, metricsFile }, storage: null };
  };
}

test("runSeeds: a folder per seed, mean and sample std, repeated seeds refused, finished seeds skipped", async () => {
  const dir = tempDir();
  try {
    await assert.rejects(runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [1, 1], outputDir: dir }, fakeRun([])), (e: Error) => e instanceof TrainTaskError && /seeds 1,1 repeat a seed/.test(e.message));
    await assert.rejects(runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [], outputDir: dir }, fakeRun([])), /no seeds given/);
    const calls: number[] = [];
    const res = await runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [1, 3], outputDir: dir }, fakeRun(calls));
    assert.deepEqual(calls, [1, 3]);
    assert.ok(existsSync(path.join(dir, "seed-1", METRICS_FILE)) && existsSync(path.join(dir, "seed-3", METRICS_FILE)));
    assert.equal(res.summary.main.mean, 2);
    assert.equal(res.summary.main.std, Math.SQRT2);
    const doc = JSON.parse(readFileSync(path.join(dir, METRICS_FILE), "utf8")) as { seeds: { dir: string }[] };
    assert.deepEqual(doc.seeds.map((s) => s.dir), ["seed-1", "seed-3"]);
    await assert.rejects(runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [1, 3], outputDir: dir }, fakeRun([])), /already holds a finished run/);
    const again: number[] = [];
    await runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [1, 3], outputDir: dir, resume: true }, fakeRun(again));
    assert.deepEqual(again, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rewriteCheckpoint: after a resume, missing or replaced files are rewritten and reported; identical ones silently", async () => {
  const dir = tempDir();
  try {
    const files = ["adapter_config.json", "adapter_model.safetensors"];
    const save = async (): Promise<void> => {
      for (const f of files) writeFileSync(path.join(dir, f), `the state's ${f}`);
    };
    const logs: string[] = [];
    const log = (m: string): void => void logs.push(m);
    await rewriteCheckpoint(dir, true, log, save);
    assert.match(logs.pop() ?? "", /the task checkpoint on disk was missing; rewritten from the resume state's best parameters/);
    writeFileSync(path.join(dir, files[1]), "another run's weights");
    const before = checkpointDigest(dir);
    await rewriteCheckpoint(dir, true, log, save);
    assert.match(logs.pop() ?? "", /did not match the resume state \(another run's files\?\); rewritten/);
    assert.notEqual(checkpointDigest(dir), before);
    await rewriteCheckpoint(dir, true, log, save);
    assert.deepEqual(logs, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
