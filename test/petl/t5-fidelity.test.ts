/**
 * PETL on T5 against PyTorch (scripts/make_t5_petl_fixtures.py, fixtures in
 * test/fixtures/petl-t5/): with the fixture's PETL tensors (and, for ProPETL, its scores, hence
 * its masks), the teacher-forced loss on the padded encoder/decoder batch is within 1e-4 and
 * the gradients of every PETL tensor (prototype, scores, LoRA A/B, adapters) within 2e-3
 * relative — adapter, LoRA and prefix placed as DESIGN.md says, on T5 v1.0 and v1.1.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { readSafetensorsFileSync, toFloat32 } from "../../src/io/safetensors.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { disposeT5Batch, disposeT5Labels, makeT5Batch, makeT5Labels, shiftRight } from "../../src/models/t5/batch.js";
import { isT5Config } from "../../src/models/t5/config.js";
import { t5Forward, t5LmLogits, t5Loss } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import type { Unit } from "../../src/petl/method.js";
import type { PrefixSource } from "../../src/petl/prefix.js";
import type { ModularParams } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { FIXTURES, compare, modelFixtureDir, readExpected } from "../helpers/fixtures.js";

before(async () => {
  await initEngine();
});

/** The fixture's module options (scripts/make_t5_petl_fixtures.py: BN, RANK, ALPHA, K). */
const OPTIONS = { bottleneck: 4, rank: 2, alpha: 4, k: 0.5, prefixLength: 3, prefixHidden: 8 };

