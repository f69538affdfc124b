/**
 * GEMM micro-benchmark (issue 15, "Speed on CPU"): GFLOP/s of jax-js's wasm matmul kernels on
 * 1 and 2 threads against PyTorch (bench/torch_gemm.py, same shapes, same thread counts, in the
 * same run) for the products that dominate a BERT-base step at batch 8 × 128 and the 4-layer
 * h256 step, and as a share of one core's wasm-SIMD peak (bench/wasm-peak.ts: 16 flop/cycle).
 * Besides wall-clock GFLOP/s it reports GFLOP per CPU-second of the process (all threads):
 * on a machine shared with other work, time the scheduler gives to other processes does not
 * count there, so that figure is the one to compare against the per-core peak.
 *
 *   node dist/bench/gemm.js                      # driver: jax-js and PyTorch, 1 and 2 threads
 *   GEMM_THREADS=2 GEMM_REPS=7 node dist/bench/gemm.js
 *   GEMM_VARIANTS=legacy,default node dist/bench/gemm.js   # engine GEMM kernels side by side
 *
 * A variant is the value of $PROPETL_WASM_GEMM for the jax-js process: "legacy" selects
 * jax-js 0.1.25's matmul kernel, "p10" patch 10's register-blocked kernel alone, "default" (unset)
 * the current one (DESIGN.md, patches 10, 11 and 13).
 * Each case runs the product as the model writes it: `linear` is x @ w.T with w [out, in], the
 * weight gradient dy.T @ x, attention q @ k.T and p @ v per head; operand copies the engine
 * makes (patch 2) are part of the time.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuSeconds } from "./wasm-peak.js";

/** One product: operand shapes and how the model forms it. */
export interface GemmCase {
  /** Label printed in the table. */
  name: string;
  /** "linear": a[M,K] @ b[N,K].T; "wgrad": a[B,M].T @ b[B,N]; "bmm": a[b,M,K] @ b[b,N,K] transposed; "bmm_nn": a[b,M,K] @ b[b,K,N]. */
  kind: "linear" | "wgrad" | "bmm" | "bmm_nn";
  a: number[];
  b: number[];
  /** Multiply-adds × 2. */
  flops: number;
}

const lin = (name: string, M: number, K: number, N: number): GemmCase => ({ name, kind: "linear", a: [M, K], b: [N, K], flops: 2 * M * K * N });

/** The shapes: BERT-base at 8 × 128 tokens (4096 rows), its attention (96 heads × 128²), the h256 step's FFN. */
export const GEMM_CASES: GemmCase[] = [
  lin("x·Wqkvo [4096,768]x[768,768]", 4096, 768, 768),
  lin("x·Wi [4096,768]x[768,3072]", 4096, 768, 3072),
  lin("h·Wo [4096,3072]x[3072,768]", 4096, 3072, 768),
  { name: "dW=dy^T·x [768,4096]x[4096,768]", kind: "wgrad", a: [4096, 768], b: [4096, 768], flops: 2 * 768 * 4096 * 768 },
  { name: "q·k^T [96,128,64]x[96,64,128]", kind: "bmm", a: [96, 128, 64], b: [96, 128, 64], flops: 2 * 96 * 128 * 64 * 128 },
  { name: "p·v [96,128,128]x[96,128,64]", kind: "bmm_nn", a: [96, 128, 128], b: [96, 128, 64], flops: 2 * 96 * 128 * 128 * 64 },
  lin("h256 x·Wi [4096,256]x[256,1024]", 4096, 256, 1024),
];

interface Row {
  engine: string;
  variant?: string;
  case: string;
  threads: number;
  median_ms: number;
  /** Flops / median wall time. */
  gflops: number;
  /** Flops / median CPU time of the process (all threads): immune to time given to other processes. */
  cpu_gflops: number;
  /** Flops / the least CPU time of the reps (other processes can only add to a rep's time). */
  cpu_best_gflops: number;
}

