/**
 * Micro-batching of requests: a request waits at most `windowMs` for others to join it; a batch
 * takes queued requests in arrival order up to `maxBatchTokens` (at least one request, however
 * large) and is run by one call of the `run` function. Batches run one at a time; requests that
 * arrive meanwhile form the next batch, which starts as soon as the running one ends.
 *
 * Back-pressure: at most `maxQueue` requests wait (a further one is refused with
 * `QueueFullError`, which carries a retry estimate); a request not answered within `timeoutMs`
 * of its arrival is rejected with `RequestTimeoutError` (its work, if already running, finishes
 * and is dropped). `drain()` refuses new requests and resolves when the queue is empty.
 */

/** The queue holds `maxQueue` requests already. */
export class QueueFullError extends Error {
  /** Always "QueueFullError". */
  override name = "QueueFullError";
  constructor(
    /** Requests waiting when this one was refused. */
    readonly queued: number,
    /** Seconds after which a retry is likely to be accepted. */
    readonly retryAfterS: number,
  ) {
    super(`the request queue is full (${queued} waiting); retry after ${retryAfterS} s`);
  }
}

/** A request was not answered within its time limit. */
export class RequestTimeoutError extends Error {
  /** Always "RequestTimeoutError". */
  override name = "RequestTimeoutError";
  constructor(
    /** The time limit that passed, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`the request was not answered within ${timeoutMs} ms`);
  }
}

/** The batcher is draining (shutdown) and takes no new requests. */
export class ShuttingDownError extends Error {
  /** Always "ShuttingDownError". */
  override name = "ShuttingDownError";
  constructor() {
    super("the server is shutting down");
  }
}

/** Options of `MicroBatcher`. */
export interface BatcherOptions {
  /** How long the first request of a batch waits for others (ms, default 2). */
  windowMs?: number;
  /** Token budget of a batch (default 4096). */
  maxBatchTokens?: number;
  /** Requests waiting at most (default 1024). */
  maxQueue?: number;
  /** Time limit of a request from its arrival (ms, default 30000; 0 = none). */
  timeoutMs?: number;
}

interface Pending<Req, Res> {
  request: Req;
  tokens: number;
  resolve(r: Res): void;
  reject(e: Error): void;
  settled: boolean;
  timer: NodeJS.Timeout | null;
}

/** What `run` answers for each request of a batch: its result or its own error. */
export type BatchOutcome<Res> =
  | {
      /** Answered. */
      ok: true;
      /** The result. */
      value: Res;
    }
  | {
      /** Failed. */
      ok: false;
      /** Why (the request is rejected with it). */
      error: Error;
    };

/** One batch that ran, as the `onBatch` callback reports it. */
export interface BatchInfo {
  /** Requests in the batch. */
  requests: number;
  /** Their tokens, summed. */
  tokens: number;
  /** How long `run` took, in ms. */
  ms: number;
}

/**
 * Micro-batches requests of type `Req` into calls of one `run` function that answers each with
 * a `Res` (see the module comment: time window, token budget, queue limit, timeouts, drain).
 */
export class MicroBatcher<Req, Res> {
  private readonly queue: Pending<Req, Res>[] = [];
  private queuedTokens = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly windowMs: number;
  private readonly maxBatchTokens: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;
  /** Mean batch time (ms), for the retry estimate. */
  private meanBatchMs = 0;

  constructor(
    private readonly run: (batch: readonly Req[]) => Promise<BatchOutcome<Res>[]>,
    opts: BatcherOptions = {},
    private readonly onBatch?: (info: BatchInfo) => void,
  ) {
    this.windowMs = check("windowMs", opts.windowMs ?? 2, 0);
    this.maxBatchTokens = check("maxBatchTokens", opts.maxBatchTokens ?? 4096, 1);
    this.maxQueue = check("maxQueue", opts.maxQueue ?? 1024, 1);
    this.timeoutMs = check("timeoutMs", opts.timeoutMs ?? 30000, 0);
  }

  /** Requests waiting (not yet running). */
  get queued(): number {
    return this.queue.length;
  }

  /** Queue a request of `tokens` tokens; resolves with its result. */
  submit(request: Req, tokens: number): Promise<Res> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    if (this.queue.length >= this.maxQueue) {
      const batchesAhead = Math.max(1, Math.ceil(this.queuedTokens / this.maxBatchTokens));
      return Promise.reject(new QueueFullError(this.queue.length, Math.max(1, Math.ceil((batchesAhead * this.meanBatchMs) / 1000))));
    }
    return new Promise<Res>((resolve, reject) => {
      const p: Pending<Req, Res> = { request, tokens, resolve, reject, settled: false, timer: null };
      if (this.timeoutMs > 0) {
        p.timer = setTimeout(() => {
          const i = this.queue.indexOf(p);
          if (i >= 0) {
            this.queue.splice(i, 1);
            this.queuedTokens -= p.tokens;
          }
          this.settle(p, { ok: false, error: new RequestTimeoutError(this.timeoutMs) });
          this.checkIdle();
        }, this.timeoutMs);
      }
      this.queue.push(p);
      this.queuedTokens += tokens;
      this.schedule();
    });
  }

  /** Refuse new requests; resolves once every queued and running request is answered. */
  drain(): Promise<void> {
    this.closed = true;
    if (this.timer !== null && this.queue.length > 0) {
      clearTimeout(this.timer);
      this.timer = null;
      void this.next();
    }
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queuedTokens >= this.maxBatchTokens || this.windowMs === 0 || this.closed) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      queueMicrotask(() => void this.next());
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.next();
      }, this.windowMs);
    }
  }

  private async next(): Promise<void> {
    if (this.running || this.queue.length === 0) {
      this.checkIdle();
      return;
    }
    this.running = true;
    const batch: Pending<Req, Res>[] = [];
    let tokens = 0;
    while (this.queue.length > 0 && (batch.length === 0 || tokens + this.queue[0].tokens <= this.maxBatchTokens)) {
      const p = this.queue.shift() as Pending<Req, Res>;
      this.queuedTokens -= p.tokens;
      tokens += p.tokens;
      batch.push(p);
    }
    const t0 = performance.now();
    let outcomes: BatchOutcome<Res>[];
    try {
      outcomes = await this.run(batch.map((p) => p.request));
      if (outcomes.length !== batch.length) throw new Error(`batch run answered ${outcomes.length} results for ${batch.length} requests`);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    const ms = performance.now() - t0;
    this.meanBatchMs = this.meanBatchMs === 0 ? ms : 0.8 * this.meanBatchMs + 0.2 * ms;
    batch.forEach((p, i) => this.settle(p, outcomes[i]));
    this.running = false;
    this.onBatch?.({ requests: batch.length, tokens, ms });
    if (this.queue.length > 0) {
      // Requests that came during the run have waited at least that long: run them now.
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      void this.next();
    } else {
      this.checkIdle();
    }
  }

  private settle(p: Pending<Req, Res>, o: BatchOutcome<Res>): void {
    if (p.settled) return;
    p.settled = true;
    if (p.timer !== null) clearTimeout(p.timer);
    if (o.ok) p.resolve(o.value);
    else p.reject(o.error);
  }

  private checkIdle(): void {
    if (this.running || this.queue.length > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}

function check(name: string, x: number, min: number): number {
  if (!Number.isFinite(x) || x < min) throw new RangeError(`${name} must be a number >= ${min}, got ${x}`);
  return x;
}
