/**
 * The thread count set in code: `initEngine({ threads })` decides how many worker threads jax-js
 * really starts (counted by the Worker shim), $PROPETL_THREADS is only the default, bad values
 * and a conflicting second call are clear errors. Each case that starts workers runs in its own
 * process, on the built library (dist/src/index.js).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { engineInfo, initEngine } from "../../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = (rel: string): string => JSON.stringify(pathToFileURL(path.resolve(here, "../../src", rel)).href);

/** Prints one JSON line: the engine's info, the worker threads started, a matmul's values. */
const PRELUDE = `
import { initEngine, engineInfo } from ${dist("index.js")};
import { workerThreadsStarted } from ${dist("engine/node-workers.js")};
import { np, random } from ${dist("engine/jax.js")};
async function matmul() {
  const a = random.normal(random.key(1), [300, 200]);
  const b = random.normal(random.key(2), [200, 170]);
  const c = await np.matmul(a, b).data();
  return [c[0], c[c.length - 1]];
}
`;

interface Report {
  threads: number;
  info: { backend: string; threads: number };
  started: number;
  startedBefore?: number;
  values: number[];
}

function runScript(body: string, env: Record<string, string | undefined> = {}): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "propetl-threads-")), "script.mjs");
  writeFileSync(file, PRELUDE + body);
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  const r = spawnSync(process.execPath, [file], { env: childEnv, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function report(body: string, env: Record<string, string | undefined> = {}): Report {
  const r = runScript(body, env);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Report;
}

const START_AND_COMPUTE = (options: string) => `
const info = await initEngine(${options});
const values = await matmul();
console.log(JSON.stringify({ threads: engineInfo().threads, info, started: workerThreadsStarted(), values }));
`;

test("threads set in code decide the worker threads really started (1: none, the main thread computes)", () => {
  // PROPETL_THREADS=3 is only the default: the option wins.
  const one = report(START_AND_COMPUTE("{ threads: 1 }"), { PROPETL_THREADS: "3" });
  const two = report(START_AND_COMPUTE("{ threads: 2 }"), { PROPETL_THREADS: "3" });
  assert.deepEqual(one.info, { backend: "wasm", threads: 1 });
  assert.equal(one.threads, 1);
  assert.equal(one.started, 0);
  assert.deepEqual(two.info, { backend: "wasm", threads: 2 });
  assert.equal(two.threads, 2);
  assert.equal(two.started, 2);
  assert.deepEqual(two.values, one.values);
});

test("PROPETL_THREADS is the default when threads is not given, and all cores without it", () => {
  const env3 = report(START_AND_COMPUTE(""), { PROPETL_THREADS: "3" });
  assert.equal(env3.threads, 3);
  assert.equal(env3.started, 3);
  const cores = Math.max(1, os.availableParallelism());
  const all = report(START_AND_COMPUTE(""), { PROPETL_THREADS: undefined });
  assert.equal(all.threads, cores);
  assert.equal(all.started, cores > 1 ? cores : 0);
  // An explicit threads option does not read the variable, so a bad one does not matter then.
  const bad = report(START_AND_COMPUTE("{ threads: 2 }"), { PROPETL_THREADS: "zero" });
  assert.equal(bad.threads, 2);
  const r = runScript(START_AND_COMPUTE("{}"), { PROPETL_THREADS: "zero" });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PROPETL_THREADS must be a positive integer, got "zero"/);
});

test("computing before initEngine runs on the main thread; the pool follows initEngine's threads", () => {
  const r = report(`
const before = await matmul();
const startedBefore = workerThreadsStarted();
const info = await initEngine({ threads: 2 });
const values = await matmul();
if (JSON.stringify(values) !== JSON.stringify(before)) throw new Error("results differ: " + before + " vs " + values);
console.log(JSON.stringify({ threads: engineInfo().threads, info, started: workerThreadsStarted(), startedBefore, values }));
`);
  assert.equal(r.startedBefore, 0);
  assert.equal(r.threads, 2);
  assert.equal(r.started, 2);
});

test("bad options are rejected with a message naming the option, and start nothing", async () => {
  await assert.rejects(initEngine({ threads: 0 }), /initEngine: threads must be a positive integer, got 0/);
  await assert.rejects(initEngine({ threads: -2 }), /threads must be a positive integer, got -2/);
  await assert.rejects(initEngine({ threads: 1.5 }), /threads must be a positive integer, got 1\.5/);
  await assert.rejects(initEngine({ threads: Number.NaN }), /threads must be a positive integer, got NaN/);
  await assert.rejects(initEngine({ threads: "2" } as unknown as { threads: number }), /threads must be a positive integer, got "2"/);
  await assert.rejects(initEngine({ backend: "gpu" } as unknown as { backend: "wasm" }), /initEngine: backend must be one of "auto", "wasm", "webgpu", "cpu", got "gpu"/);
  await assert.rejects(initEngine({ thread: 2 } as unknown as { threads: number }), /initEngine: unknown option "thread" \(options: backend, threads\)/);
  assert.throws(() => engineInfo(), /call initEngine\(\) first/);
});

test("a second initEngine with other options is an error; the same options or none return the running engine", async () => {
  const info = await initEngine({ threads: 1 });
  assert.deepEqual(info, { backend: "wasm", threads: 1 });
  await assert.rejects(initEngine({ threads: 2 }), /initEngine: the engine is already running with threads: 1; it cannot restart with threads: 2 in this process/);
  await assert.rejects(initEngine({ backend: "cpu" }), /already running on backend "wasm" \(chosen by "auto"\); it cannot restart with backend "cpu"/);
  assert.deepEqual(await initEngine(), info);
  assert.deepEqual(await initEngine({ threads: 1 }), info);
  assert.deepEqual(await initEngine({ backend: "wasm", threads: 1 }), info);
  assert.deepEqual(await initEngine({ backend: "auto" }), info);
  // Bad values stay errors of their own, not conflicts.
  await assert.rejects(initEngine({ threads: 0 }), /threads must be a positive integer, got 0/);
  assert.deepEqual(engineInfo(), info);
});
