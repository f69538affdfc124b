/**
 * Masked-language-model pretraining of a BERT encoder from plain text, on the library
 * trainer (`trainLoop`): progress events, atomic resume checkpoints and bit-identical resume
 * come from there.
 *
 * Text: UTF-8 files; every non-empty line is a document. Documents are tokenized (no special
 * tokens), joined with [SEP] into one token stream and cut into windows of seqLen-2 tokens;
 * a window becomes `[CLS] w [SEP]` (the last window is padded). Held-out text: a file of its
 * own, or by default every 100th non-empty input line (those lines are not trained on).
 *
 * Masking (BERT): 15% of the tokens are selected; of those 80% become [MASK], 10% a random
 * token, 10% stay unchanged (`maskTokens`). Every batch has the same number of prediction
 * slots (the expected count plus a margin; padding slots have weight 0, and the rare excess
 * selections are left unmasked), so shapes are static and the loss can be jitted.
 *
 * Mapping onto the trainer: one trainer "epoch" is one evaluation round of `evalEvery`
 * optimizer steps. Micro-batch g (a global index) takes the windows at positions
 * g*B .. g*B+B-1 of an endless sequence of passes over the windows, each pass in its own
 * seeded order, and is masked with a generator seeded by (seed, g): batches are a pure
 * function of (seed, round), which is what exact resume needs. After every round the
 * held-out masked-token loss and accuracy are measured (fixed masking), and when the loss
 * improves the output folder gets the Hugging Face model: config.json (BertForMaskedLM),
 * model.safetensors (`bert.*` + `cls.predictions.*`) and the tokenizer files. The run also
 * writes pretrain_log.jsonl (one line per step and per evaluation) and, at the end,
 * pretrain_metrics.json.
 *
 * Memory: the trainer owns the parameters; the objective consumes its inputs; every array
 * made here is freed here.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { np, tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { mulberry32 } from "../data/splits.js";
import { loadTokenizer, tokenizerFromVocabTxt } from "../data/tokenizer.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { trainWordPiece } from "../data/wordpiece-trainer.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { writeSafetensorsFile } from "../io/safetensors.js";
import { encoderConfigToJson } from "../models/bert/config.js";
import { readEncoderConfig } from "../models/config-file.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { encode, makeBatch } from "../models/bert/encoder.js";
import { exportHfTensors } from "../models/load.js";
import { initEncoder } from "../models/bert/init.js";
import { loadMlmModelDir } from "../models/bert/mlm.js";
import { initMlmHead, maskTokens, mlmHeadHfTensors, mlmLogits, weightedMlmLoss } from "../models/bert/mlm.js";
import type { MlmHeadParams } from "../models/bert/mlm.js";
import type { EncoderParams } from "../models/bert/params.js";
import { evaluateMaskedLm, specialTokenIds } from "./mlm-eval.js";
import { linearWarmupDecay } from "./schedule.js";
import { checkWritableDir, TRAIN_STATE_FILE } from "./task-run.js";
import { readTrainPosition, trainStateFile } from "./train-state.js";
import type { EvalRecord } from "./train-state.js";
import { trainLoop } from "./trainer.js";
import { uniformInt } from "./batching.js";
import type { EvalResult, Objective, TrainEvent } from "./trainer.js";
import { mapNamed } from "./tree-util.js";
import { versions } from "./versions.js";

/** The run's log in its output folder: one JSON progress event per line. */
export const PRETRAIN_LOG_FILE = "pretrain_log.jsonl";
/** The run's results in its output folder (settings, corpus, evaluations, versions). */
export const PRETRAIN_METRICS_FILE = "pretrain_metrics.json";
export const PRETRAIN_METRICS_FORMAT = "propetl-pretrain-metrics";

/** A user-facing pretraining error (bad input, files, settings); the message names the cause. */
export class PretrainError extends Error {}

/** The trainable tree: the encoder and its MLM head. */
export type MlmParams = {
  /** The encoder. */
  encoder: EncoderParams;
  /** The masked-LM head. */
  mlm: MlmHeadParams;
};

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/** Hyper-parameters of MLM pretraining (`PRETRAIN_DEFAULTS` holds the defaults). */
export interface PretrainHyper {
  /** Optimizer steps in total. */
  steps: number;
  /** Windows per micro-batch. */
  batchSize: number;
  /** Tokens per window, [CLS] and [SEP] included. */
  seqLen: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps (default ceil(6% of steps), as RoBERTa), then linear decay to 0. */
  warmupSteps?: number;
  /** AdamW weight decay. */
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 disables. */
  maxGradNorm: number;
  /** Micro-batches per optimiser step. */
  gradAccumSteps: number;
  /** Fraction of tokens selected for prediction (0.15). */
  maskProbability: number;
  /** Optimizer steps between held-out evaluations (one trainer "epoch"). */
  evalEvery: number;
  /** Held-out batches per evaluation (default: enough for every held-out line once, at most 8). */
  evalBatches?: number;
  /** Windows per held-out batch. */
  evalBatchSize: number;
  /** Seeds initialisation, masking and batch order. */
  seed: number;
  /** Compile the loss and gradient with jit (see PRETRAIN_DEFAULTS.jit). */
  jit: boolean;
}

