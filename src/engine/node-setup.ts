/**
 * Side-effect module: prepares Node.js for jax-js BEFORE jax-js is first imported.
 *
 * jax-js builds its wasm backend when its module is evaluated and reads `navigator` while
 * planning kernels; Node only gets that `navigator` here. The worker pool is not sized now:
 * propetl's patched jax-js (DESIGN.md, patch 6; the copy this package ships) creates it at the
 * first parallel kernel, after `initEngine({ threads })` has installed the Worker shim.
 */
import os from "node:os";
import { ensureNavigator } from "./node-workers.js";

export const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

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

if (isNode) ensureNavigator();
