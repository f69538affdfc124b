/**
 * The jax-js defects propetl's patch fixes stay fixed in the engine the package ships (the
 * vendored copy, "#jax-js"): no leaked buffer per reciprocal gradient, a matmul through a
 * transposed view about as fast as a contiguous one, and jit of a gather's gradient works.
 * The packed-tarball check (test-consumer/) runs the same reproductions in a consumer project.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as engine from "../../src/engine/index.js";
import { wasmHeapStatsReader } from "../../src/engine/live-buffers.js";
import { checkEngineDefects, defectProblems } from "../../bench/engine-defects.js";

test("the engine's patched defects (reciprocal leak, transposed-view matmul, jit scatter) are fixed", async () => {
  const r = await checkEngineDefects(engine, { threads: 1 });
  assert.deepEqual(defectProblems(r), [], JSON.stringify(r));
});

test("a product with a constant keeps no product of zeros as a residual (patch 9: symbolic zero tangents)", async () => {
  await engine.initEngine({ threads: 1 });
  const { np, vjp } = engine;
  const heap = await wasmHeapStatsReader();
  const w = np.ones([256, 256]).mul(0.01);
  const x = np.ones([512, 256]).mul(0.5);
  await engine.blockUntilReady([w, x]);
  const before = heap().liveBytes;
  // A frozen linear layer: W is a closed-over constant, only x is differentiated.
  const [y, back] = vjp((a: engine.JArray) => np.matmul(a, w.ref), [x.ref]);
  await y.blockUntilReady();
  const held = heap().liveBytes - before;
  const outBytes = 512 * 256 * 4;
  // The output itself; before the patch also x·0, an output-sized residual (2× the output).
  assert.ok(held < 1.5 * outBytes, `held ${held} bytes for a ${outBytes}-byte output`);
  const [dx] = back(np.onesLike(y.ref)) as [engine.JArray];
  back.dispose();
  const got = (await dx.data()) as Float32Array;
  assert.ok(Math.abs(got[0] - 2.56) < 1e-4, `dx ${got[0]}: Σ_j W[i,j] = 2.56`);
  y.dispose();
  x.dispose();
  w.dispose();
});