/** Defaults: BERT/RoBERTa recipes scaled to a small model on a CPU. */
export const PRETRAIN_DEFAULTS = {
  /** `PretrainHyper.steps`. */
  steps: 1000,
  /** `PretrainHyper.batchSize`. */
  batchSize: 32,
  /** `PretrainHyper.seqLen`. */
  seqLen: 128,
  /** `PretrainHyper.lr`. */
  lr: 5e-4,
  /** Warmup as a fraction of the steps, when `PretrainHyper.warmupSteps` is not given. */
  warmupRatio: 0.06,
  /** `PretrainHyper.weightDecay`. */
  weightDecay: 0.01,
  /** `PretrainHyper.maxGradNorm`. */
  maxGradNorm: 1.0,
  /** `PretrainHyper.gradAccumSteps`. */
  gradAccumSteps: 1,
  /** `PretrainHyper.maskProbability`. */
  maskProbability: 0.15,
  /** `PretrainHyper.evalEvery`. */
  evalEvery: 100,
  /** `PretrainHyper.evalBatchSize`. */
  evalBatchSize: 16,
  /** The most held-out batches an evaluation takes when `PretrainHyper.evalBatches` is not given. */
  maxEvalBatches: 8,
  /** `PretrainOptions.heldOutEvery`. */
  heldOutEvery: 100,
  /** `PretrainOptions.vocabSize`. */
  vocabSize: 8000,
  /** `PretrainHyper.seed`. */
  seed: 42,
  // Measured on a 2-layer, hidden-64 model, batch 32x128, 2 busy cores: eager 2.0 s/step,
  // jit 1.0 s/step after a 4.2 s first step (the trace); it pays for itself within 5 steps.
  // propetl-mini (4 layers, hidden 256), --init, 8 steps, cores shared: jit 12 s/step, eager
  // 16.5 s/step, identical losses.
  /** `PretrainHyper.jit`. */
  jit: true,
  /** A fresh model's architecture: layers. */
  layers: 4,
  /** A fresh model's hidden size. */
  hidden: 256,
  /** A fresh model's attention heads. */
  heads: 4,
  /** A fresh model's position-embedding rows. */
  maxPositions: 512,
} as const;

/** Architecture of a fresh BERT model (vocab size and pad id come from the tokenizer). */
export interface BertArchitecture {
  /** Transformer layers. */
  layers: number;
  /** Hidden size (a multiple of `heads`). */
  hidden: number;
  /** Attention heads. */
  heads: number;
  /** FFN inner width. Default 4 * hidden. */
  intermediate?: number;
  /** Position-embedding rows: the longest input in tokens. */
  maxPositions: number;
  /** FFN activation (default "gelu"). */
  hiddenAct?: EncoderConfig["hiddenAct"];
}

/** An EncoderConfig for a fresh BERT; vocabSize (1) and padTokenId (0) are placeholders that pretrainMlm fills from the tokenizer. */
export function bertConfig(a: BertArchitecture): EncoderConfig {
  for (const [k, v] of Object.entries({ layers: a.layers, hidden: a.hidden, heads: a.heads, maxPositions: a.maxPositions, intermediate: a.intermediate ?? 4 * a.hidden })) {
    if (!Number.isInteger(v) || v < 1) throw new PretrainError(`${k} must be a positive integer, got ${v}`);
  }
  if (a.hidden % a.heads !== 0) throw new PretrainError(`hidden size ${a.hidden} is not divisible by the number of attention heads ${a.heads}`);
  return {
    modelType: "bert",
    vocabSize: 1,
    hiddenSize: a.hidden,
    numLayers: a.layers,
    numHeads: a.heads,
    intermediateSize: a.intermediate ?? 4 * a.hidden,
    hiddenAct: a.hiddenAct ?? "gelu",
    layerNormEps: 1e-12,
    maxPositions: a.maxPositions,
    typeVocabSize: 2,
    padTokenId: 0,
    numLabels: 2,
  };
}

// ---------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------

/** The documents a pretraining run reads (`readPretrainText`). */
export interface PretrainText {
  /** Training documents (non-empty lines). */
  train: string[];
  /** Held-out documents. */
  heldOut: string[];
  /** "FILE" or "every Nth line of the input". */
  heldOutSource: string;
  /** Non-empty lines of the input files. */
  lines: number;
}

