/**
 * Forward and gradient fidelity of the BERT/RoBERTa encoders against PyTorch fixtures
 * (scripts/make_model_fixtures.py): logits within 1e-4 max abs, gradients within 1e-3 relative.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { loadModelDir } from "../../src/models/load.js";
import { classify, disposeBatch, encode, makeBatch, sequenceLoss } from "../../src/models/bert/encoder.js";
import type { LayerHooks } from "../../src/models/hooks.js";
import { compare, modelFixtureDir, readExpected } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

for (const name of ["tiny-bert", "tiny-roberta", "tiny-bert-relu"]) {
  describe(`fidelity ${name}`, () => {
    test("forward logits and last hidden state match PyTorch", async () => {
      const exp = readExpected(name);
      const model = await loadModelDir(modelFixtureDir(name));
      assert.equal(model.headSource, "checkpoint");
      const [B, T] = exp.shape("input_ids");
      const batch = makeBatch(model.config, {
        batchSize: B,
        seqLen: T,
        inputIds: exp.i32("input_ids"),
        attentionMask: exp.i32("attention_mask"),
        tokenTypeIds: exp.i32("token_type_ids"),
      });
      const hidden = encode(model.config, model.encoder, batch);
      const logits = classify(model.head, hidden.ref);
      const h = compare(await hidden.data(), exp.f32("last_hidden_state"));
      const l = compare(await logits.data(), exp.f32("logits"));
      assert.ok(h.maxAbs < 1e-4, `last_hidden_state max abs ${h.maxAbs}`);
      assert.ok(l.maxAbs < 1e-4, `logits max abs ${l.maxAbs}`);
      disposeBatch(batch);
      tree.dispose(model.encoder);
      tree.dispose(model.head);
    });

    test("gradients at the hook points and w.r.t. every parameter match PyTorch", async () => {
      const exp = readExpected(name);
      const model = await loadModelDir(modelFixtureDir(name));
      const cfg = model.config;
      const [B, T] = exp.shape("input_ids");
      const H = cfg.hiddenSize;
      const batch = makeBatch(cfg, {
        batchSize: B,
        seqLen: T,
        inputIds: exp.i32("input_ids"),
        attentionMask: exp.i32("attention_mask"),
        tokenTypeIds: exp.i32("token_type_ids"),
      });
      const labels = cfg.numLabels === 1 ? np.array(exp.f32("labels")) : np.array(exp.i32("labels"), { dtype: np.int32 });
      type Deltas = { query: JArray; value: JArray; attentionOutput: JArray; ffnOutput: JArray }[];
      const deltas: Deltas = Array.from({ length: cfg.numLayers }, () => ({
        query: np.zeros([B, T, H]),
        value: np.zeros([B, T, H]),
        attentionOutput: np.zeros([B, T, H]),
        ffnOutput: np.zeros([B, T, H]),
      }));
      const lossFn = (params: { encoder: typeof model.encoder; head: typeof model.head; deltas: Deltas }) => {
        const hooks: LayerHooks[] = params.deltas.map((d) => ({
          query: (_x, q) => q.add(d.query.ref),
          value: (_x, v) => v.add(d.value.ref),
          attentionOutput: (h) => h.add(d.attentionOutput.ref),
          ffnOutput: (h) => h.add(d.ffnOutput.ref),
        }));
        const hidden = encode(cfg, params.encoder, batch, { encoder: hooks });
        const loss = sequenceLoss(classify(params.head, hidden), labels.ref, cfg.numLabels);
        tree.dispose(params);
        return loss;
      };
      const [loss, grads] = valueAndGrad(lossFn)({ encoder: model.encoder, head: model.head, deltas });
      const lossV = (await loss.data())[0];
      assert.ok(Math.abs(lossV - exp.f32("loss")[0]) < 1e-4, `loss ${lossV} vs ${exp.f32("loss")[0]}`);
      const snake = { query: "query", value: "value", attentionOutput: "attention_output", ffnOutput: "ffn_output" } as const;
      for (let i = 0; i < cfg.numLayers; i++) {
        for (const k of ["query", "value", "attentionOutput", "ffnOutput"] as const) {
          const key = `grad.layer.${i}.${snake[k]}`;
          const c = compare(await grads.deltas[i][k].ref.data(), exp.f32(key));
          assert.ok(c.rel < 1e-3, `${key}: relative error ${c.rel}`);
        }
      }
      // Every parameter gradient (full fine-tuning), through the HF names.
      const { exportHfTensors } = await import("../../src/models/load.js");
      const hfGrads = await exportHfTensors(cfg, grads.encoder, grads.head);
      let checked = 0;
      for (const [hfName, t] of Object.entries(hfGrads)) {
        const key = exp.has(`grad.param.${hfName}`) ? `grad.param.${hfName}` : `grad.param.${hfName.replace(/^(bert|roberta)\./, "")}`;
        const c = compare(t.data as Float32Array, exp.f32(key));
        assert.ok(c.rel < 1e-3 || c.maxAbs < 1e-7, `${key}: relative error ${c.rel}`);
        checked++;
      }
      assert.ok(checked > 10);
      tree.dispose(grads);
      labels.dispose();
      disposeBatch(batch);
    });
  });
}

test("a pad token at an attended position gives its embedding row no gradient (HF padding_idx)", async () => {
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  const cfg = model.config;
  const B = 2, T = 6;
  const ids = Int32Array.from([2, 5, cfg.padTokenId, 7, 9, 11, 2, cfg.padTokenId, 8, 4, 6, 3]);
  const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) });
  const labels = np.array(Int32Array.from([0, 2]), { dtype: np.int32 });
  const head = model.head;
  const lossFn = (enc: typeof model.encoder) => {
    const loss = sequenceLoss(classify(head, encode(cfg, enc, batch)), labels.ref, cfg.numLabels);
    tree.dispose(enc);
    return loss;
  };
  const [loss, g] = valueAndGrad(lossFn)(tree.ref(model.encoder));
  loss.dispose();
  const H = cfg.hiddenSize;
  const word = (await g.embeddings.word.ref.data()) as Float32Array;
  const padRow = word.subarray(cfg.padTokenId * H, (cfg.padTokenId + 1) * H);
  const otherRow = word.subarray(5 * H, 6 * H);
  assert.ok(padRow.every((v) => v === 0), "pad row must get no gradient");
  assert.ok(otherRow.some((v) => v !== 0), "an attended non-pad token's row gets a gradient");
  tree.dispose([g, model.encoder, head, labels]);
  disposeBatch(batch);
});
