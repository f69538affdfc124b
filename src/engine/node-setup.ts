/**
 * Side-effect module: prepares Node.js for jax-js BEFORE jax-js is first imported.
 *
 * jax-js builds its wasm backend when its module is evaluated. Unpatched, that constructor also
 * sizes the worker pool (from `navigator.hardwareConcurrency`, if a global `Worker` exists then),
 * so the thread count would be fixed at import. propetl's jax-js patch (DESIGN.md, patch 6)
 * creates the pool at the first parallel kernel instead, which lets `initEngine({ threads })`
 * choose it; here Node only gets the `navigator` jax-js reads while planning kernels. Where the
 * installed jax-js lacks the patch, this module keeps the old behaviour: the Worker shim is
 * installed now, sized by $PROPETL_THREADS (default: all cores), and cannot change later.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import { jaxjsBackendFile } from "./jax-files.js";
import { ensureNavigator, installNodeWorkers } from "./node-workers.js";

export const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/** Text that patch 6 puts into jax-js's backend module; its presence means the pool is deferred. */
const DEFERRED_POOL_MARKER = "propetl patch: the worker pool is created on first use";

/** The thread count when the caller gives none: $PROPETL_THREADS, else all cores. */
export function defaultThreads(): number {
  const env = process.env.PROPETL_THREADS;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`PROPETL_THREADS must be a positive integer, got "${env}"`);
    }
    return n;
  }
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

function jaxjsDefersPool(): boolean {
  try {
    return readFileSync(jaxjsBackendFile(), "utf8").includes(DEFERRED_POOL_MARKER);
  } catch {
    return false;
  }
}

/**
 * The wasm worker count jax-js fixed when it was imported, or null where it is still open (Node
 * with patched jax-js: `initEngine` sets it). Unpatched jax-js on Node: $PROPETL_THREADS or all
 * cores, read here.
 */
export const threadsFixedAtLoad: number | null = isNode && !jaxjsDefersPool() ? defaultThreads() : null;

if (isNode) {
  if (threadsFixedAtLoad !== null && threadsFixedAtLoad > 1) installNodeWorkers(threadsFixedAtLoad);
  else ensureNavigator();
}
