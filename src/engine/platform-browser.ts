/**
 * The engine's platform layer in a browser (package.json `imports` "#engine-platform", every
 * condition but "node"): no Node module, no shim. jax-js (patched, DESIGN.md patch 6) creates its
 * wasm worker pool at its first parallel kernel when `SharedArrayBuffer` and a global `Worker`
 * exist, with one Web Worker per `navigator.hardwareConcurrency`. A page has
 * `SharedArrayBuffer` only when it is cross-origin isolated (COOP/COEP headers), so threads are
 * used only then; this layer sizes the pool by giving `navigator` its own `hardwareConcurrency`.
 */

import { probeAdapter } from "./gpu-adapter.js";
import type { GpuLike, WebGpuProbe } from "./gpu-adapter.js";

/** Which platform layer this is. */
export const PLATFORM: "node" | "browser" = "browser";

/**
 * The most wasm workers a browser gets by default: each worker compiles every kernel again, and
 * wasm kernels are limited by memory bandwidth before many cores help. `initEngine({ threads })`
 * may ask for more.
 */
export const BROWSER_MAX_THREADS = 8;

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  Worker?: unknown;
  SharedArrayBuffer?: unknown;
}

/** Whether jax-js can run a worker pool here: shared memory and Web Workers. */
function poolPossible(): boolean {
  const g = globalThis as BrowserGlobals;
  return g.SharedArrayBuffer !== undefined && g.Worker !== undefined;
}

/**
 * The wasm worker count to use: 1 unless the page is cross-origin isolated (with shared memory
 * and Web Workers), else the one asked for or `navigator.hardwareConcurrency` capped at
 * `BROWSER_MAX_THREADS`. Asking for more than 1 on a page that is not isolated is an error
 * saying what the page needs.
 */
export function wasmThreads(asked: number | undefined): number {
  const g = globalThis as BrowserGlobals;
  if (g.crossOriginIsolated !== true || !poolPossible()) {
    if (asked !== undefined && asked > 1) {
      throw new Error(
        `initEngine: threads: ${asked} needs a cross-origin isolated page (headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), which gives SharedArrayBuffer; this page is not, so the engine runs on 1 thread`,
      );
    }
    return 1;
  }
  return asked ?? Math.max(1, Math.min(g.navigator?.hardwareConcurrency || 4, BROWSER_MAX_THREADS));
}

/**
 * Size jax-js's worker pool. Where no pool is possible (no SharedArrayBuffer or no Worker)
 * there is nothing to do: kernels run on the calling thread. Otherwise `navigator` gets its own
 * `hardwareConcurrency` = `threads` when that differs from the browser's (a pool of 1 is one
 * worker, as jax-js makes a pool whenever it can).
 */
export function useWasmThreads(threads: number): void {
  if (!poolPossible()) return;
  const nav = (globalThis as BrowserGlobals).navigator;
  if (nav === undefined || nav.hardwareConcurrency === threads) return;
  try {
    Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true, enumerable: true });
  } catch {
    // A navigator that refuses the property keeps the browser's count.
  }
}

/**
 * The WebGPU adapter jax-js would use: the browser's `navigator.gpu`, asked for a
 * "high-performance" adapter as jax-js asks. `explicit` changes nothing here (the browser has
 * `navigator.gpu` or not).
 */
export function findWebGpu(explicit: boolean): Promise<WebGpuProbe> {
  void explicit;
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (gpu === undefined) return Promise.resolve({ adapter: null, reason: "this browser has no navigator.gpu (WebGPU)" });
  return probeAdapter(gpu, "navigator.gpu");
}