for (const model of ["tiny-t5", "tiny-t5-v1_1"]) {
  describe(`PETL on ${model} matches PyTorch`, () => {
    for (const method of ["adapter", "propetl-adapter", "lora", "propetl-lora", "prefix", "propetl-prefix"] as const) {
      test(`${method}: loss within 1e-4, gradients within 2e-3 relative`, async () => {
        const loaded = await loadBackboneDir(modelFixtureDir(model));
        const cfg = loaded.config;
        if (!isT5Config(cfg)) throw new Error(`${model} is not T5`);
        const params = loaded.encoder as T5Params;
        const exp = readExpected(model);
        const [B, S] = exp.shape("input_ids");
        const batch = makeT5Batch(cfg, {
          batchSize: B,
          encoderLength: S,
          inputIds: exp.i32("input_ids"),
          attentionMask: exp.i32("attention_mask"),
          decoderLength: exp.shape("labels")[1],
          decoderInputIds: shiftRight(cfg, exp.i32("labels"), B),
          decoderAttentionMask: exp.i32("decoder_attention_mask"),
        });
        const labels = makeT5Labels(cfg, exp.i32("labels"));
        const file = path.join(FIXTURES, "petl-t5", model, `${method}.safetensors`);
        const st = readSafetensorsFileSync(file);
        const host = (name: string): Float32Array => {
          const e = st.tensors.get(name);
          if (!e) throw new Error(`${file}: no tensor ${name}`);
          return toFloat32(e, name, file);
        };
        const dev = (name: string): JArray => np.array(host(name)).reshape(st.tensors.get(name)?.shape ?? []);

        const sizes = method.endsWith("lora")
          ? { rank: OPTIONS.rank, alpha: OPTIONS.alpha }
          : method.endsWith("prefix")
            ? { prefixLength: OPTIONS.prefixLength, prefixHidden: OPTIONS.prefixHidden }
            : { bottleneck: OPTIONS.bottleneck };
        const m = createMethod({ method, ...sizes, ...(method.startsWith("propetl") ? { k: OPTIONS.k } : {}) }, cfg);
        const spec = m.stateSpec(cfg);
        const unitNames = [...new Set([...spec.tensors.keys()].map((n) => n.split(".").pop() as string))];
        // Positions in the library's order; the fixture follows the same numbering.
        const positionNames = [...new Set([...spec.tensors.keys(), ...[...spec.masks.keys()].map((n) => n.replace(/^mask\./, ""))].filter((n) => !n.startsWith("prototype.")).map((n) => n.split(".").slice(0, -1).join(".")))];
        const unit = (prefix: string, names: string[]): Unit => Object.fromEntries(names.map((t) => [t, dev(`${prefix}${t}`)]));
        type Source = Unit[] | PrefixSource;
        let trainable: ModularParams<Source>;
        const gradNames: [string, (g: ModularParams<Source>) => JArray][] = [];
        const prefixOf = (g: ModularParams<Source>): PrefixSource => g.source as PrefixSource;
        const unitsOf = (g: ModularParams<Source>): Unit[] => g.source as Unit[];
        if (method.endsWith("prefix")) {
          const source: PrefixSource = { embedding: dev("embedding"), mlp: { l1: { w: dev("mlp.l1.w"), b: dev("mlp.l1.b") }, l2: { w: dev("mlp.l2.w"), b: dev("mlp.l2.b") } } };
          trainable = { source };
          gradNames.push(["embedding", (g) => prefixOf(g).embedding]);
          for (const l of ["l1", "l2"] as const) for (const x of ["w", "b"] as const) gradNames.push([`mlp.${l}.${x}`, (g) => prefixOf(g).mlp[l][x]]);
          if (method.startsWith("propetl")) {
            trainable.scores = positionNames.map((_, p) => unit(`scores.${p}.`, ["key_value"]));
            positionNames.forEach((_, p) => gradNames.push([`scores.${p}.key_value`, (g) => (g.scores as Unit[])[p].key_value]));
          }
        } else if (method.startsWith("propetl")) {
          const masked = [...spec.masks.keys()].filter((n) => n.startsWith(`mask.${positionNames[0]}.`)).map((n) => n.split(".").pop() as string);
          trainable = { source: [unit("prototype.", unitNames)], scores: positionNames.map((_, p) => unit(`scores.${p}.`, masked)) };
          for (const t of unitNames) gradNames.push([`prototype.${t}`, (g) => unitsOf(g)[0][t]]);
          positionNames.forEach((_, p) => masked.forEach((t) => gradNames.push([`scores.${p}.${t}`, (g) => (g.scores as Unit[])[p][t]])));
        } else {
          trainable = { source: positionNames.map((pos) => unit(`${pos}.`, unitNames)) };
          positionNames.forEach((pos, p) => unitNames.forEach((t) => gradNames.push([`${pos}.${t}`, (g) => unitsOf(g)[p][t]])));
        }
        assert.equal(gradNames.length * 2 + 1, st.tensors.size, "every fixture tensor is compared");

        const lossFn = (p: ModularParams<Source>): JArray => {
          const hooks = m.hooks(p, { batchSize: B, training: true });
          const loss = t5Loss(cfg, t5LmLogits(cfg, params, t5Forward(cfg, params, batch, hooks)), labels);
          tree.dispose(p);
          return loss;
        };
        const [loss, grads] = valueAndGrad(lossFn)(trainable);
        const lossV = (await loss.data())[0];
        assert.ok(Math.abs(lossV - host("loss")[0]) < 1e-4, `loss ${lossV} vs ${host("loss")[0]}`);
        let worst = 0;
        for (const [name, pick] of gradNames) {
          const c = compare(await pick(grads).ref.data(), host(`grad.${name}`));
          assert.ok(c.rel < 2e-3, `grad.${name}: relative error ${c.rel}`);
          worst = Math.max(worst, c.rel);
        }
        console.log(`${model} ${method}: loss ${lossV.toFixed(6)} (|Δ| ${Math.abs(lossV - host("loss")[0]).toExponential(2)}), ${gradNames.length} gradients, worst relative error ${worst.toExponential(2)}`);
        tree.dispose(grads);
        m.dispose();
        disposeT5Batch(batch);
        disposeT5Labels(labels);
        tree.dispose(params);
      });
    }
  });
}
