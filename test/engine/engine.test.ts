/** Engine setup: worker threads give the same numbers as one thread, and the process exits. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const script = `
import { initEngine } from ${JSON.stringify(path.resolve(here, "../../src/engine/engine.js"))};
import { np, random } from ${JSON.stringify(path.resolve(here, "../../src/engine/jax.js"))};
const info = await initEngine();
const a = random.normal(random.key(1), [300, 200]);
const b = random.normal(random.key(2), [200, 170]);
const c = await np.matmul(a, b).data();
let s = 0; for (const v of c) s += v;
console.log(JSON.stringify({ info, sum: s, first: c[0], last: c[c.length - 1] }));
`;

function run(threads: string): { info: { backend: string; threads: number }; sum: number; first: number; last: number } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "propetl-engine-")), "matmul.mjs");
  writeFileSync(file, script);
  const out = execFileSync(process.execPath, [file], {
    env: { ...process.env, PROPETL_THREADS: threads },
    encoding: "utf8",
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split("\n").pop() ?? "{}");
}

test("2 worker threads give the same matmul as 1 thread and the process exits by itself", () => {
  const one = run("1");
  const two = run("2");
  assert.equal(one.info.threads, 1);
  assert.equal(two.info.threads, 2);
  assert.equal(two.info.backend, "wasm");
  assert.equal(two.first, one.first);
  assert.equal(two.last, one.last);
  assert.ok(Math.abs(two.sum - one.sum) <= 1e-6 * Math.abs(one.sum) + 1e-3);
});

test("a bad PROPETL_THREADS is a clear error", () => {
  assert.throws(() => run("zero"), /PROPETL_THREADS must be a positive integer, got "zero"/);
});
