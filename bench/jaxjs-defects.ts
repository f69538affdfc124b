/**
 * Minimal reproductions of the @jax-js/jax 0.1.25 defects that patches/@jax-js+jax+0.1.25.patch
 * works around. Run against an unpatched install to see them (`npm ci --ignore-scripts`), or
 * against the patched one to check the fixes:
 *
 *   npm run build && node dist/bench/jaxjs-defects.js
 *
 * 1. Leak: the JVP rule of `reciprocal` never consumes its input, so every gradient through
 *    `1/x` (LayerNorm, softmax) leaves one buffer alive. Expected: 0 live buffers per step.
 * 2. Speed: a matmul whose operand is read through a transposed/reshaped view, or whose
 *    reduction axis is strided (every weight gradient in the backward pass), runs 5-30x slower
 *    than the same product on contiguous operands. Expected: similar times.
 * 5. jit: the gradient of a gather (an embedding lookup being trained) is a scatter, a
 *    "routine" that reads whole buffers, but its cotangent input can be a view, and jit threw
 *    "routine primitive scatter input is not imm". Expected: a loss and a gradient.
 */
import { initEngine } from "../src/engine/engine.js";
import { jit, np, random, valueAndGrad } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import { trackLiveBuffers } from "../src/engine/live-buffers.js";

await initEngine();
const live = await trackLiveBuffers();

const f = (x: JArray) => np.sum(np.reciprocal(np.square(x).add(1)));
const step = async () => {
  const [l, g] = valueAndGrad(f)(np.ones([16]));
  await l.data();
  g.dispose();
};
await step();
const before = live();
for (let i = 0; i < 10; i++) await step();
console.log(`1. reciprocal gradient: ${(live() - before) / 10} leaked buffers per step (expected 0)`);

async function time(fn: () => JArray): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const y = fn();
    await y.blockUntilReady();
    y.dispose();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
const B = 8, T = 128, heads = 12, hd = 64, H = heads * hd;
const ctx = random.normal(random.key(1), [B, heads, T, hd]);
const w = random.normal(random.key(2), [H, H]);
const flat = random.normal(random.key(3), [B * T, H]);
const viewed = await time(() => np.matmul(ctx.ref.transpose([0, 2, 1, 3]).reshape([B * T, H]), w.ref));
const contiguous = await time(() => np.matmul(flat.ref, w.ref));
console.log(`2. [1024x768]@[768x768]: through a transpose+reshape view ${viewed.toFixed(1)} ms, contiguous ${contiguous.toFixed(1)} ms`);

const lookup = (table: JArray, ids: JArray): JArray => np.sum(np.square(table.slice(ids).reshape([-1])));
try {
  const [l, g] = jit(valueAndGrad(lookup))(np.ones([10, 4]), np.array(Int32Array.from([1, 3, 3]), { dtype: np.int32 }));
  console.log(`5. jit gradient of a gather: loss ${(await l.data())[0]} (expected 12), gradient row 3 ${Array.from((await g.data()).slice(12, 16)).join(",")} (expected 4,4,4,4)`);
} catch (e) {
  console.log(`5. jit gradient of a gather: ${(e as Error).message}`);
}
