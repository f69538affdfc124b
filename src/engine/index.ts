/**
 * `propetl/engine`: the numeric engine propetl computes with, its patched copy of jax-js
 * (DESIGN.md, the engine), for code that writes its own objectives (`trainLoop`), hooks or
 * metrics over propetl's arrays. Use these rather than a separately installed `@jax-js/jax`:
 * that would be a second, unpatched engine whose arrays propetl's models cannot take.
 * Browsers get `browser.ts` (the same exports without `trackLiveBuffers`).
 */
export * from "./browser.js";
export { trackLiveBuffers } from "./live-buffers.js";
