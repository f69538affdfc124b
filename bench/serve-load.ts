/**
 * Load test of `propetl serve` with autocannon, loopback only, bounded in requests and time.
 *
 * Starts the server (a child process on 127.0.0.1, port 0), draws `tasksUsed` tasks from its
 * /v1/tasks, warms each once (the first request of a task loads it: timed as the uncached
 * switch), then sends `amount` requests over `connections` connections: valid classify requests
 * (mixed: a random drawn task each; single: always the first) and a share of bad ones in
 * rotation (unknown task → 404, a number among the inputs → 400, malformed JSON → 400, an
 * unknown field → 400). Reports valid-request failures, bad requests answered otherwise than
 * expected, p50/p99 latency, throughput, resident memory sampled during the run, the server's
 * batch statistics from /metrics, and its exit code after SIGTERM.
 *
 *   node dist/bench/serve-load.js --tasks DIR [--model DIR] [--mode mixed|single] [--connections 64]
 *        [--amount 3000] [--tasks-used 32] [--bad-share 0.1] [--max-seconds 300] [--cache-mb N]
 *        [--batch-window-ms N] [--threads N] [--no-fuse] [--warmup-amount N]
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");

export interface LoadOptions {
  modelDir: string;
  tasksDir: string;
  mode: "mixed" | "single";
  connections: number;
  amount: number;
  tasksUsed: number;
  badShare: number;
  maxSeconds: number;
  threads: number;
  serveArgs?: string[];
  /**
   * Requests of the same traffic sent before the measured run and not counted (default 0): the
   * measured run then starts with the batch shapes already seen, so its memory shows leaks
   * rather than first-use growth (the wasm heap's high-water mark, compiled kernels).
   */
  warmupAmount?: number;
}

export interface LoadReport {
  mode: "mixed" | "single";
  tasksInFolder: number;
  tasksUsed: number;
  connections: number;
  startupMs: number;
  warmupMsPerTask: { mean: number; max: number };
  requests: { total: number; valid: number; bad: number };
  validFailures: number;
  badUnexpected: number;
  badByExpected: Record<string, number>;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  throughputRps: number;
  validInputsPerSecond: number;
  durationS: number;
  /**
   * Resident memory (MB) after start, after the per-task warm-up, after the warm-up traffic
   * (`warmupAmount`; = afterWarmup without it), at 25/50/75% of the measured run, at its end, the
   * most seen during it, and the means of the samples (every 250 ms) in its first and last thirds:
   * a trend that one sample's garbage-collection timing does not decide.
   */
  /** The server's own memory figures (MB) from /metrics at the start and the end of the measured run. */
  serverMemoryMb: { atStart: ReturnType<typeof processMemory>; atEnd: ReturnType<typeof processMemory> };
  rssMb: { afterStart: number; afterWarmup: number; afterTraffic: number; quarter: number; half: number; threeQuarters: number; end: number; max: number; firstThirdMean: number; lastThirdMean: number };
  autocannon: { sent: number; total: number; errors: number; timeouts: number; non2xx: number };
  batches: { count: number; meanRequests: number; meanTasks: number; meanInputs: number };
  cache: { hits: number; misses: number };
  /** Mean time to get a task's modules for a batch (server side): cached, and loaded from disk. */
  taskSwitchMs: { cachedMean: number | null; uncachedMean: number | null };
  exitCode: number | null;
}

const TEXTS = [
  "Win a free cruise now, reply to claim your prize",
  "Can we move tomorrow's meeting to three o'clock?",
  "Your account has been suspended, verify your password here",
  "Thanks for the notes from the review, I will send comments tonight",
  "Cheap meds online without prescription",
  "The build is green again after the fix to the parser",
  "Limited offer: double your income working from home",
  "Lunch on Friday? The new place near the station",
];

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function startServer(o: LoadOptions): Promise<{ child: ChildProcess; url: string; startupMs: number; exit: Promise<number | null> }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "serve", "--model", o.modelDir, "--tasks", o.tasksDir, "--host", "127.0.0.1", "--port", "0", ...(o.serveArgs ?? [])], {
      env: { ...process.env, PROPETL_THREADS: String(o.threads) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const exit = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, url: (JSON.parse(out.slice(0, nl)) as { listening: string }).listening, startupMs: performance.now() - t0, exit });
    });
    void exit.then((c) => reject(new Error(`serve exited ${c} before listening: ${err}`)));
  });
}

/** Sum and count of a Prometheus histogram in /metrics text. */
function histo(text: string, name: string): { sum: number; count: number } {
  const sum = new RegExp(`^${name}_sum(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  const count = new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
  return { sum: sum ? Number(sum[1]) : 0, count: count ? Number(count[1]) : 0 };
}

/** Sum and count of one labelled series of a Prometheus histogram. */
function histoLabelled(text: string, name: string, labels: string): { sum: number; count: number } {
  const sum = new RegExp(`^${name}_sum\\{${labels}\\} (\\S+)$`, "m").exec(text);
  const count = new RegExp(`^${name}_count\\{${labels}\\} (\\S+)$`, "m").exec(text);
  return { sum: sum ? Number(sum[1]) : 0, count: count ? Number(count[1]) : 0 };
}

/** The server's JS heap (used, total) and external memory (MB; the wasm heap's memory counts as external) from its /metrics. */
function processMemory(text: string): { heapUsed: number; heapTotal: number; external: number } {
  const g = (name: string): number => {
    const m = new RegExp(`^propetl_${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) / 2 ** 20 : NaN;
  };
  return { heapUsed: g("nodejs_heap_size_used_bytes"), heapTotal: g("nodejs_heap_size_total_bytes"), external: g("nodejs_external_memory_bytes") };
}

