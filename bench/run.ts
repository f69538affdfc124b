/**
 * Benchmark driver: runs the jax-js side (bench/layer-bench.ts) and the PyTorch side
 * (bench/torch_bench.py, Debian python3-torch + OpenBLAS) with the same thread count in one
 * run, and prints each case's medians and the ratio jax-js / PyTorch, in wall time and in the
 * processes' CPU time (less inflated by other load on a shared machine).
 *
 *   npm run bench            # threads = all cores; BENCH_REPS=5 by default
 *   PROPETL_THREADS=2 BENCH_REPS=7 npm run bench
 *   BENCH_CASES=train_step_4L_h256,train_step_bert_base_8x128 node dist/bench/run.js
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BERT_STEP_BENCH, LAYER_BENCH, STEP_BENCH, benchCases } from "./shapes.js";

interface Row { engine: string; case: string; median_ms: number; min_ms: number; cpu_ms?: number }

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const threads = process.env.PROPETL_THREADS ?? String(os.availableParallelism());
const reps = process.env.BENCH_REPS ?? "5";
const python = process.env.PYTHON ?? "/usr/bin/python3";

function parse(out: string): Row[] {
  return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Row);
}

benchCases(); // refuse an unknown $BENCH_CASES before running anything
const env = { ...process.env, PROPETL_THREADS: threads, BENCH_THREADS: threads, BENCH_REPS: reps };
const jsRows = parse(execFileSync(process.execPath, [path.join(here, "layer-bench.js")], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
let torchRows: Row[] = [];
try {
  torchRows = parse(execFileSync(python, [path.join(root, "bench", "torch_bench.py")], {
    env: { ...env, BENCH_SHAPES: JSON.stringify({ layer: LAYER_BENCH, step: STEP_BENCH, bert: BERT_STEP_BENCH }) },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }));
} catch (e) {
  console.error(`PyTorch side failed (${(e as Error).message.split("\n")[0]}); install python3-torch and libopenblas0-pthread`);
}
console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores; threads ${threads}; reps ${reps}; node ${process.version}`);
console.log(`${"case".padEnd(34)} ${"jax-js ms".padStart(10)} ${"torch ms".padStart(10)} ${"ratio".padStart(7)} ${"jax cpu ms".padStart(11)} ${"torch cpu".padStart(10)} ${"cpu ratio".padStart(9)}`);
for (const r of jsRows) {
  const t = torchRows.find((x) => x.case === r.case);
  const ratio = t ? (r.median_ms / t.median_ms).toFixed(2) + "x" : "n/a";
  const cpuRatio = t?.cpu_ms && r.cpu_ms ? (r.cpu_ms / t.cpu_ms).toFixed(2) + "x" : "n/a";
  console.log(`${r.case.padEnd(34)} ${r.median_ms.toFixed(1).padStart(10)} ${(t ? t.median_ms.toFixed(1) : "-").padStart(10)} ${ratio.padStart(7)} ${(r.cpu_ms?.toFixed(0) ?? "-").padStart(11)} ${(t?.cpu_ms?.toFixed(0) ?? "-").padStart(10)} ${cpuRatio.padStart(9)}`);
}
