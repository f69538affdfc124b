/**
 * Text-to-text tasks (a tiny random T5 with a ProPETL-prefix checkpoint whose task prefix is
 * "summarize: "): the router's completions are the texts `propetl generate --checkpoint` prints
 * for the same prompts and token limit; POST /v1/completions answers OpenAI's shape; its errors
 * name OpenAI's fields (model, prompt, max_tokens, temperature); classify on a text-to-text
 * task is a 400; the router frees what it allocated. Concurrent completion requests share
 * micro-batches (one generate call per task and settings) and get exactly the texts they get one
 * at a time; /metrics counts those batches.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { createMethod } from "../../src/petl/registry.js";
import { buildServer } from "../../src/serve/http.js";
import { createServeMetrics } from "../../src/serve/metrics.js";
import { createTaskRouter, RouterInputError } from "../../src/serve/router.js";
import type { TaskRouter } from "../../src/serve/router.js";
import { runCli } from "../helpers/cli.js";
import { writeTinyT5Dir } from "../helpers/t5-model.js";
import { tempDir } from "../train/helpers.js";

let work: string;
let modelDir: string;
let tasksDir: string;
let live: () => number;
const PROMPTS = ["the cat sat on the mat", "a house by the river"];

before(async () => {
  await initEngine({ threads: 1 });
  live = await trackLiveBuffers();
  work = tempDir("propetl-serve-t5-");
  modelDir = path.join(work, "t5");
  tasksDir = path.join(work, "tasks");
  const cfg = await writeTinyT5Dir(modelDir);
  const model = await loadBackboneDir(modelDir);
  const m = createMethod({ method: "propetl-prefix", prefixLength: 3, prefixHidden: 16 }, cfg);
  const p = m.init(cfg, model.encoder, 3);
  await saveTaskCheckpoint(path.join(tasksDir, "summ"), { method: m, params: p, encoderConfig: cfg, taskPrefixes: ["summarize: "] });
  tree.dispose(p as JArray);
  tree.dispose(model.encoder);
  m.dispose();
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("completions", () => {
  let router: TaskRouter;
  let app: FastifyInstance;
  let baseline: number;
  before(async () => {
    baseline = live();
    router = await createTaskRouter({ modelDir, tasksDir, maxNewTokens: 16 });
    app = await buildServer(router, { maxNewTokens: 16 });
  });

  test("a T5 backbone lists the task as text-to-text", () => {
    assert.equal(router.backboneKind, "text-to-text");
    const t = router.listTasks();
    assert.deepEqual(t.map((x) => [x.name, x.kind]), [["summ", "text-to-text"]]);
  });

  test("completions are what propetl generate --checkpoint prints", async () => {
    const got = await router.complete({ task: "summ", prompts: PROMPTS, maxTokens: 6 });
    for (const [i, prompt] of PROMPTS.entries()) {
      const r = await runCli(["generate", "--model", modelDir, "--checkpoint", path.join(tasksDir, "summ"), "--text", prompt, "--max-new-tokens", "6", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const want = JSON.parse(r.stdout.trim()) as { text: string; ids: number[] };
      assert.equal(got.completions[i].text, want.text, prompt);
      assert.equal(got.completions[i].completionTokens, want.ids.length);
      assert.equal(got.completions[i].finishReason, want.ids.length === 6 && want.ids[5] !== 1 ? "length" : "stop");
    }
  });

  test("POST /v1/completions answers OpenAI's shape", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/completions", payload: { model: "summ", prompt: PROMPTS, max_tokens: 6, temperature: 0 } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { object: string; model: string; choices: { index: number; text: string; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    assert.equal(body.object, "text_completion");
    assert.equal(body.model, "summ");
    const direct = await router.complete({ task: "summ", prompts: PROMPTS, maxTokens: 6 });
    assert.deepEqual(body.choices.map((c) => [c.index, c.text, c.finish_reason]), direct.completions.map((c, i) => [i, c.text, c.finishReason]));
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
    const one = await app.inject({ method: "POST", url: "/v1/completions", payload: { model: "summ", prompt: PROMPTS[0], max_tokens: 6 } });
    assert.equal((one.json() as { choices: { text: string }[] }).choices[0].text, direct.completions[0].text);
  });

  test("errors name OpenAI's fields; classify on a text-to-text task is a 400", async () => {
    const cases: [unknown, number, string][] = [
      [{ model: "nope", prompt: "a" }, 404, "model"],
      [{ prompt: "a" }, 400, "model"],
      [{ model: "summ", prompt: 3 }, 400, "prompt"],
      [{ model: "summ", prompt: [] }, 400, "prompt"],
      [{ model: "summ", prompt: "a", max_tokens: 17 }, 400, "max_tokens"],
      [{ model: "summ", prompt: "a", temperature: 0.7 }, 400, "temperature"],
      [{ model: "summ", prompt: "a", stream: true }, 400, "stream"],
      [{ model: "summ", prompt: "   " }, 400, "prompt[0]"],
    ];
    for (const [payload, status, field] of cases) {
      const res = await app.inject({ method: "POST", url: "/v1/completions", payload: payload as string });
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal((res.json() as { error: { field: string } }).error.field, field, res.body);
    }
    const c = await app.inject({ method: "POST", url: "/v1/classify", payload: { task: "summ", inputs: ["a"] } });
    assert.equal(c.statusCode, 400);
    assert.match(c.body, /text-to-text task/);
    await assert.rejects(router.complete({ task: "summ", prompts: ["a"], maxTokens: 0 }), (e: unknown) => e instanceof RouterInputError && e.field === "maxTokens");
  });

  test("a reload keeps an unchanged text-to-text task loaded", async () => {
    await router.complete({ task: "summ", prompts: ["a"], maxTokens: 2 });
    const before = router.stats().cache;
    assert.equal(before.entries, 1);
    const r = await router.reload();
    assert.deepEqual([r.added, r.removed, r.changed], [[], [], []]);
    assert.equal(router.stats().cache.entries, 1);
    await router.complete({ task: "summ", prompts: ["a"], maxTokens: 2 });
    assert.equal(router.stats().cache.misses, before.misses);
  });

  test("close frees every buffer the router allocated", async () => {
    await app.close();
    await router.close();
    assert.equal(live(), baseline);
  });
});

describe("concurrent completions share micro-batches", () => {
  let router: TaskRouter;
  let app: FastifyInstance;
  let baseline: number;
  const metrics = createServeMetrics();
  // Prompts of different lengths (the batch pads them), one request of two prompts, and two requests with another token limit.
  const REQS: { prompts: string[]; maxTokens: number }[] = [
    { prompts: ["the cat sat on the mat"], maxTokens: 6 },
    { prompts: ["a"], maxTokens: 6 },
    { prompts: ["a house by the river and a boat on the water under the bridge"], maxTokens: 6 },
    { prompts: ["who said it", "no"], maxTokens: 6 },
    { prompts: ["the end of the day"], maxTokens: 3 },
    { prompts: ["it was as it is"], maxTokens: 6 },
    { prompts: ["that is the one with a hat"], maxTokens: 3 },
    { prompts: ["he has been there"], maxTokens: 6 },
  ];
  const batchCounts = async (): Promise<{ sum: number; count: number }> => {
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const num = (name: string): number => {
      const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
      assert.ok(m, `${name} in /metrics`);
      return Number(m[1]);
    };
    return { sum: num("propetl_batch_requests_sum"), count: num("propetl_batch_requests_count") };
  };
  before(async () => {
    baseline = live();
    router = await createTaskRouter({ modelDir, tasksDir, maxNewTokens: 16, batchWindowMs: 20, observer: metrics.observer });
    app = await buildServer(router, { maxNewTokens: 16, metrics });
  });

  test("N concurrent requests get exactly the texts of the same requests one at a time, in batches of more than one request", async () => {
    const alone = [];
    for (const r of REQS) alone.push(await router.complete({ task: "summ", ...r }));
    const seq = await batchCounts();
    assert.deepEqual(seq, { sum: REQS.length, count: REQS.length }, "one request per batch when sent one at a time");
    const together = await Promise.all(REQS.map((r) => router.complete({ task: "summ", ...r })));
    assert.deepEqual(together, alone);
    const all = await batchCounts();
    const batches = all.count - seq.count;
    assert.equal(all.sum - seq.sum, REQS.length);
    assert.ok(batches < REQS.length, `${REQS.length} concurrent requests ran in ${batches} batches`);
    assert.ok(together.flatMap((r) => r.completions).some((c) => c.text !== together[0].completions[0].text), "the prompts get different texts");
  });

  test("close frees every buffer the router allocated", async () => {
    await app.close();
    await router.close();
    assert.equal(live(), baseline);
  });
});
