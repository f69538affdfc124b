/**
 * The WebGPU-vs-wasm check with its figures: runs test/engine/webgpu-case.ts (tiny-bert,
 * ProPETL-adapter: forward, training step, SGD update) on wasm (1 thread) and on webgpu, each in
 * its own process, and prints the largest differences and the timings as a markdown table.
 *
 *   node dist/bench/webgpu-vs-wasm.js              # Mesa's shader cache as it is
 *   MESA_SHADER_CACHE_DISABLE=true node dist/bench/webgpu-vs-wasm.js   # cold: every shader compiled
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { WebGpuCaseResult } from "../test/engine/webgpu-case.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const caseModule = pathToFileURL(path.resolve(here, "../test/engine/webgpu-case.js")).href;

function run(backend: "wasm" | "webgpu"): WebGpuCaseResult {
  const code = `import { runWebGpuCase } from ${JSON.stringify(caseModule)};\nconsole.log(JSON.stringify(await runWebGpuCase(${JSON.stringify(backend)})));\nprocess.exit(0);\n`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${backend} run failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as WebGpuCaseResult;
}

/** Largest |a − b| and that over the largest |b|, over all values of several arrays. */
function diff(a: readonly number[][], b: readonly number[][]): { abs: number; rel: number } {
  let d = 0;
  let s = 0;
  a.forEach((xs, j) => xs.forEach((x, i) => {
    d = Math.max(d, Math.abs(x - b[j][i]));
    s = Math.max(s, Math.abs(b[j][i]));
  }));
  return { abs: d, rel: d / (s + 1e-30) };
}

const wasm = run("wasm");
const gpu = run("webgpu");
const leaves = Object.keys(wasm.grads).sort();
const rows: [string, { abs: number; rel: number }][] = [
  ["logits (eval)", diff([gpu.logits], [wasm.logits])],
  ["loss", diff([[gpu.loss]], [[wasm.loss]])],
  [`gradients (${leaves.length} leaves)`, diff(leaves.map((k) => gpu.grads[k]), leaves.map((k) => wasm.grads[k]))],
  ["parameters after the SGD step", diff(leaves.map((k) => gpu.updated[k]), leaves.map((k) => wasm.updated[k]))],
  ["loss after the step", diff([[gpu.lossAfter]], [[wasm.lossAfter]])],
];
// Per-leaf relative gradient differences (the test's bound applies to each leaf).
const worstLeaf = leaves.map((k) => [k, diff([gpu.grads[k]], [wasm.grads[k]]).rel] as const).sort((x, y) => y[1] - x[1])[0];

console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores; node ${process.version}; MESA_SHADER_CACHE_DISABLE=${process.env.MESA_SHADER_CACHE_DISABLE ?? "(unset)"}`);
console.log(`wasm: ${wasm.engineLine}; webgpu: ${gpu.engineLine}`);
console.log(`loss ${wasm.loss.toFixed(6)} → ${wasm.lossAfter.toFixed(6)} (wasm), ${gpu.loss.toFixed(6)} → ${gpu.lossAfter.toFixed(6)} (webgpu)\n`);
console.log("| quantity | max abs difference | max rel difference |\n|---|---|---|");
for (const [name, d] of rows) console.log(`| ${name} | ${d.abs.toExponential(2)} | ${d.rel.toExponential(2)} |`);
if (worstLeaf) console.log(`\nlargest per-leaf gradient difference: ${worstLeaf[0]} ${worstLeaf[1].toExponential(2)}`);
console.log("\n| ms | wasm (1 thread) | webgpu |\n|---|---|---|");
for (const k of ["forwardCold", "forwardWarm", "stepCold", "stepWarm"] as const) console.log(`| ${k} | ${wasm.ms[k].toFixed(0)} | ${gpu.ms[k].toFixed(0)} |`);
