/**
 * The engine's platform layer on Node.js (package.json `imports` "#engine-platform", condition
 * "node"). Importing it prepares Node for jax-js (`node-setup.ts`: a `navigator`) before jax-js
 * is evaluated; `useWasmThreads` installs the Worker shim on `node:worker_threads`
 * (`node-workers.ts`); `findWebGpu` gives Node a `navigator.gpu` through Dawn (`node-webgpu.ts`,
 * the optional package `webgpu`). The browser build gets `platform-browser.ts` instead, with the
 * same exports.
 */
import type { WebGpuProbe } from "./gpu-adapter.js";
import { defaultThreads } from "./node-setup.js";
import { installDawn } from "./node-webgpu.js";
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

/**
 * The WebGPU adapter jax-js would use, installing `navigator.gpu` first where needed. On Node
 * `explicit` (the webgpu backend was asked for by name) loads Dawn (the optional package
 * `webgpu`); "auto" (`explicit` false) only looks at a `navigator.gpu` the application installed,
 * so a plain start never loads the 21 MB native module or a GPU driver.
 */
export function findWebGpu(explicit: boolean): Promise<WebGpuProbe> {
  return installDawn(explicit);
}
