/**
 * Text-to-text fine-tuning on tiny-t5 (train/seq2seq.ts), at the level of token ids: a copy
 * task that a PETL method on the frozen random backbone must learn (teacher-forced loss falls,
 * greedy generations get closer to the references), step-interval evaluation, bit-identical
 * resume, the generation metric's scoring, and live buffers flat over training steps.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import type { T5Params } from "../../src/models/t5/params.js";
import type { PetlMethod } from "../../src/petl/method.js";
import { createMethod } from "../../src/petl/registry.js";
import type { EncodedPair } from "../../src/train/seq2seq-batching.js";
import { generateIds, scoreGenerations, seq2seqDeviceInputs, seq2seqFinetune, seq2seqLoss } from "../../src/train/seq2seq.js";
import type { Seq2seqHyper, Seq2seqTrainable } from "../../src/train/seq2seq.js";
import { namedLeaves } from "../../src/train/tree-util.js";
import { TrainingInterrupted } from "../../src/train/trainer.js";
import type { TrainEvent } from "../../src/train/trainer.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { tempDir } from "./helpers.js";
import { trainStateFile } from "../../src/train/train-state.js";

let cfg: T5Config;
let params: T5Params;
let dir: string;

before(async () => {
  await initEngine();
  const m = await loadBackboneDir(modelFixtureDir("tiny-t5"));
  if (!isT5Config(m.config)) throw new Error("tiny-t5 is not a T5 model");
  cfg = m.config;
  params = m.encoder as T5Params;
  dir = tempDir();
});
after(() => {
  tree.dispose(params);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Seeded pairs: a source repeating one id c (3..6) 2..5 times, and the target "c EOS": a small
 * module on the frozen random model can learn to read c from the encoder.
 */
function copyPairs(n: number, seed: number): EncodedPair[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: n }, (_, index) => {
    const len = 2 + Math.floor(next() * 4);
    const c = 3 + Math.floor(next() * 4);
    return { inputIds: Int32Array.from([...Array<number>(len).fill(c), 1]), labels: Int32Array.from([c, 1]), index };
  });
}

/** Ids as text for the metric: each content id becomes a 4-word phrase, so that BLEU's 4-grams can match. */
const words = (ids: readonly number[]): string => ids.filter((t) => t > 1).map((t) => `a${t} b${t} c${t} d${t}`).join(" ");

const train = copyPairs(64, 1);
const validation = copyPairs(12, 2);
const references = validation.map((p) => words(Array.from(p.labels)));

function hyper(over: Partial<Seq2seqHyper> = {}): Seq2seqHyper {
  return {
    epochs: 2,
    batchSize: 8,
    gradAccumSteps: 1,
    lr: 1e-2,
    maskLr: 3e-2,
    weightDecay: 0,
    warmupRatio: 0,
    maxGradNorm: 1,
    seed: 3,
    evalBatchSize: 12,
    generation: { maxNewTokens: 7, numBeams: 1 },
    ...over,
  };
}

async function meanLoss(method: PetlMethod<unknown>, p: Seq2seqTrainable<unknown>, data: readonly EncodedPair[]): Promise<number> {
  const d = seq2seqDeviceInputs(cfg, data);
  const loss = seq2seqLoss({ config: cfg, params }, method, p, d, false);
  tree.dispose(d);
  return (await loss.data())[0];
}

async function leafData(t: unknown): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [p, a] of namedLeaves(t)) out.set(p, (await a.ref.data()) as Float32Array);
  return out;
}

