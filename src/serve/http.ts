/**
 * The HTTP face of a task router (fastify; request bodies validated by JSON schema):
 *
 *   POST /v1/classify       {task, inputs: [text | [text, pair]]} → per input {label, label_id,
 *                           score, probabilities} (regression: {value})
 *   POST /v1/completions    OpenAI-style {model: task, prompt, max_tokens} → choices (T5 tasks)
 *   GET  /v1/tasks          every task: name, kind, method, labels, file size, bit-level storage
 *   POST /v1/tasks/reload   rescan the tasks folder
 *   GET  /health            {status: "ok", tasks}
 *   GET  /metrics           Prometheus text (metrics.ts)
 *   GET  /openapi.json      the OpenAPI 3.1 description of these routes (openapi.ts)
 *
 * Errors are JSON {error: {code, message, field?}}: 400 for a schema error or a bad input
 * (`field` names it, "inputs[2]"), 400 for malformed JSON, 413 for a body over the limit, 415
 * for a body that is not JSON, 404 for an unknown task, 429 with Retry-After when the queue is
 * full, 503 with Retry-After for a request over its time limit or during shutdown.
 */
import { fastify } from "fastify";
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { QueueFullError, RequestTimeoutError, ShuttingDownError } from "./batcher.js";
import { createServeMetrics } from "./metrics.js";
import type { ServeMetrics } from "./metrics.js";
import { classifyBodySchema, completionsBodySchema, openApiDocument } from "./openapi.js";
import { RouterInputError, UnknownTaskError } from "./router.js";
import type { ClassifyRequest, TaskRouter } from "./router.js";
import type { Prediction } from "../train/predictor.js";

/** Options of `buildServer`. */
export interface HttpOptions {
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Inputs per request at most, in the schema (default 256: the router's default). */
  maxInputs?: number;
  /** Characters per text at most, in the schema (default 10000). */
  maxInputChars?: number;
  /** Most tokens a completion may ask for, in the schema (default 256: the router's default). */
  maxNewTokens?: number;
  /** Metrics to record into (default: a fresh registry). */
  metrics?: ServeMetrics;
  /** Log requests with fastify's logger (default false). */
  logger?: boolean;
}

/** The JSON shape of one prediction. */
export type PredictionJson =
  | {
      /** The predicted label's name. */
      label: string;
      /** Its id. */
      label_id: number;
      /** Its probability. */
      score: number;
      /** Every label's probability, by name. */
      probabilities: Record<string, number>;
    }
  | {
      /** A regression task's value. */
      value: number;
    };

/** A prediction as the HTTP API answers it, with the label names of its task. */
export function predictionJson(p: Prediction, labels: readonly string[]): PredictionJson {
  if (p.kind === "regression") return { value: p.value };
  return { label: p.label, label_id: p.labelId, score: p.probs[p.labelId], probabilities: Object.fromEntries(p.probs.map((x, i) => [labels[i] ?? String(i), x])) };
}

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function send(reply: FastifyReply, status: number, code: string, message: string, field?: string, retryAfterS?: number): FastifyReply {
  if (retryAfterS !== undefined) void reply.header("Retry-After", String(retryAfterS));
  const body: ErrorBody = { error: { code, message, ...(field !== undefined ? { field } : {}) } };
  return reply.code(status).type("application/json").send(body);
}

/** A JSON-pointer path ("/inputs/2/0") as a field name ("inputs[2][0]"). */
function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split("/").filter((p) => p !== "");
  if (extra !== undefined) parts.push(extra);
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "body" : out;
}

