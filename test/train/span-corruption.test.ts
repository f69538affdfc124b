/**
 * T5 span corruption (HF run_t5_mlm_flax.py): Python rounding, the raw chunk / target lengths
 * against a brute-force derivation that corrupts chunks of every length, the noise mask's
 * counts and shape, HF's sentinel rule (<extra_id_0> = len(tokenizer) - 1 first), and that the
 * input and target together give back the original chunk; and agreement with HF's own functions
 * (test/fixtures/span-corruption/hf.json, from scripts/make_span_corruption_fixture.py).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { mulberry32 } from "../../src/data/splits.js";
import {
  computeInputAndTargetLengths,
  filterWithSentinels,
  noiseCounts,
  randomSpansNoiseMask,
  roundHalfEven,
  spanCorrupt,
  SpanCorruptionError,
} from "../../src/train/span-corruption.js";
import type { SentinelOptions } from "../../src/train/span-corruption.js";
import { FIXTURES } from "../helpers/fixtures.js";

const SENT: SentinelOptions = { sentinelTop: 32100, numSentinels: 100, eosTokenId: 1 };

/** Corrupted lengths of a real chunk of `length` tokens (ids 1000.., no sentinel collisions). */
function realLengths(length: number, density: number, mean: number, seed: number): { inputs: number; targets: number } {
  const tokens = Int32Array.from({ length }, (_, i) => 1000 + i);
  const r = spanCorrupt(tokens, density, mean, mulberry32(seed), SENT);
  return { inputs: r.inputs.length, targets: r.targets.length };
}

/** The longest chunk whose corrupted input fits, found by corrupting chunks of every length. */
function bruteForce(inputsLength: number, density: number, mean: number): { tokensLength: number; targetsLength: number } {
  let best = -1;
  for (let L = inputsLength; L <= 3 * inputsLength; L++) {
    if (realLengths(L, density, mean, L).inputs > inputsLength) break;
    best = L;
  }
  return { tokensLength: best, targetsLength: realLengths(best, density, mean, 7).targets };
}

/** Rebuild the raw chunk from a corrupted pair: each sentinel of the input is replaced by its span in the target. */
function reconstruct(inputs: Int32Array, targets: Int32Array, opts: SentinelOptions): number[] {
  const isSentinel = (id: number): boolean => id >= opts.sentinelTop - opts.numSentinels && id < opts.sentinelTop;
  const spans = new Map<number, number[]>();
  let current: number[] | null = null;
  for (const id of targets.subarray(0, targets.length - 1)) {
    if (isSentinel(id)) {
      current = [];
      spans.set(id, current);
    } else {
      assert.ok(current, "the target starts with a sentinel");
      current.push(id);
    }
  }
  const out: number[] = [];
  for (const id of inputs.subarray(0, inputs.length - 1)) {
    if (isSentinel(id)) out.push(...(spans.get(id) ?? assert.fail(`sentinel ${id} has no span in the target`)));
    else out.push(id);
  }
  return out;
}

describe("roundHalfEven (Python's round)", () => {
  test("halves go to the even integer, the rest to the nearest", () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4, 2.6, 21.15, 4.2].map(roundHalfEven), [0, 2, 2, 4, 0, -2, 2, 3, 21, 4]);
  });
});

