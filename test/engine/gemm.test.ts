/**
 * The wasm matmul kernel (patch 10: register-blocked micro-tiles, tiled reduction, vector
 * lane-sums) against a float64 product computed here, on shapes that reach every branch: rows
 * and columns that are not multiples of the micro-tile (2 or 4 rows, 4 columns), batch
 * dimensions, transposed operands, reductions long enough to be tiled (k > 512) and short ones
 * (k ≤ 128), and a fused elementwise epilogue (scale and bias under jit) on a tiled reduction.
 * Reductions of every length mod 4 (1, 2, 3, 6, 127, 258, 1029, and 1537 with an epilogue)
 * cover patch 13's zero-padded last step; batched cases with even and odd rows per batch cover
 * patch 11 (a micro-tile's rows share the second operand's pointers only when they lie in one
 * batch). The same checks run in child processes with $PROPETL_WASM_GEMM=legacy (jax-js
 * 0.1.25's kernel) and =p10 (patch 10 alone: without patches 11 and 13), so every kernel the
 * engine can select stays correct.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { initEngine } from "../../src/engine/engine.js";
import { jit, np, random } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";

/** [batch, M, K, N, layout]: "nt" = a[b,M,K] @ b[b,N,K]^T (the model's linear), "nn" = a @ b[b,K,N], "tn" = a[b,K,M]^T @ b[b,K,N]. */
type Case = [number, number, number, number, "nt" | "nn" | "tn"];
const CASES: Case[] = [
  [1, 8, 16, 8, "nt"],
  [1, 5, 12, 7, "nt"], // odd rows and columns: 1-row micro-tiles, 1-column blocks
  [1, 6, 20, 6, "nt"], // 2-column micro-tiles
  [1, 37, 64, 44, "nt"], // short reduction (2-row micro-tiles)
  [1, 16, 2048, 20, "nt"], // tiled reduction: 4 tiles of 512
  [1, 12, 1028, 12, "nt"], // k = 4 · 257: no tile size ≥ 128 divides it, one tile
  [1, 8, 3072, 12, "nt"], // 6 tiles
  [3, 7, 20, 9, "nn"], // batch dims, second operand transposed by the engine
  [4, 16, 64, 16, "nt"], // batched attention-like
  [2, 33, 1536, 40, "nt"],
  [1, 24, 40, 28, "tn"], // weight-gradient form: first operand transposed
  // k not a multiple of 4 (patch 13: a zero-padded last step; the scalar loop before it).
  [2, 10, 6, 3, "nn"],
  [1, 9, 1, 5, "nt"], // k = 1: the padded step only
  [1, 4, 2, 8, "nt"],
  [2, 6, 3, 12, "tn"],
  [3, 14, 127, 16, "nn"], // attention p·v at an odd sequence length
  [2, 127, 64, 127, "nt"], // q·kᵀ at an odd sequence length (k = 64, odd rows and columns)
  [1, 40, 258, 36, "nt"],
  [1, 8, 1029, 8, "nt"], // long and odd: one reduction tile
  // Patch 11: a micro-tile's 2 rows share the second operand's pointers when they lie in one batch.
  [3, 6, 16, 12, "nt"], // even rows per batch: shared
  [5, 2, 32, 8, "nt"], // one micro-tile per batch
  [3, 5, 16, 8, "nt"], // odd rows per batch: micro-tiles straddle batches, not shared
  [4, 9, 24, 8, "nn"], // the same through the engine's copy of the second operand
  [2, 128, 64, 128, "nt"], // attention q·kᵀ
  [2, 128, 128, 64, "nn"], // attention p·v
];

function naive(a: Float32Array, b: Float32Array, [batch, M, K, N, layout]: Case): Float64Array {
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = layout === "tn" ? a[z * K * M + k * M + i] : a[z * M * K + i * K + k];
          const bv = layout === "nt" ? b[z * N * K + j * K + k] : b[z * K * N + k * N + j];
          s += av * bv;
        }
        out[z * M * N + i * N + j] = s;
      }
    }
  }
  return out;
}

