/**
 * The numeric engine's setup in one place: backend choice and thread count.
 *
 * Threads are fixed when jax-js loads (see node-setup.ts: $PROPETL_THREADS, default all
 * cores). The backend is chosen here: webgpu where the platform has it, else wasm.
 */
import { configuredThreads } from "./node-setup.js";
import { defaultDevice, init } from "./jax.js";

export type Backend = "wasm" | "webgpu" | "cpu";

export interface EngineOptions {
  /** Backend to use; "auto" picks webgpu where available, else wasm. Default "auto". */
  backend?: Backend | "auto";
}

export interface EngineInfo {
  backend: Backend;
  threads: number;
}

let starting: Promise<EngineInfo> | null = null;
let current: EngineInfo | null = null;

/** Start the engine once per process; later calls return the running engine's info. */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  starting ??= start(options);
  return starting;
}

async function start(options: EngineOptions): Promise<EngineInfo> {
  const want = options.backend ?? "auto";
  let backend: Backend;
  if (want === "auto") {
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    const got = nav?.gpu !== undefined ? await init("webgpu", "wasm") : await init("wasm");
    backend = got.includes("webgpu") ? "webgpu" : "wasm";
  } else {
    const got = await init(want);
    if (!got.includes(want)) throw new Error(`backend "${want}" is not available here (got: ${got.join(", ") || "none"})`);
    backend = want;
  }
  defaultDevice(backend);
  current = { backend, threads: backend === "wasm" ? configuredThreads : 1 };
  return current;
}

/** The running engine, or an error telling the caller to start it first. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error("propetl engine not started: call initEngine() first");
  return current;
}

/** The engine's info for a record (metrics files), or null before initEngine(). */
export function engineInfoOrNull(): EngineInfo | null {
  return current;
}

/**
 * True for the wasm backend's "heap full" error: its linear memory is capped at 4 GiB
 * (memory32), and a training step whose activations do not fit ends with this RangeError.
 */
export function isWasmHeapExhausted(e: unknown): boolean {
  return e instanceof RangeError && /4 GiB memory32 limit/.test(e.message);
}