describe("computeInputAndTargetLengths", () => {
  test("128 inputs at 0.15 / 3: 141 raw tokens, 29 targets (HF's numbers); 512: 568 and 114", () => {
    assert.deepEqual(computeInputAndTargetLengths(128, 0.15, 3), { tokensLength: 141, targetsLength: 29 });
    assert.deepEqual(computeInputAndTargetLengths(512, 0.15, 3), { tokensLength: 568, targetsLength: 114 });
  });

  test("matches corrupting real chunks of every length, for several settings", () => {
    const settings: [number, number, number][] = [
      [128, 0.15, 3],
      [64, 0.15, 3],
      [32, 0.15, 3],
      [100, 0.3, 2],
      [48, 0.15, 5],
      [256, 0.2, 4],
      [20, 0.1, 2],
    ];
    for (const [n, d, m] of settings) {
      assert.deepEqual(computeInputAndTargetLengths(n, d, m), bruteForce(n, d, m), `inputs ${n}, density ${d}, mean span ${m}`);
    }
  });

  test("noise density 0.5 shortens the targets to the inputs' length (HF's adjustment)", () => {
    const r = computeInputAndTargetLengths(128, 0.5, 3);
    const raw = realLengths(r.tokensLength + 1, 0.5, 3, 1);
    assert.ok(r.targetsLength <= 128, `targets ${r.targetsLength}`);
    assert.equal(r.targetsLength, raw.targets - 1);
  });

  test("bad settings are refused with the value named", () => {
    assert.throws(() => computeInputAndTargetLengths(128, 0, 3), (e: unknown) => e instanceof SpanCorruptionError && /noise density must be in \(0, 1\), got 0/.test(e.message));
    assert.throws(() => computeInputAndTargetLengths(128, 0.15, 0.5), /mean noise span length must be a number >= 1, got 0.5/);
    assert.throws(() => computeInputAndTargetLengths(1, 0.15, 3), /input length must be an integer >= 2, got 1/);
  });
});

describe("randomSpansNoiseMask", () => {
  test("round(L*density) noise tokens in the expected number of spans, starting with non-noise and ending with noise", () => {
    for (const [L, d, m] of [[141, 0.15, 3], [70, 0.15, 3], [37, 0.3, 2], [200, 0.5, 4]] as const) {
      const c = noiseCounts(L, d, m);
      for (let seed = 0; seed < 20; seed++) {
        const mask = randomSpansNoiseMask(L, d, m, mulberry32(seed));
        assert.equal(mask.length, L);
        assert.equal(mask.reduce((s, x) => s + x, 0), c.noiseTokens);
        let runs = 0;
        for (let i = 0; i < L; i++) if (mask[i] && (i === 0 || !mask[i - 1])) runs++;
        assert.equal(runs, c.spans, `L ${L} seed ${seed}`);
        assert.equal(mask[0], 0);
        assert.equal(mask[L - 1], 1);
      }
    }
  });

  test("deterministic in the generator; different seeds give different masks", () => {
    assert.deepEqual(randomSpansNoiseMask(141, 0.15, 3, mulberry32(5)), randomSpansNoiseMask(141, 0.15, 3, mulberry32(5)));
    const masks = new Set(Array.from({ length: 10 }, (_, s) => randomSpansNoiseMask(141, 0.15, 3, mulberry32(s)).join("")));
    assert.ok(masks.size >= 9, `${masks.size} distinct masks of 10`);
  });

  test("span lengths average the mean span length", () => {
    let noise = 0;
    let spans = 0;
    for (let s = 0; s < 200; s++) {
      const mask = randomSpansNoiseMask(141, 0.15, 3, mulberry32(s));
      for (let i = 0; i < mask.length; i++) {
        noise += mask[i];
        if (mask[i] && (i === 0 || !mask[i - 1])) spans++;
      }
    }
    assert.equal(noise / spans, 3);
  });
});

