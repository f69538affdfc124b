/**
 * The CI-sized load test (bench/serve-load.ts on the tiny model): 64 connections, 1,280 requests
 * over the tiny tasks (single-task, regression, multi-task), one in ten deliberately bad in four
 * kinds. Every valid request is answered 200, every bad one with its expected 4xx, the server
 * exits 0 on SIGTERM afterwards, and its resident memory outside V8's elastic JS heap stays flat
 * across the measured run (1,280 requests after 640 of the same traffic as a warm-up; forward
 * passes of at most 8 rows).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { initEngine } from "../../src/engine/engine.js";
import { runLoad } from "../../bench/serve-load.js";
import { tempDir } from "../train/helpers.js";
import { tinyServeSetup } from "./helpers.js";

let work: string;
let modelDir: string;
let tasksDir: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-serve-load-");
  ({ modelDir, tasksDir } = await tinyServeSetup(work));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("serve under load (CI size)", () => {
  test("64 connections, mixed tasks, 10% bad requests: no valid failure, every bad one its 4xx", async () => {
    const r = await runLoad({ modelDir, tasksDir, mode: "mixed", connections: 64, amount: 1280, warmupAmount: 640, tasksUsed: 5, badShare: 0.1, maxSeconds: 300, threads: 1, serveArgs: ["--max-queue", "1024", "--batch-size", "8"] });
    assert.equal(r.validFailures, 0, JSON.stringify(r));
    assert.equal(r.badUnexpected, 0, JSON.stringify(r.badByExpected));
    assert.ok(r.requests.valid >= 1000, JSON.stringify(r.requests));
    assert.equal(Object.keys(r.badByExpected).length, 4, JSON.stringify(r.badByExpected));
    assert.equal(r.exitCode, 0);
    assert.ok(r.batches.meanRequests > 1, `requests per batch ${r.batches.meanRequests}`);
    console.log(`# RSS (MB): ${JSON.stringify(r.rssMb)}; server memory (MB): ${JSON.stringify(r.serverMemoryMb)}; p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${r.throughputRps.toFixed(1)} req/s`);
    assert.ok(r.rssMb.max < 1024, `RSS reached ${r.rssMb.max} MB`);
    // Memory flat across the measured run, which starts after 640 requests of the same traffic.
    // The server's forward passes take at most 8 rows (--batch-size 8), so the warm-up meets every
    // pass shape (rows x padded length): the wasm heap's high-water mark and the compiled kernels
    // are in place by then. What remains elastic is V8's JS heap, whose total size follows the
    // allocation rate and the collector's timing (+23 and +27 MB in two runs of this test under a
    // CPU hog, 2026-12-02, with the rest flat): so the check is on RSS outside the JS heap (RSS
    // minus the server's own heap total from /metrics), from the start of the measured run to its
    // end. A leak of 16 KB per request would add 20 MB.
    const native = (rss: number, m: { heapTotal: number }): number => rss - m.heapTotal;
    const grew = native(r.rssMb.end, r.serverMemoryMb.atEnd) - native(r.rssMb.afterTraffic, r.serverMemoryMb.atStart);
    console.log(`# RSS outside the JS heap: ${native(r.rssMb.afterTraffic, r.serverMemoryMb.atStart).toFixed(1)} -> ${native(r.rssMb.end, r.serverMemoryMb.atEnd).toFixed(1)} MB`);
    assert.ok(Number.isFinite(grew) && grew <= 20, `RSS outside the JS heap grew by ${grew.toFixed(1)} MB during the measured run (${JSON.stringify(r.rssMb)}, ${JSON.stringify(r.serverMemoryMb)})`);
  });
});