function readTextLines(file: string, what: string): string[] {
  if (!existsSync(file)) throw new PretrainError(`${file}: ${what} not found`);
  if (statSync(file).isDirectory()) throw new PretrainError(`${file}: is a folder, expected a ${what} (UTF-8, one document per line)`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(file));
  } catch {
    throw new PretrainError(`${file}: not valid UTF-8 text`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split(/\r?\n/).filter((l) => l.trim() !== "");
}

/**
 * Read the documents: every non-empty line of `files`, in order. Held out: the lines of
 * `heldOutFile`, or else every `heldOutEvery`-th line of the input (1-based lines N, 2N, ...),
 * which are then not in `train`.
 */
export function readPretrainText(files: readonly string[], opts: { heldOutFile?: string; heldOutEvery?: number } = {}): PretrainText {
  if (files.length === 0) throw new PretrainError("no text files given");
  const all: string[] = [];
  for (const f of files) for (const l of readTextLines(f, "text file")) all.push(l);
  if (all.length === 0) throw new PretrainError(`${files.join(", ")}: no text (every line is empty); pretraining needs documents, one per line`);
  if (opts.heldOutFile !== undefined) {
    const heldOut = readTextLines(opts.heldOutFile, "held-out text file");
    if (heldOut.length === 0) throw new PretrainError(`${opts.heldOutFile}: no text (every line is empty)`);
    return { train: all, heldOut, heldOutSource: opts.heldOutFile, lines: all.length };
  }
  const every = opts.heldOutEvery ?? PRETRAIN_DEFAULTS.heldOutEvery;
  if (!Number.isInteger(every) || every < 2) throw new PretrainError(`held-out interval must be an integer >= 2, got ${every}`);
  const train: string[] = [];
  const heldOut: string[] = [];
  all.forEach((l, i) => ((i + 1) % every === 0 ? heldOut : train).push(l));
  if (heldOut.length === 0) {
    throw new PretrainError(`the text has ${all.length} non-empty line(s), fewer than ${every}, so holding out every ${every}th line leaves no held-out text; give a held-out file or a smaller interval`);
  }
  return { train, heldOut, heldOutSource: `every ${every}th line of the input`, lines: all.length };
}

/** The special tokens pretraining needs, checked; errors say which are missing and where from. */
export function checkPretrainTokenizer(tok: Tokenizer, source: string): void {
  const need: [string, number][] = [["[PAD]", tok.padTokenId], ["[UNK]", tok.unkTokenId], ["[CLS]", tok.clsTokenId], ["[SEP]", tok.sepTokenId], ["[MASK]", tok.maskTokenId]];
  const missing = need.filter(([, id]) => id < 0).map(([n]) => n);
  if (missing.length) throw new PretrainError(`${source}: the vocabulary has no ${missing.join(", ")} token; pretraining needs [PAD], [UNK], [CLS], [SEP] and [MASK]`);
  const e = tok.encode("a", undefined, { maxLength: Infinity }).inputIds;
  if (tok.numSpecialTokensToAdd(false) !== 2 || e[0] !== tok.clsTokenId || e[e.length - 1] !== tok.sepTokenId) {
    throw new PretrainError(`${source}: the tokenizer does not wrap a text as [CLS] text [SEP]; pretraining needs a BERT-style tokenizer`);
  }
}

/** A BERT uncased WordPiece tokenizer from the lines of a vocab.txt, checked for the special tokens. */
export function tokenizerFromVocabFile(file: string, modelMaxLength?: number): Tokenizer {
  if (!existsSync(file)) throw new PretrainError(`${file}: vocabulary file not found`);
  if (statSync(file).isDirectory()) throw new PretrainError(`${file}: is a folder, expected a vocab.txt (one token per line)`);
  const lines = readFileSync(file, "utf8").split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const have = new Set(lines);
  const missing = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].filter((t) => !have.has(t));
  if (missing.length) throw new PretrainError(`${file}: the vocabulary has no ${missing.join(", ")} token; pretraining needs [PAD], [UNK], [CLS], [SEP] and [MASK]`);
  return tokenizerFromVocabTxt(lines, { lowercase: true, ...(modelMaxLength !== undefined ? { modelMaxLength } : {}) });
}

/** An uncased WordPiece vocabulary trained on `lines` (deterministic). */
export function trainPretrainTokenizer(lines: readonly string[], vocabSize: number, modelMaxLength?: number): Tokenizer {
  const r = trainWordPiece(lines, { vocabSize });
  return tokenizerFromVocabTxt(r.vocab, { lowercase: true, ...(modelMaxLength !== undefined ? { modelMaxLength } : {}) });
}

/** The documents' tokens (no special tokens), each document followed by [SEP]. */
export function tokenStream(tok: Tokenizer, docs: readonly string[]): Int32Array {
  let out = new Int32Array(1 << 16);
  let n = 0;
  for (const d of docs) {
    const ids = tok.encode(d, undefined, { maxLength: Infinity }).inputIds;
    const need = n + ids.length - 1;
    if (need > out.length) {
      const bigger = new Int32Array(Math.max(need, out.length * 2));
      bigger.set(out.subarray(0, n));
      out = bigger;
    }
    for (let i = 1; i < ids.length - 1; i++) out[n++] = ids[i];
    out[n++] = tok.sepTokenId;
  }
  return out.slice(0, n);
}

// ---------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------

/**
 * A 32-bit hash of a few integers (seeds for the pretraining generators). It differs from
 * batching.ts's `mixSeed` (which fine-tuning uses) only for history: the shipped propetl-mini's
 * masking and window draws came from this one, and `--resume` of its run must replay them.
 */
function pretrainSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (h + 0x6d2b79f5) >>> 0;
  }
  return h >>> 0;
}

