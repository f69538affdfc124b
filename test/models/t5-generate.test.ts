/**
 * T5 generation (src/models/t5/generate.ts): greedy search equals a naive greedy loop that
 * re-runs the full teacher-forced decoder for every token; greedy and beam search give the
 * ids of the PyTorch reference (scripts/t5_generate_reference.py, fixtures by
 * scripts/make_t5_generate_fixtures.py) on tiny-t5 and tiny-t5-v1_1 with padded batches;
 * a padded batch gives every row the ids it gets alone; the live-array count is flat across
 * generated tokens; bad options are errors.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { disposeT5Batch, disposeT5EncoderBatch, makeT5Batch, makeT5EncoderBatch } from "../../src/models/t5/batch.js";
import { isT5Config, parseT5Config } from "../../src/models/t5/config.js";
import { disposeT5DecoderCache, startT5Decoding, t5DecodeStep } from "../../src/models/t5/decode-cache.js";
import { initT5 } from "../../src/models/t5/init.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { t5Generate } from "../../src/models/t5/generate.js";
import type { T5GenerateSource } from "../../src/models/t5/generate.js";
import { t5Encode, t5Forward, t5LmLogits } from "../../src/models/t5/model.js";
import type { T5Params } from "../../src/models/t5/params.js";
import type { ModelHooks } from "../../src/models/hooks.js";
import { HostRng } from "../../src/petl/mask.js";
import type { MethodState } from "../../src/petl/method.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { FIXTURES, modelFixtureDir, readExpected } from "../helpers/fixtures.js";
import { readFileSync } from "node:fs";
import path from "node:path";

before(async () => {
  await initEngine();
});

interface Model {
  cfg: T5Config;
  params: T5Params;
}

async function loadT5(name: string): Promise<Model> {
  const model = await loadBackboneDir(modelFixtureDir(name));
  if (!isT5Config(model.config)) throw new Error(`${name} is not a T5 model`);
  return { cfg: model.config, params: model.encoder as T5Params };
}

/** The padded encoder batch of a model fixture's expected.safetensors. */
function fixtureSource(name: string): T5GenerateSource {
  const exp = readExpected(name);
  const [B, S] = exp.shape("input_ids");
  return { batchSize: B, encoderLength: S, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask") };
}

/**
 * Greedy search the slow way: for each new token, the full decoder over the whole prefix
 * (no cache), argmax of the last position; rows stop at `eos`.
 */
async function naiveGreedy(m: Model, src: T5GenerateSource, maxNewTokens: number, eos: number, hooks?: ModelHooks): Promise<number[][]> {
  const { cfg, params } = m;
  const B = src.batchSize;
  const out: number[][] = Array.from({ length: B }, () => []);
  const prefix: number[][] = Array.from({ length: B }, () => [cfg.decoderStartTokenId]);
  const finished = new Array<boolean>(B).fill(false);
  for (let step = 0; step < maxNewTokens && !finished.every((f) => f); step++) {
    const T = step + 1;
    const batch = makeT5Batch(cfg, { ...src, decoderLength: T, decoderInputIds: Int32Array.from(prefix.flat()) });
    const logits = (await t5LmLogits(cfg, params, t5Forward(cfg, params, batch, hooks)).data()) as Float32Array;
    disposeT5Batch(batch);
    for (let r = 0; r < B; r++) {
      const row = logits.subarray((r * T + T - 1) * cfg.vocabSize, (r * T + T) * cfg.vocabSize);
      let best = 0;
      for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
      const next = finished[r] ? cfg.padTokenId : best;
      prefix[r].push(next);
      if (!finished[r]) out[r].push(next);
      if (next === eos) finished[r] = true;
    }
  }
  return out;
}

for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
  describe(`greedy search (${name})`, () => {
    let m: Model;
    before(async () => {
      m = await loadT5(name);
    });
    after(() => tree.dispose(m.params));

    test("= a naive greedy loop over the full decoder, with an EOS the model emits (rows stop at different steps)", async () => {
      const src = fixtureSource(name);
      // Without EOS: 12 tokens per row; then use a token from the middle of row 0 as EOS.
      const free = await naiveGreedy(m, src, 12, -1);
      const got = await t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 12, eosTokenId: null });
      assert.deepEqual(got.sequences, free);
      const eos = free[0][3];
      const want = await naiveGreedy(m, src, 12, eos);
      const stopped = await t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 12, eosTokenId: eos });
      assert.deepEqual(stopped.sequences, want);
      assert.ok(want.some((s) => s.length < 12 && s[s.length - 1] === eos), "some row ends early with EOS");
    });

    test("with PETL modules (prefix + LoRA from stored states): = the naive loop with the same hooks; beam search runs them on B·beams rows", async () => {
      const src = fixtureSource(name);
      for (const method of ["propetl-prefix", "lora"] as const) {
        const meth = createMethod({ method, rank: 4, prefixLength: 3, prefixHidden: 16 }, m.cfg);
        const spec = meth.stateSpec(m.cfg);
        const rng = new HostRng(21);
        const state: MethodState = { tensors: new Map(), masks: new Map() };
        for (const [n, shape] of spec.tensors) state.tensors.set(n, { shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1), 0.3) });
        for (const [n, shape] of spec.masks) state.masks.set(n, { shape, bits: Uint8Array.from(rng.uniformArray(shape.reduce((a, b) => a * b, 1), 0, 1), (u) => (u < 0.5 ? 1 : 0)) });
        const mat = meth.materializeState(m.cfg, state);
        try {
          const hooks = materializedHooks(mat);
          const want = await naiveGreedy(m, src, 8, -1, hooks);
          assert.notDeepEqual(want, await naiveGreedy(m, src, 8, -1), `${method} changes the output`);
          assert.deepEqual((await t5Generate(m.cfg, m.params, hooks, src, { maxNewTokens: 8, eosTokenId: null })).sequences, want, method);
          const beams = await t5Generate(m.cfg, m.params, hooks, src, { maxNewTokens: 8, numBeams: 3, eosTokenId: null });
          assert.equal(beams.sequences.length, src.batchSize);
          assert.ok(beams.sequences.every((s) => s.length === 8));
        } finally {
          disposeMaterialized(mat);
          meth.dispose();
        }
      }
    });

    test("a padded batch gives every row the ids it gets alone, unpadded (greedy and beams, bare and with prefix modules)", async () => {
      const src = fixtureSource(name);
      const S = src.encoderLength;
      const rows = Array.from({ length: src.batchSize }, (_, b) => {
        const n = src.attentionMask.subarray(b * S, (b + 1) * S).reduce((a, x) => a + x, 0);
        return src.inputIds.slice(b * S, b * S + n);
      });
      assert.ok(rows.some((r) => r.length < S), "the batch pads some row");
      const meth = createMethod({ method: "propetl-prefix", prefixLength: 3, prefixHidden: 16 }, m.cfg);
      const spec = meth.stateSpec(m.cfg);
      const rng = new HostRng(22);
      const state: MethodState = { tensors: new Map(), masks: new Map() };
      for (const [n, shape] of spec.tensors) state.tensors.set(n, { shape, data: rng.normalArray(shape.reduce((a, b) => a * b, 1), 0.3) });
      for (const [n, shape] of spec.masks) state.masks.set(n, { shape, bits: Uint8Array.from(rng.uniformArray(shape.reduce((a, b) => a * b, 1), 0, 1), (u) => (u < 0.5 ? 1 : 0)) });
      const mat = meth.materializeState(m.cfg, state);
      try {
        for (const hooks of [undefined, materializedHooks(mat)]) {
          for (const numBeams of [1, 3]) {
            const batched = await t5Generate(m.cfg, m.params, hooks, src, { maxNewTokens: 8, numBeams });
            for (const [b, r] of rows.entries()) {
              const alone = await t5Generate(m.cfg, m.params, hooks, { batchSize: 1, encoderLength: r.length, inputIds: r, attentionMask: new Int32Array(r.length).fill(1) }, { maxNewTokens: 8, numBeams });
              assert.deepEqual(batched.sequences[b], alone.sequences[0], `row ${b}, ${numBeams} beam(s), ${hooks ? "prefix" : "bare"}`);
            }
          }
        }
      } finally {
        disposeMaterialized(mat);
        meth.dispose();
      }
    });
  });
}