/** Build the server (not listening: call `listen`, or `inject` in tests). The router is borrowed. */
export async function buildServer(router: TaskRouter, opts: HttpOptions = {}): Promise<FastifyInstance> {
  const metrics = opts.metrics ?? createServeMetrics();
  metrics.attach(router);
  const maxInputs = opts.maxInputs ?? 256;
  const maxInputChars = opts.maxInputChars ?? 10000;
  const maxNewTokens = opts.maxNewTokens ?? 256;
  let completionCount = 0;
  const app = fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Strict validation: no type coercion, no silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    requestTimeout: 60_000,
    return503OnClosing: true,
  });

  app.addHook("onResponse", async (req, reply) => {
    metrics.request(req.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation && err.validation.length > 0) {
      // The most specific error: the deepest path, then a constraint over a type mismatch
      // (an input that is an array fails the text branch of anyOf by type, and the pair branch by what matters).
      const rank = (k: string): number => (k === "anyOf" ? 2 : k === "type" ? 1 : 0);
      const v = [...err.validation].sort((a, b) => b.instancePath.length - a.instancePath.length || rank(a.keyword) - rank(b.keyword))[0];
      const params = v.params as Record<string, unknown>;
      const extra = typeof params.missingProperty === "string" ? params.missingProperty : typeof params.additionalProperty === "string" ? params.additionalProperty : undefined;
      const field = fieldOf(v.instancePath, extra);
      const inAnyOf = (v.schemaPath ?? "").includes("/anyOf/") || v.keyword === "anyOf";
      const what = typeof params.additionalProperty === "string" ? "is not a known field" : v.keyword === "required" ? "is required" : inAnyOf && (v.keyword === "type" || v.keyword === "anyOf") ? (field.startsWith("prompt") ? "must be a text or an array of texts" : "must be a text or a [text, pair] array of two texts") : v.keyword === "const" ? `must be ${JSON.stringify(params.allowedValue)}` : (v.message ?? "is invalid");
      return send(reply, 400, "invalid_request", `${field}: ${what}`, field);
    }
    if (err instanceof RouterInputError) return send(reply, 400, "invalid_request", err.message, err.field);
    if (err instanceof UnknownTaskError) return send(reply, 404, "unknown_task", err.message, _req.url.startsWith("/v1/completions") ? "model" : "task");
    if (err instanceof QueueFullError) return send(reply, 429, "queue_full", err.message, undefined, err.retryAfterS);
    if (err instanceof RequestTimeoutError) return send(reply, 503, "timeout", err.message, undefined, 1);
    if (err instanceof ShuttingDownError) return send(reply, 503, "shutting_down", err.message, undefined, 5);
    switch (err.code) {
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return send(reply, 400, "invalid_json", `the body is not valid JSON: ${err.message}`, "body");
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return send(reply, 413, "body_too_large", err.message, "body");
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return send(reply, 415, "unsupported_media_type", "send the body as application/json", "content-type");
      default:
        break;
    }
    if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) return send(reply, err.statusCode, "bad_request", err.message);
    reply.log.error(err);
    return send(reply, 500, "internal_error", err.message);
  });
  app.setNotFoundHandler((req, reply) => send(reply, 404, "not_found", `no route ${req.method} ${req.url} (GET /openapi.json lists the routes)`));

  app.post<{ Body: ClassifyRequest }>("/v1/classify", { schema: { body: classifyBodySchema(maxInputs, maxInputChars) } }, async (req) => {
    const r = await router.classify(req.body);
    return { task: r.task, results: r.results.map((p) => predictionJson(p, r.labels)) };
  });
  app.post<{ Body: { model: string; prompt: string | string[]; max_tokens?: number } }>("/v1/completions", { schema: { body: completionsBodySchema(maxInputs, maxInputChars, maxNewTokens) } }, async (req) => {
    const prompts = typeof req.body.prompt === "string" ? [req.body.prompt] : req.body.prompt;
    let r;
    try {
      r = await router.complete({ task: req.body.model, prompts, ...(req.body.max_tokens !== undefined ? { maxTokens: req.body.max_tokens } : {}) });
    } catch (e) {
      // The OpenAI request names the task "model" and the texts "prompt".
      if (e instanceof RouterInputError) throw new RouterInputError(e.field === "task" ? "model" : e.field.replace(/^prompts/, "prompt").replace(/^maxTokens$/, "max_tokens"), e.message.slice(e.field.length + 2));
      throw e;
    }
    const prompt = r.completions.reduce((s, c) => s + c.promptTokens, 0);
    const completion = r.completions.reduce((s, c) => s + c.completionTokens, 0);
    return {
      id: `cmpl-${Date.now().toString(36)}-${(completionCount++).toString(36)}`,
      object: "text_completion",
      created: Math.floor(Date.now() / 1000),
      model: r.task,
      choices: r.completions.map((c, index) => ({ index, text: c.text, finish_reason: c.finishReason, logprobs: null })),
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  });
  app.get("/v1/tasks", async () => ({ tasks: router.listTasks().map((t) => ({ name: t.name, kind: t.kind, method: t.method, labels: t.labels, file_bytes: t.fileBytes, storage_bits: t.storageBits, storage_percent_of_backbone: t.storagePercentOfBackbone, cached: t.cached })) }));
  app.post("/v1/tasks/reload", async () => {
    const r = await router.reload();
    return { tasks: r.tasks, added: r.added, removed: r.removed, changed: r.changed, problems: r.problems };
  });
  app.get("/health", async () => ({ status: "ok", tasks: router.stats().tasks }));
  app.get("/metrics", async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
  const doc = openApiDocument(maxInputs, maxInputChars, maxNewTokens);
  app.get("/openapi.json", async () => doc);
  await app.ready();
  return app;
}
