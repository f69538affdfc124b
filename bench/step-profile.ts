/**
 * Where a benchmark training step spends its time (issue 15): runs the step of
 * bench/bench-steps.ts on ONE thread (kernels then run synchronously on the main thread, so
 * jax-js's kernel trace times each kernel), and splits the step's wall time into
 *   matmul        kernels whose reduction reads a product of two inputs (dot),
 *   reduction     other reducing kernels (sums, max, mean: softmax, LayerNorm, loss),
 *   elementwise   kernels without a reduction (GELU, adds, masks, copies),
 *   routine       jax-js routines (sort/top-k, scatter, ...),
 *   main thread   the rest: tracing, autodiff bookkeeping, dispatch, allocation.
 * It also counts the dispatches and the matmul work (multiply-adds = output size × reduction
 * length), and lists the matmuls by (output size, reduction length), so a weight-gradient
 * matmul of a frozen layer (output = weight size, reduction = batch × seq) would show.
 *
 *   PROPETL_THREADS=1 node dist/bench/step-profile.js 4L        # or: bert
 *   PROFILE_REPS=3 ... ; PROFILE_LIST=1 prints every matmul shape with its count and time, and
 *   the other kernels that took the most time
 */
import { initEngine } from "../src/engine/engine.js";
import { profiler } from "../src/engine/jax.js";
import { step4L, stepBertBase } from "./bench-steps.js";
import { BERT_STEP_BENCH, STEP_BENCH } from "./shapes.js";

interface Measure { name: string; duration: number; detail?: { devtools?: { properties?: [string, string][] } } }

/** A traced dispatch's class from its trace properties (bench/step-profile.ts's classes). */
export function kernelClass(name: string, props: Map<string, string>): "matmul" | "reduction" | "elementwise" | "routine" {
  if (!name.startsWith("Kernel[")) return "routine";
  const red = props.get("reduction");
  if (red === undefined) return "elementwise";
  // A dot reduces exactly a product of two different global inputs, `(GV_0<float32>{..}[..] * GV_1<..>[..])`;
  // anything else (a fused variance's (x − m)², a sum) is a plain reduction. Index and view
  // expressions are dropped before matching.
  const bare = (props.get("exp") ?? "").replace(/\[[^\]]*\]/g, "").replace(/\{[^}]*\}/g, "").replace(/<\w+>/g, "");
  return red.startsWith("Add:") && /^\(GV?_(\d+) \* GV?_(?!\1\))\d+\)$/.test(bare) ? "matmul" : "reduction";
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "4L";
  if (which !== "4L" && which !== "bert") throw new Error(`step-profile: "4L" or "bert", got "${which}"`);
  const info = await initEngine();
  if (info.threads !== 1) console.error(`warning: ${info.threads} threads; kernels then run on workers and the trace times only their dispatch (set PROPETL_THREADS=1)`);
  const reps = Number(process.env.PROFILE_REPS ?? 2);
  const step = which === "4L" ? await step4L() : await stepBertBase();
  const shape = which === "4L" ? STEP_BENCH : BERT_STEP_BENCH;
  console.error(`remat: ${step.remat}${step.remat ? `, keeping ${step.keepLayers ?? 0} layers` : ""}`);
  await step.run(); // compiles kernels
  const sums = { matmul: 0, reduction: 0, elementwise: 0, routine: 0 };
  const counts = { matmul: 0, reduction: 0, elementwise: 0, routine: 0 };
  const mm = new Map<string, { n: number; ms: number; macs: number }>();
  let macs = 0;
  let wall = 0;
  const exps = new Map<string, number>();
  const other = new Map<string, { n: number; ms: number }>();
  for (let r = 0; r < reps; r++) {
    performance.clearMeasures();
    profiler.startTrace();
    const t0 = performance.now();
    await step.run();
    wall += performance.now() - t0;
    profiler.stopTrace();
    for (const e of performance.getEntriesByType("measure") as unknown as Measure[]) {
      const props = new Map(e.detail?.devtools?.properties ?? []);
      const c = kernelClass(e.name, props);
      sums[c] += e.duration;
      counts[c]++;
      if (process.env.PROFILE_EXPS === "1" && props.has("reduction")) exps.set(`${props.get("reduction")} ${props.get("exp")}`, (exps.get(`${props.get("reduction")} ${props.get("exp")}`) ?? 0) + 1);
      if (c !== "matmul") {
        const key = `${c} ${props.get("size") ?? ""} ${props.get("reduction") ?? ""} ${c === "routine" ? e.name : (props.get("exp") ?? "").replace(/<float32>|:int32|\$gidx|\$ridx/g, "").slice(0, 160)}`;
        const o = other.get(key) ?? { n: 0, ms: 0 };
        o.n++; o.ms += e.duration;
        other.set(key, o);
      }
      if (c === "matmul") {
        const size = Number(props.get("size"));
        const red = Number((props.get("reduction") ?? ":0").split(":")[1]);
        const key = `${size}x${red}`;
        const m = mm.get(key) ?? { n: 0, ms: 0, macs: 0 };
        m.n++; m.ms += e.duration; m.macs += size * red;
        mm.set(key, m);
        macs += size * red;
      }
    }
  }
  step.dispose();
  const per = (x: number) => x / reps;
  const kernels = sums.matmul + sums.reduction + sums.elementwise + sums.routine;
  const main = wall - kernels;
  const row = (name: string, ms: number, n: number | string) => console.log(`| ${name} | ${per(ms).toFixed(0)} | ${((ms / wall) * 100).toFixed(1)}% | ${typeof n === "number" ? (n / reps).toFixed(0) : n} |`);
  console.log(`step ${which} ${JSON.stringify(shape)}; ${info.threads} thread(s), ${reps} traced steps; wall ${per(wall).toFixed(0)} ms/step`);
  console.log(`| part | ms/step | share | dispatches/step |`);
  console.log(`|---|---:|---:|---:|`);
  row("matmul kernels", sums.matmul, counts.matmul);
  row("reduction kernels", sums.reduction, counts.reduction);
  row("elementwise kernels", sums.elementwise, counts.elementwise);
  row("routines", sums.routine, counts.routine);
  row("main thread (tracing, autodiff, dispatch)", main, "");
  console.log(`matmul: ${(per(macs) * 2 / 1e9).toFixed(1)} GFLOP/step, ${((macs * 2) / (sums.matmul / 1000) / 1e9).toFixed(1)} GFLOP/s in matmul kernels`);
  if (process.env.PROFILE_LIST === "1") {
    console.log(`| output size × reduction | per step | ms/step | GFLOP/step |`);
    console.log(`|---|---:|---:|---:|`);
    for (const [k, m] of [...mm].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${k} | ${m.n / reps} | ${per(m.ms).toFixed(1)} | ${((per(m.macs) * 2) / 1e9).toFixed(2)} |`);
  }
  if (process.env.PROFILE_LIST === "1") {
    console.log(`top other kernels (class, size, reduction, expression): per step, ms/step`);
    for (const [k, o] of [...other].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`${(o.n / reps).toFixed(0).padStart(4)} ${per(o.ms).toFixed(1).padStart(8)}  ${k}`);
  }
  if (process.env.PROFILE_EXPS === "1") for (const [k, n] of exps) console.log(n / reps, k.slice(0, 300));
}

await main();
process.exit(0);
