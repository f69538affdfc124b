/**
 * The jax-js defects propetl's patch fixes stay fixed in the engine the package ships (the
 * vendored copy, "#jax-js"): no leaked buffer per reciprocal gradient, a matmul through a
 * transposed view about as fast as a contiguous one, and jit of a gather's gradient works.
 * The packed-tarball check (test-consumer/) runs the same reproductions in a consumer project.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as engine from "../../src/engine/index.js";
import { checkEngineDefects, defectProblems } from "../../bench/engine-defects.js";

test("the engine's patched defects (reciprocal leak, transposed-view matmul, jit scatter) are fixed", async () => {
  const r = await checkEngineDefects(engine, { threads: 1 });
  assert.deepEqual(defectProblems(r), [], JSON.stringify(r));
});
