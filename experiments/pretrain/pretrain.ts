/**
 * MLM pretraining of propetl-mini (BERT architecture) on the offline corpus
 * (experiments/pretrain/corpus, built by build-corpus.ts). Resumable: it checkpoints
 * atomically every --every steps and picks up from the last checkpoint when rerun.
 *
 *   npm run build
 *   node dist/experiments/pretrain/pretrain.js --out experiments/pretrain/runs/mini \
 *     [--steps 3000] [--batch 32] [--seq 128] [--lr 5e-4] [--warmup 150] [--every 50] [--minutes 80] [--eval-batches 4]
 *
 * Writes <out>/model/ as a Hugging Face model dir (config.json, model.safetensors with bert.*
 * and cls.predictions.* tensors, vocab.txt, tokenizer_config.json) at every checkpoint, and
 * appends one JSON line per step to <out>/log.jsonl (loss, lr, time) and, at every checkpoint, one
 * {"step", "eval"} line with the held-out masked-token loss and accuracy (sotu-party dev).
 * This is the experiment behind `propetl pretrain`, which will reuse the library trainer.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { initEngine } from "../../src/engine/engine.js";
import { blockUntilReady, np, random, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { writeFileAtomic } from "../../src/io/atomic-write.js";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";
import { encoderConfigToJson } from "../../src/models/bert/config.js";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import { encode, disposeBatch, makeBatch } from "../../src/models/bert/encoder.js";
import { exportHfTensors } from "../../src/models/load.js";
import { MLM_HF_NAMES, maskTokens, mlmLogits } from "../../src/models/bert/mlm.js";
import type { MlmHeadParams } from "../../src/models/bert/mlm.js";
import type { EncoderParams } from "../../src/models/bert/params.js";
import { encoderSlots } from "../../src/models/bert/params.js";
import { setLeaf } from "../../src/models/slots.js";
import { tokenizerFromVocabTxt, writeTokenizerFiles } from "../../src/data/tokenizer.js";
import { mulberry32 } from "../../src/data/splits.js";
import { AdamW } from "../../src/train/optimizer.js";
import type { AdamWState } from "../../src/train/optimizer.js";
import { mapNamed, namedLeaves } from "../../src/train/tree-util.js";
import { evaluateMaskedLm } from "../../src/train/mlm-eval.js";
import { readTaskSplit } from "../../src/data/read-examples.js";
import { resolveBuiltinTask } from "../../src/data/builtin-tasks.js";

const { values: a } = parseArgs({
  options: {
    out: { type: "string", default: "experiments/pretrain/runs/mini" },
    corpus: { type: "string", default: "experiments/pretrain/corpus/corpus.txt" },
    vocab: { type: "string", default: "experiments/pretrain/corpus/vocab.txt" },
    steps: { type: "string", default: "3000" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    lr: { type: "string", default: "5e-4" },
    warmup: { type: "string", default: "150" },
    every: { type: "string", default: "50" },
    minutes: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    layers: { type: "string", default: "4" },
    hidden: { type: "string", default: "256" },
    "eval-batches": { type: "string", default: "4" },
  },
});
const STEPS = Number(a.steps), B = Number(a.batch), T = Number(a.seq), LR = Number(a.lr), WARMUP = Number(a.warmup);
const EVERY = Number(a.every), SEED = Number(a.seed), MAX_PRED = Math.round(T * 0.15) + 2;
const deadline = Number(a.minutes) > 0 ? Date.now() + Number(a.minutes) * 60_000 : Infinity;
const out = a.out as string;
mkdirSync(path.join(out, "model"), { recursive: true });
mkdirSync(path.join(out, "checkpoint"), { recursive: true });

type Params = { encoder: EncoderParams; mlm: MlmHeadParams };

async function main(): Promise<void> {
  const info = await initEngine();
  const vocabLines = readFileSync(a.vocab as string, "utf8").split("\n").filter((l) => l.length > 0);
  const tok = tokenizerFromVocabTxt(vocabLines, { lowercase: true });
  const H = Number(a.hidden);
  const cfg: EncoderConfig = {
    modelType: "bert", vocabSize: tok.vocabSize, hiddenSize: H, numLayers: Number(a.layers), numHeads: H / 64,
    intermediateSize: 4 * H, hiddenAct: "gelu", layerNormEps: 1e-12, maxPositions: 512, typeVocabSize: 2,
    padTokenId: tok.padTokenId, numLabels: 2,
  };
  console.error(`engine ${info.backend} x${info.threads}; vocab ${cfg.vocabSize}; ${cfg.numLayers}L h${H}; batch ${B}x${T}`);

  // Corpus -> one token stream (documents separated by [SEP]) -> fixed windows.
  const t0 = Date.now();
  const stream: number[] = [];
  for (const line of readFileSync(a.corpus as string, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const ids = tok.encode(line, undefined, { maxLength: Infinity }).inputIds;
    for (let i = 1; i < ids.length - 1; i++) stream.push(ids[i]);
    stream.push(tok.sepTokenId);
  }
  const win = T - 2;
  const numWindows = Math.floor(stream.length / win);
  console.error(`corpus: ${stream.length} tokens, ${numWindows} windows of ${win} (tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const order = Array.from({ length: numWindows }, (_, i) => i);
  const rng = mulberry32(SEED);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }

  // Parameters: HF BERT init (normal 0.02, zero biases, unit LayerNorm).
  let seed = SEED * 1000;
  const normal = (shape: number[]) => random.normal(random.key(seed++), shape).mul(0.02);
  const zeros = (n: number) => np.array(new Float32Array(n));
  const ones = (n: number) => np.array(new Float32Array(n).fill(1));
  const encoder: Record<string, unknown> = {};
  for (const slot of encoderSlots(cfg)) {
    const last = slot.path[slot.path.length - 1];
    const leaf = last === "g" ? ones(slot.shape[0]) : (last === "b" ? zeros(slot.shape[0]) : normal(slot.shape));
    setLeaf(encoder, slot.path, leaf);
  }
  let params: Params = {
    encoder: encoder as unknown as EncoderParams,
    mlm: { dense: { w: normal([H, H]), b: zeros(H) }, ln: { g: ones(H), b: zeros(H) }, bias: zeros(cfg.vocabSize) },
  };
  const labels = mapNamed(params, () => "all");
  const opt = new AdamW<Params>(params, labels, { groups: { all: { lr: LR, weightDecay: 0.01 } } });
  let state: AdamWState<Params> = opt.init(params);
  let step = 0;

  // Resume.
  const ckState = path.join(out, "checkpoint", "state.json");
  if (existsSync(ckState)) {
    const st = JSON.parse(readFileSync(ckState, "utf8")) as { step: number; count: number };
    const file = await readSafetensorsFile(path.join(out, "checkpoint", "trees.safetensors"));
    const load = (prefix: string, t: unknown) => mapNamed(t, (p, leaf) => {
      const e = file.tensors.get(`${prefix}.${p}`);
      if (!e) throw new Error(`checkpoint lacks ${prefix}.${p}`);
      leaf.dispose();
      return np.array(toFloat32(e, p, "trees.safetensors")).reshape(e.shape);
    });
    params = load("params", params) as Params;
    state = { count: st.count, mu: load("mu", state.mu) as Params, nu: load("nu", state.nu) as Params };
    step = st.step;
    console.error(`resumed at step ${step}`);
  }

  // Held-out masked-token loss/accuracy (sotu-party dev paragraphs: speeches not in the corpus),
  // fixed masking, logged as {"step", "eval": {...}} lines next to the training loss.
  const task = resolveBuiltinTask("sotu-party");
  const heldOut = (await readTaskSplit(task.task, task.dataDir, "dev")).examples.map((e) => e.text);
  const evalHeldOut = async (s: number): Promise<void> => {
    const r = await evaluateMaskedLm(cfg, params.encoder, params.mlm, tok, heldOut, { batches: Number(a["eval-batches"]), seqLen: T });
    appendFileSync(path.join(out, "log.jsonl"), JSON.stringify({ step: s, eval: r }) + "\n");
    console.error(`held-out at step ${s}: ${JSON.stringify(r)}`);
  };
  if (!existsSync(path.join(out, "log.jsonl")) || !readFileSync(path.join(out, "log.jsonl"), "utf8").includes(`{"step":${step},"eval"`)) await evalHeldOut(step);

  const special = new Set([tok.padTokenId, tok.clsTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId]);
  const lossFn = (p: Params, d: { batch: ReturnType<typeof makeBatch>; positions: JArray; onehot: JArray; weights: JArray }) => {
    const hidden = encode(cfg, p.encoder, d.batch);
    const logits = mlmLogits(cfg, p.encoder, p.mlm, hidden, d.positions);
    const shifted = logits.ref.sub(np.max(logits, -1, { keepdims: true }));
    const logZ = np.log(np.sum(np.exp(shifted.ref), -1));
    const nll = logZ.sub(np.sum(shifted.mul(d.onehot.ref), -1));
    const loss = np.sum(nll.mul(d.weights.ref)).div(np.sum(d.weights.ref));
    tree.dispose(p);
    return loss;
  };

  while (step < STEPS && Date.now() < deadline) {
    const ts = Date.now();
    const ids = new Int32Array(B * T), mask = new Int32Array(B * T).fill(1);
    for (let b = 0; b < B; b++) {
      const w = order[(step * B + b) % numWindows];
      ids[b * T] = tok.clsTokenId;
      for (let i = 0; i < win; i++) ids[b * T + 1 + i] = stream[w * win + i];
      ids[b * T + T - 1] = tok.sepTokenId;
    }
    const srand = mulberry32(SEED * 7919 + step);
    const m = maskTokens(ids, mask, { maskTokenId: tok.maskTokenId, vocabSize: cfg.vocabSize, specialIds: special, random: () => srand() / 2 ** 32 });
    const P = B * MAX_PRED;
    const pos = new Int32Array(P), tgt = new Int32Array(P), wts = new Float32Array(P);
    // Fixed prediction count per batch (padded with weight-0 slots) keeps shapes static.
    for (let j = 0; j < Math.min(P, m.positions.length); j++) { pos[j] = m.positions[j]; tgt[j] = m.targets[j]; wts[j] = 1; }
    const onehotHost = new Float32Array(P * cfg.vocabSize);
    for (let j = 0; j < P; j++) onehotHost[j * cfg.vocabSize + tgt[j]] = 1;
    const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: m.inputIds, attentionMask: mask, tokenTypeIds: new Int32Array(B * T) });
    const d = { batch, positions: np.array(pos, { dtype: np.int32 }), onehot: np.array(onehotHost).reshape([P, cfg.vocabSize]), weights: np.array(wts) };
    const [loss, grads] = valueAndGrad((p: Params) => lossFn(p, d))(tree.ref(params));
    const lrScale = step < WARMUP ? (step + 1) / WARMUP : Math.max(0, (STEPS - step) / (STEPS - WARMUP));
    const next = opt.update(params, grads, state, lrScale);
    params = next.params;
    state = next.state;
    await blockUntilReady(params);
    const lossV = (await loss.data())[0];
    disposeBatch(batch);
    tree.dispose([d.positions, d.onehot, d.weights]);
    if (!Number.isFinite(lossV)) throw new Error(`non-finite loss at step ${step}`);
    step++;
    const rec = { step, loss: lossV, lr: LR * lrScale, ms: Date.now() - ts, masked: Math.min(P, m.positions.length) };
    appendFileSync(path.join(out, "log.jsonl"), JSON.stringify(rec) + "\n");
    if (step % 10 === 0) console.error(JSON.stringify(rec));
    if (step % EVERY === 0 || step === STEPS || Date.now() >= deadline) {
      await checkpoint(step, state.count);
      await evalHeldOut(step);
    }
  }

  async function checkpoint(s: number, count: number): Promise<void> {
    const trees: Record<string, TensorInput> = {};
    for (const [prefix, t] of [["params", params], ["mu", state.mu], ["nu", state.nu]] as const) {
      for (const [p, leaf] of namedLeaves(t)) trees[`${prefix}.${p}`] = { dtype: "F32", shape: leaf.shape, data: (await leaf.ref.data()) as Float32Array };
    }
    await writeSafetensorsFile(path.join(out, "checkpoint", "trees.safetensors"), trees);
    await writeFileAtomic(ckState, JSON.stringify({ step: s, count }));
    // The HF model dir: encoder (bert.*) + MLM head (cls.predictions.*), tokenizer files.
    const hf = await exportHfTensors(cfg, params.encoder, null);
    const mlm = params.mlm;
    const put = async (name: string, x: JArray) => { hf[name] = { dtype: "F32", shape: x.shape, data: (await x.ref.data()) as Float32Array }; };
    await put(MLM_HF_NAMES.denseWeight, mlm.dense.w);
    await put(MLM_HF_NAMES.denseBias, mlm.dense.b);
    await put(MLM_HF_NAMES.lnWeight, mlm.ln.g);
    await put(MLM_HF_NAMES.lnBias, mlm.ln.b);
    await put(MLM_HF_NAMES.bias, mlm.bias);
    await writeSafetensorsFile(path.join(out, "model", "model.safetensors"), hf, { format: "pt", propetl_pretrain_step: String(s) });
    const config = { ...encoderConfigToJson(cfg), architectures: ["BertForMaskedLM"] };
    await writeFileAtomic(path.join(out, "model", "config.json"), JSON.stringify(config, null, 2) + "\n");
    await writeTokenizerFiles(path.join(out, "model"), tok);
    console.error(`checkpoint at step ${s}`);
  }
}

await main();
