/**
 * Kernel micro-benchmark for engine patches 11-14 (issue 15, "Speed on CPU"): CPU time per call
 * of the kernels the training step spends its non-matmul time in, and of products whose k is not
 * a multiple of 4, each variant in its own process, alternated round by round:
 *
 *   KERNEL_ROUNDS=2 KERNEL_REPS=9 node dist/bench/kernels.js
 *
 * Variants (environment of the child process):
 *   base   PROPETL_WASM_GEMM=p10 PROPETL_WASM_VMATH=scalar PROPETL_WASM_GATHER=lanes (patch 10 alone)
 *   new    none of them (patches 11-14)
 * Cases, one thread, float32:
 *   exp, erfc, gelu, gelu_grad, softmax  on [32, 128, 1024] (the 4-layer step's FFN activations)
 *   copy_heads, copy_heads_t, copy_v_t   head-split copies at BERT-base's width, batch 32 × 128 ([32,128,12,64] →
 *                                         [32,12,128,64] and → [32,12,64,128]; [384,128,64] → [384,64,128])
 *   qk, pv                                attention products per head, [96,128,64]·[96,64,128] and [96,128,128]·[96,128,64]
 *   pv_k126, lin_k258                     products with k not a multiple of 4
 * Prints each case's median CPU milliseconds per call (process CPU time, so time the scheduler
 * gives other processes does not count), and GFLOP per CPU-second for the products.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpuSeconds } from "./wasm-peak.js";

const VARIANTS: Record<string, Record<string, string>> = {
  base: { PROPETL_WASM_GEMM: "p10", PROPETL_WASM_VMATH: "scalar", PROPETL_WASM_GATHER: "lanes" },
  new: { PROPETL_WASM_GEMM: "", PROPETL_WASM_VMATH: "", PROPETL_WASM_GATHER: "" },
};

interface Row { variant: string; case: string; cpu_ms: number; gflop?: number }

async function worker(): Promise<void> {
  const { initEngine } = await import("../src/engine/engine.js");
  const { grad, nn, lax, np, random } = await import("../src/engine/jax.js");
  await initEngine({ threads: 1 });
  const reps = Number(process.env.KERNEL_REPS ?? 9);
  const act = random.normal(random.key(1), [32, 128, 1024]);
  const heads = random.normal(random.key(2), [32, 128, 12, 64]);
  const vBig = random.normal(random.key(10), [384, 128, 64]);
  const q = random.normal(random.key(3), [96, 128, 64]);
  const k = random.normal(random.key(4), [96, 128, 64]);
  const p = random.normal(random.key(5), [96, 128, 128]);
  const p126 = random.normal(random.key(6), [96, 126, 126]);
  const v126 = random.normal(random.key(7), [96, 126, 64]);
  const x258 = random.normal(random.key(8), [4096, 258]);
  const w258 = random.normal(random.key(9), [256, 258]);
  for (const a of [act, heads, vBig, q, k, p, p126, v126, x258, w258]) await a.blockUntilReady();
  const geluGrad = grad((x: typeof act) => nn.gelu(x, { approximate: false }).sum());
  const cases: [string, () => typeof act, number?][] = [
    ["exp", () => np.exp(act.ref)],
    ["erfc", () => lax.erfc(act.ref)],
    ["gelu", () => nn.gelu(act.ref, { approximate: false })],
    ["gelu_grad", () => geluGrad(act.ref)],
    ["softmax", () => nn.softmax(act.ref, -1)],
    ["copy_heads", () => heads.ref.transpose([0, 2, 1, 3]).mul(1)],
    ["copy_heads_t", () => heads.ref.transpose([0, 2, 3, 1]).mul(1)],
    ["copy_v_t", () => vBig.ref.transpose([0, 2, 1]).mul(1)],
    ["qk", () => np.matmul(q.ref, k.ref.transpose([0, 2, 1])), 2 * 96 * 128 * 64 * 128],
    ["pv", () => np.matmul(p.ref, k.ref), 2 * 96 * 128 * 128 * 64],
    ["pv_k126", () => np.matmul(p126.ref, v126.ref), 2 * 96 * 126 * 126 * 64],
    ["lin_k258", () => np.matmul(x258.ref, w258.ref.transpose()), 2 * 4096 * 258 * 256],
  ];
  const only = process.env.KERNEL_CASES?.split(",");
  for (const [name, run, flops] of cases) {
    if (only && !only.includes(name)) continue;
    const cs: number[] = [];
    for (let r = 0; r < reps + 2; r++) {
      const c0 = cpuSeconds();
      const y = run();
      await y.blockUntilReady();
      if (r >= 2) cs.push((cpuSeconds() - c0) * 1000);
      y.dispose();
    }
    cs.sort((a, b) => a - b);
    const cpu = cs[Math.floor(cs.length / 2)];
    const row: Row = { variant: process.env.KERNEL_VARIANT ?? "?", case: name, cpu_ms: cpu };
    if (flops) row.gflop = flops / cpu / 1e6;
    console.log(JSON.stringify(row));
  }
}

function driver(): void {
  const rounds = Number(process.env.KERNEL_ROUNDS ?? 2);
  const rows: Row[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [variant, vars] of Object.entries(VARIANTS)) {
      const env = { ...process.env, ...vars, KERNEL_ROLE: "worker", KERNEL_VARIANT: variant };
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
      rows.push(...out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Row));
    }
  }
  const names = [...new Set(rows.map((r) => r.case))];
  console.log(`node ${process.version}; 1 thread; ${rounds} rounds (base, new alternated); median CPU ms per call of ${process.env.KERNEL_REPS ?? 9} reps; GFLOP per CPU-second for products`);
  console.log("| case | base CPU ms (rounds) | new CPU ms (rounds) | base / new | base GFLOP/CPU-s | new GFLOP/CPU-s |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const name of names) {
    const of = (v: string) => rows.filter((r) => r.case === name && r.variant === v);
    const b = of("base");
    const n = of("new");
    const mean = (xs: Row[]) => xs.reduce((s, r) => s + r.cpu_ms, 0) / xs.length;
    const g = (xs: Row[]) => (xs[0]?.gflop === undefined ? "-" : xs.map((r) => r.gflop?.toFixed(1)).join(", "));
    console.log(`| ${name} | ${b.map((r) => r.cpu_ms.toFixed(1)).join(", ")} | ${n.map((r) => r.cpu_ms.toFixed(1)).join(", ")} | ${(mean(b) / mean(n)).toFixed(2)}x | ${g(b)} | ${g(n)} |`);
  }
}

if (process.env.KERNEL_ROLE === "worker") await worker();
else driver();