async function worker(): Promise<void> {
  const { initEngine } = await import("../src/engine/engine.js");
  const { np, random } = await import("../src/engine/jax.js");
  const threads = Number(process.env.PROPETL_THREADS ?? 1);
  await initEngine({ threads });
  const reps = Number(process.env.GEMM_REPS ?? 5);
  const only = process.env.GEMM_CASES?.split(",").map(Number);
  let seed = 1;
  for (const [ci, c] of GEMM_CASES.entries()) {
    if (only && !only.includes(ci)) continue;
    const a = random.normal(random.key(seed++), c.a);
    const b = random.normal(random.key(seed++), c.b);
    await a.blockUntilReady();
    await b.blockUntilReady();
    const run = () => {
      if (c.kind === "linear") return np.matmul(a.ref, b.ref.transpose());
      if (c.kind === "wgrad") return np.matmul(a.ref.transpose(), b.ref);
      if (c.kind === "bmm") return np.matmul(a.ref, b.ref.transpose([0, 2, 1]));
      return np.matmul(a.ref, b.ref);
    };
    const ts: number[] = [];
    const cs: number[] = [];
    for (let r = 0; r < reps + 2; r++) {
      const c0 = cpuSeconds();
      const t0 = performance.now();
      const y = run();
      await y.blockUntilReady();
      if (r >= 2) {
        ts.push(performance.now() - t0);
        cs.push((cpuSeconds() - c0) * 1000);
      }
      y.dispose();
    }
    a.dispose();
    b.dispose();
    ts.sort((x, y) => x - y);
    cs.sort((x, y) => x - y);
    const med = ts[Math.floor(ts.length / 2)];
    const cpu = cs[Math.floor(cs.length / 2)];
    const row: Row = {
      engine: "jax-js", variant: process.env.PROPETL_WASM_GEMM || "default", case: c.name, threads, median_ms: med,
      gflops: c.flops / med / 1e6, cpu_gflops: c.flops / cpu / 1e6, cpu_best_gflops: c.flops / cs[0] / 1e6,
    };
    console.log(JSON.stringify(row));
  }
}

function parse(out: string): Row[] {
  return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Row);
}

function driver(): void {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, "../..");
  const threadList = (process.env.GEMM_THREADS ?? "1,2").split(",").map(Number);
  const variants = (process.env.GEMM_VARIANTS ?? "default").split(",");
  const python = process.env.PYTHON ?? "/usr/bin/python3";
  const rows: Row[] = [];
  for (const threads of threadList) {
    for (const variant of variants) {
      const env = { ...process.env, GEMM_ROLE: "jax", PROPETL_THREADS: String(threads), PROPETL_WASM_GEMM: variant === "default" ? "" : variant };
      rows.push(...parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })));
    }
    try {
      rows.push(...parse(execFileSync(python, [path.join(root, "bench", "torch_gemm.py")], {
        env: { ...process.env, BENCH_THREADS: String(threads), GEMM_SHAPES: JSON.stringify(GEMM_CASES) },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      })));
    } catch (e) {
      console.error(`PyTorch side failed (${(e as Error).message.split("\n")[0]})`);
    }
  }
  const f = (x: number | undefined, d = 1) => (x === undefined ? "-" : x.toFixed(d));
  const peakRun = (args: string[]) => JSON.parse(execFileSync(process.execPath, [...args, path.join(here, "wasm-peak.js")], { encoding: "utf8" }).trim()) as { muladd: number; fma: number | null };
  let peak: { muladd: number; fma: number | null };
  try {
    peak = peakRun(["--experimental-wasm-relaxed-simd"]);
  } catch {
    peak = peakRun([]);
  }
  const corePeak = Math.max(peak.muladd, peak.fma ?? 0);
  // GFLOP per CPU-second is already per core: its share of one core's peak, whatever the threads.
  const pct = (x: number | undefined) => (x !== undefined ? `${((100 * x) / corePeak).toFixed(0)}%` : "-");
  console.log(`node ${process.version}; reps ${process.env.GEMM_REPS ?? 5}; medians. One core's wasm-SIMD peak (bench/wasm-peak.ts), GFLOP per CPU-second: ` +
    `mul+add loop ${peak.muladd.toFixed(1)}, relaxed_madd loop ${peak.fma === null ? "n/a" : `${peak.fma.toFixed(1)} (clock ${(peak.fma / 16).toFixed(2)} GHz at 16 flop/cycle)`}; peak used: ${corePeak.toFixed(1)}`);
  console.log("wall: GFLOP/s; cpu: GFLOP per CPU-second of the process, all threads; % peak: cpu / one core's peak");
  const head = ["case", "thr", ...variants.map((v) => `jax ${v} wall`), "torch wall",
    ...variants.map((v) => `jax ${v} cpu`), "torch cpu", ...variants.map((v) => `jax ${v} % peak`), ...variants.map((v) => `torch/${v} wall`)];
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const threads of threadList) {
    for (const c of GEMM_CASES) {
      const js = variants.map((v) => rows.find((r) => r.engine === "jax-js" && r.variant === v && r.case === c.name && r.threads === threads));
      if (js.every((r) => !r)) continue;
      const t = rows.find((r) => r.engine === "pytorch" && r.case === c.name && r.threads === threads);
      console.log(`| ${[c.name, threads, ...js.map((r) => f(r?.gflops)), f(t?.gflops),
        ...js.map((r) => f(r?.cpu_gflops)), f(t?.cpu_gflops), ...js.map((r) => pct(r?.cpu_gflops)),
        ...js.map((r) => (r && t ? `${(t.gflops / r.gflops).toFixed(2)}x` : "-"))].join(" | ")} |`);
    }
  }
}

if (process.env.GEMM_ROLE === "jax") await worker();
else driver();
