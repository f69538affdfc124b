/**
 * Re-export of jax-js for the library. Import jax-js only through here: the first import
 * below prepares Node (worker threads, navigator) before jax-js builds its wasm backend.
 * "#jax-js" (package.json "imports") is the patched copy built into dist/vendor/jax-js by
 * scripts/vendor-engine.mjs, the one this package ships (DESIGN.md, the engine).
 */
import "./node-setup.js";
export { numpy as np, nn, lax, random, tree, grad, valueAndGrad, vjp, jit, blockUntilReady, init, defaultDevice } from "#jax-js";
export type { Array as JArray, DType } from "#jax-js";
/** The class of concrete arrays (tracers under jit / grad are not instances): engine/layer-by-layer.ts. */
export { Array as JaxArray } from "#jax-js";