/** test/fixtures/t5-generate/<model>.json (scripts/make_t5_generate_fixtures.py). */
interface GenerateFixture {
  model: string;
  input_ids: number[][];
  attention_mask: number[][];
  cases: {
    name: string;
    num_beams: number;
    length_penalty: number;
    early_stopping: boolean | "never";
    max_new_tokens: number;
    eos_token_id: number | null;
    pad_token_id: number;
    decoder_start_token_id: number;
    sequences: number[][];
  }[];
}

function readGenerateFixture(name: string): GenerateFixture {
  return JSON.parse(readFileSync(path.join(FIXTURES, "t5-generate", `${name}.json`), "utf8")) as GenerateFixture;
}

for (const name of ["tiny-t5", "tiny-t5-v1_1"]) {
  describe(`generated ids = the PyTorch reference (${name}, padded batch)`, () => {
    const fx = readGenerateFixture(name);
    let m: Model;
    before(async () => {
      m = await loadT5(name);
    });
    after(() => tree.dispose(m.params));
    const B = fx.input_ids.length;
    const S = fx.input_ids[0].length;
    const src: T5GenerateSource = { batchSize: B, encoderLength: S, inputIds: Int32Array.from(fx.input_ids.flat()), attentionMask: Int32Array.from(fx.attention_mask.flat()) };

    test("the fixture exercises padding and stopping at EOS", () => {
      assert.ok(fx.attention_mask.some((r) => r.includes(0)), "padded inputs");
      const early = fx.cases.filter((c) => c.eos_token_id !== null && c.sequences.some((s) => s.length < c.max_new_tokens && s[s.length - 1] === c.eos_token_id));
      assert.ok(early.some((c) => c.num_beams === 1) && early.some((c) => c.num_beams === 3) && early.some((c) => c.num_beams === 4), "EOS before the length limit in greedy, 3- and 4-beam cases");
    });

    for (const c of fx.cases) {
      test(c.name, async () => {
        const got = await t5Generate(m.cfg, m.params, undefined, src, {
          maxNewTokens: c.max_new_tokens,
          numBeams: c.num_beams,
          lengthPenalty: c.length_penalty,
          earlyStopping: c.early_stopping,
          eosTokenId: c.eos_token_id,
          padTokenId: c.pad_token_id,
          decoderStartTokenId: c.decoder_start_token_id,
        });
        assert.deepEqual(got.sequences, c.sequences);
      });
    }
  });
}

