/**
 * Throughput of concurrent text-to-text completions in the serve router: the same `--requests`
 * completion requests (one prompt each, greedy, `--max-new-tokens`), for one ProPETL-prefix task,
 * sent one at a time (each awaited before the next: one generate call per request) and then all at
 * once (the micro-batcher groups them into shared generate calls), in the same process on the same
 * router. Checks that both give the same texts, and reports requests per second and the batches
 * each phase ran. The task's modules are a fresh random init (the texts are noise; the cost is
 * what is measured). Each phase runs `--repeats` times after one warm-up round of each.
 *
 *   node dist/bench/serve-completions.js [--model DIR (default: a tiny random T5, as the tests')]
 *        [--requests 16] [--max-new-tokens 8] [--repeats 3] [--threads N]
 */
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { parseArgs } from "node:util";
import { initEngine } from "../src/engine/engine.js";
import { tree } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import { loadBackboneDir } from "../src/models/load.js";
import { isT5Config } from "../src/models/t5/config.js";
import { saveTaskCheckpoint } from "../src/petl/checkpoint.js";
import { createMethod } from "../src/petl/registry.js";
import { createTaskRouter } from "../src/serve/router.js";
import type { CompleteResponse } from "../src/serve/router.js";
import { writeTinyT5Dir } from "../test/helpers/t5-model.js";

const PROMPTS = [
  "the cat sat on the mat",
  "a house by the river",
  "who said it was over",
  "the end of the day and the night",
  "it was as it is",
  "that is the one with a hat",
  "he has been there before",
  "no",
];

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    requests: { type: "string", default: "16" },
    "max-new-tokens": { type: "string", default: "8" },
    repeats: { type: "string", default: "3" },
    threads: { type: "string" },
  },
});
const requests = Number(v.requests);
const maxTokens = Number(v["max-new-tokens"]);
const repeats = Number(v.repeats);
for (const [name, x] of [["--requests", requests], ["--max-new-tokens", maxTokens], ["--repeats", repeats]] as const) {
  if (!Number.isInteger(x) || x < 1) throw new Error(`${name}: expected an integer >= 1, got ${x}`);
}

await initEngine(v.threads !== undefined ? { threads: Number(v.threads) } : {});
const work = mkdtempSync(path.join(os.tmpdir(), "propetl-bench-completions-"));
try {
  const modelDir = v.model ?? path.join(work, "t5");
  if (v.model === undefined) await writeTinyT5Dir(modelDir);
  const model = await loadBackboneDir(modelDir);
  const cfg = model.config;
  if (!isT5Config(cfg)) throw new Error(`${modelDir}: not a T5 model (${cfg.modelType})`);
  const m = createMethod({ method: "propetl-prefix", prefixLength: 8, prefixHidden: 64 }, cfg);
  const p = m.init(cfg, model.encoder, 3);
  const tasksDir = path.join(work, "tasks");
  await saveTaskCheckpoint(path.join(tasksDir, "task"), { method: m, params: p, encoderConfig: cfg, taskPrefixes: ["summarize: "] });
  tree.dispose(p as JArray);
  tree.dispose(model.encoder);
  m.dispose();

  const router = await createTaskRouter({ modelDir, tasksDir, maxNewTokens: maxTokens });
  const reqs = Array.from({ length: requests }, (_, i) => ({ task: "task", prompts: [PROMPTS[i % PROMPTS.length]], maxTokens }));
  const oneAtATime = async (): Promise<CompleteResponse[]> => {
    const out: CompleteResponse[] = [];
    for (const r of reqs) out.push(await router.complete(r));
    return out;
  };
  const concurrent = (): Promise<CompleteResponse[]> => Promise.all(reqs.map((r) => router.complete(r)));
  const timed = async (f: () => Promise<CompleteResponse[]>): Promise<{ s: number; batches: number; out: CompleteResponse[] }> => {
    const b0 = router.stats().batches;
    const t0 = performance.now();
    const out = await f();
    return { s: (performance.now() - t0) / 1000, batches: router.stats().batches - b0, out };
  };
  const want = await oneAtATime(); // warm-up (loads the task, compiles the kernels)
  await concurrent();
  const rows: string[] = [];
  for (let k = 0; k < repeats; k++) {
    for (const [name, f] of [["one at a time", oneAtATime], ["concurrent", concurrent]] as const) {
      const r = await timed(f);
      if (JSON.stringify(r.out) !== JSON.stringify(want)) throw new Error(`${name}: the completions differ from the first one-at-a-time round`);
      rows.push(`| ${k + 1} | ${name} | ${r.batches} | ${r.s.toFixed(2)} | ${(requests / r.s).toFixed(1)} |`);
    }
  }
  console.log(`model ${v.model ?? "tiny random T5 (d_model 16)"}, ${requests} requests x 1 prompt, max_new_tokens ${maxTokens}, same texts both ways`);
  console.log("| round | requests sent | batches | seconds | requests/s |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  await router.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
