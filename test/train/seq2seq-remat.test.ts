/**
 * Block-by-block rematerialised gradients of T5's teacher-forced loss (train/remat.ts
 * `rematEncoderDecoderValueAndGrad`, train/seq2seq-remat.ts; the text-to-text objective's own
 * `valueAndGrad`) equal `valueAndGrad` of the objective's loss: loss and every gradient leaf,
 * for every PETL method of the method table on tiny-t5 (v1.0: ReLU FFN, tied head) and a
 * few on tiny-t5-v1_1 (gated GELU, untied head), multi-task ProPETL through the multi-task
 * objective, with padded sources and targets of different lengths, also with the top 1 to 4
 * blocks keeping their residuals (`keepLayers`). The path frees what it allocates; full fine-tuning and `remat: false` keep the whole-network gradient.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import type { T5Params } from "../../src/models/t5/params.js";
import type { MethodConfig, PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import type { EncodedPair } from "../../src/train/seq2seq-batching.js";
import { seq2seqObjective, withoutRemat } from "../../src/train/seq2seq.js";
import type { Seq2seqBackbone, Seq2seqDeviceInputs, Seq2seqTrainable } from "../../src/train/seq2seq.js";
import { rematEncoderDecoderValueAndGrad } from "../../src/train/remat.js";
import { seq2seqRematStack } from "../../src/train/seq2seq-remat.js";
import { seq2seqMultiTaskObjective } from "../../src/train/seq2seq-multitask-run.js";
import type { TaskBatch } from "../../src/train/multitask.js";
import { namedLeaves } from "../../src/train/tree-util.js";
import { makeLossAndGrad } from "../../src/train/trainer.js";
import type { Objective } from "../../src/train/trainer.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { ALL_METHODS, SMALL, assertSameGradients, scalar } from "../petl/petl-helpers.js";

const models = new Map<string, Seq2seqBackbone>();
before(async () => {
  await initEngine();
  for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
    const m = await loadBackboneDir(modelFixtureDir(name));
    if (!isT5Config(m.config)) throw new Error(`${name} is not a T5 model`);
    models.set(name, { config: m.config, params: m.encoder as T5Params });
  }
});
after(() => {
  for (const m of models.values()) tree.dispose(m.params);
});

/** Four pairs of different source (3..7) and target (2..5) lengths: both sides padded. */
function pairs(cfg: T5Config): EncodedPair[] {
  const V = cfg.vocabSize;
  return [
    [5, 3],
    [3, 5],
    [7, 2],
    [4, 4],
  ].map(([S, T], index) => ({
    inputIds: Int32Array.from({ length: S }, (_, i) => (i === S - 1 ? 1 : 2 + ((i * 7 + index * 11) % (V - 2)))),
    labels: Int32Array.from({ length: T }, (_, i) => (i === T - 1 ? 1 : 2 + ((i * 5 + index * 3) % (V - 2)))),
    index,
  }));
}

/** Loss and gradients of an objective both ways on batch `b`; asserts they agree within `tol` per leaf (relative). */
async function agree<B, D>(objective: Objective<Seq2seqTrainable<unknown>, B, D>, params: Seq2seqTrainable<unknown>, b: B, what: string, tol = 1e-5): Promise<void> {
  assert.ok(objective.valueAndGrad, `${what}: the objective supplies its own gradient by default`);
  const [lp, gp] = makeLossAndGrad(objective.loss, false)(tree.ref(params), objective.toDevice(b)) as [JArray, Seq2seqTrainable<unknown>];
  const [lr, gr] = await objective.valueAndGrad(tree.ref(params), objective.toDevice(b));
  const nonzero = await assertSameGradients({ loss: lp, grads: gp }, { loss: lr, grads: gr }, tol, what);
  assert.ok(nonzero > 0, `${what}: some gradient is not zero`);
  tree.dispose([gp, gr] as never);
}

async function compare(model: string, config: MethodConfig): Promise<void> {
  const bb = models.get(model) as Seq2seqBackbone;
  const method = createMethod(config, bb.config) as PetlMethod<unknown>;
  const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 3) };
  const data = pairs(bb.config);
  await agree(seq2seqObjective(bb, method, data), params, data.map((p) => p.index), `${model} ${config.method}`);
  tree.dispose(params);
  method.dispose();
}