describe("generation options and memory", () => {
  let m: Model;
  before(async () => {
    m = await loadT5("tiny-t5");
  });
  after(() => tree.dispose(m.params));

  test("the live-array count is the same after every step (greedy and beam search)", async () => {
    const { trackLiveBuffers } = await import("../../src/engine/live-buffers.js");
    const live = await trackLiveBuffers();
    const src = fixtureSource("tiny-t5");
    for (const numBeams of [1, 3]) {
      const counts: number[] = [];
      const before = live();
      await t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 24, numBeams, eosTokenId: null, onStep: () => counts.push(live()) });
      assert.equal(counts.length, 24);
      assert.ok(counts.every((n) => n === counts[0]), `numBeams ${numBeams}: live arrays per step ${counts.join(",")}`);
      assert.equal(live(), before, `numBeams ${numBeams}: nothing left allocated`);
    }
  });

  test("live bytes grow by the self-attention cache alone (within the allocator's rounding); a step's peak is a fraction of an unsettled step's (6 decoder blocks)", async () => {
    const { wasmHeapStatsReader } = await import("../../src/engine/live-buffers.js");
    const heap = await wasmHeapStatsReader();
    const cfg = parseT5Config({ model_type: "t5", vocab_size: 64, d_model: 64, d_kv: 16, d_ff: 128, num_layers: 2, num_decoder_layers: 6, num_heads: 4, feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 }, "test T5");
    const params = initT5(cfg, 3);
    const [B, S, NEW] = [4, 24, 12];
    const src: T5GenerateSource = { batchSize: B, encoderLength: S, inputIds: Int32Array.from({ length: B * S }, (_, i) => 2 + ((i * 7) % 60)), attentionMask: new Int32Array(B * S).fill(1) };
    const perPosition = 2 * cfg.numHeads * cfg.dKv * 4 * cfg.numDecoderLayers; // keys + values of every block, per row
    try {
      const peaks = new Map<number, number>();
      for (const numBeams of [1, 3]) {
        const live: number[] = [];
        const peak: number[] = [];
        let last = heap({ resetPeak: true });
        await t5Generate(cfg, params, undefined, src, {
          maxNewTokens: NEW,
          numBeams,
          eosTokenId: null,
          onStep: () => {
            const h = heap({ resetPeak: true });
            live.push(h.liveBytes);
            peak.push(h.peakLiveBytes - last.liveBytes);
            last = h;
          },
        });
        // The allocator rounds blocks up (at most 2x): beam search held the old and the reordered cache between steps before its reorder was awaited (2-4x).
        const grown = live[live.length - 1] - live[0];
        const cache = NEW * B * numBeams * perPosition;
        assert.ok(grown <= 2 * cache, `numBeams ${numBeams}: live bytes grew by ${grown} over ${NEW} steps; the self-attention cache holds ${cache}`);
        peaks.set(numBeams, Math.max(...peak.slice(1)));
      }
      // The same greedy steps unsettled (t5DecodeStep: every block recorded before any runs).
      const enc = makeT5EncoderBatch(cfg, src);
      const cache = startT5Decoding(cfg, params, t5Encode(cfg, params, enc), enc.encoderMaskBias);
      disposeT5EncoderBatch(enc);
      let unsettled = 0;
      try {
        let tokens = new Int32Array(B).fill(cfg.decoderStartTokenId);
        for (let step = 0; step < NEW; step++) {
          const before = heap({ resetPeak: true });
          const ids = (await np.argmax(t5LmLogits(cfg, params, t5DecodeStep(cfg, params, cache, tokens)).reshape([B, cfg.vocabSize]), 1).data()) as Int32Array;
          if (step > 0) unsettled = Math.max(unsettled, heap().peakLiveBytes - before.liveBytes);
          tokens = Int32Array.from(ids);
        }
      } finally {
        disposeT5DecoderCache(cache);
      }
      const greedy = peaks.get(1) as number;
      assert.ok(greedy * 2 <= unsettled, `a step's peak above the live bytes: ${greedy} settled block by block vs ${unsettled} unsettled`);
    } finally {
      tree.dispose(params);
    }
  });

  test("bad options: maxNewTokens 0, numBeams 0, an EOS outside the vocabulary, mismatched input sizes", async () => {
    const src = fixtureSource("tiny-t5");
    const V = m.cfg.vocabSize;
    await assert.rejects(t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 0 }), /maxNewTokens must be an integer ≥ 1, got 0/);
    await assert.rejects(t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 4, numBeams: 0 }), /numBeams must be an integer ≥ 1, got 0/);
    await assert.rejects(t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 4, eosTokenId: V }), new RegExp(`eosTokenId ${V} is not a token id of the model \\(0\\.\\.${V - 1}\\)`));
    await assert.rejects(t5Generate(m.cfg, m.params, undefined, { ...src, batchSize: src.batchSize + 1 }, { maxNewTokens: 4 }), /inputIds has \d+ entries, expected \d+x\d+=\d+/);
    // Nothing leaks on those paths: a small generate still works.
    const ok = await t5Generate(m.cfg, m.params, undefined, src, { maxNewTokens: 2 });
    assert.equal(ok.sequences.length, src.batchSize);
  });
});
