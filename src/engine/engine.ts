/**
 * The numeric engine's setup in one place: backend choice and thread count.
 *
 * `initEngine({ backend, threads })` starts the engine once per process. The backend is the one
 * asked for, or for "auto" webgpu where `navigator.gpu` gives a hardware adapter (not a fallback
 * or software one: those are slower than wasm), else wasm. On Node "auto" looks only at a
 * `navigator.gpu` the application installed; `backend: "webgpu"` loads Dawn (the optional package
 * `webgpu`) and fails with what to install when it is missing. `threads` is the wasm backend's
 * worker count: jax-js, patched by propetl (DESIGN.md, patch 6), creates its worker pool at the
 * first parallel kernel, sized as this file says then. The platform layer ("#engine-platform":
 * `platform-node.ts` on Node, `platform-browser.ts` elsewhere) decides the default and how the
 * pool is sized: on Node $PROPETL_THREADS, else all cores, through the Worker shim; in a browser
 * `navigator.hardwareConcurrency` (at most 8) when the page is cross-origin isolated, else 1.
 * With 1 thread on Node there is no pool: kernels run on the calling thread.
 */
import { findWebGpu, useWasmThreads, wasmThreads } from "#engine-platform";
import { describeAdapter, isHardwareAdapter } from "./gpu-adapter.js";
import type { GpuAdapterInfo } from "./gpu-adapter.js";
import { defaultDevice, init } from "./jax.js";

export type { GpuAdapterInfo } from "./gpu-adapter.js";

/** A jax-js backend: wasm (the default where WebGPU is absent), webgpu, or jax-js's cpu backend. */
export type Backend = "wasm" | "webgpu" | "cpu";

const BACKEND_CHOICES: readonly (Backend | "auto")[] = ["auto", "wasm", "webgpu", "cpu"];
const OPTION_NAMES: readonly string[] = ["backend", "threads"];

/** Options of `initEngine`. */
export interface EngineOptions {
  /**
   * Backend to use. Default "auto": webgpu where `navigator.gpu` gives a hardware adapter (on
   * Node only when the application installed `navigator.gpu`), else wasm. "webgpu" on Node loads
   * Dawn (`npm install webgpu`) and is an error when it or an adapter is missing.
   */
  backend?: Backend | "auto";
  /**
   * Worker threads for the wasm backend's kernels, a positive integer (1: the calling thread
   * only, no workers). Default on Node.js: $PROPETL_THREADS, else all cores; in a browser:
   * `navigator.hardwareConcurrency` capped at 8 on a cross-origin isolated page, else 1 (more
   * than 1 on a page that is not isolated is an error: it has no SharedArrayBuffer).
   */
  threads?: number;
}

/** The engine in use, as `initEngine` and `engineInfo` report it. */
export interface EngineInfo {
  /** The default backend the engine computes on. */
  backend: Backend;
  /** Threads the backend computes on: the wasm worker count, 1 for the others. */
  threads: number;
  /** The GPU adapter, for the webgpu backend only. */
  adapter?: GpuAdapterInfo;
}

interface Running {
  info: EngineInfo;
  /** The backend the first call asked for ("auto" when it named none). */
  requested: Backend | "auto";
  /** The wasm worker count in force (also when another backend is the default). */
  wasmThreads: number;
}