describe("T5: block-by-block rematerialised gradients equal valueAndGrad's", () => {
  for (const name of ALL_METHODS) {
    if (name === "full") continue;
    test(`tiny-t5, ${name}`, async () => compare("tiny-t5", { method: name, ...SMALL }));
  }
  for (const name of ["propetl-adapter", "propetl-lora", "prefix"] as const) {
    test(`tiny-t5-v1_1 (gated GELU, untied head), ${name}`, async () => compare("tiny-t5-v1_1", { method: name, ...SMALL }));
  }
  // Partial: the top m blocks in the backward pass's order keep their pullbacks (tiny-t5 has
  // 2 + 2 blocks: m = 1 the decoder's top, 2 the decoder, 3 and the encoder's top, 4 all).
  for (const m of [1, 2, 3, 4]) {
    test(`tiny-t5, propetl-adapter, keeping ${m} of 4 blocks' residuals`, async () => {
      const bb = models.get("tiny-t5") as Seq2seqBackbone;
      const method = createMethod({ method: "propetl-adapter", ...SMALL }, bb.config) as PetlMethod<unknown>;
      const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 3) };
      const data = pairs(bb.config);
      await agree(seq2seqObjective(bb, method, data, { remat: true, keepLayers: m }), params, data.map((p) => p.index), `keep ${m}`);
      tree.dispose(params);
      method.dispose();
    });
  }
  test("multi-task objective: propetl-adapter, combine or, task 1's batch, keeping 3 of 4 blocks", async () => {
    const bb = models.get("tiny-t5") as Seq2seqBackbone;
    const method = createMethod({ method: "propetl-adapter", ...SMALL, tasks: ["a", "b"], combine: "or" }, bb.config) as PetlMethod<unknown>;
    const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 5) };
    const data = pairs(bb.config);
    const objective = seq2seqMultiTaskObjective(bb, method, [data, data], namedLeaves(params).map(([p]) => p), { remat: true, keepLayers: 3 });
    await agree(objective, params, { task: 1, indices: data.map((p) => p.index) }, "multi-task keep 3");
    tree.dispose(params);
    method.dispose();
  });
  for (const combine of ["or", "layer"] as const) {
    test(`multi-task objective: propetl-adapter, combine ${combine}, task 1's batch`, async () => {
      const bb = models.get("tiny-t5") as Seq2seqBackbone;
      const method = createMethod({ method: "propetl-adapter", ...SMALL, tasks: ["a", "b"], combine }, bb.config) as PetlMethod<unknown>;
      const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 5) };
      const data = pairs(bb.config);
      const objective = seq2seqMultiTaskObjective(bb, method, [data, data], namedLeaves(params).map(([p]) => p));
      const batch: TaskBatch = { task: 1, indices: data.map((p) => p.index) };
      await agree(objective, params, batch, `multi-task ${combine}`);
      tree.dispose(params);
      method.dispose();
    });
  }
});

describe("the T5 remat path", () => {
  test("the LM head and loss in chunks of 3 target positions (the last one short) equal the whole-network gradient", async () => {
    for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
      const bb = models.get(name) as Seq2seqBackbone;
      const method = createMethod({ method: "propetl-lora", ...SMALL }, bb.config) as PetlMethod<unknown>;
      const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 2) };
      const data = pairs(bb.config);
      const plain = seq2seqObjective(bb, method, data, { remat: false });
      const chunked: Objective<Seq2seqTrainable<unknown>, number[], Seq2seqDeviceInputs> = {
        ...plain,
        valueAndGrad: async (p, d) => {
          const stack = seq2seqRematStack(method, { backbone: bb, batch: { batchSize: d.encoderMaskBias.shape[0], encoderLength: d.encoderMaskBias.shape[3], decoderLength: d.decoderMaskBias.shape[2], ...d }, labels: d, headRows: 3 });
          assert.equal(stack.lossRows?.rows, 4 * 5, "B·T rows");
          try {
            const [loss, g] = await rematEncoderDecoderValueAndGrad(stack, p.method);
            return [loss, { method: g }];
          } finally {
            stack.dispose();
            tree.dispose(d);
          }
        },
      };
      await agree(chunked, params, data.map((p) => p.index), `${name} chunked head`);
      tree.dispose(params);
      method.dispose();
    }
  });

  for (const keepLayers of [0, 3]) test(`frees what it allocates (keeping ${keepLayers} blocks' residuals)`, async () => {
    const bb = models.get("tiny-t5") as Seq2seqBackbone;
    const live = await trackLiveBuffers();
    const method = createMethod({ method: "propetl-prefix", ...SMALL }, bb.config) as PetlMethod<unknown>;
    const params: Seq2seqTrainable<unknown> = { method: method.init(bb.config, bb.params, 1) };
    const data = pairs(bb.config);
    const objective = seq2seqObjective(bb, method, data, { keepLayers });
    const run = async (): Promise<void> => {
      const [loss, grads] = await (objective.valueAndGrad as NonNullable<typeof objective.valueAndGrad>)(tree.ref(params), objective.toDevice(data.map((p) => p.index)));
      await scalar(loss);
      tree.dispose(grads);
    };
    await run();
    const n0 = live();
    for (let i = 0; i < 3; i++) await run();
    assert.equal(live(), n0, "live buffers after three more steps");
    tree.dispose(params);
    method.dispose();
  });

  test("resume fingerprints leave remat out (runs started before T5 had it resume)", () => {
    const h = { epochs: 2, batchSize: 8, remat: "auto" as const };
    assert.deepEqual(withoutRemat(h), { epochs: 2, batchSize: 8 });
    assert.deepEqual(withoutRemat({ ...h, remat: true }), withoutRemat({ ...h, remat: false }));
    assert.equal(h.remat, "auto", "the input is not changed");
  });

  test("full fine-tuning and remat: false keep valueAndGrad", () => {
    const bb = models.get("tiny-t5") as Seq2seqBackbone;
    const full = createMethod({ method: "full" }, bb.config) as PetlMethod<unknown>;
    assert.equal(seq2seqObjective(bb, full, []).valueAndGrad, undefined);
    const lora = createMethod({ method: "lora", ...SMALL }, bb.config) as PetlMethod<unknown>;
    assert.equal(seq2seqObjective(bb, lora, [], { remat: false }).valueAndGrad, undefined);
    assert.ok(seq2seqObjective(bb, lora, []).valueAndGrad);
  });
});
