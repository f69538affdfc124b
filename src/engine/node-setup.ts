/**
 * Side-effect module: prepares Node.js for jax-js BEFORE jax-js is first imported.
 *
 * jax-js builds its wasm backend (memory and worker pool) when its module is evaluated, so
 * the Worker shim and `navigator` must already exist then. `jax.ts` imports this file first.
 * The worker count comes from $PROPETL_THREADS (default: all cores); it cannot change later.
 */
import os from "node:os";
import { installNodeWorkers } from "./node-workers.js";

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

function threadsFromEnv(): number {
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

/** Worker threads jax-js uses for wasm kernels in this process (1 = main thread only). */
export const configuredThreads: number = isNode ? threadsFromEnv() : 1;

if (isNode) {
  if (configuredThreads > 1) {
    installNodeWorkers(configuredThreads);
  } else if (typeof (globalThis as Record<string, unknown>).navigator === "undefined") {
    // jax-js reads navigator.userAgent while planning kernels.
    (globalThis as Record<string, unknown>).navigator = { userAgent: `Node.js/${process.versions.node}`, hardwareConcurrency: 1 };
  }
}
