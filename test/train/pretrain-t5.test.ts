/**
 * T5 span-corruption pretraining on the library trainer, on a tiny T5 (2+2 blocks, d_model 16)
 * and a tiny T5-layout tokenizer: fixed-shape corrupted batches as a pure function of (seed,
 * index), the written Hugging Face folder loading back with the existing loader and giving the
 * same held-out loss (F32 exactly, F16 closely), the loss falling, bit-identical resume after an
 * interruption (which also writes the latest parameters), and the errors on bad input.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadTokenizer, tokenizerFromVocabTxt } from "../../src/data/tokenizer.js";
import { readSafetensorsFile } from "../../src/io/safetensors.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { PRETRAIN_LOG_FILE, PRETRAIN_METRICS_FILE, PretrainError } from "../../src/train/pretrain.js";
import {
  checkT5Tokenizer,
  evaluateSpanCorruption,
  pretrainT5,
  SpanBatcher,
  t5TokenStream,
} from "../../src/train/pretrain-t5.js";
import type { SpanHostBatch, T5PretrainOptions } from "../../src/train/pretrain-t5.js";
import { TRAIN_STATE_FILE } from "../../src/train/task-run.js";
import { TrainingInterrupted } from "../../src/train/trainer.js";
import { tinyT5Tokenizer } from "../helpers/t5-tokenizer.js";
import { syntheticText, tempDir } from "./helpers.js";

let work: string;
let textFile: string;
const tok = tinyT5Tokenizer();
const arch = { dModel: 16, dFf: 32, layers: 2, heads: 2, dKv: 8, ffn: "relu" as const };
const hyper = { batchSize: 4, inputLength: 24, lr: 3e-3, evalBatchSize: 4, evalBatches: 2, warmupSteps: 1 };

before(async () => {
  await initEngine();
  work = tempDir("propetl-pretrain-t5-");
  textFile = path.join(work, "text.txt");
  writeFileSync(textFile, syntheticText(300, 5).join("\n") + "\n");
});
after(() => rmSync(work, { recursive: true, force: true }));

function opts(out: string, more: Partial<T5PretrainOptions> = {}): T5PretrainOptions {
  return { textFiles: [textFile], outputDir: path.join(work, out), tokenizer: tok, architecture: arch, ...more, hyper: { ...hyper, ...(more.hyper ?? {}) } };
}

function logLines(dir: string): Record<string, unknown>[] {
  return readFileSync(path.join(dir, PRETRAIN_LOG_FILE), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The held-out batches pretrainT5 evaluates on (every 100th line, fixed corruption). */
function heldOutBatches(batches: number): SpanHostBatch[] {
  const lines = readFileSync(textFile, "utf8").split("\n").filter((l) => l.trim() !== "");
  const heldOut = lines.filter((_, i) => (i + 1) % 100 === 0);
  const ids = checkT5Tokenizer(tok, "tiny");
  const held = new SpanBatcher(t5TokenStream(tok, heldOut), { batchSize: 4, inputLength: 24, noiseDensity: 0.15, meanNoiseSpanLength: 3, seed: 42, sentinels: { sentinelTop: ids.sentinelTop, numSentinels: 100, eosTokenId: ids.eos } });
  return Array.from({ length: batches }, (_, bi) => held.corrupt(Array.from({ length: 4 }, (_, r) => (bi * 4 + r) % held.numChunks), 5, bi));
}

async function loadedLoss(dir: string): Promise<number> {
  const m = await loadBackboneDir(dir);
  try {
    assert.ok(isT5Config(m.config));
    return (await evaluateSpanCorruption(m.config as T5Config, m.encoder as T5Params, heldOutBatches(2))).loss;
  } finally {
    tree.dispose(m.encoder);
  }
}

