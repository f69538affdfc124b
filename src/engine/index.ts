/**
 * `propetl/engine`: the numeric engine propetl computes with, its patched copy of jax-js
 * (DESIGN.md, the engine), for code that writes its own objectives (`trainLoop`), hooks or
 * metrics over propetl's arrays. Use these rather than a separately installed `@jax-js/jax`:
 * that would be a second, unpatched engine whose arrays propetl's models cannot take.
 * Browsers get `browser.ts` (the same exports without `trackLiveBuffers`).
 *
 * `np`, `nn`, `lax`, `random`, `tree`, `grad`, `valueAndGrad`, `vjp`, `jit`, `blockUntilReady` and
 * the types `JArray` (jax-js's `Array`) and `DType` are jax-js 0.1.25's own API, re-exported
 * unchanged; [jax-js](https://github.com/ekzhang/jax-js) documents them, so this reference lists
 * only what propetl adds.
 *
 * @module propetl/engine
 */
export * from "./browser.js";
export { trackLiveBuffers, wasmProgramCache } from "./live-buffers.js";
export type { ProgramCacheStats } from "./live-buffers.js";
