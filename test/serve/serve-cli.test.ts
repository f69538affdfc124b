/**
 * `propetl serve` end to end on the tiny model: started on port 0, it prints its URL; its
 * answers equal `propetl predict`'s JSON lines for the same inputs (single-task and a task of a
 * multi-task checkpoint); malformed JSON gets a 400 and the server goes on; SIGTERM during a
 * request answers it, then exits 0; usage errors exit 2 naming the flag.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { CLI_MAIN, runCli } from "../helpers/cli.js";
import { tempDir } from "../train/helpers.js";
import { TEXTS, tinyServeSetup } from "./helpers.js";

let work: string;
let modelDir: string;
let tasksDir: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-serve-cli-");
  ({ modelDir, tasksDir } = await tinyServeSetup(work));
});
after(() => rmSync(work, { recursive: true, force: true }));

interface Server {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
  stderr: () => string;
}

function startServe(args: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, "serve", ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const exit = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, url: (JSON.parse(out.slice(0, nl)) as { listening: string }).listening, exit, stderr: () => err });
    });
    void exit.then((code) => reject(new Error(`serve exited ${code} before listening: ${err}`)));
  });
}

const postJson = (url: string, body: string): Promise<Response> => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });

describe("propetl serve", () => {
  let server: Server;
  before(async () => {
    // A 100 ms batch window: a request waits in the queue long enough for the SIGTERM test to see it there.
    server = await startServe(["--model", modelDir, "--tasks", tasksDir, "--port", "0", "--batch-window-ms", "100"]);
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
  });

  test("binds 127.0.0.1 by default", () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("answers as propetl predict does (single-task, regression, a task of a multi-task file)", async () => {
    const input = path.join(work, "in.jsonl");
    writeFileSync(input, TEXTS.map((t, i) => JSON.stringify(i % 3 === 2 ? { text: t, text_pair: TEXTS[0] } : { text: t })).join("\n") + "\n");
    const inputs = TEXTS.map((t, i) => (i % 3 === 2 ? [t, TEXTS[0]] : t));
    for (const [task, dir, name] of [["sentiment", "sentiment", undefined], ["similarity", "similarity", undefined], ["mt/beta", "mt", "beta"]] as const) {
      const p = await runCli(["predict", "--model", modelDir, "--checkpoint", path.join(tasksDir, dir), "--input", input, ...(name ? ["--task", name] : [])]);
      assert.equal(p.code, 0, p.stderr);
      const want = p.stdout.trim().split("\n").map((l) => JSON.parse(l) as { label?: string; label_id?: number; probs?: number[]; score?: number });
      const res = await postJson(`${server.url}/v1/classify`, JSON.stringify({ task, inputs }));
      assert.equal(res.status, 200);
      const got = ((await res.json()) as { results: { label?: string; label_id?: number; probabilities?: Record<string, number>; value?: number }[] }).results;
      got.forEach((g, i) => {
        if (want[i].score !== undefined) assert.equal(g.value, want[i].score, `${task} ${i}`);
        else assert.deepEqual([g.label, g.label_id, Object.values(g.probabilities ?? {})], [want[i].label, want[i].label_id, want[i].probs], `${task} ${i}`);
      });
    }
  });

  test("malformed JSON is a 400 and the server goes on", async () => {
    const bad = await postJson(`${server.url}/v1/classify`, '{"task": "sentiment", "inputs": [');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "invalid_json");
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: "ok", tasks: 5 });
  });

  test("SIGTERM during a request answers it, then exits 0", async () => {
    const pending = postJson(`${server.url}/v1/classify`, JSON.stringify({ task: "topic", inputs: TEXTS }));
    // SIGTERM once the request is in the server's queue (a fixed delay raced the request on a
    // loaded machine: a request that arrives after SIGTERM rightly gets 503).
    const deadline = Date.now() + 5000;
    for (;;) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const depth = Number(/^propetl_queue_depth (\d+)/m.exec(metrics)?.[1] ?? 0);
      if (depth > 0) break;
      assert.ok(Date.now() < deadline, "the request never reached the queue");
      await new Promise((r) => setTimeout(r, 1));
    }
    server.child.kill("SIGTERM");
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { results: unknown[] }).results.length, TEXTS.length);
    assert.equal(await server.exit, 0, server.stderr());
    assert.match(server.stderr(), /SIGTERM: answering the requests in flight/);
  });
});

describe("propetl serve: usage errors", () => {
  test("missing --tasks, a missing folder, a bad port; serve --help", async () => {
    let r = await runCli(["serve", "--model", modelDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tasks/);
    r = await runCli(["serve", "--model", modelDir, "--tasks", path.join(work, "nope")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--tasks .*nope: folder not found/);
    r = await runCli(["serve", "--model", modelDir, "--tasks", tasksDir, "--port", "70000"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be an integer in \[0, 65535\]/);
    r = await runCli(["serve", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: propetl serve --model DIR --tasks DIR/);
    assert.match((await runCli(["--help"])).stdout, /^ {2}serve +serve every task checkpoint/m);
  });
});