describe("span-corruption batches", () => {
  test("fixed shapes, sentinels from the top, EOS last; a pure function of (seed, index)", () => {
    const ids = checkT5Tokenizer(tok, "tiny");
    assert.deepEqual([ids.pad, ids.eos, ids.unk, ids.sentinelTop], [0, 1, 2, tok.vocabSize]);
    const stream = t5TokenStream(tok, syntheticText(200, 2));
    assert.equal(stream.filter((t) => t === 1).length, 200, "one EOS per document");
    const mk = (): SpanBatcher => new SpanBatcher(stream, { batchSize: 4, inputLength: 24, noiseDensity: 0.15, meanNoiseSpanLength: 3, seed: 9, sentinels: { sentinelTop: tok.vocabSize, numSentinels: 100, eosTokenId: 1 } });
    const a = mk();
    const b = mk();
    assert.equal(a.tokensLength, 26);
    assert.equal(a.numChunks, Math.floor(stream.length / 26));
    for (const g of [0, 1, 7, a.numChunks]) assert.deepEqual(a.hostBatch(g), b.hostBatch(g));
    const h = a.hostBatch(3);
    assert.equal(h.inputIds.length, 4 * 24);
    assert.equal(h.targets.length, 4 * a.targetsLength);
    for (let r = 0; r < 4; r++) {
      assert.equal(h.inputIds[r * 24 + 23], 1);
      assert.equal(h.targets[r * a.targetsLength], tok.tokenToId("<extra_id_0>"));
    }
    assert.notDeepEqual(a.hostBatch(3), a.hostBatch(4));
  });
});

