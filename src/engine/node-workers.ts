/**
 * Web Worker shim for Node.js so that jax-js's wasm backend can run kernels on all cores.
 *
 * jax-js spreads wasm kernels over a pool of Web Workers when `Worker` and
 * `SharedArrayBuffer` exist. Node 20 has no global `Worker` (and no `navigator`), so
 * jax-js would stay on one thread. This module maps the small part of the Web Worker API
 * that jax-js uses (a Blob-URL module script, `postMessage`, `onmessage`, `onerror`) onto
 * `node:worker_threads`. With propetl's jax-js patch (DESIGN.md, patch 6) jax-js looks for
 * `Worker` and reads `navigator.hardwareConcurrency` when it runs its first parallel kernel, so
 * `initEngine` installs this then.
 */
import { Worker as ThreadWorker } from "node:worker_threads";

/** How long an idle worker keeps the process alive (see NodeWebWorker.#scheduleUnref). */
const IDLE_UNREF_MS = 100;

/** Script text of Blob URLs created in this process, so a Worker can be built from one. */
const blobSources = new Map<string, string>();

/** worker_threads Workers started through the shim in this process. */
let threadsStarted = 0;

/**
 * Messages between two full garbage collections in a worker thread. Every kernel message carries
 * its compiled WebAssembly module, and a worker keeps instances of the last 256 kernels: the
 * module wrappers of older ones become garbage that still holds their compiled code, and a worker
 * allocates so little JavaScript that V8 rarely collects it. Over many input shapes (each compiles
 * new kernels) that code piled up: on tiny-bert with 2 workers RSS grew 43 MiB over 430 new
 * shapes, 14–18 MiB with this collection, and stayed flat with no workers (bench/RESULTS.md,
 * "Inference memory"). A collection of a worker's small heap takes a few milliseconds.
 */
const WORKER_GC_EVERY = 512;

/**
 * Runs in each worker thread: exposes `self`, `postMessage` and `onmessage` like a Web Worker,
 * and collects garbage every WORKER_GC_EVERY messages through V8's `gc`, reached by setting
 * --expose-gc and reading `gc` from a new context. V8 flags are process-wide and the flag stays
 * set: turning it off again raced with the other workers starting (one of them found no `gc` and
 * died, and the process exited with its work pending). Contexts made later (workers, `vm`) see a
 * global `gc`; the main thread's does not. Without `gc` the worker simply does not collect.
 */
const WORKER_PRELUDE = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (msg) => parentPort.postMessage(msg);
let collectGarbage = null;
try {
  require("node:v8").setFlagsFromString("--expose-gc");
  const gc = require("node:vm").runInNewContext("gc");
  if (typeof gc === "function") collectGarbage = gc;
} catch {}
let sinceCollection = 0;
parentPort.on("message", (data) => {
  if (typeof self.onmessage === "function") self.onmessage({ data });
  if (collectGarbage !== null && ++sinceCollection >= ${WORKER_GC_EVERY}) {
    sinceCollection = 0;
    collectGarbage();
  }
});
`;

interface MessageLike { data: unknown }
interface ErrorLike { message: string }

class NodeWebWorker {
  onmessage: ((event: MessageLike) => void) | null = null;
  onerror: ((event: ErrorLike) => void) | null = null;
  readonly #thread: ThreadWorker;
  /** Messages posted whose reply has not come back; the thread keeps Node alive only then. */
  #pending = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(url: string | URL) {
    const source = blobSources.get(String(url));
    if (source === undefined) {
      throw new Error(`propetl engine: Worker(${String(url)}) is not a Blob URL made in this process`);
    }
    this.#thread = new ThreadWorker(WORKER_PRELUDE + source, { eval: true });
    threadsStarted++;
    this.#thread.on("message", (data: unknown) => {
      // jax-js's worker protocol answers every posted message with exactly one reply.
      if (this.#pending > 0 && --this.#pending === 0) this.#scheduleUnref();
      this.onmessage?.({ data });
    });
    this.#thread.on("error", (err: Error) => this.onerror?.({ message: err.message }));
    // Idle workers must not keep the process alive once the program is done. This must come
    // after the listeners: adding a "message" listener refs the worker's port again.
    this.#thread.unref();
  }

  /**
   * Let Node exit once the worker has been idle for a moment. Not at once: between two
   * kernels jax-js may await an async WebAssembly compile, which does not keep Node alive.
   */
  #scheduleUnref(): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#pending === 0) this.#thread.unref();
    }, IDLE_UNREF_MS);
  }

  postMessage(message: unknown): void {
    if (this.#idleTimer) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    if (this.#pending++ === 0) this.#thread.ref();
    this.#thread.postMessage(message);
  }

  terminate(): void {
    void this.#thread.terminate();
  }
}

/**
 * Node does not stay alive for a pending `WebAssembly.compile`, and jax-js compiles kernels
 * asynchronously when it has workers: a script could exit in the middle of its first
 * computation. Hold a ref'd timer while any compile is in flight.
 */
function keepAliveDuringCompile(): void {
  const compile = WebAssembly.compile.bind(WebAssembly);
  let inFlight = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  WebAssembly.compile = async (bytes: BufferSource): Promise<WebAssembly.Module> => {
    if (inFlight++ === 0) timer = setInterval(() => undefined, 1 << 30);
    try {
      return await compile(bytes);
    } finally {
      if (--inFlight === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    }
  };
}

/**
 * How many worker threads the shim has started in this process. jax-js starts its whole pool
 * (one worker per thread of `navigator.hardwareConcurrency`) at its first parallel kernel, so
 * after a computation this is the engine's real worker count (0: kernels run on the main thread).
 */
export function workerThreadsStarted(): number {
  return threadsStarted;
}

/** Give Node the `navigator` jax-js reads (`userAgent` while planning kernels), if it has none. */
export function ensureNavigator(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.navigator === "undefined") g.navigator = { userAgent: `Node.js/${process.versions.node}` };
}

/** Set `navigator.hardwareConcurrency`, the size jax-js gives its worker pool. */
function setHardwareConcurrency(threads: number): void {
  ensureNavigator();
  const nav = (globalThis as Record<string, unknown>).navigator as { hardwareConcurrency?: number };
  try {
    Object.defineProperty(nav, "hardwareConcurrency", { value: threads, configurable: true, enumerable: true });
  } catch {
    // A read-only navigator keeps its own value.
  }
}

/**
 * Install `Worker` (once), Blob-URL bookkeeping and `navigator.hardwareConcurrency = threads`
 * on Node: `threads` is the worker pool size jax-js will use.
 */
export function installNodeWorkers(threads: number): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Worker === "undefined") {
    const origCreate = URL.createObjectURL.bind(URL);
    const origRevoke = URL.revokeObjectURL.bind(URL);
    const OrigBlob = Blob;
    // Keep the text of string-only Blobs so the Worker shim can read it synchronously.
    class TextKeepingBlob extends OrigBlob {
      readonly propetlText: string | undefined;
      constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
        super(parts, options);
        this.propetlText = parts?.every((p) => typeof p === "string") ? parts.join("") : undefined;
      }
    }
    g.Blob = TextKeepingBlob;
    URL.createObjectURL = (obj: Blob) => {
      const url = origCreate(obj);
      if (obj instanceof TextKeepingBlob && obj.propetlText !== undefined) blobSources.set(url, obj.propetlText);
      return url;
    };
    URL.revokeObjectURL = (url: string) => {
      blobSources.delete(url);
      origRevoke(url);
    };
    g.Worker = NodeWebWorker;
    keepAliveDuringCompile();
  }
  setHardwareConcurrency(threads);
}
