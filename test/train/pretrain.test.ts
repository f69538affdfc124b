/**
 * MLM pretraining on the library trainer, on a tiny BERT (2 layers, hidden 32) and a small
 * synthetic text: held-out split and windows, batches as a pure function of (seed, index),
 * the loss falling, the written Hugging Face folder loading back, bit-identical resume after
 * an interruption, continued pretraining with --init, and the errors on bad input.
 * (Masking proportions 15% / 80-10-10 are tested in test/models/mlm.test.ts.)
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { readSafetensorsFile } from "../../src/io/safetensors.js";
import { initEncoder } from "../../src/models/bert/init.js";
import { loadMlmModelDir } from "../../src/models/bert/mlm.js";
import { loadModelDir } from "../../src/models/load.js";
import { MLM_HF_NAMES } from "../../src/models/bert/mlm.js";
import { PRETRAIN_HELP } from "../../src/cli/help.js";
import {
  bertConfig,
  MlmBatcher,
  PRETRAIN_DEFAULTS,
  PRETRAIN_LOG_FILE,
  PRETRAIN_METRICS_FILE,
  PretrainError,
  pretrainMlm,
  readPretrainText,
  tokenizerFromVocabFile,
} from "../../src/train/pretrain.js";
import type { PretrainOptions, PretrainResult } from "../../src/train/pretrain.js";
import { TRAIN_STATE_FILE } from "../../src/train/task-run.js";
import { TrainingInterrupted } from "../../src/train/trainer.js";
import type { TrainEvent } from "../../src/train/trainer.js";
import { syntheticText, tempDir } from "./helpers.js";

let work: string;
let textFile: string;
const tiny = bertConfig({ layers: 2, hidden: 32, heads: 2, maxPositions: 64 });
const hyper = { batchSize: 8, seqLen: 32, lr: 3e-3, evalBatchSize: 8, evalBatches: 2 };

before(async () => {
  await initEngine();
  work = tempDir("propetl-pretrain-");
  textFile = path.join(work, "text.txt");
  writeFileSync(textFile, syntheticText(400, 3).join("\n") + "\n");
});
after(() => rmSync(work, { recursive: true, force: true }));

function opts(out: string, more: Partial<PretrainOptions> = {}): PretrainOptions {
  return { textFiles: [textFile], outputDir: path.join(work, out), config: tiny, vocabSize: 150, ...more, hyper: { ...hyper, ...(more.hyper ?? {}) } };
}

function logLines(dir: string): Record<string, unknown>[] {
  return readFileSync(path.join(dir, PRETRAIN_LOG_FILE), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function tensors(file: string): Promise<Map<string, Uint8Array>> {
  const st = await readSafetensorsFile(file);
  return new Map([...st.tensors].map(([k, e]) => [k, Uint8Array.from(e.data)]));
}

describe("text and batches", () => {
  test("every 100th line is held out (and not trained on); a held-out file replaces that", () => {
    const t = readPretrainText([textFile]);
    assert.equal(t.lines, 400);
    assert.equal(t.heldOut.length, 4);
    assert.equal(t.train.length, 396);
    const all = readFileSync(textFile, "utf8").trim().split("\n");
    assert.deepEqual(t.heldOut, [all[99], all[199], all[299], all[399]]);
    const h = path.join(work, "held.txt");
    writeFileSync(h, "one held-out line\n\n  \nanother\n");
    const t2 = readPretrainText([textFile], { heldOutFile: h });
    assert.deepEqual(t2.heldOut, ["one held-out line", "another"]);
    assert.equal(t2.train.length, 400);
  });

  test("windows are [CLS] w [SEP], each pass visits every window once in a seeded order, a batch is a pure function of (seed, index)", () => {
    const stream = Int32Array.from({ length: 100 }, (_, i) => 10 + (i % 50));
    const o = { batchSize: 4, seqLen: 12, seed: 5, probability: 0.15, vocabSize: 60, clsTokenId: 2, sepTokenId: 3, padTokenId: 0, maskTokenId: 4, specialIds: new Set([0, 1, 2, 3, 4]) };
    const b = new MlmBatcher(stream, o);
    assert.equal(b.numWindows, 10); // ceil(100 / 10): the last window is full here
    const pass = (p: number): number[] => Array.from({ length: 10 }, (_, i) => b.windowAt(p * 10 + i));
    assert.deepEqual([...pass(0)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...pass(1)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(pass(0), pass(1));
    const x = b.hostBatch(7);
    assert.deepEqual(new MlmBatcher(stream, o).hostBatch(7), x, "same seed and index, same batch");
    assert.notDeepEqual(new MlmBatcher(stream, { ...o, seed: 6 }).hostBatch(7), x);
    for (let r = 0; r < 4; r++) {
      assert.equal(x.attentionMask.slice(r * 12, r * 12 + 12).reduce((s, v) => s + v, 0), 12);
      const w = b.windowAt(7 * 4 + r);
      // Unmasked positions hold the window's tokens.
      for (let i = 1; i <= 10; i++) {
        const k = r * 12 + i;
        const original = x.positions.slice(0, x.predicted).indexOf(k) >= 0 ? x.targets[x.positions.slice(0, x.predicted).indexOf(k)] : x.inputIds[k];
        assert.equal(original, stream[w * 10 + i - 1]);
      }
    }
    assert.equal(x.inputIds[0], 2);
    assert.equal(x.inputIds[11], 3);
    assert.equal(x.positions.length, b.slots);
    assert.ok(Math.abs(x.weights.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    assert.ok(x.weights.slice(x.predicted).every((v) => v === 0));
    // A short last window is padded, and padding is never predicted.
    const short = new MlmBatcher(stream.subarray(0, 95), { ...o, batchSize: 10 });
    const s = short.hostBatch(0);
    const r = Array.from({ length: 10 }, (_, i) => short.windowAt(i)).indexOf(9);
    assert.equal(s.attentionMask.slice(r * 12, r * 12 + 12).reduce((a, v) => a + v, 0), 7);
    assert.equal(s.inputIds[r * 12 + 6], 3);
    assert.ok([...s.positions.slice(0, s.predicted)].every((p) => s.attentionMask[p] === 1));
  });

  test("propetl pretrain --help states the library's defaults", () => {
    const d = PRETRAIN_DEFAULTS;
    const expected: [string, number][] = [
      ["--layers", d.layers], ["--hidden", d.hidden], ["--heads", d.heads], ["--max-positions", d.maxPositions], ["--vocab-size", d.vocabSize],
      ["--steps", d.steps], ["--batch-size", d.batchSize], ["--seq-len", d.seqLen], ["--lr", d.lr], ["--weight-decay", d.weightDecay],
      ["--max-grad-norm", d.maxGradNorm], ["--grad-accum", d.gradAccumSteps], ["--mask-prob", d.maskProbability], ["--eval-every", d.evalEvery],
      ["--eval-batch-size", d.evalBatchSize], ["--seed", d.seed],
    ];
    for (const [flag, value] of expected) {
      const m = new RegExp(`^  ${flag} \\S+ .*\\(?default ([0-9.e-]+)\\)?$`, "m").exec(PRETRAIN_HELP);
      assert.ok(m, `${flag} has a default in the help`);
      assert.equal(Number(m[1]), value, flag);
    }
    assert.match(PRETRAIN_HELP, /default 6% of --steps/);
    assert.equal(d.warmupRatio, 0.06);
    assert.match(PRETRAIN_HELP, /every 100th/);
    assert.equal(d.heldOutEvery, 100);
  });

  test("a fresh encoder is HF's BERT initialisation", async () => {
    const cfg = { ...tiny, vocabSize: 50, padTokenId: 0 };
    const enc = initEncoder(cfg, 1);
    const word = (await enc.embeddings.word.ref.data()) as Float32Array;
    assert.ok(word.slice(0, 32).every((v) => v === 0), "the pad row is zero");
    const rest = word.slice(32);
    const std = Math.sqrt(rest.reduce((s, v) => s + v * v, 0) / rest.length);
    assert.ok(Math.abs(std - 0.02) < 0.002, `std ${std}`);
    assert.ok(((await enc.layers[1].outLn.g.ref.data()) as Float32Array).every((v) => v === 1));
    assert.ok(((await enc.layers[0].query.b.ref.data()) as Float32Array).every((v) => v === 0));
    tree.dispose(enc);
  });
});

describe("pretrainMlm", () => {
  let first: PretrainResult;
  let firstLosses: number[] = [];

  test("the loss falls over 30 steps; the folder is a Hugging Face BERT that loadModelDir and loadTokenizer read", async () => {
    const steps: number[] = [];
    const live = await trackLiveBuffers();
    const buffers: number[] = [];
    first = await pretrainMlm(
      opts("run", {
        hyper: { steps: 30, evalEvery: 10 },
        onEvent: (e) => {
          if (e.type === "step") {
            steps.push(e.loss);
            buffers.push(live());
          }
        },
      }),
    );
    assert.equal(steps.length, 30);
    firstLosses = steps;
    // From the first evaluation on, the trainer also holds the best parameters (one buffer per leaf).
    const steady = buffers.slice(10);
    assert.equal(Math.max(...steady), Math.min(...steady), `live buffers over steps (evaluations and saves included): ${buffers.join(", ")}`);
    assert.ok(buffers.slice(1, 10).every((n) => n === buffers[1]), `live buffers before the first evaluation: ${buffers.join(", ")}`);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(steps.slice(-5)) < mean(steps.slice(0, 5)) - 0.5, `loss ${mean(steps.slice(0, 5)).toFixed(3)} -> ${mean(steps.slice(-5)).toFixed(3)}`);
    assert.equal(first.history.length, 3);
    assert.ok(first.history[2].scores.loss < first.history[0].scores.loss, "held-out loss falls");
    const dir = first.outputDir;
    for (const f of ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", PRETRAIN_LOG_FILE, PRETRAIN_METRICS_FILE]) assert.ok(existsSync(path.join(dir, f)), f);
    assert.ok(!existsSync(path.join(dir, TRAIN_STATE_FILE)), "the train state is removed at the end");
    const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(config.architectures, ["BertForMaskedLM"]);
    const model = await loadModelDir(dir);
    const tok = await loadTokenizer(dir);
    assert.equal(model.config.vocabSize, tok.vocabSize);
    assert.equal(model.config.numLayers, 2);
    assert.ok(tok.vocabSize <= 150);
    assert.ok(tok.encode("The cat sat on the mat.").inputIds.every((id) => id !== tok.unkTokenId));
    tree.dispose([model.encoder, model.head]);
    const names = [...(await readSafetensorsFile(path.join(dir, "model.safetensors"))).tensors.keys()];
    for (const n of Object.values(MLM_HF_NAMES)) assert.ok(names.includes(n), n);
    assert.ok(names.includes("bert.embeddings.word_embeddings.weight"));
    const log = logLines(dir);
    assert.equal(log.filter((l) => "loss" in l).length, 30);
    assert.deepEqual(log.filter((l) => "heldOut" in l).map((l) => l.step), [10, 20, 30]);
    const metrics = JSON.parse(readFileSync(path.join(dir, PRETRAIN_METRICS_FILE), "utf8")) as Record<string, unknown> & { corpus: Record<string, number>; best: { step: number } };
    assert.equal(metrics.steps, 30);
    assert.equal(metrics.corpus.lines, 400);
    assert.equal(metrics.corpus.heldOutDocuments, 4);
    assert.ok(metrics.corpus.tokens > 0 && metrics.corpus.windows === Math.ceil(metrics.corpus.tokens / 30));
    assert.equal(metrics.best.step, first.best?.step);
    assert.ok(metrics.versions && metrics.final);
  });

  test("resume after an interruption gives bit-identical weights and losses", async () => {
    const settings = { hyper: { steps: 8, evalEvery: 4 } };
    const ref = await pretrainMlm(opts("ref", settings));
    const ctl = new AbortController();
    const onEvent = (e: TrainEvent): void => {
      if (e.type === "step" && e.step === 6) ctl.abort();
    };
    await assert.rejects(pretrainMlm(opts("cut", { ...settings, signal: ctl.signal, onEvent })), (e: Error) => e instanceof TrainingInterrupted && e.step === 6);
    const cut = path.join(work, "cut");
    assert.ok(existsSync(path.join(cut, TRAIN_STATE_FILE)));
    await assert.rejects(pretrainMlm(opts("cut", settings)), (e: Error) => e instanceof PretrainError && /unfinished pretraining run .*--resume/.test(e.message));
    await assert.rejects(pretrainMlm(opts("cut", { hyper: { ...settings.hyper, lr: 1e-3 }, resume: true })), (e: Error) => e instanceof PretrainError && /started with other settings/.test(e.message));
    const resumed = await pretrainMlm(opts("cut", { ...settings, resume: true }));
    assert.equal(resumed.resumedAtStep, 6);
    assert.deepEqual(resumed.history, ref.history);
    assert.deepEqual(await tensors(path.join(cut, "model.safetensors")), await tensors(path.join(ref.outputDir, "model.safetensors")));
    const steps = (d: string): unknown[] => logLines(d).map((l) => ("loss" in l ? [l.step, l.loss, l.lr] : [l.step, l.heldOut]));
    assert.deepEqual(steps(cut), steps(ref.outputDir), "the log has each step once, with the same values");
    const again = await pretrainMlm(opts("cut", { ...settings, resume: true }));
    assert.equal(again.skipped, true);
  });

  test("--init continues from a pretrained folder with its head and tokenizer", async () => {
    const events: TrainEvent[] = [];
    const r = await pretrainMlm({ textFiles: [textFile], outputDir: path.join(work, "cont"), initDir: first.outputDir, hyper: { ...hyper, steps: 4, evalEvery: 4, lr: 1e-3 }, onEvent: (e) => events.push(e) });
    const metrics = JSON.parse(readFileSync(r.metricsFile, "utf8")) as { init: { mlmHead: string }; tokenizer: { vocabSize: number } };
    assert.equal(metrics.init.mlmHead, "checkpoint");
    assert.equal(metrics.tokenizer.vocabSize, (await loadTokenizer(first.outputDir)).vocabSize);
    // Starting from the pretrained weights and head, the first loss is far below a fresh model's.
    const step1 = events.find((e) => e.type === "step");
    assert.ok(step1 && step1.type === "step" && step1.loss < firstLosses[0] - 1, `first loss ${step1?.type === "step" ? step1.loss : "?"} vs a fresh model's ${firstLosses[0]}`);
    const m = await loadMlmModelDir(r.outputDir);
    assert.equal(m.headSource, "checkpoint");
    tree.dispose([m.encoder, m.head]);
  });

  test("bad input is refused with a message naming the file, flag or setting", async () => {
    const empty = path.join(work, "empty.txt");
    writeFileSync(empty, "\n  \n\n");
    const short = path.join(work, "short.txt");
    writeFileSync(short, "one line\nanother line\n");
    const noMask = path.join(work, "nomask.txt");
    writeFileSync(noMask, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"].join("\n") + "\n");
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ["missing text", () => pretrainMlm(opts("e1", { textFiles: [path.join(work, "nope.txt")] })), /nope\.txt: text file not found/],
      ["empty text", () => pretrainMlm(opts("e2", { textFiles: [empty] })), /empty\.txt: no text \(every line is empty\)/],
      ["too few lines to hold out", () => pretrainMlm(opts("e3", { textFiles: [short] })), /2 non-empty line\(s\), fewer than 100.*held-out file/],
      ["seq-len > max positions", () => pretrainMlm(opts("e4", { hyper: { seqLen: 128 } })), /sequence length 128 exceeds the model's max_position_embeddings 64/],
      ["output is the init folder", () => pretrainMlm({ textFiles: [textFile], outputDir: first.outputDir, initDir: first.outputDir }), /is the --init model's folder/],
      ["a model already in the output", () => pretrainMlm(opts("run")), /already holds a finished pretraining run/],
      ["missing held-out file", () => pretrainMlm(opts("e5", { heldOutFile: path.join(work, "held-nope.txt") })), /held-nope\.txt: held-out text file not found/],
    ];
    for (const [what, run, re] of cases) await assert.rejects(run(), (e: Error) => e instanceof PretrainError && re.test(e.message), `${what}`);
    assert.throws(() => bertConfig({ layers: 2, hidden: 30, heads: 4, maxPositions: 64 }), /hidden size 30 is not divisible by the number of attention heads 4/);
    assert.throws(() => tokenizerFromVocabFile(noMask), /nomask\.txt: the vocabulary has no \[MASK\] token/);
    assert.throws(() => tokenizerFromVocabFile(path.join(work, "vocab-nope.txt")), /vocab-nope\.txt: vocabulary file not found/);
    mkdirSync(path.join(work, "hasmodel"), { recursive: true });
    writeFileSync(path.join(work, "hasmodel", "config.json"), "{}");
    await assert.rejects(pretrainMlm(opts("hasmodel")), /already holds a model/);
  });

  test("the output folder removed mid-run: the run finishes and writes the model folder again from the best evaluation", async () => {
    const out = path.join(work, "removed");
    const logs: string[] = [];
    const res = await pretrainMlm(
      opts("removed", {
        hyper: { steps: 8, evalEvery: 4 },
        log: (m) => void logs.push(m),
        onEvent: (e) => {
          // After the last evaluation wrote (or kept) the model folder.
          if (e.type === "eval" && e.step === 8) rmSync(out, { recursive: true, force: true });
        },
      }),
    );
    assert.equal(res.steps, 8);
    for (const f of ["model.safetensors", "config.json", PRETRAIN_METRICS_FILE]) assert.ok(existsSync(path.join(out, f)), f);
    assert.ok(logs.some((l) => /the model files were missing .*wrote them again from the best evaluation \(step [48]\)/.test(l)), logs.join("\n"));
    const m = await loadMlmModelDir(out);
    tree.dispose([m.encoder, m.head]);
  });
});