/** Largest |got − want| / sqrt(K) over the output (errors of a float32 sum grow like sqrt(K)). */
function maxScaledError(got: Float32Array, want: Float64Array, K: number): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.sqrt(K);
    if (!(e <= worst)) worst = e; // NaN propagates as a failure
  }
  return worst;
}

async function checkAll(): Promise<string[]> {
  await initEngine({ threads: 1 });
  const problems: string[] = [];
  let seed = 11;
  for (const c of CASES) {
    const [batch, M, K, N, layout] = c;
    const a = random.normal(random.key(seed++), layout === "tn" ? [batch, K, M] : [batch, M, K]);
    const b = random.normal(random.key(seed++), layout === "nt" ? [batch, N, K] : [batch, K, N]);
    const ah = (await a.ref.data()) as Float32Array;
    const bh = (await b.ref.data()) as Float32Array;
    const lhs = layout === "tn" ? a.transpose([0, 2, 1]) : a;
    const rhs = layout === "nt" ? b.transpose([0, 2, 1]) : b;
    const got = (await np.matmul(lhs, rhs).data()) as Float32Array;
    const err = maxScaledError(got, naive(ah, bh, c), K);
    if (!(err < 2e-6)) problems.push(`${JSON.stringify(c)}: max error / sqrt(k) ${err}`);
  }
  // A fused epilogue (scale, bias) on a tiled reduction, as jit compiles a linear layer.
  const [M, K, N] = [24, 1536, 20];
  const x = random.normal(random.key(seed++), [M, K]);
  const w = random.normal(random.key(seed++), [N, K]);
  const bias = random.normal(random.key(seed++), [N]);
  const xh = (await x.ref.data()) as Float32Array;
  const wh = (await w.ref.data()) as Float32Array;
  const bh = (await bias.ref.data()) as Float32Array;
  const f = jit((x: JArray, w: JArray, b: JArray) => np.matmul(x, w.transpose()).mul(0.5).add(b));
  const got = (await f(x, w, bias).data()) as Float32Array;
  const want = naive(xh, wh, [1, M, K, N, "nt"]).map((v, i) => 0.5 * v + bh[i % N]);
  const err = maxScaledError(got, want, K);
  if (!(err < 2e-6)) problems.push(`jit epilogue [${M},${K}]x[${K},${N}]: max error / sqrt(k) ${err}`);
  // The same epilogue after a padded last step (k = 1537).
  const x2 = random.normal(random.key(seed++), [M, 1537]);
  const w2 = random.normal(random.key(seed++), [N, 1537]);
  const x2h = (await x2.ref.data()) as Float32Array;
  const w2h = (await w2.ref.data()) as Float32Array;
  const b2 = random.normal(random.key(seed++), [N]);
  const b2h = (await b2.ref.data()) as Float32Array;
  const got2 = (await f(x2, w2, b2).data()) as Float32Array;
  const want2 = naive(x2h, w2h, [1, M, 1537, N, "nt"]).map((v, i) => 0.5 * v + b2h[i % N]);
  const err2 = maxScaledError(got2, want2, 1537);
  if (!(err2 < 2e-6)) problems.push(`jit epilogue [${M},1537]x[1537,${N}]: max error / sqrt(k) ${err2}`);
  return problems;
}

if (process.env.GEMM_TEST_CHILD === "1") {
  console.log(JSON.stringify(await checkAll()));
} else {
  test("the wasm matmul kernel matches a float64 product on odd, batched, transposed, short- and long-k shapes", async () => {
    assert.deepEqual(await checkAll(), []);
  });

  for (const [variant, kernel] of [["legacy", "jax-js 0.1.25's kernel"], ["p10", "patch 10's kernel without patches 11 and 13"]]) {
    test(`${kernel} ($PROPETL_WASM_GEMM=${variant}) matches it too`, () => {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
        env: { ...process.env, GEMM_TEST_CHILD: "1", PROPETL_WASM_GEMM: variant },
        encoding: "utf8",
      });
      assert.deepEqual(JSON.parse(out.trim().split("\n").pop() ?? "null"), []);
    });
  }
}
