/**
 * The benchmark's training steps as reusable closures, so bench/layer-bench.ts (timing against
 * PyTorch) and bench/step-profile.ts (where the time goes) run the same computation:
 *
 * - `step4L`: 4 layers × hidden 256 at batch 32 × 128 (bench/shapes.ts STEP_BENCH), a plain
 *   bottleneck adapter after every FFN and the classification head trained, backbone frozen;
 * - `stepBertBase`: BERT-base with propetl's own ProPETL-adapter (shared adapter, per-layer
 *   top-k masks with straight-through scores, Pfeiffer placement) and the head trained, backbone
 *   frozen, at batch 8 × 128 (BERT_STEP_BENCH).
 *
 * Each is an eager gradient of the cross-entropy loss and a plain SGD update (lr 1e-3), as
 * bench/torch_bench.py does with `loss.backward()` and `torch.optim.SGD`. The gradient is the
 * one `propetl train` takes at that size: `valueAndGrad` of the whole network, or, where
 * `rematPlan("auto")` says its activations would not fit (BERT-base at 8 × 128: its
 * whole-network gradient overflows the 4 GiB wasm heap), the per-layer rematerialised
 * gradient of the trainer's own stack (`encoderRematStack`), the top `keepLayers` layers
 * keeping their residuals and the others run forward again. $BENCH_REMAT = 0 forces the
 * whole-network gradient, 1 every layer rematerialised; $BENCH_REMAT_KEEP = m the
 * rematerialised gradient keeping m layers. `run()` does one step and waits for it;
 * `dispose()` frees everything.
 */
import { blockUntilReady, np, tree, valueAndGrad } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import { classify, disposeBatch, encode, makeBatch, sequenceLoss } from "../src/models/bert/encoder.js";
import type { EncoderParams, HeadParams } from "../src/models/bert/params.js";
import type { HookContext } from "../src/petl/method.js";
import { createMethod } from "../src/petl/registry.js";
import { encoderRematStack } from "../src/train/finetune.js";
import type { DeviceInputs } from "../src/train/finetune.js";
import { rematValueAndGrad } from "../src/train/remat.js";
import { rematPlan } from "../src/train/remat-choice.js";
import type { RematPlan } from "../src/train/remat-choice.js";
import { adapterHook, config, encoderParams, hostBatch, lin } from "./bench-model.js";
import type { Adapter } from "./bench-model.js";
import { BERT_STEP_BENCH, STEP_BENCH } from "./shapes.js";

/** One benchmark training step, ready to run. */
export interface BenchStep {
  /** One step (loss, gradients, SGD update), awaited. */
  run(): Promise<void>;
  /** Whether the gradient is rematerialised layer by layer. */
  remat: boolean;
  /** With `remat`, how many top layers keep their residuals (the others are run again). */
  keepLayers?: number;
  /** Frees the parameters, the batch and the method. */
  dispose(): void;
}

const sgd = (p: JArray, g: JArray): JArray => p.sub(g.mul(1e-3));

/** The 4-layer hidden-256 step with plain adapters (STEP_BENCH). */
export async function step4L(): Promise<BenchStep> {
  const { hidden: H, heads, ffn: F, layers: L, batch: B, seq: T, bottleneck: bn, vocab } = STEP_BENCH;
  const cfg = config(H, heads, F, L, vocab, T);
  const enc: EncoderParams = encoderParams(cfg);
  type Trainable = { adapters: Adapter[]; head: HeadParams };
  let params: Trainable = { adapters: Array.from({ length: L }, () => ({ down: lin(H, bn), up: lin(bn, H) })), head: { dense: lin(H, H), out: lin(H, 2) } };
  const batch = makeBatch(cfg, hostBatch(B, T, vocab));
  const labels = np.array(new Int32Array(B).map((_, i) => i % 2), { dtype: np.int32 });
  await blockUntilReady([enc, params]);
  const loss = (t: Trainable): JArray => {
    const h = encode(cfg, enc, batch, { encoder: t.adapters.map(adapterHook) });
    const l = sequenceLoss(classify(t.head, h), labels.ref, 2);
    tree.dispose(t);
    return l;
  };
  const vg = valueAndGrad(loss);
  return {
    remat: false,
    async run() {
      const [l, g] = vg(tree.ref(params));
      params = tree.map(sgd, params, g) as Trainable;
      await blockUntilReady([l, params]);
      l.dispose();
    },
    dispose() {
      tree.dispose([enc, params, labels]);
      disposeBatch(batch);
    },
  };
}

/** The BERT-base ProPETL-adapter step at batch 8 × 128 (BERT_STEP_BENCH). */
export async function stepBertBase(): Promise<BenchStep> {
  const S = BERT_STEP_BENCH;
  const cfg = config(S.hidden, S.heads, S.ffn, S.layers, S.vocab, S.seq);
  const enc = encoderParams(cfg);
  const method = createMethod({ method: "propetl-adapter", bottleneck: S.bottleneck, k: S.k });
  type Trainable = { petl: ReturnType<typeof method.init>; head: HeadParams };
  let params: Trainable = { petl: method.init(cfg, enc, 0), head: { dense: lin(S.hidden, S.hidden), out: lin(S.hidden, 2) } };
  const batch = makeBatch(cfg, hostBatch(S.batch, S.seq, S.vocab));
  const labels = np.array(new Int32Array(S.batch).map((_, i) => i % 2), { dtype: np.int32 });
  await blockUntilReady([enc, params]);
  const ctx: HookContext = { batchSize: S.batch, training: true };
  const loss = (t: Trainable): JArray => {
    const h = encode(cfg, enc, batch, method.hooks(t.petl, ctx));
    const l = sequenceLoss(classify(t.head, h), labels.ref, 2);
    tree.dispose(t);
    return l;
  };
  const vg = valueAndGrad(loss);
  const env = process.env;
  const plan: RematPlan =
    env.BENCH_REMAT_KEEP !== undefined ? { remat: true, keepLayers: Number(env.BENCH_REMAT_KEEP) }
    : env.BENCH_REMAT === "0" ? { remat: false }
    : env.BENCH_REMAT === "1" ? { remat: true, keepLayers: 0 }
    : rematPlan("auto", cfg, S.batch, S.seq);
  const remat = plan.remat;
  const keepLayers = plan.remat ? plan.keepLayers : undefined;
  const d: DeviceInputs = { inputIds: batch.inputIds, positionIds: batch.positionIds, tokenTypeIds: batch.tokenTypeIds, maskBias: batch.maskBias, labels };
  const stack = encoderRematStack({ config: cfg, encoder: enc }, method, d, 2);
  return {
    remat,
    ...(keepLayers !== undefined ? { keepLayers } : {}),
    async run() {
      let l: JArray;
      let g: Trainable;
      if (remat) {
        const [rl, rg] = await rematValueAndGrad(stack, { method: tree.ref(params.petl), head: tree.ref(params.head) }, { keepLayers });
        [l, g] = [rl, { petl: rg.method, head: rg.head }];
      } else {
        [l, g] = vg(tree.ref(params as never)) as [JArray, Trainable];
      }
      params = tree.map(sgd, params as never, g as never) as Trainable;
      await blockUntilReady([l, params]);
      l.dispose();
    },
    dispose() {
      tree.dispose([enc, params, labels]);
      disposeBatch(batch);
      method.dispose();
    },
  };
}
