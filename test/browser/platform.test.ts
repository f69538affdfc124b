/**
 * The engine's browser platform layer (what `#engine-platform` resolves to in a browser
 * bundle), run in this process with browser globals stood in: threads only on a cross-origin
 * isolated page with shared memory and Web Workers (navigator.hardwareConcurrency, capped at 8),
 * else 1; asking for more than 1 on a page that is not isolated is an error naming the headers;
 * the pool is sized through navigator.hardwareConcurrency, which jax-js reads.
 */
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { BROWSER_MAX_THREADS, PLATFORM, useWasmThreads, wasmThreads } from "../../src/engine/platform-browser.js";

const g = globalThis as Record<string, unknown>;
const saved = { navigator: Object.getOwnPropertyDescriptor(g, "navigator"), Worker: Object.getOwnPropertyDescriptor(g, "Worker"), crossOriginIsolated: Object.getOwnPropertyDescriptor(g, "crossOriginIsolated") };

/** Stand in a page's globals (navigator with `cores`, Worker, crossOriginIsolated). */
function page(opts: { isolated: boolean; worker: boolean; cores: number }): { hardwareConcurrency: number } {
  const nav = { userAgent: "test", hardwareConcurrency: opts.cores };
  Object.defineProperty(g, "navigator", { value: nav, configurable: true, writable: true });
  Object.defineProperty(g, "crossOriginIsolated", { value: opts.isolated, configurable: true, writable: true });
  if (opts.worker) Object.defineProperty(g, "Worker", { value: class {}, configurable: true, writable: true });
  else delete g.Worker;
  return nav;
}

afterEach(() => {
  for (const [k, d] of Object.entries(saved)) {
    if (d) Object.defineProperty(g, k, d);
    else delete g[k];
  }
});

test("the layer is the browser's", () => assert.equal(PLATFORM, "browser"));

test("a cross-origin isolated page with workers: hardwareConcurrency, capped; the pool is sized through navigator", () => {
  let nav = page({ isolated: true, worker: true, cores: 4 });
  assert.equal(wasmThreads(undefined), 4);
  nav = page({ isolated: true, worker: true, cores: 32 });
  assert.equal(wasmThreads(undefined), BROWSER_MAX_THREADS);
  assert.equal(wasmThreads(12), 12);
  useWasmThreads(BROWSER_MAX_THREADS);
  assert.equal((g.navigator as { hardwareConcurrency: number }).hardwareConcurrency, BROWSER_MAX_THREADS);
  assert.equal(nav.hardwareConcurrency, BROWSER_MAX_THREADS);
});

test("a page that is not isolated (or has no Worker): 1 thread, and asking for more is an error naming the headers", () => {
  const nav = page({ isolated: false, worker: true, cores: 8 });
  assert.equal(wasmThreads(undefined), 1);
  assert.equal(wasmThreads(1), 1);
  assert.throws(() => wasmThreads(4), /threads: 4 needs a cross-origin isolated page \(headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/);
  // Where jax-js could still build a pool (shared memory and Worker present), it gets 1 worker.
  useWasmThreads(1);
  assert.equal(nav.hardwareConcurrency, 1);
  const isolatedNoWorker = page({ isolated: true, worker: false, cores: 8 });
  assert.equal(wasmThreads(undefined), 1);
  useWasmThreads(1);
  assert.equal(isolatedNoWorker.hardwareConcurrency, 8, "no pool possible: navigator untouched");
});
