/**
 * The engine's wasm allocator (patched: coalescing free extents, see patches/): memory freed in
 * one pattern of tensor sizes serves any later pattern, so the heap stays near the peak of live
 * bytes instead of growing with every new pattern. Before the patch, a T5 fine-tuning run with
 * generation at evaluation (batch 16, lengths up to 96) grew the heap to the 4 GiB limit and
 * died after 54 steps while its live bytes never exceeded 2 GiB.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { wasmHeapStats } from "../../src/engine/live-buffers.js";

before(async () => {
  await initEngine({ threads: 1 });
});

const MiB = 2 ** 20;

async function alloc(bytes: number): Promise<JArray> {
  const a = np.array(new Float32Array(bytes / 4));
  await a.ref.data(); // realised on the device
  return a;
}

test("memory freed as blocks of one size serves blocks of other sizes: the heap stays near the peak of live bytes", async () => {
  const total = 48 * MiB;
  const start = await wasmHeapStats({ resetPeak: true });
  // Each round holds `total` bytes live in blocks of a different size, then frees them all;
  // a last round takes it as one block. Without merging, every round would need new memory.
  for (const pieces of [3, 5, 7, 2, 9, 4, 11, 6, 1]) {
    const size = Math.floor(total / pieces / 4096) * 4096;
    const held: JArray[] = [];
    for (let i = 0; i < pieces; i++) held.push(await alloc(size));
    for (const a of held) a.dispose();
  }
  const end = await wasmHeapStats();
  const grown = end.heapBytes - start.heapBytes;
  assert.ok(end.peakLiveBytes - start.liveBytes >= total * 0.9, `peak live ${(end.peakLiveBytes - start.liveBytes) / MiB} MiB`);
  // One round's worth of new memory at most (plus slack for the arrays' small blocks).
  assert.ok(grown <= total + 4 * MiB, `the heap grew by ${(grown / MiB).toFixed(1)} MiB for ${total / MiB} MiB live at most`);
  assert.equal(end.liveBytes, start.liveBytes, "every block was freed");
});

test("a growing tensor (a KV cache one step longer each time) reuses the memory of its shorter versions", async () => {
  const start = await wasmHeapStats({ resetPeak: true });
  const row = 256 * 1024; // one decoding step of a [B, H, t, d] cache, bytes
  let cache = await alloc(row);
  for (let t = 2; t <= 96; t++) {
    const next = await alloc(t * row);
    cache.dispose();
    cache = next;
  }
  const end = await wasmHeapStats();
  cache.dispose();
  const grown = end.heapBytes - start.heapBytes;
  // Live at most: the last two versions (96 + 95 rows). Without merging every length needs its own block.
  assert.ok(grown <= (96 + 95 + 8) * row, `the heap grew by ${(grown / MiB).toFixed(1)} MiB; the largest two versions are ${((191 * row) / MiB).toFixed(1)} MiB`);
});