describe("seq2seq fine-tuning on tiny-t5", () => {
  test("a PETL method learns a repeated-token task: loss falls, generations improve, evaluation every 4 steps", async () => {
    const method = createMethod({ method: "adapter", bottleneck: 16 }) as PetlMethod<unknown>;
    const init: Seq2seqTrainable<unknown> = { method: method.init(cfg, params, 3) };
    const before0 = await meanLoss(method, init, validation);
    const gen0 = await generateIds({ config: cfg, params }, method, init, validation, { batchSize: 12, generation: { maxNewTokens: 7, numBeams: 1 } });
    const exact = (gen: number[][]): number => gen.filter((g, i) => words(g) === references[i]).length;
    const hits0 = exact(gen0);
    tree.dispose(init);
    const events: TrainEvent[] = [];
    const res = await seq2seqFinetune<unknown>({
      backbone: { config: cfg, params },
      method,
      tokenizer: { decode: (ids: readonly number[]) => words(ids) },
      metric: "bleu",
      train,
      validation,
      validationReferences: references,
      hyper: hyper({ epochs: 4, evalSteps: 4, lr: 3e-2 }),
      onEvent: (e) => events.push(e),
    });
    try {
      const evals = events.filter((e): e is Extract<TrainEvent, { type: "eval" }> => e.type === "eval");
      // 8 steps per epoch, 4 epochs: evaluations at every 4th step (epoch ends included once each).
      assert.deepEqual(
        evals.map((e) => e.step),
        Array.from({ length: 8 }, (_, i) => 4 * (i + 1)),
      );
      const best = res.best ?? res.params;
      const after1 = await meanLoss(method, best, validation);
      assert.ok(after1 < before0 - 0.5, `validation loss ${before0} -> ${after1}`);
      const gen1 = await generateIds({ config: cfg, params }, method, best, validation, { batchSize: 12, generation: { maxNewTokens: 7, numBeams: 1 } });
      const hits1 = exact(gen1);
      assert.ok(hits1 > hits0 && hits1 >= validation.length / 2, `exact generations ${hits0} -> ${hits1} of ${validation.length}`);
      assert.equal(res.bestRecord?.main, Math.max(...evals.map((e) => e.main)));
      assert.ok(Math.max(...evals.map((e) => e.main)) > evals[0].main, `validation BLEU over evaluations: ${evals.map((e) => e.main.toFixed(1)).join(", ")}`);
      for (const g of gen1) assert.ok(g.length <= 7);
    } finally {
      tree.dispose(res.params);
      if (res.best) tree.dispose(res.best);
      method.dispose();
    }
  });

  test("an interrupted run resumes bit-identically, live buffers flat over steps", async () => {
    const file = path.join(dir, "state.safetensors");
    const runOnce = async (abortAt?: number, resume = false): Promise<Map<string, Float32Array> | null> => {
      const method = createMethod({ method: "lora", rank: 4 }) as PetlMethod<unknown>;
      const ctl = new AbortController();
      const growth: string[] = [];
      let prev: number | undefined;
      const liveNow = await trackLiveBuffers();
      try {
        const res = await seq2seqFinetune<unknown>({
          backbone: { config: cfg, params },
          method,
          tokenizer: { decode: (ids: readonly number[]) => words(ids) },
          metric: "bleu",
          train,
          validation,
          validationReferences: references,
          hyper: hyper({ evalSteps: 3 }),
          checkpoint: { store: trainStateFile(file) },
          resume,
          fingerprint: "seq2seq-test",
          signal: ctl.signal,
          onEvent: (e) => {
            // Consecutive steps with no evaluation between them (an evaluation may keep new best params) hold the same live buffers.
            if (e.type === "eval") prev = undefined;
            if (e.type === "step") {
              const n = liveNow();
              if (prev !== undefined && e.step > 2 && n !== prev) growth.push(`step ${e.step}: ${prev} -> ${n}`);
              prev = n;
              if (e.step === abortAt) ctl.abort();
            }
          },
        });
        const out = await leafData(res.params);
        tree.dispose(res.params);
        if (res.best) tree.dispose(res.best);
        assert.deepEqual(growth, [], "live buffers changed between steps");
        return out;
      } catch (e) {
        if (e instanceof TrainingInterrupted) return null;
        throw e;
      } finally {
        method.dispose();
      }
    };
    const full = await runOnce();
    rmSync(file, { force: true });
    assert.equal(await runOnce(5), null);
    const resumed = await runOnce(undefined, true);
    assert.ok(full && resumed);
    for (const [name, a] of full) assert.deepEqual(resumed.get(name), a, name);
  });

  test("full fine-tuning tunes the whole encoder–decoder; the frozen backbone is left as it was", async () => {
    const method = createMethod({ method: "full" }) as PetlMethod<unknown>;
    const frozenBefore = await leafData(params);
    const init: Seq2seqTrainable<unknown> = { method: method.init(cfg, params, 3) };
    const before0 = await meanLoss(method, init, validation);
    tree.dispose(init);
    const res = await seq2seqFinetune<unknown>({
      backbone: { config: cfg, params },
      method,
      tokenizer: { decode: (ids: readonly number[]) => words(ids) },
      metric: "bleu",
      train,
      validation,
      validationReferences: references,
      hyper: hyper({ epochs: 2, lr: 3e-3 }),
    });
    try {
      const best = res.best ?? res.params;
      const after1 = await meanLoss(method, best, validation);
      assert.ok(after1 < before0 - 0.5, `validation loss ${before0} -> ${after1}`);
      // Every backbone tensor is trained (the decoder's too, and the shared embeddings) ...
      const tuned = await leafData((best.method as { encoder: unknown }).encoder);
      const moved = [...tuned].filter(([name, a]) => a.some((v, i) => v !== frozenBefore.get(name)?.[i])).map(([name]) => name);
      for (const name of ["shared", "decoder.layers.0.selfAttention.q.w", "encoder.layers.0.ffn.wo.w"]) {
        assert.ok(tuned.has(name), `no trainable leaf ${name}: ${[...tuned.keys()].slice(0, 8).join(", ")}`);
        assert.ok(moved.includes(name), `${name} did not change`);
      }
      // ... and the frozen tree the run started from is untouched.
      const frozenAfter = await leafData(params);
      for (const [name, a] of frozenBefore) assert.deepEqual(frozenAfter.get(name), a, name);
    } finally {
      tree.dispose(res.params);
      if (res.best) tree.dispose(res.best);
      method.dispose();
    }
  });

  test("scores: BLEU as sacreBLEU, ROUGE F-measures x100 with ROUGE-2 as the main metric", () => {
    const b = scoreGenerations("bleu", ["the cat sat on the mat"], ["the cat sat on the mat"]);
    assert.ok(Math.abs(b.main - 100) < 1e-9, String(b.main));
    const half = scoreGenerations("bleu", ["the cat sat on the mat today"], ["the cat sat on the mat"]);
    assert.ok(half.main > 50 && half.main < 100, String(half.main));
    const r = scoreGenerations("rouge2", ["the cat sat"], ["the cat sat"]);
    assert.ok(Math.abs(r.main - 100) < 1e-9, String(r.main));
    assert.deepEqual(Object.keys(r.scores).sort(), ["rouge1", "rouge2", "rougeL"]);
    assert.throws(() => scoreGenerations("bleu", ["a"], []), /1 predictions for 0 references/);
  });
});
