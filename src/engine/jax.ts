/**
 * Re-export of jax-js for the library. Import jax-js only through here: the first import
 * below is the platform layer ("#engine-platform", package.json `imports`: on Node
 * `platform-node.ts`, which prepares Node's `navigator` before jax-js builds its wasm backend;
 * elsewhere `platform-browser.ts`, which imports nothing), so the browser graph has no `node:`
 * import.
 * "#jax-js" (package.json "imports") is the patched copy built into dist/vendor/jax-js by
 * scripts/vendor-engine.mjs, the one this package ships (DESIGN.md, the engine).
 */
import "#engine-platform";
export { numpy as np, nn, lax, random, tree, grad, valueAndGrad, vjp, jit, blockUntilReady, init, defaultDevice, profiler, makeJaxpr } from "#jax-js";
export type { Array as JArray, DType } from "#jax-js";
/** The class of concrete arrays (tracers under jit / grad are not instances): engine/layer-by-layer.ts. */
export { Array as JaxArray } from "#jax-js";
