/**
 * The HTTP layer through fastify's `inject` (no port): classify answers as the router does, in
 * JSON; tasks, health, metrics and the OpenAPI document; every bad input gets its 4xx naming
 * the field (schema errors, unknown fields, unknown task, malformed JSON, wrong content type,
 * oversize body, unknown route) and the server keeps answering; a full queue gives 429 with
 * Retry-After; a request over its time limit gives 503 with Retry-After.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { initEngine } from "../../src/engine/engine.js";
import { buildServer, predictionJson } from "../../src/serve/http.js";
import { createTaskRouter } from "../../src/serve/router.js";
import type { TaskRouter } from "../../src/serve/router.js";
import { tempDir } from "../train/helpers.js";
import { TEXTS, tinyServeSetup } from "./helpers.js";

let work: string;
let modelDir: string;
let tasksDir: string;
let router: TaskRouter;
let app: FastifyInstance;
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-serve-http-");
  ({ modelDir, tasksDir } = await tinyServeSetup(work));
  router = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 5 });
  app = await buildServer(router, { bodyLimit: 4096, maxInputs: 16, maxInputChars: 200 });
});
after(async () => {
  await app.close();
  await router.close();
  rmSync(work, { recursive: true, force: true });
});

const post = (url: string, payload: unknown) => app.inject({ method: "POST", url, payload: payload as string });

describe("routes", () => {
  test("POST /v1/classify answers what the router answers, as JSON per input", async () => {
    const res = await post("/v1/classify", { task: "sentiment", inputs: [TEXTS[0], [TEXTS[1], TEXTS[2]]] });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { task: string; results: { label: string; label_id: number; score: number; probabilities: Record<string, number> }[] };
    const direct = await router.classify({ task: "sentiment", inputs: [TEXTS[0], [TEXTS[1], TEXTS[2]]] });
    assert.deepEqual(body, { task: "sentiment", results: direct.results.map((p) => predictionJson(p, ["neg", "pos"])) });
    assert.deepEqual(Object.keys(body.results[0].probabilities), ["neg", "pos"]);
    assert.equal(body.results[0].score, body.results[0].probabilities[body.results[0].label]);
    const reg = await post("/v1/classify", { task: "similarity", inputs: ["the cat"] });
    assert.equal(reg.statusCode, 200);
    assert.equal(typeof (reg.json() as { results: { value: number }[] }).results[0].value, "number");
    const mt = await post("/v1/classify", { task: "mt/beta", inputs: ["the cat"] });
    assert.equal(mt.statusCode, 200);
    assert.deepEqual(Object.keys((mt.json() as { results: { probabilities: object }[] }).results[0].probabilities), ["x", "y", "z"]);
  });

  test("GET /v1/tasks, /health, /metrics, /openapi.json; POST /v1/tasks/reload", async () => {
    const tasks = (await app.inject({ method: "GET", url: "/v1/tasks" })).json() as { tasks: { name: string; file_bytes: number; storage_bits: number; labels: string[] }[] };
    assert.deepEqual(tasks.tasks.map((t) => t.name).sort(), ["mt/alpha", "mt/beta", "sentiment", "similarity", "topic"]);
    assert.ok(tasks.tasks.every((t) => t.file_bytes > 0 && t.storage_bits > 0));
    assert.deepEqual((await app.inject({ method: "GET", url: "/health" })).json(), { status: "ok", tasks: 5 });
    const m = await app.inject({ method: "GET", url: "/metrics" });
    assert.equal(m.statusCode, 200);
    assert.match(m.headers["content-type"] as string, /^text\/plain/);
    for (const name of ["propetl_http_requests_total", "propetl_http_request_duration_seconds_bucket", "propetl_batch_requests_bucket", "propetl_batch_tasks_bucket", "propetl_task_cache_lookups_total", "propetl_task_cache_bytes", "propetl_queue_depth", "propetl_process_resident_memory_bytes"]) {
      assert.ok(m.body.includes(name), name);
    }
    assert.match(m.body, /propetl_http_requests_total\{route="\/v1\/classify",status="200"\} \d+/);
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json() as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/health", "/metrics", "/openapi.json", "/v1/classify", "/v1/completions", "/v1/tasks", "/v1/tasks/reload"]);
    const r = await post("/v1/tasks/reload", {});
    assert.equal(r.statusCode, 200);
    assert.equal((r.json() as { tasks: number }).tasks, 5);
  });
});

describe("bad input: 4xx naming the field, and the server keeps answering", () => {
  const cases: [string, () => ReturnType<typeof post>, number, string, string | undefined][] = [
    ["missing task", () => post("/v1/classify", { inputs: ["a"] }), 400, "invalid_request", "task"],
    ["missing inputs", () => post("/v1/classify", { task: "sentiment" }), 400, "invalid_request", "inputs"],
    ["task not a string", () => post("/v1/classify", { task: 3, inputs: ["a"] }), 400, "invalid_request", "task"],
    ["inputs not an array", () => post("/v1/classify", { task: "sentiment", inputs: "a" }), 400, "invalid_request", "inputs"],
    ["empty inputs", () => post("/v1/classify", { task: "sentiment", inputs: [] }), 400, "invalid_request", "inputs"],
    ["a number among inputs", () => post("/v1/classify", { task: "sentiment", inputs: ["a", 5] }), 400, "invalid_request", "inputs[1]"],
    ["a pair of three", () => post("/v1/classify", { task: "sentiment", inputs: [["a", "b", "c"]] }), 400, "invalid_request", "inputs[0]"],
    ["empty text", () => post("/v1/classify", { task: "sentiment", inputs: [""] }), 400, "invalid_request", "inputs[0]"],
    ["blank text", () => post("/v1/classify", { task: "sentiment", inputs: ["   "] }), 400, "invalid_request", "inputs[0]"],
    ["text over the limit", () => post("/v1/classify", { task: "sentiment", inputs: ["a".repeat(201)] }), 400, "invalid_request", "inputs[0]"],
    ["too many inputs", () => post("/v1/classify", { task: "sentiment", inputs: Array.from({ length: 17 }, () => "a") }), 400, "invalid_request", "inputs"],
    ["unknown field", () => post("/v1/classify", { task: "sentiment", inputs: ["a"], model: "x" }), 400, "invalid_request", "model"],
    ["body an array", () => post("/v1/classify", [1, 2]), 400, "invalid_request", "body"],
    ["unknown task", () => post("/v1/classify", { task: "nosuch", inputs: ["a"] }), 404, "unknown_task", "task"],
    ["malformed JSON", () => app.inject({ method: "POST", url: "/v1/classify", headers: { "content-type": "application/json" }, payload: '{"task": "sentiment", "inputs": [' }), 400, "invalid_json", "body"],
    ["empty JSON body", () => app.inject({ method: "POST", url: "/v1/classify", headers: { "content-type": "application/json" }, payload: "" }), 400, "invalid_json", "body"],
    ["not JSON", () => app.inject({ method: "POST", url: "/v1/classify", headers: { "content-type": "text/csv" }, payload: "a,b" }), 415, "unsupported_media_type", "content-type"],
    ["oversize body", () => post("/v1/classify", { task: "sentiment", inputs: ["a".repeat(5000)] }), 413, "body_too_large", "body"],
    ["unknown route", () => app.inject({ method: "GET", url: "/v2/nothing" }), 404, "not_found", undefined],
  ];
  for (const [what, call, status, code, field] of cases) {
    test(what, async () => {
      const res = await call();
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      const body = res.json() as { error: { code: string; message: string; field?: string } };
      assert.equal(body.error.code, code, res.body);
      assert.equal(body.error.field, field, res.body);
      assert.ok(body.error.message.length > 0);
      assert.equal((await post("/v1/classify", { task: "sentiment", inputs: ["still here"] })).statusCode, 200);
    });
  }
});

describe("load limits", () => {
  test("a full queue answers 429 with Retry-After; the queued requests are answered", async () => {
    const r = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 50, maxQueue: 2 });
    const a = await buildServer(r);
    const reqs = Array.from({ length: 6 }, (_, i) => a.inject({ method: "POST", url: "/v1/classify", payload: { task: "sentiment", inputs: [TEXTS[i]] } }));
    const res = await Promise.all(reqs);
    const codes = res.map((x) => x.statusCode).sort();
    assert.deepEqual(codes, [200, 200, 429, 429, 429, 429]);
    for (const x of res.filter((y) => y.statusCode === 429)) {
      assert.match(String(x.headers["retry-after"]), /^\d+$/);
      assert.equal((x.json() as { error: { code: string } }).error.code, "queue_full");
    }
    await a.close();
    await r.close();
  });

  test("a request over its time limit answers 503 with Retry-After", async () => {
    const r = await createTaskRouter({ modelDir, tasksDir, batchWindowMs: 200, timeoutMs: 20 });
    const a = await buildServer(r);
    const res = await a.inject({ method: "POST", url: "/v1/classify", payload: { task: "sentiment", inputs: ["a"] } });
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.headers["retry-after"], "1");
    assert.equal((res.json() as { error: { code: string } }).error.code, "timeout");
    await a.close();
    await r.close();
  });
});
