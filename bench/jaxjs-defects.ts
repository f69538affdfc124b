/**
 * Prints the reproductions of the @jax-js/jax 0.1.25 defects that propetl's patch fixes
 * (bench/engine-defects.ts) on the repository's engine, the patched copy in dist/vendor/jax-js:
 *
 *   npm run build && node dist/bench/jaxjs-defects.js
 *
 * To see the defects, point "#jax-js" (package.json "imports") at an unpatched jax-js.
 */
import * as engine from "../src/engine/index.js";
import { checkEngineDefects } from "./engine-defects.js";

const r = await checkEngineDefects(engine);
console.log(`1. reciprocal gradient: ${r.reciprocalLeakPerStep} leaked buffers per step (expected 0)`);
console.log(`2. [1024x768]@[768x768]: through a transpose+reshape view ${r.viewedMatmulMs.toFixed(1)} ms, contiguous ${r.contiguousMatmulMs.toFixed(1)} ms`);
console.log(
  "error" in r.scatter
    ? `5. jit gradient of a gather: ${r.scatter.error}`
    : `5. jit gradient of a gather: loss ${r.scatter.loss} (expected 12), gradient row 3 ${r.scatter.row3.join(",")} (expected 4,4,4,4)`,
);
