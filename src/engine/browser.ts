/**
 * `propetl/engine` in a browser (package.json `exports["./engine"]`, condition "browser"): the
 * numeric engine, its patched copy of jax-js, without the Node-only live-buffer counter. The
 * Node entry (`index.ts`) exports these and `trackLiveBuffers`.
 */
export { np, nn, lax, random, tree, grad, valueAndGrad, vjp, jit, blockUntilReady } from "./jax.js";
export type { JArray, DType } from "./jax.js";
export { initEngine, engineInfo, describeEngine } from "./engine.js";
export type { Backend, EngineInfo, EngineOptions, GpuAdapterInfo } from "./engine.js";
