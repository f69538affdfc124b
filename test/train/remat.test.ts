/**
 * Per-layer rematerialised gradients (train/remat.ts, the classification objective's own
 * `valueAndGrad`) equal `valueAndGrad` of the objective's loss: loss and every gradient leaf,
 * for every PETL method of the method table, multi-task ProPETL under each combine rule with a
 * mixed batch, and a regression head; on tiny-bert (2 layers). The path frees everything it
 * allocates, and full fine-tuning (whose backbone is the trainable tree) does not take it.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import type { MethodConfig, PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import { classificationObjective } from "../../src/train/finetune.js";
import type { DeviceInputs, Trainable } from "../../src/train/finetune.js";
import { multiTaskObjective } from "../../src/train/multitask-run.js";
import type { MultiTaskInputs, MultiTrainable } from "../../src/train/multitask-run.js";
import { makeLossAndGrad } from "../../src/train/trainer.js";
import { ALL_METHODS, SMALL, assertSameGradients, scalar, tinyBert } from "../petl/petl-helpers.js";
import type { Setup } from "../petl/petl-helpers.js";

let s: Setup;
before(async () => {
  await initEngine();
  s = await tinyBert();
});

/** The tiny-bert batch as the objective's device inputs (new references). */
function inputs(labels: JArray, taskIds?: JArray): DeviceInputs {
  const d: DeviceInputs = { inputIds: s.batch.inputIds.ref, positionIds: s.batch.positionIds.ref, tokenTypeIds: s.batch.tokenTypeIds.ref, maskBias: s.batch.maskBias.ref, labels: labels.ref };
  if (taskIds) d.taskIds = taskIds.ref;
  return d;
}

/** Loss and gradients both ways; asserts they agree within `tol` (relative, per leaf). */
async function compare(config: MethodConfig, opts: { taskIds?: number[]; regression?: boolean; tol?: number } = {}): Promise<void> {
  const method = createMethod(config, s.model.config) as PetlMethod<unknown>;
  const numLabels = opts.regression ? 1 : s.model.config.numLabels;
  const head = opts.regression
    ? { dense: tree.ref(s.model.head.dense), out: { w: s.model.head.out.w.ref.slice([0, 1]), b: s.model.head.out.b.ref.slice([0, 1]) } }
    : tree.ref(s.model.head);
  const params: Trainable<unknown> = { method: method.init(s.model.config, s.model.encoder, 3), head };
  const labels = opts.regression ? np.array(Float32Array.from({ length: s.B }, (_, i) => 0.3 * i - 0.5)) : s.labels.ref;
  const ids = opts.taskIds ? np.array(Int32Array.from(opts.taskIds), { dtype: np.int32 }) : undefined;
  const objective = classificationObjective({ config: s.model.config, encoder: s.model.encoder }, method, [], { kind: opts.regression ? "regression" : "classification", numLabels }, { padTokenId: s.model.config.padTokenId });
  assert.ok(objective.valueAndGrad, "the objective supplies its own gradient by default");
  const [plainLoss, plainGrads] = makeLossAndGrad(objective.loss, false)(tree.ref(params), inputs(labels, ids)) as [JArray, Trainable<unknown>];
  const [remLoss, remGrads] = await objective.valueAndGrad(tree.ref(params), inputs(labels, ids));
  const nonzero = await assertSameGradients({ loss: plainLoss, grads: plainGrads }, { loss: remLoss, grads: remGrads }, opts.tol ?? 1e-5, config.method);
  assert.ok(nonzero > 0, "some gradient is not zero");
  tree.dispose([plainGrads, remGrads, params] as never);
  labels.dispose();
  ids?.dispose();
  method.dispose();
}

