/**
 * The engine's platform layer on Node.js (package.json `imports` "#engine-platform", condition
 * "node"). Importing it prepares Node for jax-js (`node-setup.ts`: a `navigator`) before jax-js
 * is evaluated; `useWasmThreads` installs the Worker shim on `node:worker_threads`
 * (`node-workers.ts`). The browser build gets `platform-browser.ts` instead, with the same exports.
 */
import { defaultThreads } from "./node-setup.js";
import { installNodeWorkers } from "./node-workers.js";

/** Which platform layer this is. */
export const PLATFORM: "node" | "browser" = "node";

/**
 * The wasm worker count to use: the one asked for, else $PROPETL_THREADS, else all cores.
 * `asked` has been checked to be a positive integer.
 */
export function wasmThreads(asked: number | undefined): number {
  return asked ?? defaultThreads();
}

/**
 * Make jax-js's worker pool (created at its first parallel kernel, patch 6) `threads` wide:
 * for more than 1 the Worker shim and `navigator.hardwareConcurrency`; for 1 nothing, so there
 * is no pool and kernels run on the calling thread.
 */
export function useWasmThreads(threads: number): void {
  if (threads > 1) installNodeWorkers(threads);
}
