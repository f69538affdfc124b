/** MLM masking proportions and the MLM loss against a direct log-softmax computation. */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import { maskTokens, mlmLogits, mlmLoss } from "../../src/models/bert/mlm.js";
import { loadModelDir } from "../../src/models/load.js";
import { disposeBatch, encode, makeBatch } from "../../src/models/bert/encoder.js";
import { mulberry32 } from "../../src/data/splits.js";
import { modelFixtureDir } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

/** mulberry32 gives uint32s; the masker wants floats in [0, 1). */
function uniform(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 2 ** 32;
}

test("masking selects ~15% of eligible tokens and splits them 80/10/10", () => {
  const n = 200_000;
  const ids = new Int32Array(n).map((_, i) => 10 + (i % 500));
  ids[0] = 2; // special
  const mask = new Int32Array(n).fill(1);
  mask[n - 1] = 0; // padding
  const r = maskTokens(ids, mask, { maskTokenId: 4, vocabSize: 600, specialIds: new Set([2]), random: uniform(7) });
  const frac = r.positions.length / (n - 2);
  assert.ok(Math.abs(frac - 0.15) < 0.005, `selected fraction ${frac}`);
  assert.ok(!r.positions.includes(0) && !r.positions.includes(n - 1), "special and padded tokens are never selected");
  let masked = 0, kept = 0;
  r.positions.forEach((p, j) => {
    assert.equal(r.targets[j], ids[p]);
    if (r.inputIds[p] === 4) masked++;
    else if (r.inputIds[p] === ids[p]) kept++;
  });
  const m = r.positions.length;
  assert.ok(Math.abs(masked / m - 0.8) < 0.01, `[MASK] share ${masked / m}`);
  // "unchanged" also catches random replacements that drew the same id (1/600 of them).
  assert.ok(Math.abs(kept / m - 0.1) < 0.01, `unchanged share ${kept / m}`);
  assert.throws(() => maskTokens(ids, mask, { probability: 1.5, maskTokenId: 4, vocabSize: 600, specialIds: new Set(), random: Math.random }), /probability/);
});

test("mlmLoss equals the mean negative log-softmax of the targets", async () => {
  const logits = [[1, 2, 3, 0.5], [-1, 0, 4, 2], [0.3, 0.3, 0.3, 0.3]];
  const targets = [2, 0, 3];
  const expected = logits.map((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return lse - row[targets[i]];
  }).reduce((a, b) => a + b) / 3;
  const got = (await mlmLoss(np.array(logits), np.array(Int32Array.from(targets), { dtype: np.int32 }), 4).data())[0];
  assert.ok(Math.abs(got - expected) < 1e-5, `${got} vs ${expected}`);
});

test("mlmLogits gives [N, vocab] at the selected positions, decoder tied to word embeddings", async () => {
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  const cfg = model.config;
  const H = cfg.hiddenSize;
  const head = { dense: { w: np.eye(H), b: np.zeros([H]) }, ln: { g: np.ones([H]), b: np.zeros([H]) }, bias: np.zeros([cfg.vocabSize]) };
  const B = 2, T = 5;
  const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: Int32Array.from([2, 5, 6, 7, 3, 2, 8, 9, 3, 0]), attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]), tokenTypeIds: new Int32Array(B * T) });
  const pos = np.array(Int32Array.from([1, 7]), { dtype: np.int32 });
  const logits = mlmLogits(cfg, model.encoder, head, encode(cfg, model.encoder, batch), pos);
  assert.deepEqual(logits.shape, [2, cfg.vocabSize]);
  const v = await logits.data();
  assert.ok(v.every(Number.isFinite));
  tree.dispose([head, pos, model.encoder, model.head]);
  disposeBatch(batch);
});
