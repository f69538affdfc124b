/**
 * A lever's effect, same run: the jax-js side of the benchmark (bench/layer-bench.ts) from two
 * builds, A (without) and B (with), alternately in fresh processes (A B A B ...), and the
 * median per case of each with the ratio B / A, in wall time and in process CPU time (which
 * other load on a shared machine inflates less). A build is a package root holding package.json
 * and dist/ (e.g. a copy of this one's made before the change, with node_modules linked).
 *
 *   node dist/bench/ab.js /tmp/base . --rounds 2
 *   BENCH_CASES=train_step_4L_h256 BENCH_REPS=3 node dist/bench/ab.js /tmp/base .
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: "string", default: "2" } } });
if (positionals.length !== 2) throw new Error("usage: ab.js <root A> <root B> [--rounds N]");
const roots = positionals.map((p) => path.resolve(p));
const rows: { build: number; case: string; ms: number; cpu: number }[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [b, root] of roots.entries()) {
    const out = execFileSync(process.execPath, [path.join(root, "dist", "bench", "layer-bench.js")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    for (const l of out.split("\n").filter((x) => x.startsWith("{"))) {
      const j = JSON.parse(l) as { case: string; median_ms: number; cpu_ms: number };
      rows.push({ build: b, case: j.case, ms: j.median_ms, cpu: j.cpu_ms });
      console.error(`round ${r + 1} ${b === 0 ? "A" : "B"} ${j.case} ${j.median_ms.toFixed(0)} ms, cpu ${j.cpu_ms.toFixed(0)} ms`);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores; threads ${process.env.PROPETL_THREADS ?? "all"}; A ${roots[0]}; B ${roots[1]}; ${values.rounds} rounds`);
console.log(`| case | A wall ms (rounds) | B wall ms (rounds) | B / A wall | A cpu ms (rounds) | B cpu ms (rounds) | B / A cpu |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|`);
for (const c of [...new Set(rows.map((x) => x.case))]) {
  const of = (b: number) => rows.filter((x) => x.case === c && x.build === b);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  const [a, b] = [of(0), of(1)];
  console.log(`| ${c} | ${list(a.map((x) => x.ms))} | ${list(b.map((x) => x.ms))} | ${(median(b.map((x) => x.ms)) / median(a.map((x) => x.ms))).toFixed(3)} | ${list(a.map((x) => x.cpu))} | ${list(b.map((x) => x.cpu))} | ${(median(b.map((x) => x.cpu)) / median(a.map((x) => x.cpu))).toFixed(3)} |`);
}
