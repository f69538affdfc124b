/**
 * The browser demo (examples/browser/) in headless Chromium: Debian's `chromium` driven by
 * puppeteer-core. The page loads propetl-mini once and three task files over HTTP (served
 * cross-origin isolated by examples/browser/serve.mjs), its logits for every task equal the Node
 * library's for the same inputs, switching tasks fetches nothing again, and a fine-tuning run in
 * a Web Worker reports every step, lowers the loss and loses nothing against the same run in Node.
 *
 * Without a Chromium (PROPETL_CHROMIUM, else /usr/bin/chromium or chromium-browser) the test is
 * skipped, unless PROPETL_REQUIRE_BROWSER=1 (CI: .ci/run installs Debian's chromium and sets it).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "puppeteer-core";
import { initEngine } from "../../src/engine/engine.js";
import { loadPredictionBackbone } from "../../src/train/predictor.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { taskClassifier } from "../../src/train/task-predictor.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

const DEMO = path.join(REPO_ROOT, "examples", "browser");
const MODEL_DIR = path.join(REPO_ROOT, "models", "propetl-mini");
const TASK_DIRS: Record<string, string> = { spam: "spam", "sotu-party": "sotu-party", "spam (plain adapter)": "spam-adapter" };
const TEXTS = [
  "Congratulations! You have been selected to receive a FREE cruise. Reply now to claim your prize.",
  "Are we still on for lunch tomorrow? I can bring the slides for the review.",
  "We must cut taxes for working families and secure our borders.",
];
const STEPS = 8;

function findChromium(): string | null {
  const candidates = [process.env.PROPETL_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((c): c is string => !!c);
  return candidates.find((c) => existsSync(c)) ?? null;
}
const chromium = findChromium();
if (!chromium && process.env.PROPETL_REQUIRE_BROWSER === "1") {
  throw new Error("PROPETL_REQUIRE_BROWSER=1 but no Chromium found (set PROPETL_CHROMIUM or install Debian's chromium)");
}
const skip = chromium ? false : "no Chromium (install Debian's chromium or set PROPETL_CHROMIUM; CI requires it)";

interface DemoServer {
  url: string;
  close(): Promise<void>;
}
interface FineTuneResult {
  losses: number[];
  engine: { backend: string; threads: number };
  task: string;
  bytes: [number, number];
}
interface NodeFineTune {
  losses: number[];
  files: { adapterConfig: Uint8Array; weights: Uint8Array };
}

let server: DemoServer;
let browser: Browser;
let page: Page;
const modelFetches: string[] = [];
const pageErrors: string[] = [];

before(async () => {
  if (skip) return;
  await initEngine({ threads: 1 });
  const build = (await import(pathToFileURL(path.join(DEMO, "build.mjs")).href)) as { buildDemo(o: { quiet: boolean }): Promise<unknown> };
  await build.buildDemo({ quiet: true });
  const serve = (await import(pathToFileURL(path.join(DEMO, "serve.mjs")).href)) as { startDemoServer(o: { port: number }): Promise<DemoServer> };
  server = await serve.startDemoServer({ port: 0 });
  const puppeteer = (await import("puppeteer-core")).default;
  browser = await puppeteer.launch({ executablePath: chromium as string, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));
  page.on("request", (r) => {
    if (r.url().endsWith("/model.safetensors")) modelFetches.push(r.url());
  });
  await page.goto(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("the page loads the backbone once and three task files; the engine it ran on is reported", { skip, timeout: 120_000 }, async () => {
  const ready = (await page.evaluate("window.propetlDemo.ready")) as { engine: { backend: string; threads: number }; tasks: { name: string; method: string; bytes: [number, number] }[] };
  console.log(`# demo engine in headless Chromium: ${JSON.stringify(ready.engine)}`);
  assert.ok(["wasm", "webgpu"].includes(ready.engine.backend), JSON.stringify(ready.engine));
  if (ready.engine.backend === "wasm") assert.ok(ready.engine.threads >= 1);
  assert.deepEqual(ready.tasks.map((t) => t.name), Object.keys(TASK_DIRS));
  for (const t of ready.tasks) {
    const dir = path.join(DEMO, "tasks", TASK_DIRS[t.name]);
    assert.deepEqual(t.bytes, [statSync(path.join(dir, "adapter_config.json")).size, statSync(path.join(dir, "adapter_model.safetensors")).size], t.name);
  }
  // The sizes table beside the plain adapter's: ProPETL's file is the smaller one.
  const [spam, , plain] = ready.tasks;
  assert.equal(spam.method, "propetl-adapter");
  assert.equal(plain.method, "adapter");
  assert.ok(spam.bytes[1] < plain.bytes[1]);
  const rows = await page.$$eval("#sizes tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""));
  assert.equal(rows.length, 3);
  assert.deepEqual(pageErrors, []);
});

test("every task's logits in the page equal Node's for the same inputs; switching tasks fetches nothing", { skip, timeout: 120_000 }, async () => {
  await page.evaluate("window.propetlDemo.ready");
  const bb = await loadPredictionBackbone(MODEL_DIR);
  try {
    for (const [name, dir] of Object.entries(TASK_DIRS)) {
      const browserLogits = (await page.evaluate((n, t) => (window as unknown as { propetlDemo: { logits(n: string, t: string[]): Promise<number[]> } }).propetlDemo.logits(n, t), name, TEXTS)) as number[];
      const ckpt = await loadTaskCheckpoint(path.join(DEMO, "tasks", dir), { encoderConfig: bb.config });
      const c = taskClassifier(bb, ckpt);
      const nodeLogits = [...(await c.logits(TEXTS))];
      c.dispose();
      ckpt.dispose();
      assert.equal(browserLogits.length, nodeLogits.length, name);
      const maxDiff = Math.max(...browserLogits.map((x, i) => Math.abs(x - nodeLogits[i])));
      assert.ok(maxDiff <= 1e-6, `${name}: browser and Node logits differ by ${maxDiff}`);
    }
  } finally {
    bb.dispose();
  }
  // The predictions the page shows come from the same logits (argmax).
  const preds = (await page.evaluate((t) => (window as unknown as { propetlDemo: { classify(n: string, t: string[]): Promise<{ label: string }[]> } }).propetlDemo.classify("spam", t), TEXTS)) as { label: string }[];
  assert.equal(preds.length, TEXTS.length);
  assert.equal(modelFetches.length, 1, `model.safetensors fetched ${modelFetches.length} times by the page`);
});

test("fine-tuning in a Web Worker reports each step, lowers the loss, matches Node and adds the task", { skip, timeout: 300_000 }, async () => {
  await page.evaluate("window.propetlDemo.ready");
  const ft = (await page.evaluate((steps) => (window as unknown as { propetlDemo: { fineTune(o: { steps: number }): Promise<unknown> } }).propetlDemo.fineTune({ steps }), STEPS)) as FineTuneResult;
  console.log(`# worker engine: ${JSON.stringify(ft.engine)}; losses ${ft.losses.map((l) => l.toFixed(4)).join(" ")}`);
  assert.equal(ft.losses.length, STEPS);
  const progress = await page.$eval("#progress", (el) => [(el as HTMLProgressElement).value, (el as HTMLProgressElement).max]);
  assert.deepEqual(progress, [STEPS, STEPS]);
  const third = Math.floor(STEPS / 3);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(ft.losses.slice(-third)) < mean(ft.losses.slice(0, third)), `loss did not go down: ${ft.losses.join(", ")}`);

  // The same run in Node (fine-tune-steps.mjs with the Node entry, the files read from disk).
  const examples = (await import(pathToFileURL(path.join(DEMO, "dist", "finetune-examples.json")).href, { with: { type: "json" } })) as { default: { labels: string[]; examples: { text: string; label: number }[] } };
  const steps = (await import(pathToFileURL(path.join(DEMO, "fine-tune-steps.mjs")).href)) as { fineTuneSteps(o: Record<string, unknown>): Promise<NodeFineTune> };
  const node = await steps.fineTuneSteps({ modelUrl: "http://demo.invalid/models/propetl-mini/", fetch: fileFetch, steps: STEPS, labels: examples.default.labels, examples: examples.default.examples });
  const maxDiff = Math.max(...node.losses.map((l, i) => Math.abs(l - ft.losses[i])));
  console.log(`# Node losses ${node.losses.map((l) => l.toFixed(4)).join(" ")}; largest difference ${maxDiff.toExponential(2)}`);
  assert.ok(maxDiff < 1e-3, `browser and Node fine-tuning losses differ by ${maxDiff}`);
  assert.deepEqual(ft.bytes, [node.files.adapterConfig.length, node.files.weights.length]);

  // The trained task joined the page's list and classifies.
  const preds = (await page.evaluate((n, t) => (window as unknown as { propetlDemo: { classify(n: string, t: string[]): Promise<{ label: string }[]> } }).propetlDemo.classify(n, t), ft.task, TEXTS)) as { label: string }[];
  assert.ok(preds.every((p) => ["ham", "spam"].includes(p.label)));
  assert.deepEqual(pageErrors, []);
});

/** `fetch` over the repository's files, for the Node run of the worker's function (URLs under /models/). */
async function fileFetch(url: string | URL): Promise<{ ok: boolean; status: number; statusText: string; arrayBuffer(): Promise<ArrayBuffer> }> {
  const { readFile } = await import("node:fs/promises");
  const rel = new URL(String(url)).pathname;
  try {
    const b = await readFile(path.join(REPO_ROOT, rel));
    return { ok: true, status: 200, statusText: "OK", arrayBuffer: async () => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
  } catch {
    return { ok: false, status: 404, statusText: "Not Found", arrayBuffer: async () => new ArrayBuffer(0) };
  }
}