describe("sentinels and the corrupted pair", () => {
  test("HF's create_sentinel_ids + filter_input_ids on a small example: the first span gets len(tokenizer) - 1", () => {
    const tokens = Int32Array.from([10, 11, 12, 13, 14, 15]);
    const mask = Uint8Array.from([0, 1, 1, 0, 1, 0]);
    const opts = { sentinelTop: 100, numSentinels: 100, eosTokenId: 1 };
    assert.deepEqual([...filterWithSentinels(tokens, mask, opts)], [10, 99, 13, 98, 15, 1]);
    assert.deepEqual([...filterWithSentinels(tokens, mask.map((m) => 1 - m), opts)], [99, 11, 12, 98, 14, 97, 1]);
  });

  test("inputs and targets reconstruct the original chunk, with the promised lengths", () => {
    for (const [n, d, m] of [[128, 0.15, 3], [64, 0.15, 3], [40, 0.3, 2]] as const) {
      const { tokensLength, targetsLength } = computeInputAndTargetLengths(n, d, m);
      for (let seed = 0; seed < 25; seed++) {
        const next = mulberry32(seed * 7919 + 1);
        const tokens = Int32Array.from({ length: tokensLength }, () => 3 + (next() % 30000));
        const r = spanCorrupt(tokens, d, m, mulberry32(seed), SENT);
        assert.equal(r.inputs.length, n);
        assert.equal(r.targets.length, targetsLength);
        assert.equal(r.inputs[r.inputs.length - 1], 1);
        assert.equal(r.targets[r.targets.length - 1], 1);
        assert.equal(r.targets[0], 32099, "<extra_id_0> starts the target");
        assert.deepEqual(reconstruct(r.inputs, r.targets, SENT), [...tokens]);
      }
    }
  });

  test("more spans than sentinels is refused", () => {
    const tokens = Int32Array.from({ length: 10 }, (_, i) => 100 + i);
    const mask = Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    assert.throws(() => filterWithSentinels(tokens, mask, { sentinelTop: 1000, numSentinels: 3, eosTokenId: 1 }), /more than 3 sentinels/);
    assert.throws(() => filterWithSentinels(tokens, mask.subarray(0, 5), SENT), /10 tokens but a mask of 5/);
  });
});

interface HfCase {
  inputs_length: number;
  noise_density: number;
  mean_noise_span_length: number;
  tokens_length: number;
  targets_length: number;
  rows: { mask: number[]; tokens: number[]; inputs: number[]; labels: number[] }[];
}

describe("against Hugging Face's run_t5_mlm_flax.py functions (numpy, fixture)", () => {
  const hf = JSON.parse(readFileSync(path.join(FIXTURES, "span-corruption", "hf.json"), "utf8")) as { len_tokenizer: number; eos_token_id: number; cases: HfCase[] };
  const opts: SentinelOptions = { sentinelTop: hf.len_tokenizer, numSentinels: 100, eosTokenId: hf.eos_token_id };
  const runs = (m: ArrayLike<number>): number => Array.from(m).filter((x, i) => x === 1 && (i === 0 || m[i - 1] === 0)).length;

  test("the same lengths, mask counts, and sentinel filling on HF's masks", () => {
    assert.ok(hf.cases.length >= 7);
    for (const c of hf.cases) {
      const what = `${c.inputs_length}/${c.noise_density}/${c.mean_noise_span_length}`;
      assert.deepEqual(computeInputAndTargetLengths(c.inputs_length, c.noise_density, c.mean_noise_span_length), { tokensLength: c.tokens_length, targetsLength: c.targets_length }, what);
      const counts = noiseCounts(c.tokens_length, c.noise_density, c.mean_noise_span_length);
      const ours = randomSpansNoiseMask(c.tokens_length, c.noise_density, c.mean_noise_span_length, mulberry32(c.inputs_length));
      for (const r of c.rows) {
        const mask = Uint8Array.from(r.mask);
        assert.equal(mask.reduce((a, b) => a + b, 0), counts.noiseTokens, what);
        assert.equal(runs(mask), counts.spans, what);
        assert.deepEqual([ours.reduce((a, b) => a + b, 0), runs(ours), ours[0], ours[ours.length - 1]], [counts.noiseTokens, counts.spans, mask[0], mask[mask.length - 1]], what);
        const tokens = Int32Array.from(r.tokens);
        assert.deepEqual([...filterWithSentinels(tokens, mask, opts)], r.inputs, `${what} inputs`);
        assert.deepEqual([...filterWithSentinels(tokens, mask.map((m) => 1 - m), opts)], r.labels, `${what} labels`);
      }
    }
  });
});