function counter(text: string, name: string, labels: string): number {
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const server = await startServer(o);
  const pid = server.child.pid ?? 0;
  const killer = setTimeout(() => server.child.kill("SIGKILL"), o.maxSeconds * 1000);
  try {
    const afterStart = rssMb(pid);
    const all = ((await (await fetch(`${server.url}/v1/tasks`)).json()) as { tasks: { name: string; kind: string }[] }).tasks.filter((t) => t.kind !== "text-to-text").map((t) => t.name);
    if (all.length === 0) throw new Error(`no classification tasks in ${o.tasksDir}`);
    const k = Math.min(o.tasksUsed, all.length);
    const used = Array.from({ length: k }, (_, i) => all[Math.floor((i * all.length) / k)]);
    const warm: number[] = [];
    for (const task of used) {
      const t0 = performance.now();
      const r = await fetch(`${server.url}/v1/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ task, inputs: [TEXTS[0]] }) });
      if (r.status !== 200) throw new Error(`warm-up of ${task}: HTTP ${r.status} ${await r.text()}`);
      warm.push(performance.now() - t0);
    }
    const afterWarmup = rssMb(pid);

    // One request template; each send picks its kind from a global counter (every
    // round(1 / badShare)-th request is bad, the bad kinds in rotation). Connections are not
    // pipelined, so a connection's context tells its response what was sent.
    const badKinds: { expect: number; body: string; name: string }[] = [
      { name: "unknown task (404)", expect: 404, body: JSON.stringify({ task: "no-such-task", inputs: ["hello"] }) },
      { name: "schema: number among inputs (400)", expect: 400, body: JSON.stringify({ task: used[0], inputs: ["hello", 5] }) },
      { name: "malformed JSON (400)", expect: 400, body: '{"task": "x", "inputs": [' },
      { name: "unknown field (400)", expect: 400, body: JSON.stringify({ task: used[0], inputs: ["hello"], model: "x" }) },
    ];
    const badEvery = o.badShare > 0 ? Math.max(1, Math.round(1 / o.badShare)) : 0;
    let measuring = false;
    let sent = 0;
    let validFailures = 0;
    let badUnexpected = 0;
    let validCount = 0;
    let badCount = 0;
    let validInputs = 0;
    const badByExpected: Record<string, number> = {};
    type Ctx = { bad?: (typeof badKinds)[number] | null };
    const requests: autocannon.Request[] = [
      {
        method: "POST",
        path: "/v1/classify",
        headers: { "content-type": "application/json" },
        setupRequest: (req: autocannon.Request, context: object) => {
          const ctx = context as Ctx;
          const i = sent++;
          if (badEvery > 0 && i % badEvery === badEvery - 1) {
            const b = badKinds[Math.floor(i / badEvery) % badKinds.length];
            ctx.bad = b;
            return { ...req, body: b.body };
          }
          ctx.bad = null;
          const task = o.mode === "single" ? used[0] : used[Math.floor(Math.random() * used.length)];
          const n = 1 + Math.floor(Math.random() * 2);
          const inputs = Array.from({ length: n }, () => TEXTS[Math.floor(Math.random() * TEXTS.length)]);
          return { ...req, body: JSON.stringify({ task, inputs }) };
        },
        onResponse: (status: number, body: string, context: object) => {
          if (!measuring) return;
          const b = (context as Ctx).bad;
          if (b) {
            badCount++;
            badByExpected[b.name] = (badByExpected[b.name] ?? 0) + 1;
            if (status !== b.expect) badUnexpected++;
          } else {
            validCount++;
            if (status !== 200) validFailures++;
            else validInputs += (JSON.parse(body) as { results: unknown[] }).results.length;
          }
        },
      },
    ];
    if (o.warmupAmount) {
      const w = await autocannon({ url: server.url, connections: o.connections, amount: o.warmupAmount, requests, timeout: 60 });
      if (w.errors) throw new Error(`warm-up traffic: ${w.errors} connection errors`);
    }
    measuring = true;
    sent = 0;
    const afterTraffic = rssMb(pid);
    const memAtStart = processMemory(await (await fetch(`${server.url}/metrics`)).text());
    let maxRss = afterTraffic;
    const samples: { t: number; mb: number }[] = [];
    const tRun = performance.now();
    const sampler = setInterval(() => {
      const mb = rssMb(pid);
      samples.push({ t: performance.now() - tRun, mb });
      maxRss = Math.max(maxRss, mb);
    }, 250);
    const result = await autocannon({ url: server.url, connections: o.connections, amount: o.amount, requests, timeout: 60 });
    clearInterval(sampler);
    const end = rssMb(pid);
    const runMs = performance.now() - tRun;
    const at = (f: number): number => samples.find((x) => x.t >= f * runMs)?.mb ?? end;
    const meanOf = (from: number, to: number): number => {
      const xs = samples.filter((x) => x.t >= from * runMs && x.t < to * runMs).map((x) => x.mb);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : end;
    };
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const memAtEnd = processMemory(metrics);
    const br = histo(metrics, "propetl_batch_requests");
    const bt = histo(metrics, "propetl_batch_tasks");
    const bi = histo(metrics, "propetl_batch_inputs");
    const swHit = histoLabelled(metrics, "propetl_task_switch_seconds", 'result="hit"');
    const swMiss = histoLabelled(metrics, "propetl_task_switch_seconds", 'result="miss"');
    server.child.kill("SIGTERM");
    const exitCode = await server.exit;
    return {
      mode: o.mode,
      tasksInFolder: all.length,
      tasksUsed: k,
      connections: o.connections,
      startupMs: server.startupMs,
      warmupMsPerTask: { mean: warm.reduce((a, b) => a + b, 0) / warm.length, max: Math.max(...warm) },
      requests: { total: validCount + badCount, valid: validCount, bad: badCount },
      validFailures: validFailures + (result.errors ?? 0),
      badUnexpected,
      badByExpected,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      throughputRps: (validCount + badCount) / result.duration,
      validInputsPerSecond: validInputs / result.duration,
      durationS: result.duration,
      rssMb: { afterStart, afterWarmup, afterTraffic, quarter: at(0.25), half: at(0.5), threeQuarters: at(0.75), end, max: maxRss, firstThirdMean: meanOf(0, 1 / 3), lastThirdMean: meanOf(2 / 3, 1.01) },
      serverMemoryMb: { atStart: memAtStart, atEnd: memAtEnd },
      autocannon: { sent: result.requests.sent, total: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx },
      batches: { count: br.count, meanRequests: br.count ? br.sum / br.count : 0, meanTasks: bt.count ? bt.sum / bt.count : 0, meanInputs: bi.count ? bi.sum / bi.count : 0 },
      cache: { hits: counter(metrics, "propetl_task_cache_lookups_total", 'result="hit"'), misses: counter(metrics, "propetl_task_cache_lookups_total", 'result="miss"') },
      taskSwitchMs: { cachedMean: swHit.count ? (1000 * swHit.sum) / swHit.count : null, uncachedMean: swMiss.count ? (1000 * swMiss.sum) / swMiss.count : null },
      exitCode,
    };
  } finally {
    clearTimeout(killer);
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
  }
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      model: { type: "string" },
      tasks: { type: "string" },
      mode: { type: "string" },
      connections: { type: "string" },
      amount: { type: "string" },
      "tasks-used": { type: "string" },
      "bad-share": { type: "string" },
      "max-seconds": { type: "string" },
      "cache-mb": { type: "string" },
      "batch-window-ms": { type: "string" },
      threads: { type: "string" },
      "no-fuse": { type: "boolean" },
      "warmup-amount": { type: "string" },
    },
  });
  if (v.tasks === undefined) {
    process.stderr.write("serve-load: --tasks DIR is required (bench/gen-tasks.ts makes one)\n");
    process.exit(2);
  }
  const mode = v.mode ?? "mixed";
  if (mode !== "mixed" && mode !== "single") throw new Error(`--mode must be mixed or single, got ${mode}`);
  const report = await runLoad({
    modelDir: v.model ?? path.join(ROOT, "models", "propetl-mini"),
    tasksDir: v.tasks,
    mode,
    connections: Number(v.connections ?? 64),
    amount: Number(v.amount ?? 3000),
    tasksUsed: Number(v["tasks-used"] ?? 32),
    badShare: Number(v["bad-share"] ?? 0.1),
    maxSeconds: Number(v["max-seconds"] ?? 300),
    threads: Number(v.threads ?? 2),
    warmupAmount: Number(v["warmup-amount"] ?? 0),
    serveArgs: [...(v["cache-mb"] ? ["--cache-mb", v["cache-mb"]] : []), ...(v["batch-window-ms"] ? ["--batch-window-ms", v["batch-window-ms"]] : []), ...(v["no-fuse"] ? ["--no-fuse"] : []), "--max-queue", "4096"],
  });
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  const ok = report.validFailures === 0 && report.badUnexpected === 0 && report.exitCode === 0;
  process.stderr.write(`serve-load: ${ok ? "PASS" : "FAIL"}: ${report.requests.valid} valid (${report.validFailures} failed), ${report.requests.bad} bad (${report.badUnexpected} unexpected), p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, ${report.throughputRps.toFixed(1)} req/s, RSS ${report.rssMb.afterWarmup.toFixed(0)} → ${report.rssMb.afterTraffic.toFixed(0)} (after the warm-up traffic) → ${report.rssMb.half.toFixed(0)} (half) → ${report.rssMb.end.toFixed(0)} MB (max ${report.rssMb.max.toFixed(0)})\n`);
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