let starting: Promise<Running> | null = null;
let current: EngineInfo | null = null;

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** The options, checked: unknown names and bad values are errors naming the option. */
function checkOptions(options: unknown): EngineOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`initEngine: options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_NAMES.includes(key)) throw new TypeError(`initEngine: unknown option "${key}" (options: ${OPTION_NAMES.join(", ")})`);
  }
  const checked: EngineOptions = {};
  if (o.backend !== undefined) {
    if (!(BACKEND_CHOICES as readonly unknown[]).includes(o.backend)) {
      throw new TypeError(`initEngine: backend must be one of ${BACKEND_CHOICES.map((b) => `"${b}"`).join(", ")}, got ${describe(o.backend)}`);
    }
    checked.backend = o.backend as Backend | "auto";
  }
  if (o.threads !== undefined) {
    if (typeof o.threads !== "number" || !Number.isInteger(o.threads) || o.threads < 1) {
      throw new RangeError(`initEngine: threads must be a positive integer, got ${describe(o.threads)}`);
    }
    checked.threads = o.threads;
  }
  return checked;
}

/**
 * Start the engine once per process. A later call with no options, or with the options the
 * engine runs with, returns the running engine's info; one asking for another backend or
 * thread count is an error (the engine cannot be restarted in the same process).
 */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  let checked: EngineOptions;
  try {
    checked = checkOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  if (starting === null) {
    const attempt = start(checked);
    starting = attempt;
    // A start that failed (say, webgpu unavailable) applied nothing: a later call may try again.
    attempt.catch(() => {
      if (starting === attempt) starting = null;
    });
    return attempt.then((r) => r.info);
  }
  return starting.then((running) => {
    assertCompatible(checked, running);
    return running.info;
  });
}

function assertCompatible(asked: EngineOptions, running: Running): void {
  const { info, requested, wasmThreads } = running;
  if (asked.backend !== undefined && asked.backend !== requested && asked.backend !== info.backend) {
    const chosen = requested === "auto" ? ` (chosen by "auto")` : "";
    throw new Error(`initEngine: the engine is already running on backend "${info.backend}"${chosen}; it cannot restart with backend "${asked.backend}" in this process`);
  }
  if (asked.threads !== undefined && asked.threads !== wasmThreads) {
    throw new Error(`initEngine: the engine is already running with threads: ${wasmThreads}; it cannot restart with threads: ${asked.threads} in this process`);
  }
}

async function start(options: EngineOptions): Promise<Running> {
  const want = options.backend ?? "auto";
  const threads = wasmThreads(options.threads);
  let backend: Backend;
  let adapter: GpuAdapterInfo | undefined;
  if (want === "auto" || want === "webgpu") {
    const probe = await findWebGpu(want === "webgpu");
    if (probe.adapter === null) {
      if (want === "webgpu") throw new Error(`initEngine: backend "webgpu" is not available: ${probe.reason}`);
    } else if (want === "webgpu" || isHardwareAdapter(probe.adapter)) {
      adapter = probe.adapter;
    }
  }
  if (want === "auto") {
    const got = adapter !== undefined ? await init("webgpu", "wasm") : await init("wasm");
    backend = got.includes("webgpu") ? "webgpu" : "wasm";
  } else {
    const got = await init(want);
    if (!got.includes(want)) {
      const on = adapter !== undefined ? ` on ${describeAdapter(adapter)} (jax-js could not open a device on it)` : "";
      throw new Error(`initEngine: backend "${want}" is not available here${on} (got: ${got.join(", ") || "none"})`);
    }
    backend = want;
  }
  // jax-js (patched) creates its worker pool at the first parallel kernel, from the global
  // Worker and navigator.hardwareConcurrency as they are then; the platform layer sets them.
  // Kernels that ran before this call ran on this thread.
  useWasmThreads(threads);
  defaultDevice(backend);
  current = { backend, threads: backend === "wasm" ? threads : 1 };
  if (backend === "webgpu" && adapter !== undefined) current.adapter = adapter;
  return { info: current, requested: want, wasmThreads: threads };
}

/** The running engine, or an error telling the caller to start it first. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error("propetl engine not started: call initEngine() first");
  return current;
}

/**
 * The engine in one line for a command's start line: "wasm with 2 thread(s)", or
 * "webgpu on nvidia hopper ... (driver)".
 */
export function describeEngine(info: EngineInfo = engineInfo()): string {
  if (info.backend === "webgpu") return `webgpu on ${info.adapter ? describeAdapter(info.adapter) : "an unnamed adapter"}`;
  return `${info.backend} with ${info.threads} thread(s)`;
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
