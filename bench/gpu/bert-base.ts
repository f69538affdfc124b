/**
 * jax-js side of the GPU benchmark: BERT-base with ProPETL-adapter (propetl's own method and
 * encoder; random backbone) at batch 32 × 128 (bench/gpu/shape.ts), on the backend $BENCH_BACKEND
 * (default webgpu). Cases, each timed as bench/bench-model.ts's `time` does (2 untimed runs, then
 * $BENCH_REPS, default 5; median and min):
 *   forward             eval-mode logits with the materialised masked modules (as `predict`)
 *   train_step          loss and gradients w.r.t. the shared adapter, the mask scores and the
 *                       head (backbone frozen), then an SGD update; eager
 *   train_step_jit      the same with the loss-and-gradient function under `jit` (as `train`)
 * $BENCH_CASES (comma-separated) picks some. Prints one JSON line per case, and first one with the
 * engine and the shape. bench/gpu/run.sh runs it on the GPU machine.
 */
import { describeEngine, initEngine } from "../../src/engine/engine.js";
import type { Backend } from "../../src/engine/engine.js";
import { blockUntilReady, jit, np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { classify, disposeBatch, encode, makeBatch, sequenceLoss } from "../../src/models/bert/encoder.js";
import type { HeadParams } from "../../src/models/bert/params.js";
import type { HookContext } from "../../src/petl/method.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { config, encoderParams, hostBatch, lin, time } from "../bench-model.js";
import { gpuBenchShape } from "./shape.js";

const CASES = ["forward", "train_step", "train_step_jit"] as const;

async function main(): Promise<void> {
  const backend = (process.env.BENCH_BACKEND ?? "webgpu") as Backend;
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const cases = (process.env.BENCH_CASES ?? CASES.join(",")).split(",");
  for (const c of cases) if (!(CASES as readonly string[]).includes(c)) throw new Error(`BENCH_CASES: unknown case "${c}" (cases: ${CASES.join(", ")})`);
  const shape = gpuBenchShape();
  const info = await initEngine({ backend });
  console.log(JSON.stringify({ engine: "jax-js", info, line: describeEngine(info), shape, reps }));

  const cfg = config(shape.hidden, shape.heads, shape.ffn, shape.layers, shape.vocab, shape.seq);
  const enc = encoderParams(cfg);
  const method = createMethod({ method: "propetl-adapter", bottleneck: shape.bottleneck, k: shape.k });
  type Trainable = { petl: ReturnType<typeof method.init>; head: HeadParams };
  let params: Trainable = { petl: method.init(cfg, enc, 0), head: { dense: lin(shape.hidden, shape.hidden), out: lin(shape.hidden, 2) } };
  const batch = makeBatch(cfg, hostBatch(shape.batch, shape.seq, shape.vocab));
  const labels = np.array(new Int32Array(shape.batch).map((_, i) => i % 2), { dtype: np.int32 });
  await blockUntilReady([enc, params]);
  const tag = { backend: info.backend };

  if (cases.includes("forward")) {
    const m = method.materialize(params.petl);
    await time("forward", reps, async () => {
      const logits = classify(params.head, encode(cfg, enc, batch, materializedHooks(m)));
      await logits.blockUntilReady();
      logits.dispose();
    }, tag);
    disposeMaterialized(m);
  }

  const ctx: HookContext = { batchSize: shape.batch, training: true };
  const loss = (t: Trainable): JArray => {
    const h = encode(cfg, enc, batch, method.hooks(t.petl, ctx));
    const l = sequenceLoss(classify(t.head, h), labels.ref, 2);
    tree.dispose(t);
    return l;
  };
  const sgd = (p: JArray, g: JArray): JArray => p.sub(g.mul(1e-3));
  for (const name of ["train_step", "train_step_jit"] as const) {
    if (!cases.includes(name)) continue;
    const vg = name === "train_step_jit" ? jit(valueAndGrad(loss)) : valueAndGrad(loss);
    await time(name, reps, async () => {
      const [l, g] = vg(tree.ref(params as never)) as [JArray, Trainable];
      const next = tree.map(sgd, params as never, g as never) as Trainable;
      params = next;
      await blockUntilReady([l, params]);
      l.dispose();
    }, tag);
    if ("dispose" in vg && typeof vg.dispose === "function") vg.dispose();
  }
  tree.dispose([enc, params, labels]);
  disposeBatch(batch);
  method.dispose();
}

await main();
process.exit(0);
