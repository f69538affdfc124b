/**
 * The server's Prometheus metrics (prom-client, one registry per server): requests by route
 * and status, request latency, micro-batch sizes (requests, inputs, tokens, distinct tasks),
 * task-cache hits and misses, queue depth, cache bytes, and the process's default metrics
 * (resident memory, heap, event-loop lag).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RouterObserver, TaskRouter } from "./router.js";

/** The metrics of one server. */
export interface ServeMetrics {
  /** The prom-client registry `GET /metrics` exposes. */
  registry: Registry;
  /** Hooks for the router (batches, cache lookups). */
  observer: RouterObserver;
  /** Record one answered HTTP request. */
  request(route: string, status: number, seconds: number): void;
  /** Attach the router whose queue and cache the gauges read. */
  attach(router: TaskRouter): void;
}

/** A fresh set of serve metrics in their own registry. */
export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "propetl_" });
  const requests = new Counter({ name: "propetl_http_requests_total", help: "HTTP requests answered, by route and status code", labelNames: ["route", "status"] as const, registers: [registry] });
  const latency = new Histogram({
    name: "propetl_http_request_duration_seconds",
    help: "Time from request to response, by route",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchRequests = new Histogram({ name: "propetl_batch_requests", help: "Requests per micro-batch", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [registry] });
  const batchInputs = new Histogram({ name: "propetl_batch_inputs", help: "Inputs (texts) per micro-batch", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [registry] });
  const batchTokens = new Histogram({ name: "propetl_batch_tokens", help: "Tokens per micro-batch", buckets: [16, 64, 256, 1024, 4096, 16384], registers: [registry] });
  const batchTasks = new Histogram({ name: "propetl_batch_tasks", help: "Distinct tasks per micro-batch", buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry] });
  const batchSeconds = new Histogram({ name: "propetl_batch_duration_seconds", help: "Device time per micro-batch", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  const cacheLookups = new Counter({ name: "propetl_task_cache_lookups_total", help: "Task cache lookups by result (hit: loaded already; miss: loaded from disk)", labelNames: ["result"] as const, registers: [registry] });
  const acquire = new Histogram({
    name: "propetl_task_switch_seconds",
    help: "Time to get a task's modules for a batch: a cache hit (already materialised) or a load from disk",
    labelNames: ["result"] as const,
    buckets: [0.00001, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  let router: TaskRouter | null = null;
  new Gauge({
    name: "propetl_queue_depth",
    help: "Requests waiting for a micro-batch",
    registers: [registry],
    collect() {
      this.set(router?.stats().queued ?? 0);
    },
  });
  new Gauge({
    name: "propetl_task_cache_bytes",
    help: "Device bytes held by cached tasks (materialised modules and heads)",
    registers: [registry],
    collect() {
      this.set(router?.stats().cache.bytes ?? 0);
    },
  });
  new Gauge({
    name: "propetl_task_cache_entries",
    help: "Tasks loaded in the cache",
    registers: [registry],
    collect() {
      this.set(router?.stats().cache.entries ?? 0);
    },
  });
  new Gauge({
    name: "propetl_tasks",
    help: "Tasks in the tasks folder (last scan)",
    registers: [registry],
    collect() {
      this.set(router?.stats().tasks ?? 0);
    },
  });
  return {
    registry,
    observer: {
      batch: (b) => {
        batchRequests.observe(b.requests);
        batchInputs.observe(b.examples);
        batchTokens.observe(b.tokens);
        batchTasks.observe(b.tasks);
        batchSeconds.observe(b.ms / 1000);
      },
      cache: (hit, ms) => {
        cacheLookups.inc({ result: hit ? "hit" : "miss" });
        acquire.observe({ result: hit ? "hit" : "miss" }, ms / 1000);
      },
    },
    request: (route, status, seconds) => {
      requests.inc({ route, status: String(status) });
      latency.observe({ route }, seconds);
    },
    attach: (r) => {
      router = r;
    },
  };
}