/** A seeded permutation of [0, n) (Fisher–Yates on mulberry32, without modulo bias). */
function permutation(n: number, seed: number): Uint32Array {
  const next = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(next, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** One micro-batch on the host. */
export interface MlmHostBatch {
  /** int32 [B*T], after masking. */
  inputIds: Int32Array;
  /** int32 [B*T]: 0 on the padding of a short last window. */
  attentionMask: Int32Array;
  /** int32 [P]: flattened positions predicted (padding slots: 0). */
  positions: Int32Array;
  /** int32 [P]: original ids there (padding slots: 0). */
  targets: Int32Array;
  /** float32 [P]: 1/n on the n real slots, 0 on padding slots. */
  weights: Float32Array;
  /** Real prediction slots. */
  predicted: number;
}

export interface MlmBatcherOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
  /** Selection probability (0.15). */
  probability: number;
  /** Ids drawn for the 10% random replacements: [0, vocabSize). */
  vocabSize: number;
  clsTokenId: number;
  sepTokenId: number;
  padTokenId: number;
  maskTokenId: number;
  /** Ids never selected. */
  specialIds: ReadonlySet<number>;
}

/** Prediction slots per batch: the expected count of B*T tokens plus 4 standard deviations and 8. */
export function predictionSlots(batchSize: number, seqLen: number, probability: number): number {
  const n = batchSize * seqLen;
  return Math.min(n, Math.ceil(n * probability + 4 * Math.sqrt(n * probability * (1 - probability))) + 8);
}

/** Cuts the token stream into windows and builds masked micro-batches by global index. */
export class MlmBatcher {
  readonly windowLen: number;
  readonly numWindows: number;
  readonly slots: number;
  private cache = new Map<number, Uint32Array>();

  constructor(
    readonly stream: Int32Array,
    readonly opts: MlmBatcherOptions,
  ) {
    if (opts.seqLen < 3) throw new PretrainError(`sequence length must be at least 3, got ${opts.seqLen}`);
    this.windowLen = opts.seqLen - 2;
    this.numWindows = Math.ceil(stream.length / this.windowLen);
    if (this.numWindows === 0) throw new PretrainError("the text has no tokens");
    this.slots = predictionSlots(opts.batchSize, opts.seqLen, opts.probability);
  }

  /** The window order of pass `pass` (a seeded permutation; the last two are cached). */
  private order(pass: number): Uint32Array {
    let p = this.cache.get(pass);
    if (!p) {
      p = permutation(this.numWindows, pretrainSeed(this.opts.seed, 1, pass));
      this.cache.set(pass, p);
      if (this.cache.size > 2) this.cache.delete(this.cache.keys().next().value as number);
    }
    return p;
  }

  /** Window index at a global position of the endless sequence of passes. */
  windowAt(position: number): number {
    return this.order(Math.floor(position / this.numWindows))[position % this.numWindows];
  }

  /** Micro-batch `g`: windows g*B .. g*B+B-1, masked with a generator seeded by (seed, g). */
  hostBatch(g: number): MlmHostBatch {
    const { batchSize: B, seqLen: T } = this.opts;
    const W = this.windowLen;
    const ids = new Int32Array(B * T).fill(this.opts.padTokenId);
    const attn = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const w = this.windowAt(g * B + b);
      const start = w * W;
      const len = Math.min(W, this.stream.length - start);
      const row = b * T;
      ids[row] = this.opts.clsTokenId;
      ids.set(this.stream.subarray(start, start + len), row + 1);
      ids[row + 1 + len] = this.opts.sepTokenId;
      attn.fill(1, row, row + len + 2);
    }
    const rng = mulberry32(pretrainSeed(this.opts.seed, 2, g));
    const m = maskTokens(ids, attn, {
      probability: this.opts.probability,
      maskTokenId: this.opts.maskTokenId,
      vocabSize: this.opts.vocabSize,
      specialIds: this.opts.specialIds,
      random: () => rng() / 2 ** 32,
    });
    const P = this.slots;
    const n = Math.min(P, m.positions.length);
    // Selections beyond the slots (rare) are not predicted: restore their input.
    for (let j = n; j < m.positions.length; j++) m.inputIds[m.positions[j]] = m.targets[j];
    const positions = new Int32Array(P);
    const targets = new Int32Array(P);
    const weights = new Float32Array(P);
    positions.set(m.positions.subarray(0, n));
    targets.set(m.targets.subarray(0, n));
    weights.fill(1 / n, 0, n);
    return { inputIds: m.inputIds, attentionMask: attn, positions, targets, weights, predicted: n };
  }
}

/** A micro-batch on the device: arrays only (sizes from `maskBias` [B,1,1,T]), so it can be jitted. */
export type MlmDeviceInputs = {
  inputIds: JArray;
  positionIds: JArray;
  tokenTypeIds: JArray;
  maskBias: JArray;
  positions: JArray;
  targets: JArray;
  weights: JArray;
};

