/**
 * Live device-buffer counter: how many jax-js buffers are allocated and not yet freed; the
 * wasm heap's size and use (`wasmHeapStats`); and the compiled-kernel cache (`wasmProgramCache`).
 *
 * jax-js has no public counter, so this wraps the backend's malloc/decRef once. The backend
 * object comes from jax-js's own backend module (the one its index.js imports), found by
 * reading index.js, so the counter sees exactly the buffers the library uses. Tests use it
 * to prove training loops do not leak.
 */
import { pathToFileURL } from "node:url";
import { jaxjsBackendFile } from "./jax-files.js";

interface CountableBackend {
  malloc(size: number, initialData?: Uint8Array): number;
  decRef(slot: number): void;
  incRef(slot: number): void;
  propetlLive?: () => number;
  /** Added by the engine patch (patches/): the wasm allocator's figures. */
  propetlHeapStats?: (resetPeak?: boolean) => WasmHeapStats;
  /** Added by the engine patch: the compiled-kernel cache's size and limit (setting the limit). */
  propetlProgramCache?: (limit?: number) => ProgramCacheStats;
}

/** The wasm backend's cache of compiled kernels: a kernel's code depends on its shapes. */
export interface ProgramCacheStats {
  /** Compiled kernels held now. */
  size: number;
  /** The most it holds (least recently used ones are evicted beyond it). */
  limit: number;
}

/** The wasm heap (one WebAssembly.Memory, at most 4 GiB) as the engine's allocator sees it. */
export interface WasmHeapStats {
  /** Size of the wasm memory: it grows, never shrinks. */
  heapBytes: number;
  /** Bytes in allocated blocks now. */
  liveBytes: number;
  /** Most live bytes since the engine started, or since the last `resetPeak`. */
  peakLiveBytes: number;
  /** Free extents below the top of the heap (large blocks), their total and the largest. */
  freeExtents: number;
  freeExtentBytes: number;
  largestFreeExtent: number;
}

let counter: (() => number) | null = null;

async function loadBackend(device: string): Promise<CountableBackend> {
  const mod = (await import(pathToFileURL(jaxjsBackendFile()).href)) as Record<string, unknown>;
  for (const value of Object.values(mod)) {
    if (typeof value === "function" && value.name === "getBackend") {
      return (value as (d: string) => CountableBackend)(device);
    }
  }
  throw new Error("live-buffers: jax-js's backend module has no getBackend export");
}

/**
 * Start counting live buffers on a device (default wasm). Returns a function giving the
 * current count. Call after initEngine(). Buffers allocated before this call are not seen
 * as allocations, but their frees are: compare counts taken after it, not absolute values.
 */
export async function trackLiveBuffers(device = "wasm"): Promise<() => number> {
  if (counter) return counter;
  const backend = await loadBackend(device);
  if (backend.propetlLive) return (counter = backend.propetlLive);
  const slots = new Map<number, number>();
  const malloc = backend.malloc.bind(backend);
  const incRef = backend.incRef.bind(backend);
  const decRef = backend.decRef.bind(backend);
  backend.malloc = (size, initialData) => {
    const slot = malloc(size, initialData);
    slots.set(slot, 1);
    return slot;
  };
  backend.incRef = (slot) => {
    incRef(slot);
    const n = slots.get(slot);
    if (n !== undefined) slots.set(slot, n + 1);
  };
  backend.decRef = (slot) => {
    decRef(slot);
    const n = slots.get(slot);
    if (n !== undefined) {
      if (n <= 1) slots.delete(slot);
      else slots.set(slot, n - 1);
    }
  };
  backend.propetlLive = () => slots.size;
  counter = backend.propetlLive;
  return counter;
}

/**
 * A synchronous reader of the wasm heap's figures (call after initEngine()), for code that must
 * read them at a precise moment (a training step's callback). `resetPeak` restarts the peak
 * from the live bytes, so the next read gives the peak of what ran between the two.
 */
export async function wasmHeapStatsReader(): Promise<(opts?: { resetPeak?: boolean }) => WasmHeapStats> {
  const backend = await loadBackend("wasm");
  const read = backend.propetlHeapStats?.bind(backend);
  if (!read) throw new Error("wasm heap statistics need the patched engine (patches/@jax-js+jax+*.patch); run npm ci");
  return (opts = {}) => {
    const s = read(opts.resetPeak ?? false);
    return { heapBytes: s.heapBytes, liveBytes: s.liveBytes, peakLiveBytes: s.peakLiveBytes, freeExtents: s.freeExtents, freeExtentBytes: s.freeExtentBytes, largestFreeExtent: s.largestFreeExtent };
  };
}

/** The wasm heap's figures now (see `wasmHeapStatsReader`). */
export async function wasmHeapStats(opts: { resetPeak?: boolean } = {}): Promise<WasmHeapStats> {
  return (await wasmHeapStatsReader())(opts);
}

/**
 * The wasm backend's compiled-kernel cache: its size and limit (default 1024 programs, an LRU:
 * engine patch 8). `limit` sets the limit, evicting the least recently used programs beyond
 * it. Call after initEngine().
 */
export async function wasmProgramCache(opts: { limit?: number } = {}): Promise<ProgramCacheStats> {
  const backend = await loadBackend("wasm");
  const cache = backend.propetlProgramCache?.bind(backend);
  if (!cache) throw new Error("the compiled-kernel cache needs the patched engine (patches/@jax-js+jax+*.patch); run npm ci");
  const s = cache(opts.limit);
  return { size: s.size, limit: s.limit };
}
