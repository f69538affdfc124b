/**
 * Partial rematerialisation (train/remat.ts, `keepLayers`): the top m layers keep their
 * pullbacks from the forward pass, the others are run again. For m = 0, 1, L − 1 and L on a
 * small 4-layer BERT with ProPETL-adapter (its shared adapter's gradient sums every layer's,
 * its per-layer masks' do not) the loss and every gradient leaf equal `valueAndGrad` of the
 * classification objective's loss; live buffers stay flat across steps; an out-of-range m is
 * refused without leaking the trainable tree.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import type { EncoderParams } from "../../src/models/bert/params.js";
import { initEncoder, initHead } from "../../src/models/bert/init.js";
import { readEncoderConfig } from "../../src/models/config-file.js";
import type { PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import type { EncodedExample } from "../../src/train/batching.js";
import { classificationObjective } from "../../src/train/finetune.js";
import type { Trainable } from "../../src/train/finetune.js";
import { makeLossAndGrad } from "../../src/train/trainer.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { assertSameGradients, scalar } from "../petl/petl-helpers.js";

const L = 4;
const T = 12;
let cfg: EncoderConfig;
let encoder: EncoderParams;
let method: PetlMethod<unknown>;
let params: Trainable<unknown>;
/** Rows of different lengths (the batch is padded), alternating labels. */
const data: EncodedExample[] = [T, T - 3, T - 5].map((n, index) => ({
  inputIds: Int32Array.from({ length: n }, (_, t) => 5 + ((t * 7 + index * 13) % 190)),
  tokenTypeIds: new Int32Array(n),
  label: index % 2,
  index,
}));

before(async () => {
  await initEngine();
  const base = readEncoderConfig(path.join(REPO_ROOT, "models", "propetl-mini", "config.json")) as EncoderConfig;
  cfg = { ...base, numLayers: L, hiddenSize: 32, numHeads: 4, intermediateSize: 64, vocabSize: 200 };
  encoder = initEncoder(cfg, 1);
  method = createMethod({ method: "propetl-adapter", bottleneck: 8 }, cfg) as PetlMethod<unknown>;
  params = { method: method.init(cfg, encoder, 2), head: initHead(cfg, 2) };
});
after(() => {
  tree.dispose([params, encoder] as never);
  method.dispose();
});

/** The classification objective with the rematerialised gradient keeping `keepLayers` layers. */
function objectiveKeeping(keepLayers: number): ReturnType<typeof classificationObjective<unknown>> {
  return classificationObjective({ config: cfg, encoder }, method, data, { kind: "classification", numLabels: 2 }, { padTokenId: cfg.padTokenId }, { remat: true, keepLayers });
}

describe("partial rematerialisation: gradients equal valueAndGrad's", () => {
  for (const m of [0, 1, L - 1, L]) {
    test(`keep the top ${m} of ${L} layers`, async () => {
      const objective = objectiveKeeping(m);
      const indices = data.map((e) => e.index);
      const [plainLoss, plainGrads] = makeLossAndGrad(objective.loss, false)(tree.ref(params), objective.toDevice(indices)) as [JArray, Trainable<unknown>];
      const [remLoss, remGrads] = await (objective.valueAndGrad as NonNullable<typeof objective.valueAndGrad>)(tree.ref(params), objective.toDevice(indices));
      const nonzero = await assertSameGradients({ loss: plainLoss, grads: plainGrads }, { loss: remLoss, grads: remGrads }, 1e-5, `keep ${m}`);
      // The shared adapter, the head and every layer's mask scores.
      assert.ok(nonzero >= 2 + L, `${nonzero} gradient leaves are not zero`);
      tree.dispose([plainGrads, remGrads] as never);
    });
  }
});

describe("the partial remat path", () => {
  test("live buffers are flat across steps (keeping 2 of 4 layers)", async () => {
    const live = await trackLiveBuffers();
    const objective = objectiveKeeping(2);
    const step = async (): Promise<void> => {
      const [loss, grads] = await (objective.valueAndGrad as NonNullable<typeof objective.valueAndGrad>)(tree.ref(params), objective.toDevice(data.map((e) => e.index)));
      await scalar(loss);
      tree.dispose(grads as never);
    };
    await step();
    const n0 = live();
    for (let i = 0; i < 3; i++) await step();
    assert.equal(live(), n0, "live buffers after three more steps");
  });

  test("keepLayers outside 0 … L is refused, and the trainable tree is freed", async () => {
    const live = await trackLiveBuffers();
    for (const m of [L + 1, -1, 1.5]) {
      const objective = objectiveKeeping(m);
      const n0 = live();
      await assert.rejects(
        (objective.valueAndGrad as NonNullable<typeof objective.valueAndGrad>)(tree.ref(params), objective.toDevice(data.map((e) => e.index))),
        (e: unknown) => e instanceof RangeError && /keepLayers must be an integer from 0 to 4/.test(e.message),
      );
      assert.equal(live(), n0, `keep ${m}: nothing left behind`);
    }
  });
});
