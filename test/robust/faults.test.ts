/**
 * Faults during a run (issue 16): temporary files a killed write left behind are ours by name
 * and removed by the next run, and an output folder removed mid-run costs no work (the state
 * goes into a recreated folder, the end of the run writes the task checkpoint again), while a
 * plain write into a missing folder is a named error, not a raw ENOENT.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { OutputFolderError, TEMP_MARK, cleanStaleTempFiles, parseTempName, writeFileAtomic } from "../../src/io/atomic-write.js";
import { writeSafetensorsFile } from "../../src/io/safetensors.js";
import { loadModelDir } from "../../src/models/load.js";
import { finetune } from "../../src/train/finetune.js";
import type { FinetuneHyper, TaskInfo } from "../../src/train/finetune.js";
import { METRICS_FILE, mustRewriteCheckpoint, rewriteCheckpoint, runSeeds } from "../../src/train/task-run.js";
import type { SeedResult } from "../../src/train/task-run.js";
import { readTrainPosition, trainStateFile } from "../../src/train/train-state.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { gatedAdapter, syntheticData, tempDir } from "../train/helpers.js";

let work: string;
before(async () => {
  await initEngine();
  work = tempDir("propetl-faults-");
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  assert.ok(r.pid && r.status === 0);
  return r.pid;
}

test("temporary files are named <target>.propetl-tmp-<pid>-<hex>, so ours are told from user files", async () => {
  const dir = path.join(work, "names");
  mkdirSync(dir);
  const target = path.join(dir, "state.json");
  await writeFileAtomic(target, "x");
  assert.deepEqual(readdirSync(dir), ["state.json"]);
  assert.deepEqual(parseTempName(`state.json${TEMP_MARK}123-0123456789ab`), { target: "state.json", pid: 123 });
  assert.deepEqual(parseTempName("state.json.tmp-123-0123456789ab"), { target: "state.json", pid: 123 }, "the name before this version");
  assert.deepEqual(parseTempName(".propetl-write-test-77"), { target: "", pid: 77 }, "the output folder's write probe");
  for (const user of ["notes.tmp", "data.tmp-1", "x.propetl-tmp-12-xyz", "model.safetensors.bak"]) assert.equal(parseTempName(user), null, user);
});

test("stale temporary files of a dead writer are removed by the next run (runSeeds), user files and live writers' files kept", async () => {
  const out = path.join(work, "run");
  const seedDir = path.join(out, "seed-1");
  mkdirSync(seedDir, { recursive: true });
  const dead = deadPid();
  const stale = [
    path.join(out, `metrics.json${TEMP_MARK}${dead}-00112233aabb`),
    path.join(seedDir, `train_state.safetensors${TEMP_MARK}${dead}-a1b2c3d4e5f6`),
    path.join(seedDir, `adapter_model.safetensors.tmp-${dead}-0123456789ab`),
  ];
  const kept = [path.join(out, "notes.tmp"), path.join(seedDir, "data.tmp-1"), path.join(seedDir, `adapter_config.json${TEMP_MARK}${process.ppid}-0123456789ab`)];
  for (const f of [...stale, ...kept]) writeFileSync(f, "partial");
  const logs: string[] = [];
  const seen: boolean[] = [];
  await runSeeds({ taskName: "t", method: { method: "adapter" }, seeds: [1, 2], outputDir: out, resume: true, log: (m) => void logs.push(m) }, async (seed, dir): Promise<{ result: SeedResult; storage: null }> => {
    seen.push(stale.every((f) => !existsSync(f)));
    const t = { main: seed, scores: {}, examples: 1 };
    const metricsFile = path.join(dir, METRICS_FILE);
    writeFileSync(metricsFile, JSON.stringify({ test: t, validation: null }));
    return { result: { seed, dir, validation: null, test: t, metricsFile }, storage: null };
  });
  assert.deepEqual(seen, [true, true], "stale temporary files are gone before training starts");
  for (const f of kept) assert.ok(existsSync(f), `kept: ${f}`);
  assert.ok(logs.some((m) => /removed 3 temporary file\(s\) left by an interrupted write: metrics\.json\.propetl-tmp-\d+-00112233aabb, seed-1\//.test(m)), logs.join("\n"));
  assert.deepEqual(cleanStaleTempFiles(path.join(work, "no-such-folder")), []);
});

test("a write into a folder that is gone: OutputFolderError naming the folder; createFolder recreates it", async () => {
  const gone = path.join(work, "gone");
  await assert.rejects(writeFileAtomic(path.join(gone, "metrics.json"), "{}"), (e: unknown) => {
    assert.ok(e instanceof OutputFolderError, String(e));
    assert.match(e.message, /gone: the folder does not exist \(removed while the run was writing to it\?\), so metrics\.json could not be written/);
    return true;
  });
  await writeSafetensorsFile(path.join(gone, "s.safetensors"), { a: { dtype: "F32", shape: [1], data: new Float32Array([1]) } }, undefined, { createFolder: true });
  assert.ok(existsSync(path.join(gone, "s.safetensors")));
});

test("the output folder removed mid-run: training continues, its state is saved in the recreated folder", async () => {
  const out = path.join(work, "removed");
  mkdirSync(out);
  const file = path.join(out, "train_state.safetensors");
  const task: TaskInfo = { kind: "classification", numLabels: 2, metrics: ["accuracy"], mainMetric: "accuracy" };
  const hyper: FinetuneHyper = { epochs: 1, batchSize: 8, gradAccumSteps: 1, lr: 3e-3, maskLr: 3e-2, weightDecay: 0.1, warmupRatio: 0.1, maxGradNorm: 1, seed: 42, evalBatchSize: 32, padToMultipleOf: 16 };
  const m = await loadModelDir(modelFixtureDir("tiny-bert"), { numLabels: 2, seed: 7 });
  try {
    const res = await finetune({
      backbone: { config: m.config, encoder: m.encoder },
      method: gatedAdapter(4),
      head: m.head,
      task,
      train: syntheticData(32, 1),
      validation: syntheticData(8, 2),
      padTokenId: 0,
      hyper,
      checkpoint: { store: trainStateFile(file), everySteps: 1 },
      resume: false,
      fingerprint: "fp",
      onEvent: (e) => {
        if (e.type === "step" && e.step === 2) rmSync(out, { recursive: true, force: true });
      },
    });
    assert.equal(res.steps, 4);
    const pos = await readTrainPosition(file);
    assert.ok(pos && pos.globalStep === 4 && pos.finished, "the state of the finished run is on disk");
    tree.dispose(res.params);
    if (res.best) tree.dispose(res.best);
  } finally {
    tree.dispose(m.encoder);
  }
  // The end of a run notices the task checkpoint is gone and writes it again from the best parameters.
  const ck = path.join(work, "ck");
  mkdirSync(ck);
  assert.equal(mustRewriteCheckpoint(ck, { best: {} }), true);
  const logs: string[] = [];
  await rewriteCheckpoint(ck, false, (s) => void logs.push(s), async () => {
    for (const f of ["adapter_config.json", "adapter_model.safetensors"]) writeFileSync(path.join(ck, f), "x");
  }, true);
  assert.match(logs.join("\n"), /the task checkpoint written during the run was missing \(folder removed during the run\?\); rewritten from the best parameters/);
  assert.equal(mustRewriteCheckpoint(ck, { best: {} }), false);
});