describe("pretrainT5", () => {
  test("trains, writes a T5ForConditionalGeneration folder that loads back with the same held-out loss", async () => {
    const out = path.join(work, "run");
    const r = await pretrainT5(opts("run", { hyper: { steps: 16, evalEvery: 8 } }));
    assert.equal(r.steps, 16);
    assert.equal(r.history.length, 2);
    const losses = logLines(out).filter((l) => typeof l.loss === "number").map((l) => l.loss as number);
    assert.equal(losses.length, 16);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(mean(losses.slice(-4)) < mean(losses.slice(0, 4)) - 0.5, `loss ${mean(losses.slice(0, 4))} -> ${mean(losses.slice(-4))}`);
    for (const f of ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", PRETRAIN_METRICS_FILE]) assert.ok(existsSync(path.join(out, f)), f);
    assert.ok(!existsSync(path.join(out, TRAIN_STATE_FILE)));
    const cfg = JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(cfg.architectures, ["T5ForConditionalGeneration"]);
    assert.deepEqual([cfg.model_type, cfg.vocab_size, cfg.d_model, cfg.num_layers, cfg.num_decoder_layers, cfg.feed_forward_proj, cfg.tie_word_embeddings], ["t5", tok.vocabSize, 16, 2, 2, "relu", true]);
    assert.deepEqual([cfg.decoder_start_token_id, cfg.pad_token_id, cfg.eos_token_id], [0, 0, 1]);
    const gen = JSON.parse(readFileSync(path.join(out, "generation_config.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([gen.decoder_start_token_id, gen.pad_token_id, gen.eos_token_id], [0, 0, 1]);
    const special = JSON.parse(readFileSync(path.join(out, "special_tokens_map.json"), "utf8")) as { eos_token: string; additional_special_tokens: string[] };
    assert.equal(special.eos_token, "</s>");
    assert.equal(special.additional_special_tokens.length, 100);
    const st = await readSafetensorsFile(path.join(out, "model.safetensors"));
    assert.ok(st.tensors.has("shared.weight") && st.tensors.has("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") && st.tensors.has("decoder.block.1.layer.2.DenseReluDense.wo.weight"));
    assert.equal(st.tensors.get("shared.weight")?.dtype, "F32");
    const reloaded = await loadTokenizer(out);
    assert.deepEqual(reloaded.encode("the cat sat").inputIds, tok.encode("the cat sat").inputIds);
    // The saved model is the best evaluation's; the loader gives it the same loss.
    const best = r.best;
    assert.ok(best);
    assert.ok(Math.abs((await loadedLoss(out)) - best.main) < 1e-5, `reloaded loss vs recorded ${best.main}`);
    const again = await pretrainT5(opts("run", { resume: true, hyper: { steps: 16, evalEvery: 8 } }));
    assert.equal(again.skipped, true);
    await assert.rejects(pretrainT5(opts("run", { hyper: { steps: 16, evalEvery: 8 } })), /already holds a finished pretraining run/);
  });

  test("--dtype F16 writes half-precision weights that load to nearly the same loss", async () => {
    const out = path.join(work, "f16");
    const r = await pretrainT5(opts("f16", { dtype: "F16", hyper: { steps: 4, evalEvery: 4 } }));
    const st = await readSafetensorsFile(path.join(out, "model.safetensors"));
    assert.equal(st.tensors.get("shared.weight")?.dtype, "F16");
    assert.ok(Math.abs((await loadedLoss(out)) - (r.best?.main ?? NaN)) < 2e-2);
  });

  test("an interrupted run writes the latest parameters and resumes bit-identically", async () => {
    const full = await pretrainT5(opts("full", { hyper: { steps: 8, evalEvery: 4 }, keepTrainState: true }));
    assert.equal(full.steps, 8);
    const ctl = new AbortController();
    await assert.rejects(
      pretrainT5(opts("cut", { hyper: { steps: 8, evalEvery: 4 }, keepTrainState: true, signal: ctl.signal, onEvent: (e) => e.type === "step" && e.step === 2 && ctl.abort() })),
      (e: unknown) => e instanceof TrainingInterrupted && e.step === 2,
    );
    const cut = path.join(work, "cut");
    const meta = (await readSafetensorsFile(path.join(cut, "model.safetensors"))).metadata;
    assert.equal(meta.propetl_pretrain_step, "2");
    assert.match(meta.propetl_pretrain_params ?? "", /latest/);
    await assert.rejects(pretrainT5(opts("cut", { hyper: { steps: 8, evalEvery: 4 } })), (e: unknown) => e instanceof PretrainError && /unfinished pretraining run/.test(e.message));
    await assert.rejects(pretrainT5(opts("cut", { resume: true, hyper: { steps: 8, evalEvery: 4, lr: 1e-3 } })), /started with other settings/);
    const resumed = await pretrainT5(opts("cut", { resume: true, keepTrainState: true, hyper: { steps: 8, evalEvery: 4 } }));
    assert.equal(resumed.resumedAtStep, 2);
    const a = logLines(path.join(work, "full"));
    const b = logLines(cut);
    assert.deepEqual(b.map((l) => [l.step, l.loss, l.gradNorm, (l.heldOut as { loss?: number } | undefined)?.loss]), a.map((l) => [l.step, l.loss, l.gradNorm, (l.heldOut as { loss?: number } | undefined)?.loss]));
    const sa = await readSafetensorsFile(path.join(work, "full", TRAIN_STATE_FILE));
    const sb = await readSafetensorsFile(path.join(cut, TRAIN_STATE_FILE));
    for (const [name, e] of sa.tensors) assert.deepEqual(sb.tensors.get(name)?.data, e.data, name);
  });

  test("bad input: not a T5 tokenizer, too little text, bad settings", async () => {
    const wordpiece = tokenizerFromVocabTxt(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat"]);
    await assert.rejects(pretrainT5(opts("e1", { tokenizer: wordpiece, tokenizerSource: "vocab.txt" })), (e: unknown) => e instanceof PretrainError && /vocab\.txt: the vocabulary has no <pad>, <\/s>, <unk> token/.test(e.message));
    const shortText = path.join(work, "short.txt");
    writeFileSync(shortText, Array.from({ length: 100 }, () => "cat").join("\n") + "\n");
    await assert.rejects(pretrainT5(opts("e2", { textFiles: [shortText] })), /fewer than one chunk of 26 raw tokens \(input length 24\)/);
    const shortHeld = path.join(work, "short-held.txt");
    writeFileSync(shortHeld, "the cat\n");
    await assert.rejects(pretrainT5(opts("e2b", { heldOutFile: shortHeld })), /the held-out text \(.*short-held\.txt\) has 3 tokens, fewer than one chunk of 26 raw tokens/);
    await assert.rejects(pretrainT5(opts("e3", { hyper: { noiseDensity: 1 } })), /noise density \(--mask-prob\) must be in \(0, 1\), got 1/);
    await assert.rejects(pretrainT5(opts("e4", { hyper: { meanNoiseSpanLength: 0 } })), /mean noise span length must be >= 1, got 0/);
    await assert.rejects(pretrainT5(opts("e5", { architecture: { ...arch, dKv: 0 } })), /dKv must be a positive integer, got 0/);
  });
});
