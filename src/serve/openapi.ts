/**
 * The request schema of POST /v1/classify (validated by fastify) and the OpenAPI 3.1 document of
 * every route, built from the same schema objects so the description cannot drift from what the
 * server checks.
 */

type Schema = Record<string, unknown>;

/** JSON schema of the classify body. */
export function classifyBodySchema(maxInputs: number, maxInputChars: number): Record<string, unknown> {
  const text: Schema = { type: "string", minLength: 1, maxLength: maxInputChars };
  return {
    type: "object",
    required: ["task", "inputs"],
    additionalProperties: false,
    properties: {
      task: { type: "string", minLength: 1, maxLength: 512, description: "task name, as GET /v1/tasks lists it" },
      inputs: {
        type: "array",
        minItems: 1,
        maxItems: maxInputs,
        description: "texts, or [text, pair] arrays for sentence-pair tasks",
        items: { anyOf: [text, { type: "array", minItems: 2, maxItems: 2, items: text }] },
      },
    },
  };
}

/** JSON schema of the completions body (OpenAI's fields that propetl honours; others are refused by name). */
export function completionsBodySchema(maxInputs: number, maxInputChars: number, maxNewTokens: number): Record<string, unknown> {
  const text: Schema = { type: "string", minLength: 1, maxLength: maxInputChars };
  return {
    type: "object",
    required: ["model", "prompt"],
    additionalProperties: false,
    properties: {
      model: { type: "string", minLength: 1, maxLength: 512, description: "the text-to-text task's name, as GET /v1/tasks lists it" },
      prompt: { anyOf: [text, { type: "array", minItems: 1, maxItems: maxInputs, items: text }], description: "a text or a list of texts (the task's prefix is put before each)" },
      max_tokens: { type: "integer", minimum: 1, maximum: maxNewTokens, description: "most tokens to generate (default: the model folder's generation defaults)" },
      temperature: { const: 0, description: "decoding is greedy or beam search (the model folder's num_beams): only 0 is accepted" },
      n: { const: 1 },
      stream: { const: false },
      user: { type: "string" },
    },
  };
}

const ERROR: Schema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, field: { type: "string", description: "the request field at fault, e.g. inputs[2]" } },
    },
  },
};

const PREDICTION: Schema = {
  oneOf: [
    {
      type: "object",
      required: ["label", "label_id", "score", "probabilities"],
      properties: {
        label: { type: "string" },
        label_id: { type: "integer" },
        score: { type: "number", description: "probability of the label" },
        probabilities: { type: "object", additionalProperties: { type: "number" }, description: "softmax probability of each label (6 decimals, as propetl predict prints)" },
      },
    },
    { type: "object", required: ["value"], properties: { value: { type: "number", description: "regression output" } } },
  ],
};

const TASK: Schema = {
  type: "object",
  properties: {
    name: { type: "string" },
    kind: { enum: ["classification", "regression", "text-to-text"] },
    method: { type: "string" },
    labels: { type: "array", items: { type: "string" } },
    file_bytes: { type: "integer", description: "size of the checkpoint's adapter_model.safetensors" },
    storage_bits: { type: ["integer", "null"], description: "bit-level storage of the task's method state (head apart)" },
    storage_percent_of_backbone: { type: ["number", "null"] },
    cached: { type: "boolean", description: "loaded in the task cache now" },
  },
};

const json = (schema: Schema, description: string): Schema => ({ description, content: { "application/json": { schema } } });
const errors = (...codes: number[]): Schema => {
  const text: Record<number, string> = {
    400: "schema error, bad input or malformed JSON (field names the culprit)",
    404: "unknown task",
    413: "body over the size limit",
    415: "body is not application/json",
    429: "queue full (Retry-After)",
    503: "request timed out or server shutting down (Retry-After)",
  };
  return Object.fromEntries(codes.map((c) => [String(c), json(ERROR, text[c] ?? "error")]));
};

/** The OpenAPI 3.1 document of the server's routes. */
export function openApiDocument(maxInputs: number, maxInputChars: number, maxNewTokens = 256): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "propetl serve", version: "1", description: "Many ProPETL task checkpoints served from one backbone." },
    paths: {
      "/v1/classify": {
        post: {
          summary: "Classify (or score) texts with a task",
          requestBody: { required: true, content: { "application/json": { schema: classifyBodySchema(maxInputs, maxInputChars) } } },
          responses: {
            "200": json({ type: "object", required: ["task", "results"], properties: { task: { type: "string" }, results: { type: "array", items: PREDICTION } } }, "one result per input, in order"),
            ...errors(400, 404, 413, 415, 429, 503),
          },
        },
      },
      "/v1/completions": {
        post: {
          summary: "Generate text with a text-to-text (T5) task, OpenAI-style (model = task name)",
          requestBody: { required: true, content: { "application/json": { schema: completionsBodySchema(maxInputs, maxInputChars, maxNewTokens) } } },
          responses: {
            "200": json(
              {
                type: "object",
                properties: {
                  id: { type: "string" },
                  object: { const: "text_completion" },
                  created: { type: "integer" },
                  model: { type: "string" },
                  choices: { type: "array", items: { type: "object", properties: { index: { type: "integer" }, text: { type: "string" }, finish_reason: { enum: ["stop", "length"] }, logprobs: { type: "null" } } } },
                  usage: { type: "object", properties: { prompt_tokens: { type: "integer" }, completion_tokens: { type: "integer" }, total_tokens: { type: "integer" } } },
                },
              },
              "one choice per prompt",
            ),
            ...errors(400, 404, 413, 415, 429, 503),
          },
        },
      },
      "/v1/tasks": { get: { summary: "List the tasks", responses: { "200": json({ type: "object", properties: { tasks: { type: "array", items: TASK } } }, "every task in the tasks folder") } } },
      "/v1/tasks/reload": {
        post: {
          summary: "Rescan the tasks folder",
          responses: {
            "200": json(
              { type: "object", properties: { tasks: { type: "integer" }, added: { type: "array", items: { type: "string" } }, removed: { type: "array", items: { type: "string" } }, changed: { type: "array", items: { type: "string" } }, problems: { type: "array", items: { type: "object", properties: { dir: { type: "string" }, error: { type: "string" } } } } } },
              "what changed",
            ),
          },
        },
      },
      "/health": { get: { summary: "Liveness", responses: { "200": json({ type: "object", properties: { status: { const: "ok" }, tasks: { type: "integer" } } }, "the server is up") } } },
      "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } } } },
      "/openapi.json": { get: { summary: "This document", responses: { "200": json({ type: "object" }, "OpenAPI 3.1") } } },
    },
  };
}