describe("rematerialised gradients equal valueAndGrad's", () => {
  for (const name of ALL_METHODS) {
    if (name === "full") continue;
    test(name, async () => compare({ method: name, ...SMALL }));
  }
  for (const combine of ["or", "and", "layer", "task"] as const) {
    test(`multi-task propetl-adapter, combine ${combine}, mixed batch`, async () => {
      const ids = Array.from({ length: s.B }, (_, i) => i % 2);
      await compare({ method: "propetl-adapter", ...SMALL, tasks: ["a", "b"], combine }, { taskIds: ids });
    });
  }
  test("multi-task propetl-prefix, combine or, mixed batch", async () => {
    await compare({ method: "propetl-prefix", ...SMALL, tasks: ["a", "b"], combine: "or" }, { taskIds: Array.from({ length: s.B }, (_, i) => (i + 1) % 2) });
  });
  test("regression head (MSE)", async () => compare({ method: "propetl-lora", ...SMALL }, { regression: true }));

  test("multi-task objective (task 1's batch: its head and task masks)", async () => {
    const method = createMethod({ method: "propetl-adapter", ...SMALL, tasks: ["a", "b"], combine: "or" }, s.model.config) as PetlMethod<unknown>;
    const params: MultiTrainable<unknown> = { method: method.init(s.model.config, s.model.encoder, 5), heads: [tree.ref(s.model.head), tree.ref(s.model.head)] };
    const info = { kind: "classification" as const, numLabels: s.model.config.numLabels, metrics: ["accuracy"] as const, mainMetric: "accuracy" as const };
    const objective = multiTaskObjective({ config: s.model.config, encoder: s.model.encoder }, method, [[], []], [info, info], { padTokenId: 0 });
    assert.ok(objective.valueAndGrad);
    const d = (): MultiTaskInputs => {
      const { labels, ...rest } = inputs(s.labels);
      return { inputs: rest, labels: { "1": labels } };
    };
    const [lp, gp] = makeLossAndGrad(objective.loss, false)(tree.ref(params), d()) as [JArray, MultiTrainable<unknown>];
    const [lr, gr] = await objective.valueAndGrad(tree.ref(params), d());
    await assertSameGradients({ loss: lp, grads: gp }, { loss: lr, grads: gr }, 1e-5, "multi-task objective");
    tree.dispose([gp, gr, params] as never);
  });
});

describe("the remat path", () => {
  test("frees what it allocates", async () => {
    const live = await trackLiveBuffers();
    const method = createMethod({ method: "propetl-prefix", ...SMALL }, s.model.config) as PetlMethod<unknown>;
    const params: Trainable<unknown> = { method: method.init(s.model.config, s.model.encoder, 1), head: tree.ref(s.model.head) };
    const objective = classificationObjective({ config: s.model.config, encoder: s.model.encoder }, method, [], { kind: "classification", numLabels: s.model.config.numLabels }, { padTokenId: s.model.config.padTokenId });
    const run = async (): Promise<void> => {
      const [loss, grads] = await (objective.valueAndGrad as NonNullable<typeof objective.valueAndGrad>)(tree.ref(params), inputs(s.labels));
      await scalar(loss);
      tree.dispose(grads as never);
    };
    await run();
    const n0 = live();
    for (let i = 0; i < 3; i++) await run();
    assert.equal(live(), n0, "live buffers after three more steps");
    tree.dispose(params as never);
  });

  test("full fine-tuning and remat: false keep valueAndGrad", () => {
    const full = createMethod({ method: "full" }, s.model.config) as PetlMethod<unknown>;
    const backbone = { config: s.model.config, encoder: s.model.encoder };
    const task = { kind: "classification" as const, numLabels: 2 };
    assert.equal(classificationObjective(backbone, full, [], task, { padTokenId: 0 }).valueAndGrad, undefined);
    const lora = createMethod({ method: "lora", ...SMALL }, s.model.config) as PetlMethod<unknown>;
    assert.equal(classificationObjective(backbone, lora, [], task, { padTokenId: 0 }, { remat: false }).valueAndGrad, undefined);
    assert.ok(classificationObjective(backbone, lora, [], task, { padTokenId: 0 }).valueAndGrad);
  });
});
