/**
 * `propetl/engine`: the numeric engine propetl computes with, its patched copy of jax-js
 * (DESIGN.md, the engine), for code that writes its own objectives (`trainLoop`), hooks or
 * metrics over propetl's arrays. Use these rather than a separately installed `@jax-js/jax`:
 * that would be a second, unpatched engine whose arrays propetl's models cannot take.
 */
export { np, nn, lax, random, tree, grad, valueAndGrad, vjp, jit, blockUntilReady } from "./jax.js";
export type { JArray, DType } from "./jax.js";
export { initEngine, engineInfo } from "./engine.js";
export type { Backend, EngineInfo, EngineOptions } from "./engine.js";
export { trackLiveBuffers, wasmProgramCache } from "./live-buffers.js";
export type { ProgramCacheStats } from "./live-buffers.js";
