/**
 * engine/flush.ts: jax-js records work lazily and keeps every pending intermediate allocated
 * until a result is read; `flushPending` runs it at once, so a chain of operations holds one
 * step's buffers instead of all of them. Traced values (jit, grad) are left alone, with the same
 * results.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { flushPending } from "../../src/engine/flush.js";
import { grad, jit, nn, np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { wasmHeapStatsReader } from "../../src/engine/live-buffers.js";

before(async () => {
  await initEngine({ threads: 1 });
});

const MiB = 2 ** 20;

test("a chain of 40 layers flushed after each holds one layer's buffers, not forty", async () => {
  const heap = await wasmHeapStatsReader();
  const w = np.array(new Float32Array(256 * 256).map((_, i) => Math.cos(i) / 16)).reshape([256, 256]);
  const run = async (flush: boolean): Promise<{ peak: number; out: Float32Array }> => {
    let x = np.array(new Float32Array(16 * 96 * 256).map((_, i) => Math.sin(i))).reshape([16, 96, 256]);
    await x.blockUntilReady();
    heap({ resetPeak: true });
    const base = heap().liveBytes;
    for (let i = 0; i < 40; i++) {
      x = nn.relu(np.matmul(x, w.ref));
      if (flush) flushPending(x);
    }
    const out = (await x.data()) as Float32Array;
    return { peak: heap({ resetPeak: true }).peakLiveBytes - base, out };
  };
  const lazy = await run(false);
  const flushed = await run(true);
  w.dispose();
  assert.ok(lazy.peak > 40 * MiB, `without flushing: ${(lazy.peak / MiB).toFixed(1)} MiB (40 x 1.5 MiB pending)`);
  assert.ok(flushed.peak < 6 * MiB, `flushed after each: ${(flushed.peak / MiB).toFixed(1)} MiB`);
  assert.deepEqual(flushed.out, lazy.out, "the same values");
});

test("under jit and grad the values are tracers: flushPending leaves them, results unchanged", async () => {
  const f = (x: JArray): JArray => {
    const y = x.ref.mul(x);
    flushPending(y);
    return y.sum();
  };
  const x = np.array(new Float32Array([1, 2, 3]));
  const eager = (await f(x.ref).data())[0];
  const jitted = (await jit(f)(x.ref).data())[0];
  const g = (await grad(f)(x.ref).data()) as Float32Array;
  x.dispose();
  assert.equal(eager, 14);
  assert.equal(jitted, 14);
  assert.deepEqual(Array.from(g), [2, 4, 6]);
});