/** The MLM objective over micro-batches named by their global index. */
export function mlmObjective(cfg: EncoderConfig, batcher: MlmBatcher): Objective<MlmParams, number, MlmDeviceInputs> {
  const V = cfg.vocabSize;
  return {
    size: () => batcher.opts.batchSize,
    toDevice: (g) => {
      const h = batcher.hostBatch(g);
      const b = makeBatch(cfg, { batchSize: batcher.opts.batchSize, seqLen: batcher.opts.seqLen, inputIds: h.inputIds, attentionMask: h.attentionMask, tokenTypeIds: new Int32Array(h.inputIds.length) });
      return {
        inputIds: b.inputIds,
        positionIds: b.positionIds,
        tokenTypeIds: b.tokenTypeIds,
        maskBias: b.maskBias,
        positions: np.array(h.positions, { dtype: np.int32 }),
        targets: np.array(h.targets, { dtype: np.int32 }),
        weights: np.array(h.weights),
      };
    },
    loss: (params, d) => {
      const [B, , , T] = d.maskBias.shape;
      const hidden = encode(cfg, params.encoder, { batchSize: B, seqLen: T, inputIds: d.inputIds, positionIds: d.positionIds, tokenTypeIds: d.tokenTypeIds, maskBias: d.maskBias });
      const logits = mlmLogits(cfg, params.encoder, params.mlm, hidden, d.positions);
      const loss = weightedMlmLoss(logits, d.targets.ref, d.weights.ref, V);
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
}

// ---------------------------------------------------------------------------
// The model folder
// ---------------------------------------------------------------------------

/** config.json of a pretrained model: the encoder's, with architectures ["BertForMaskedLM"]. */
export function mlmConfigJson(cfg: EncoderConfig): Record<string, unknown> {
  return { ...encoderConfigToJson(cfg), architectures: ["BertForMaskedLM"] };
}

/**
 * Write a Hugging Face model folder: config.json, model.safetensors (`bert.*` encoder and
 * `cls.predictions.*` head) and the tokenizer files, each atomically. Parameters are borrowed.
 */
export async function saveMlmModelDir(dir: string, cfg: EncoderConfig, params: MlmParams, tok: Tokenizer, metadata: Record<string, string> = {}): Promise<void> {
  const tensors = { ...(await exportHfTensors(cfg, params.encoder, null)), ...(await mlmHeadHfTensors(params.mlm)) };
  await writeSafetensorsFile(path.join(dir, "model.safetensors"), tensors, { format: "pt", ...metadata });
  await writeFileAtomic(path.join(dir, "config.json"), JSON.stringify(mlmConfigJson(cfg), null, 2) + "\n");
  await writeTokenizerFilesAtomic(dir, tok);
}

async function writeTokenizerFilesAtomic(dir: string, tok: Tokenizer): Promise<void> {
  for (const [name, content] of Object.entries(tok.toFiles())) await writeFileAtomic(path.join(dir, name), content);
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/** Options of `pretrainMlm`. */
export interface PretrainOptions {
  /** UTF-8 text files; every non-empty line is a document. */
  textFiles: readonly string[];
  /** Held-out documents (one per line); default every `heldOutEvery`-th input line. */
  heldOutFile?: string;
  /** Without `heldOutFile`, every N-th input line is held out (default `PRETRAIN_DEFAULTS.heldOutEvery`). */
  heldOutEvery?: number;
  /** The model folder, train state, log and metrics go here. */
  outputDir: string;
  /** Continue pretraining this HF BERT model dir (its tokenizer is used; its MLM head when present). */
  initDir?: string;
  /** A fresh model's architecture (vocab size and pad id come from the tokenizer); ignored with `initDir`. */
  config?: EncoderConfig;
  /** The tokenizer of a fresh model; default: train an uncased WordPiece vocabulary on the training text. */
  tokenizer?: Tokenizer;
  /** Where `tokenizer` came from (messages, metrics). */
  tokenizerSource?: string;
  /** Vocabulary size when the vocabulary is trained (default `PRETRAIN_DEFAULTS.vocabSize`). */
  vocabSize?: number;
  /** Hyper-parameters; unset ones from `PRETRAIN_DEFAULTS`. */
  hyper?: Partial<PretrainHyper>;
  /** Continue the run in `outputDir` from its train state (same settings). */
  resume?: boolean;
  /** Also save the train state every N steps (always after each evaluation). */
  saveSteps?: number;
  /** Keep train_state.safetensors after the run. */
  keepTrainState?: boolean;
  /** Extra fields for pretrain_metrics.json (e.g. the command line). */
  extra?: Record<string, unknown>;
  /** Called with every progress event. */
  onEvent?: (e: TrainEvent) => void;
  /** Called with each progress line meant for people. */
  log?: (message: string) => void;
  /** Abort: the state is saved after the current step and TrainingInterrupted is thrown. */
  signal?: AbortSignal;
}

/** What a pretraining run read and how it was cut (recorded in pretrain_metrics.json). */
export interface CorpusInfo {
  /** The input files, absolute. */
  files: string[];
  /** Non-empty input lines. */
  lines: number;
  /** Training documents. */
  trainDocuments: number;
  /** Held-out documents. */
  heldOutDocuments: number;
  /** Where the held-out documents came from. */
  heldOut: string;
  /** Tokens of the training stream ([SEP]-joined documents). */
  tokens: number;
  /** Windows the stream is cut into. */
  windows: number;
  /** Text tokens per window (`seqLen` − 2: [CLS] and [SEP] excluded). */
  windowLength: number;
}

/** What `pretrainMlm` returns. */
export interface PretrainResult {
  /** The model folder written (the best evaluation's weights). */
  outputDir: string;
  /** Optimiser steps taken in total. */
  steps: number;
  /** Best held-out evaluation (the saved model). */
  best: EvalRecord | null;
  /** Last held-out evaluation. */
  final: EvalRecord | null;
  /** Every held-out evaluation, in order. */
  history: EvalRecord[];
  /** pretrain_metrics.json. */
  metricsFile: string;
  /** The corpus read (for a skipped run, the finished run's record; null when that lacks one). */
  corpus: CorpusInfo | null;
  /** Optimiser step the run resumed from, when it did. */
  resumedAtStep?: number;
  /** True when the folder held a finished run (resume) and nothing was trained. */
  skipped?: boolean;
}

function resolveHyper(h: Partial<PretrainHyper>): PretrainHyper {
  const d = PRETRAIN_DEFAULTS;
  const r: PretrainHyper = {
    steps: h.steps ?? d.steps,
    batchSize: h.batchSize ?? d.batchSize,
    seqLen: h.seqLen ?? d.seqLen,
    lr: h.lr ?? d.lr,
    weightDecay: h.weightDecay ?? d.weightDecay,
    maxGradNorm: h.maxGradNorm ?? d.maxGradNorm,
    gradAccumSteps: h.gradAccumSteps ?? d.gradAccumSteps,
    maskProbability: h.maskProbability ?? d.maskProbability,
    evalEvery: Math.min(h.evalEvery ?? d.evalEvery, h.steps ?? d.steps),
    evalBatchSize: h.evalBatchSize ?? d.evalBatchSize,
    seed: h.seed ?? d.seed,
    jit: h.jit ?? d.jit,
    ...(h.evalBatches !== undefined ? { evalBatches: h.evalBatches } : {}),
  };
  r.warmupSteps = h.warmupSteps ?? Math.ceil(r.steps * d.warmupRatio);
  for (const k of ["steps", "batchSize", "seqLen", "gradAccumSteps", "evalEvery", "evalBatchSize"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new PretrainError(`${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.evalBatches !== undefined && (!Number.isInteger(r.evalBatches) || r.evalBatches < 1)) throw new PretrainError(`evalBatches must be a positive integer, got ${r.evalBatches}`);
  if (!Number.isInteger(r.warmupSteps) || r.warmupSteps < 0 || r.warmupSteps > r.steps) throw new PretrainError(`warmup steps must be an integer in [0, ${r.steps}] (the number of steps), got ${r.warmupSteps}`);
  if (!(r.lr > 0)) throw new PretrainError(`learning rate must be > 0, got ${r.lr}`);
  if (!(r.maskProbability > 0 && r.maskProbability < 1)) throw new PretrainError(`masking probability must be in (0, 1), got ${r.maskProbability}`);
  if (!Number.isInteger(r.seed) || r.seed < 0) throw new PretrainError(`seed must be a non-negative integer, got ${r.seed}`);
  return r;
}

/** Refuse to clobber another run or model; says what to do instead. */
export function existingRun(dir: string, resume: boolean): "fresh" | "resume" | "finished" {
  const state = existsSync(path.join(dir, TRAIN_STATE_FILE));
  const metrics = existsSync(path.join(dir, PRETRAIN_METRICS_FILE));
  if (state) {
    if (!resume) throw new PretrainError(`${dir} holds an unfinished pretraining run (${TRAIN_STATE_FILE}); pass --resume to continue it, or choose another --output`);
    return "resume";
  }
  if (metrics) {
    if (!resume) throw new PretrainError(`${dir} already holds a finished pretraining run (${PRETRAIN_METRICS_FILE}); choose another --output`);
    return "finished";
  }
  if (!resume && (existsSync(path.join(dir, "model.safetensors")) || existsSync(path.join(dir, "config.json")))) {
    throw new PretrainError(`${dir} already holds a model (config.json / model.safetensors); choose another --output`);
  }
  return "fresh";
}

/** Keep the log lines of steps up to `step` (a resumed run redoes the later ones). */
export function truncateLog(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => {
      if (l.trim() === "") return false;
      try {
        const s = (JSON.parse(l) as { step?: unknown }).step;
        return typeof s === "number" && s <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(file, kept.map((l) => l + "\n").join(""));
}

function sha(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 32);
}

/** Pretrain (see the module comment). Returns when the run is done; throws TrainingInterrupted on abort. */
export async function pretrainMlm(opts: PretrainOptions): Promise<PretrainResult> {
  const log = opts.log ?? (() => undefined);
  const hyper = resolveHyper(opts.hyper ?? {});
  const out = opts.outputDir;
  if (opts.initDir !== undefined && path.resolve(opts.initDir) === path.resolve(out)) throw new PretrainError(`the output folder ${out} is the --init model's folder; write the new model to another folder`);
  if (opts.saveSteps !== undefined && (!Number.isInteger(opts.saveSteps) || opts.saveSteps < 1)) throw new PretrainError(`saveSteps must be a positive integer, got ${opts.saveSteps}`);
  await checkWritableDir(out, log);
  const status = existingRun(out, opts.resume ?? false);
  const metricsFile = path.join(out, PRETRAIN_METRICS_FILE);
  if (status === "finished") {
    const prev = JSON.parse(readFileSync(metricsFile, "utf8")) as { steps: number; best: EvalRecord | null; final: EvalRecord | null; history: EvalRecord[]; corpus: CorpusInfo };
    log(`${out}: the run already finished (${PRETRAIN_METRICS_FILE}); nothing to do`);
    return { outputDir: out, steps: prev.steps, best: prev.best, final: prev.final, history: prev.history, metricsFile, corpus: prev.corpus, skipped: true };
  }

  // Text, tokenizer, model config: all checked before any training.
  const text = readPretrainText(opts.textFiles, { ...(opts.heldOutFile !== undefined ? { heldOutFile: opts.heldOutFile } : {}), ...(opts.heldOutEvery !== undefined ? { heldOutEvery: opts.heldOutEvery } : {}) });
  let cfg: EncoderConfig;
  let tok: Tokenizer;
  let tokSource: string;
  if (opts.initDir !== undefined) {
    if (!existsSync(opts.initDir)) throw new PretrainError(`--init ${opts.initDir}: folder not found`);
    cfg = readEncoderConfig(path.join(opts.initDir, "config.json"));
    if (cfg.modelType !== "bert") throw new PretrainError(`${path.join(opts.initDir, "config.json")}: model_type "${cfg.modelType}": only BERT models can be pretrained here`);
    tok = opts.tokenizer ?? (await loadTokenizer(opts.initDir));
    tokSource = opts.tokenizerSource ?? opts.initDir;
  } else {
    const base = opts.config ?? bertConfig({ layers: PRETRAIN_DEFAULTS.layers, hidden: PRETRAIN_DEFAULTS.hidden, heads: PRETRAIN_DEFAULTS.heads, maxPositions: PRETRAIN_DEFAULTS.maxPositions });
    if (base.modelType !== "bert") throw new PretrainError(`model_type "${base.modelType}": only BERT models can be pretrained here`);
    if (base.hiddenSize % base.numHeads !== 0) throw new PretrainError(`hidden size ${base.hiddenSize} is not divisible by the number of attention heads ${base.numHeads}`);
    if (opts.tokenizer) {
      tok = opts.tokenizer;
      tokSource = opts.tokenizerSource ?? "the given tokenizer";
    } else if (status === "resume" && existsSync(path.join(out, "vocab.txt"))) {
      tok = await loadTokenizer(out);
      tokSource = `${out} (trained at the start of this run)`;
    } else {
      const vocabSize = opts.vocabSize ?? PRETRAIN_DEFAULTS.vocabSize;
      const t0 = Date.now();
      tok = trainPretrainTokenizer(text.train, vocabSize, base.maxPositions);
      tokSource = `WordPiece vocabulary of ${tok.vocabSize} trained on the text`;
      log(`trained a WordPiece vocabulary of ${tok.vocabSize} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (opts.config && opts.config.vocabSize > 1 && opts.config.vocabSize !== tok.vocabSize) log(`the config's vocab_size ${opts.config.vocabSize} is replaced by the tokenizer's ${tok.vocabSize}`);
    cfg = { ...base, vocabSize: tok.vocabSize, padTokenId: tok.padTokenId };
  }
  checkPretrainTokenizer(tok, tokSource);
  if (tok.vocabSize > cfg.vocabSize) throw new PretrainError(`the tokenizer (${tokSource}) has ${tok.vocabSize} ids but the model's vocab_size is ${cfg.vocabSize}`);
  if (hyper.seqLen > cfg.maxPositions) throw new PretrainError(`sequence length ${hyper.seqLen} exceeds the model's max_position_embeddings ${cfg.maxPositions}`);

  const t0 = Date.now();
  const stream = tokenStream(tok, text.train);
  if (stream.length === 0) throw new PretrainError(`${opts.textFiles.join(", ")}: the training text has no tokens`);
  const special = specialTokenIds(tok);
  const batcher = new MlmBatcher(stream, {
    batchSize: hyper.batchSize,
    seqLen: hyper.seqLen,
    seed: hyper.seed,
    probability: hyper.maskProbability,
    vocabSize: tok.vocabSize,
    clsTokenId: tok.clsTokenId,
    sepTokenId: tok.sepTokenId,
    padTokenId: tok.padTokenId,
    maskTokenId: tok.maskTokenId,
    specialIds: special,
  });
  const corpus: CorpusInfo = {
    files: opts.textFiles.map((f) => path.resolve(f)),
    lines: text.lines,
    trainDocuments: text.train.length,
    heldOutDocuments: text.heldOut.length,
    heldOut: text.heldOutSource,
    tokens: stream.length,
    windows: batcher.numWindows,
    windowLength: batcher.windowLen,
  };
  log(`text: ${text.lines} lines, ${text.train.length} training documents -> ${stream.length} tokens, ${batcher.numWindows} windows of ${batcher.windowLen} (tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s); held out: ${text.heldOut.length} documents (${text.heldOutSource})`);
  const evalBatches = hyper.evalBatches ?? Math.min(PRETRAIN_DEFAULTS.maxEvalBatches, Math.ceil(text.heldOut.length / hyper.evalBatchSize));

  const rounds = Math.ceil(hyper.steps / hyper.evalEvery);
  const perRound = hyper.evalEvery * hyper.gradAccumSteps;
  const fingerprint = sha(
    JSON.stringify({ config: mlmConfigJson(cfg), hyper, evalBatches, init: opts.initDir !== undefined ? { weightsBytes: statSync(path.join(opts.initDir, "model.safetensors")).size } : null }),
    JSON.stringify(Array.from({ length: tok.vocabSize }, (_, i) => tok.idToToken(i) ?? null)),
    new Uint8Array(stream.buffer, stream.byteOffset, stream.byteLength),
    JSON.stringify(text.heldOut),
  );

  const stateFile = path.join(out, TRAIN_STATE_FILE);
  const logFile = path.join(out, PRETRAIN_LOG_FILE);
  if (status === "resume") {
    const pos = await readTrainPosition(stateFile);
    if (pos && pos.fingerprint !== fingerprint) {
      throw new PretrainError(`${stateFile}: this run was started with other settings (text, tokenizer, model or hyper-parameters); rerun with the original settings to resume it, or choose another --output`);
    }
    truncateLog(logFile, pos?.globalStep ?? 0);
  } else {
    writeFileSync(logFile, "");
    if (!opts.tokenizer && opts.initDir === undefined) await writeTokenizerFilesAtomic(out, tok);
  }
  // The log survives its folder being removed during the run (the folder is made again, as the
  // trainer's state does; the lines before are lost with the folder).
  const appendLog = (obj: Record<string, unknown>): void => {
    if (!existsSync(out)) mkdirSync(out, { recursive: true });
    appendFileSync(logFile, JSON.stringify(obj) + "\n");
  };

  // Parameters: the init model's, or fresh (HF BERT initialisation).
  let params: MlmParams;
  let headSource = "initialized";
  if (opts.initDir !== undefined) {
    const m = await loadMlmModelDir(opts.initDir, { seed: pretrainSeed(hyper.seed, 4) & 0x7fffffff });
    params = { encoder: m.encoder, mlm: m.head };
    headSource = m.headSource;
    log(`model: ${opts.initDir} (${cfg.numLayers} layers, hidden ${cfg.hiddenSize}); MLM head ${m.headSource === "checkpoint" ? "from the checkpoint" : "initialized (the file has no cls.predictions.*)"}`);
  } else {
    params = { encoder: initEncoder(cfg, pretrainSeed(hyper.seed, 3) & 0x7fffffff), mlm: initMlmHead(cfg, pretrainSeed(hyper.seed, 4) & 0x7fffffff) };
    log(`model: a fresh BERT, ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numHeads} heads, intermediate ${cfg.intermediateSize}, vocab ${cfg.vocabSize}, max positions ${cfg.maxPositions}`);
  }

  const started = Date.now();
  const res = await trainLoop<MlmParams, number, MlmDeviceInputs>({
    params,
    labels: mapNamed(params, () => "all"),
    optimizer: { groups: { all: { lr: hyper.lr, weightDecay: hyper.weightDecay } } },
    maxGradNorm: hyper.maxGradNorm,
    epochs: rounds,
    maxSteps: hyper.steps,
    gradAccumSteps: hyper.gradAccumSteps,
    epochBatches: (round) => Array.from({ length: perRound }, (_, j) => round * perRound + j),
    objective: mlmObjective(cfg, batcher),
    schedule: (total) => linearWarmupDecay({ totalSteps: total, warmupSteps: hyper.warmupSteps ?? 0 }),
    evaluate: async (p): Promise<EvalResult> => {
      const r = await evaluateMaskedLm(cfg, p.encoder, p.mlm, tok, text.heldOut, { batches: evalBatches, batchSize: hyper.evalBatchSize, seqLen: hyper.seqLen });
      return { main: r.loss, scores: { loss: r.loss, accuracy: r.accuracy } };
    },
    metricMode: "min",
    onBest: async (p, record) => {
      await saveMlmModelDir(out, cfg, p, tok, { propetl_pretrain_step: String(record.step) });
    },
    checkpoint: { store: trainStateFile(stateFile), ...(opts.saveSteps !== undefined ? { everySteps: opts.saveSteps } : {}) },
    resume: status === "resume",
    fingerprint,
    jit: hyper.jit,
    onEvent: (e) => {
      if (e.type === "step") appendLog({ step: e.step, loss: e.loss, lr: hyper.lr * e.lrScale, gradNorm: e.gradNorm, elapsedMs: Math.round(e.elapsedMs) });
      if (e.type === "eval") appendLog({ step: e.step, heldOut: { loss: e.scores.loss, accuracy: e.scores.accuracy }, ...(e.trainLoss !== undefined ? { trainLoss: e.trainLoss } : {}), improved: e.improved });
      opts.onEvent?.(e);
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    // The output folder removed during the run: the trainer's state recreated it, but the model
    // folder the best evaluation wrote is gone; write it again from the best parameters.
    if (res.bestRecord && !(existsSync(path.join(out, "model.safetensors")) && existsSync(path.join(out, "config.json")))) {
      await saveMlmModelDir(out, cfg, res.best ?? res.params, tok, { propetl_pretrain_step: String(res.bestRecord.step) });
      log(`${out}: the model files were missing (the folder was removed during the run?); wrote them again from the best evaluation (step ${res.bestRecord.step})`);
    }
    const final = res.history.length ? res.history[res.history.length - 1] : null;
    const doc = {
      format: PRETRAIN_METRICS_FORMAT,
      version: 1,
      objective: `masked language modelling (${hyper.maskProbability * 100}% of tokens selected; of those 80% [MASK], 10% a random token, 10% unchanged)`,
      config: mlmConfigJson(cfg),
      init: opts.initDir !== undefined ? { dir: path.resolve(opts.initDir), mlmHead: headSource } : null,
      tokenizer: { source: tokSource, vocabSize: tok.vocabSize },
      hyper: { ...hyper, evalBatches, predictionSlots: batcher.slots },
      corpus,
      steps: res.steps,
      ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
      final,
      best: res.bestRecord,
      history: res.history,
      engine: engineInfoOrNull(),
      versions: versions(),
      trainSeconds: (Date.now() - started) / 1000,
      createdAt: new Date().toISOString(),
      ...(opts.extra ?? {}),
    };
    await writeFileAtomic(metricsFile, JSON.stringify(doc, null, 2) + "\n");
    if (!opts.keepTrainState) rmSync(stateFile, { force: true });
    return {
      outputDir: out,
      steps: res.steps,
      best: res.bestRecord,
      final,
      history: res.history,
      metricsFile,
      corpus,
      ...(res.resumedAtStep !== undefined ? { resumedAtStep: res.resumedAtStep } : {}),
    };
  } finally {
    tree.dispose(res.params);
    if (res.best) tree.dispose(res.best);
  }
}
