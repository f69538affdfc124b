/**
 * Reproductions of the @jax-js/jax 0.1.25 defects that patches/@jax-js+jax+0.1.25.patch fixes
 * (DESIGN.md, the engine), run on whichever engine module is passed in: the repository's
 * (`bench/jaxjs-defects.ts`, `test/engine/defects.test.ts`) or an installed package's
 * `propetl/engine` (`test-consumer/`). This module imports nothing at run time, so its compiled
 * file can be copied next to a consumer's script.
 *
 * 1. Leak: the JVP rule of `reciprocal` never consumed its input, so every gradient through
 *    `1/x` (LayerNorm, softmax) left one buffer alive. Fixed: 0 live buffers per step.
 * 2. Speed: a matmul whose operand is read through a transposed/reshaped view (every weight
 *    gradient in the backward pass) ran 5-30x slower than on contiguous operands. Fixed: about
 *    the same time.
 * 5. jit: the gradient of a gather (an embedding lookup being trained) is a scatter, a "routine"
 *    that reads whole buffers, and jit threw "routine primitive scatter input is not imm" when
 *    its input was a view. Fixed: a loss (12) and a gradient (row 3: 4,4,4,4).
 */
import type * as Engine from "../src/engine/index.js";

export type EngineModule = Pick<typeof Engine, "initEngine" | "trackLiveBuffers" | "np" | "random" | "jit" | "valueAndGrad">;

export interface DefectReport {
  /** Live buffers left per gradient step through `reciprocal` (defect 1; fixed: 0). */
  reciprocalLeakPerStep: number;
  /** Best of `MATMUL_ROUNDS` (alternated with the contiguous product), [1024×768]@[768×768] with the left operand a transpose+reshape view (defect 2). */
  viewedMatmulMs: number;
  /** The same product on contiguous operands. */
  contiguousMatmulMs: number;
  /** The jitted gradient of a gather (defect 5): its loss and gradient row 3, or the error. */
  scatter: { loss: number; row3: number[] } | { error: string };
}

export async function checkEngineDefects(engine: EngineModule, options: { threads?: number } = {}): Promise<DefectReport> {
  const { np, random, jit, valueAndGrad } = engine;
  type JArray = Engine.JArray;
  await engine.initEngine(options.threads === undefined ? {} : { threads: options.threads });
  const live = await engine.trackLiveBuffers();

  const f = (x: JArray): JArray => np.sum(np.reciprocal(np.square(x).add(1)));
  const step = async (): Promise<void> => {
    const [l, g] = valueAndGrad(f)(np.ones([16]));
    await l.data();
    g.dispose();
  };
  await step();
  const before = live();
  for (let i = 0; i < 10; i++) await step();
  const reciprocalLeakPerStep = (live() - before) / 10;

  const once = async (fn: () => JArray): Promise<number> => {
    const t0 = performance.now();
    const y = fn();
    await y.blockUntilReady();
    y.dispose();
    return performance.now() - t0;
  };
  const B = 8, T = 128, heads = 12, hd = 64, H = heads * hd;
  const ctx = random.normal(random.key(1), [B, heads, T, hd]);
  const w = random.normal(random.key(2), [H, H]);
  const flat = random.normal(random.key(3), [B * T, H]);
  // Best of MATMUL_ROUNDS each, the two products alternated so that a burst of load on a shared
  // machine slows both rather than one.
  let viewedMatmulMs = Infinity;
  let contiguousMatmulMs = Infinity;
  for (let i = 0; i < MATMUL_ROUNDS; i++) {
    viewedMatmulMs = Math.min(viewedMatmulMs, await once(() => np.matmul(ctx.ref.transpose([0, 2, 1, 3]).reshape([B * T, H]), w.ref)));
    contiguousMatmulMs = Math.min(contiguousMatmulMs, await once(() => np.matmul(flat.ref, w.ref)));
  }
  ctx.dispose();
  w.dispose();
  flat.dispose();

  const lookup = (table: JArray, ids: JArray): JArray => np.sum(np.square(table.slice(ids).reshape([-1])));
  let scatter: DefectReport["scatter"];
  try {
    const [l, g] = jit(valueAndGrad(lookup))(np.ones([10, 4]), np.array(Int32Array.from([1, 3, 3]), { dtype: np.int32 }));
    scatter = { loss: (await l.data())[0] ?? Number.NaN, row3: Array.from((await g.data()).slice(12, 16)) };
  } catch (e) {
    scatter = { error: (e as Error).message };
  }
  return { reciprocalLeakPerStep, viewedMatmulMs, contiguousMatmulMs, scatter };
}

/** Rounds of defect 2's timing (each product's best is kept). */
export const MATMUL_ROUNDS = 8;

/**
 * A transposed-view matmul slower than this many times the contiguous one counts as defect 2.
 * The defect made it 5-30x slower; fixed, it costs one extra contiguous copy (O(size) beside
 * the product's O(size·N)): 1.0-1.2x on a quiet machine, and 2.6x was seen once (best of 4,
 * not alternated) in a CI run sharing 2 cores with two training jobs, after the matmul kernel
 * got faster (engine patches 11-13) and the copy's share grew. Hence 3x, well under 5x.
 */
export const MAX_VIEWED_MATMUL_RATIO = 3;

/** What in a report shows an unfixed defect, in words; empty when all are fixed. */
export function defectProblems(r: DefectReport): string[] {
  const problems: string[] = [];
  if (r.reciprocalLeakPerStep !== 0) problems.push(`1. the reciprocal gradient leaks ${r.reciprocalLeakPerStep} buffers per step`);
  const ratio = r.viewedMatmulMs / r.contiguousMatmulMs;
  if (!(ratio <= MAX_VIEWED_MATMUL_RATIO)) {
    problems.push(`2. a matmul through a transposed view took ${r.viewedMatmulMs.toFixed(1)} ms, ${ratio.toFixed(1)}x the contiguous ${r.contiguousMatmulMs.toFixed(1)} ms (limit ${MAX_VIEWED_MATMUL_RATIO}x)`);
  }
  if ("error" in r.scatter) problems.push(`5. jit of a gather's gradient threw: ${r.scatter.error}`);
  else if (r.scatter.loss !== 12 || r.scatter.row3.join(",") !== "4,4,4,4") {
    problems.push(`5. jit of a gather's gradient gave loss ${r.scatter.loss} and row 3 ${r.scatter.row3.join(",")} (expected 12 and 4,4,4,4)`);
  }
  return problems;
}
