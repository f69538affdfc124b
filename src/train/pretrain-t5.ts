/**
 * T5 pretraining from scratch with span corruption (span-corruption.ts, as Hugging Face's
 * `run_t5_mlm_flax.py`), on the library trainer (`trainLoop`): progress events, atomic resume
 * checkpoints and bit-identical resume come from there. The BERT path is pretrain.ts; this
 * file shares its text reading, run-folder rules and log format.
 *
 * Text: every non-empty line is a document; each is tokenized by the T5 tokenizer (which
 * appends EOS, as HF's `tokenizer(texts)` does), the documents are concatenated into one
 * stream and cut into chunks of `tokensLength` raw tokens (HF's `group_texts`; the remainder
 * is dropped), where `tokensLength` is the longest chunk whose corrupted input fits the
 * encoder length (`computeInputAndTargetLengths`: 128 -> 141 raw tokens, 29 targets). Held
 * out: a file, or every 100th input line (not trained on), chunked the same way.
 *
 * Batches: micro-batch g takes the chunks at positions g*B .. g*B+B-1 of an endless sequence
 * of passes over the chunks, each pass in its own seeded order, and corrupts row r with a
 * generator seeded by (seed, g, r): batches are a pure function of (seed, step), which is
 * what exact resume needs. Every input has exactly `inputLength` ids and every target
 * `targetsLength` (as HF checks), so shapes are static and the step can be jitted. The
 * decoder input is the target shifted right behind `decoder_start_token_id` (the pad id).
 *
 * Loss: `t5Forward` + `t5LmLogits` + `t5Loss` (mean cross-entropy over the target tokens).
 * AdamW (no weight decay on the RMS norm weights, as the Flax script's mask), linear warmup
 * then linear decay. After every `evalEvery` steps the held-out span-corruption loss and
 * token accuracy are measured with fixed masks, and when the loss improves the output folder
 * gets the Hugging Face `T5ForConditionalGeneration` model: config.json, model.safetensors
 * (HF names; F32 or F16), generation_config.json and the tokenizer files. When the run is
 * interrupted (Ctrl-C, SIGTERM) after its state is saved, the folder gets the latest
 * parameters instead (`propetl_pretrain_step` in the safetensors metadata says which).
 * Also written: pretrain_log.jsonl and, at the end, pretrain_metrics.json.
 *
 * Memory: the trainer owns the parameters; the objective consumes its inputs; every array
 * made here is freed here.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { engineInfoOrNull } from "../engine/engine.js";
import { np, tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import { mulberry32 } from "../data/splits.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { writeFileAtomic } from "../io/atomic-write.js";
import { float32ToFloat16Bits, writeSafetensorsFile } from "../io/safetensors.js";
import type { TensorInput } from "../io/safetensors.js";
import { exportHfTensors } from "../models/load.js";
import { makeT5Batch, disposeT5Batch, shiftRight } from "../models/t5/batch.js";
import type { T5Batch } from "../models/t5/batch.js";
import { t5ConfigToJson, T5_FEED_FORWARD_PROJS } from "../models/t5/config.js";
import type { T5Config, T5FeedForwardProj } from "../models/t5/config.js";
import { initT5 } from "../models/t5/init.js";
import { t5Decode, t5EncodeAsync, t5Forward, t5LmLogits, t5Loss } from "../models/t5/model.js";
import type { T5Params } from "../models/t5/params.js";
import { mixSeed, uniformInt } from "./batching.js";
import { existingRun, PRETRAIN_LOG_FILE, PRETRAIN_METRICS_FILE, PRETRAIN_METRICS_FORMAT, PretrainError, readPretrainText, truncateLog } from "./pretrain.js";
import type { PretrainResult } from "./pretrain.js";
import { linearWarmupDecay } from "./schedule.js";
import { computeInputAndTargetLengths, spanCorrupt } from "./span-corruption.js";
import type { SentinelOptions } from "./span-corruption.js";
import { checkWritableDir, TRAIN_STATE_FILE } from "./task-run.js";
import { loadTrainState, readTrainPosition, trainStateFile } from "./train-state.js";
import type { EvalRecord } from "./train-state.js";
import { trainLoop, TrainingInterrupted } from "./trainer.js";
import type { EvalResult, Objective, TrainEvent } from "./trainer.js";
import { mapNamed } from "./tree-util.js";
import { versions } from "./versions.js";

/** Sentinel tokens a T5 vocabulary has (`<extra_id_0>` .. `<extra_id_99>`). */
export const T5_SENTINELS = 100;

/** Weights' dtype in model.safetensors. */
export type T5SaveDtype = "F32" | "F16";

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

/** Hyper-parameters of T5 span-corruption pretraining (`T5_PRETRAIN_DEFAULTS` holds the defaults). */
export interface T5PretrainHyper {
  /** Optimizer steps in total. */
  steps: number;
  /** Chunks per micro-batch. */
  batchSize: number;
  /** Encoder input length after corruption, EOS included (HF's max_seq_length). */
  inputLength: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps (default ceil(6% of steps)), then linear decay to 0. */
  warmupSteps?: number;
  /** AdamW weight decay. */
  weightDecay: number;
  /** Clip the global gradient norm to this; 0 disables. */
  maxGradNorm: number;
  /** Micro-batches per optimiser step. */
  gradAccumSteps: number;
  /** Fraction of raw tokens corrupted (HF's mlm_probability, 0.15). */
  noiseDensity: number;
  /** Mean corrupted span length (3). */
  meanNoiseSpanLength: number;
  /** Optimizer steps between held-out evaluations (one trainer "epoch"). */
  evalEvery: number;
  /** Held-out batches per evaluation (default: every held-out chunk once, at most 8 batches). */
  evalBatches?: number;
  /** Chunks per held-out batch. */
  evalBatchSize: number;
  /** Seeds initialisation, corruption and batch order. */
  seed: number;
  /** Compile the loss and gradient with jit. */
  jit: boolean;
}

/** Defaults: the Flax script's objective on a small model for a CPU. */
export const T5_PRETRAIN_DEFAULTS = {
  /** `T5PretrainHyper.steps`. */
  steps: 1000,
  /** `T5PretrainHyper.batchSize`. */
  batchSize: 16,
  /** `T5PretrainHyper.inputLength`. */
  inputLength: 128,
  /** `T5PretrainHyper.lr`. */
  lr: 1e-3,
  /** Warmup as a fraction of the steps, when `T5PretrainHyper.warmupSteps` is not given. */
  warmupRatio: 0.06,
  /** `T5PretrainHyper.weightDecay`. */
  weightDecay: 0.0,
  /** `T5PretrainHyper.maxGradNorm`. */
  maxGradNorm: 1.0,
  /** `T5PretrainHyper.gradAccumSteps`. */
  gradAccumSteps: 1,
  /** `T5PretrainHyper.noiseDensity`. */
  noiseDensity: 0.15,
  /** `T5PretrainHyper.meanNoiseSpanLength`. */
  meanNoiseSpanLength: 3,
  /** `T5PretrainHyper.evalEvery`. */
  evalEvery: 100,
  /** `T5PretrainHyper.evalBatchSize`. */
  evalBatchSize: 16,
  /** The most held-out batches an evaluation takes when `T5PretrainHyper.evalBatches` is not given. */
  maxEvalBatches: 8,
  /** `T5PretrainOptions.heldOutEvery`. */
  heldOutEvery: 100,
  /** `T5PretrainHyper.seed`. */
  seed: 42,
  /** `T5PretrainHyper.jit`. */
  jit: true,
  /** A fresh model's architecture (T5 v1.0 shape, scaled down): `T5Architecture.dModel`. */
  dModel: 256,
  /** A fresh model's `T5Architecture.dFf`. */
  dFf: 1024,
  /** A fresh model's `T5Architecture.layers`. */
  layers: 4,
  /** A fresh model's `T5Architecture.heads`. */
  heads: 4,
  /** A fresh model's `T5Architecture.dKv`. */
  dKv: 64,
  /** A fresh model's `T5Architecture.ffn`. */
  ffn: "relu" as T5FeedForwardProj,
} as const;

/** Architecture of a fresh T5 (vocab size and special ids come from the tokenizer). */
export interface T5Architecture {
  /** Residual width. */
  dModel: number;
  /** FFN inner width. */
  dFf: number;
  /** Encoder blocks. */
  layers: number;
  /** Decoder blocks. Default: `layers`. */
  decoderLayers?: number;
  /** Attention heads. */
  heads: number;
  /** Per-head q/k/v size. */
  dKv: number;
  /** "relu": T5 v1.0 (tied embeddings); "gated-gelu": v1.1 (untied LM head). */
  ffn: T5FeedForwardProj;
}

/** A T5Config for a fresh model; the ids and vocab size are placeholders that pretrainT5 fills from the tokenizer. */
export function t5ArchitectureConfig(a: T5Architecture): T5Config {
  const dims = { dModel: a.dModel, dFf: a.dFf, layers: a.layers, decoderLayers: a.decoderLayers ?? a.layers, heads: a.heads, dKv: a.dKv };
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new PretrainError(`${k} must be a positive integer, got ${v}`);
  }
  if (!(T5_FEED_FORWARD_PROJS as readonly string[]).includes(a.ffn)) throw new PretrainError(`ffn must be one of ${T5_FEED_FORWARD_PROJS.join(", ")}, got ${JSON.stringify(a.ffn)}`);
  return {
    modelType: "t5",
    vocabSize: 1,
    dModel: a.dModel,
    dKv: a.dKv,
    dFf: a.dFf,
    numLayers: a.layers,
    numDecoderLayers: dims.decoderLayers,
    numHeads: a.heads,
    relativeBuckets: 32,
    relativeMaxDistance: 128,
    layerNormEps: 1e-6,
    feedForwardProj: a.ffn,
    tieWordEmbeddings: a.ffn === "relu",
    padTokenId: 0,
    eosTokenId: 1,
    decoderStartTokenId: 0,
  };
}

// ---------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------

/** The ids span corruption needs from a T5 tokenizer, checked. */
export interface T5TokenIds {
  /** The pad id (0 in T5). */
  pad: number;
  /** The EOS id. */
  eos: number;
  /** The unknown-token id. */
  unk: number;
  /** HF's len(tokenizer): `<extra_id_k>` is `sentinelTop - 1 - k`. */
  sentinelTop: number;
}

/** Check a T5 tokenizer: <pad>, </s>, <unk>, EOS appended by encode, and 100 sentinels at the top ids in reverse order. */
export function checkT5Tokenizer(tok: Tokenizer, source: string): T5TokenIds {
  const eos = tok.tokenToId("</s>");
  const pad = tok.tokenToId("<pad>");
  const unk = tok.tokenToId("<unk>");
  const missing = [["<pad>", pad], ["</s>", eos], ["<unk>", unk]].filter(([, id]) => id === undefined).map(([n]) => n);
  if (missing.length || pad === undefined || eos === undefined || unk === undefined) throw new PretrainError(`${source}: the vocabulary has no ${missing.join(", ")} token; T5 pretraining needs <pad>, </s> and <unk>`);
  const top = tok.vocabSize;
  for (let k = 0; k < T5_SENTINELS; k++) {
    const id = tok.tokenToId(`<extra_id_${k}>`);
    if (id !== top - 1 - k) {
      throw new PretrainError(`${source}: <extra_id_${k}> is ${id === undefined ? "missing" : `id ${id}`}, expected id ${top - 1 - k}: span corruption needs the ${T5_SENTINELS} sentinels at the top of the vocabulary, <extra_id_0> the highest (a T5 tokenizer)`);
    }
  }
  const e = tok.encode("a", undefined, { maxLength: Infinity }).inputIds;
  if (tok.numSpecialTokensToAdd(false) !== 1 || e[e.length - 1] !== eos) throw new PretrainError(`${source}: the tokenizer does not end a text with </s>; T5 pretraining needs a T5 tokenizer (tokenizer.json with a "</s>" post-processor)`);
  return { pad, eos, unk, sentinelTop: top };
}

/** The documents' ids concatenated, each document's ending with EOS (as the T5 tokenizer encodes it). */
export function t5TokenStream(tok: Tokenizer, docs: readonly string[]): Int32Array {
  let out = new Int32Array(1 << 16);
  let n = 0;
  for (const d of docs) {
    const ids = tok.encode(d, undefined, { maxLength: Infinity }).inputIds;
    if (n + ids.length > out.length) {
      const bigger = new Int32Array(Math.max(n + ids.length, out.length * 2));
      bigger.set(out.subarray(0, n));
      out = bigger;
    }
    out.set(ids, n);
    n += ids.length;
  }
  return out.slice(0, n);
}

// ---------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------

/** A seeded permutation of [0, n) (Fisher–Yates on mulberry32). */
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

/** One corrupted micro-batch on the host: [B, inputLength] inputs, [B, targetsLength] targets. */
export interface SpanHostBatch {
  /** B: chunks in the batch. */
  batchSize: number;
  /** Encoder inputs, [B*inputLength]. */
  inputIds: Int32Array;
  /** Decoder targets, [B*targetsLength]. */
  targets: Int32Array;
}

/** Options of `SpanBatcher`. */
export interface SpanBatcherOptions {
  /** Chunks per micro-batch. */
  batchSize: number;
  /** Encoder input length after corruption, EOS included. */
  inputLength: number;
  /** Fraction of raw tokens corrupted. */
  noiseDensity: number;
  /** Mean corrupted span length. */
  meanNoiseSpanLength: number;
  /** Seeds the chunk order and the noise masks. */
  seed: number;
  /** Sentinel ids and EOS. */
  sentinels: SentinelOptions;
  /** What the stream is, for errors (default "the text"). */
  what?: string;
}

/** Cuts a token stream into raw chunks and builds corrupted micro-batches by global index. */
export class SpanBatcher {
  /** Raw tokens per chunk. */
  readonly tokensLength: number;
  /** Decoder target length of every chunk (sentinels and EOS included). */
  readonly targetsLength: number;
  /** Whole chunks in the stream (a shorter tail is not used). */
  readonly numChunks: number;
  private cache = new Map<number, Uint32Array>();

  constructor(
    /** The token stream (documents joined, EOS-terminated). */
    readonly stream: Int32Array,
    /** The options given. */
    readonly opts: SpanBatcherOptions,
  ) {
    const l = computeInputAndTargetLengths(opts.inputLength, opts.noiseDensity, opts.meanNoiseSpanLength);
    this.tokensLength = l.tokensLength;
    this.targetsLength = l.targetsLength;
    this.numChunks = Math.floor(stream.length / l.tokensLength);
    if (this.numChunks === 0) throw new PretrainError(`${opts.what ?? "the text"} has ${stream.length} tokens, fewer than one chunk of ${l.tokensLength} raw tokens (input length ${opts.inputLength}); give more text or a shorter --seq-len`);
  }

  /** Raw chunk `c`. */
  chunk(c: number): Int32Array {
    return this.stream.subarray(c * this.tokensLength, (c + 1) * this.tokensLength);
  }

  private order(pass: number): Uint32Array {
    let p = this.cache.get(pass);
    if (!p) {
      p = permutation(this.numChunks, mixSeed(this.opts.seed, 1, pass));
      this.cache.set(pass, p);
      if (this.cache.size > 2) this.cache.delete(this.cache.keys().next().value as number);
    }
    return p;
  }

  /** Chunk index at a global position of the endless sequence of passes. */
  chunkAt(position: number): number {
    return this.order(Math.floor(position / this.numChunks))[position % this.numChunks];
  }

  /** Corrupt the given chunks, row r with a generator seeded by (seed, stream, g, r). */
  corrupt(chunks: readonly number[], stream: number, g: number): SpanHostBatch {
    const B = chunks.length;
    const S = this.opts.inputLength;
    const T = this.targetsLength;
    const inputIds = new Int32Array(B * S);
    const targets = new Int32Array(B * T);
    chunks.forEach((c, r) => {
      const next = mulberry32(mixSeed(this.opts.seed, stream, g, r));
      const x = spanCorrupt(this.chunk(c), this.opts.noiseDensity, this.opts.meanNoiseSpanLength, next, this.opts.sentinels);
      if (x.inputs.length !== S || x.targets.length !== T) {
        throw new PretrainError(`span corruption gave ${x.inputs.length} input and ${x.targets.length} target ids, expected ${S} and ${T} (noise density ${this.opts.noiseDensity}, mean span ${this.opts.meanNoiseSpanLength})`);
      }
      inputIds.set(x.inputs, r * S);
      targets.set(x.targets, r * T);
    });
    return { batchSize: B, inputIds, targets };
  }

  /** Training micro-batch `g`. */
  hostBatch(g: number): SpanHostBatch {
    const B = this.opts.batchSize;
    return this.corrupt(
      Array.from({ length: B }, (_, b) => this.chunkAt(g * B + b)),
      2,
      g,
    );
  }
}

/** A micro-batch on the device: arrays only (sizes from the mask biases' shapes), so it can be jitted. */
export type T5DeviceInputs = {
  inputIds: JArray;
  decoderInputIds: JArray;
  encoderMaskBias: JArray;
  decoderMaskBias: JArray;
  targets: JArray;
  weights: JArray;
};

/** Host batch -> device batch (full attention: every row has exactly the same lengths). */
export function spanDeviceBatch(cfg: T5Config, h: SpanHostBatch): { batch: T5Batch; targets: JArray; weights: JArray } {
  const B = h.batchSize;
  const S = h.inputIds.length / B;
  const T = h.targets.length / B;
  const batch = makeT5Batch(cfg, {
    batchSize: B,
    encoderLength: S,
    inputIds: h.inputIds,
    attentionMask: new Int32Array(B * S).fill(1),
    decoderLength: T,
    decoderInputIds: shiftRight(cfg, h.targets, B),
  });
  return { batch, targets: np.array(h.targets, { dtype: np.int32 }), weights: np.full([B * T], 1 / (B * T)) };
}

/** The span-corruption objective over micro-batches named by their global index. */
export function spanObjective(cfg: T5Config, batcher: SpanBatcher): Objective<T5Params, number, T5DeviceInputs> {
  return {
    size: () => batcher.opts.batchSize,
    toDevice: (g) => {
      const d = spanDeviceBatch(cfg, batcher.hostBatch(g));
      return { inputIds: d.batch.inputIds, decoderInputIds: d.batch.decoderInputIds, encoderMaskBias: d.batch.encoderMaskBias, decoderMaskBias: d.batch.decoderMaskBias, targets: d.targets, weights: d.weights };
    },
    loss: (params, d) => {
      const [B, , , S] = d.encoderMaskBias.shape;
      const T = d.decoderMaskBias.shape[2];
      const batch: T5Batch = { batchSize: B, encoderLength: S, decoderLength: T, inputIds: d.inputIds, decoderInputIds: d.decoderInputIds, encoderMaskBias: d.encoderMaskBias, decoderMaskBias: d.decoderMaskBias };
      const logits = t5LmLogits(cfg, params, t5Forward(cfg, params, batch));
      const loss = t5Loss(cfg, logits, { targets: d.targets, weights: d.weights });
      tree.dispose(params);
      tree.dispose(d);
      return loss;
    },
  };
}

/** What `evaluateSpanCorruption` returns. */
export interface SpanEvalResult {
  /** Target tokens scored (sentinels and EOS included). */
  tokens: number;
  /** Mean cross-entropy (nats) over the target tokens. */
  loss: number;
  /** Fraction of target tokens whose top-1 teacher-forced prediction is right. */
  accuracy: number;
}

/** Teacher-forced loss and token accuracy on corrupted host batches; parameters borrowed. */
export async function evaluateSpanCorruption(cfg: T5Config, params: T5Params, batches: readonly SpanHostBatch[]): Promise<SpanEvalResult> {
  if (batches.length === 0) throw new Error("evaluateSpanCorruption: no batches");
  const V = cfg.vocabSize;
  let nll = 0;
  let correct = 0;
  let total = 0;
  for (const h of batches) {
    const d = spanDeviceBatch(cfg, h);
    d.targets.dispose();
    d.weights.dispose();
    try {
      const logits = (await t5LmLogits(cfg, params, t5Decode(cfg, params, d.batch, await t5EncodeAsync(cfg, params, d.batch))).data()) as Float32Array;
      h.targets.forEach((t, j) => {
        const row = j * V;
        let best = 0;
        let mx = -Infinity;
        for (let v = 0; v < V; v++) {
          if (logits[row + v] > mx) {
            mx = logits[row + v];
            best = v;
          }
        }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(logits[row + v] - mx);
        nll += Math.log(z) + mx - logits[row + t];
        if (best === t) correct++;
        total++;
      });
    } finally {
      disposeT5Batch(d.batch);
    }
  }
  return { tokens: total, loss: nll / total, accuracy: correct / total };
}

// ---------------------------------------------------------------------------
// The model folder
// ---------------------------------------------------------------------------

/** generation_config.json as `save_pretrained` writes it for a T5 model. */
export function t5GenerationConfigJson(cfg: T5Config): Record<string, unknown> {
  return { _from_model_config: true, decoder_start_token_id: cfg.decoderStartTokenId, eos_token_id: cfg.eosTokenId, pad_token_id: cfg.padTokenId };
}

/** special_tokens_map.json of a T5 tokenizer. */
export function t5SpecialTokensMap(tok: Tokenizer): Record<string, unknown> {
  return {
    eos_token: "</s>",
    pad_token: "<pad>",
    unk_token: "<unk>",
    additional_special_tokens: Array.from({ length: T5_SENTINELS }, (_, k) => `<extra_id_${k}>`).filter((t) => tok.tokenToId(t) !== undefined),
  };
}

/** Host tensors under HF names, in `dtype`. Parameters borrowed. */
export async function t5HfTensors(cfg: T5Config, params: T5Params, dtype: T5SaveDtype): Promise<Record<string, TensorInput>> {
  const t = await exportHfTensors(cfg, params, null);
  if (dtype === "F32") return t;
  const out: Record<string, TensorInput> = {};
  for (const [k, v] of Object.entries(t)) out[k] = { dtype: "F16", shape: v.shape, data: float32ToFloat16Bits(v.data as Float32Array) };
  return out;
}

/**
 * Write a Hugging Face T5ForConditionalGeneration folder: config.json, model.safetensors,
 * generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json, each
 * atomically. Parameters are borrowed.
 */
export async function saveT5ModelDir(dir: string, cfg: T5Config, params: T5Params, tok: Tokenizer, opts: { dtype?: T5SaveDtype; metadata?: Record<string, string> } = {}): Promise<void> {
  const tensors = await t5HfTensors(cfg, params, opts.dtype ?? "F32");
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(path.join(dir, "model.safetensors"), tensors, { format: "pt", ...(opts.metadata ?? {}) });
  await writeFileAtomic(path.join(dir, "config.json"), JSON.stringify(t5ConfigToJson(cfg), null, 2) + "\n");
  await writeFileAtomic(path.join(dir, "generation_config.json"), JSON.stringify(t5GenerationConfigJson(cfg), null, 2) + "\n");
  const files = tok.toFiles();
  for (const [name, content] of Object.entries(files)) {
    let text = content;
    if (name === "tokenizer_config.json") {
      const c = JSON.parse(content) as Record<string, unknown>;
      c.eos_token = "</s>";
      c.pad_token = "<pad>";
      c.unk_token = "<unk>";
      if (c.tokenizer_class === undefined) c.tokenizer_class = "T5Tokenizer";
      c.extra_ids = T5_SENTINELS;
      delete c.sep_token;
      text = JSON.stringify(c, null, 2) + "\n";
    }
    await writeFileAtomic(path.join(dir, name), text);
  }
  await writeFileAtomic(path.join(dir, "special_tokens_map.json"), JSON.stringify(t5SpecialTokensMap(tok), null, 2) + "\n");
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

/** Options of `pretrainT5`. */
export interface T5PretrainOptions {
  /** UTF-8 text files; every non-empty line is a document. */
  textFiles: readonly string[];
  /** Held-out documents (one per line); default every `heldOutEvery`-th input line. */
  heldOutFile?: string;
  /** Without `heldOutFile`, every N-th input line is held out (default `T5_PRETRAIN_DEFAULTS.heldOutEvery`). */
  heldOutEvery?: number;
  /** The model folder, train state, log and metrics go here. */
  outputDir: string;
  /** A fresh model's architecture (default T5_PRETRAIN_DEFAULTS'). */
  architecture?: T5Architecture;
  /** A T5 tokenizer (pad 0, eos, unk, 100 sentinels at the top ids). */
  tokenizer: Tokenizer;
  /** Where `tokenizer` came from (messages, metrics). */
  tokenizerSource?: string;
  /** Hyper-parameters; unset ones from `T5_PRETRAIN_DEFAULTS`. */
  hyper?: Partial<T5PretrainHyper>;
  /** Weights' dtype in model.safetensors (default F32). */
  dtype?: T5SaveDtype;
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
  /** Abort: the state is saved after the current step, the model folder gets the latest parameters, and TrainingInterrupted is thrown. */
  signal?: AbortSignal;
}

/** What a T5 pretraining run read and how it was cut (recorded in pretrain_metrics.json). */
export interface T5CorpusInfo {
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
  /** Tokens of the training stream. */
  tokens: number;
  /** Raw chunks of `tokensLength`. */
  chunks: number;
  /** Raw tokens per chunk before corruption. */
  tokensLength: number;
  /** Decoder target length per chunk. */
  targetsLength: number;
  /** Chunks of the held-out stream. */
  heldOutChunks: number;
}

/** What `pretrainT5` returns (as `PretrainResult`, with T5's corpus record). */
export interface T5PretrainResult extends Omit<PretrainResult, "corpus"> {
  /** The corpus read (for a skipped run, the finished run's record; null when that lacks one). */
  corpus: T5CorpusInfo | null;
}

function resolveHyper(h: Partial<T5PretrainHyper>): T5PretrainHyper {
  const d = T5_PRETRAIN_DEFAULTS;
  const r: T5PretrainHyper = {
    steps: h.steps ?? d.steps,
    batchSize: h.batchSize ?? d.batchSize,
    inputLength: h.inputLength ?? d.inputLength,
    lr: h.lr ?? d.lr,
    weightDecay: h.weightDecay ?? d.weightDecay,
    maxGradNorm: h.maxGradNorm ?? d.maxGradNorm,
    gradAccumSteps: h.gradAccumSteps ?? d.gradAccumSteps,
    noiseDensity: h.noiseDensity ?? d.noiseDensity,
    meanNoiseSpanLength: h.meanNoiseSpanLength ?? d.meanNoiseSpanLength,
    evalEvery: Math.min(h.evalEvery ?? d.evalEvery, h.steps ?? d.steps),
    evalBatchSize: h.evalBatchSize ?? d.evalBatchSize,
    seed: h.seed ?? d.seed,
    jit: h.jit ?? d.jit,
    ...(h.evalBatches !== undefined ? { evalBatches: h.evalBatches } : {}),
  };
  r.warmupSteps = h.warmupSteps ?? Math.ceil(r.steps * d.warmupRatio);
  for (const k of ["steps", "batchSize", "inputLength", "gradAccumSteps", "evalEvery", "evalBatchSize"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new PretrainError(`${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.inputLength < 4) throw new PretrainError(`the input length must be at least 4, got ${r.inputLength}`);
  if (r.evalBatches !== undefined && (!Number.isInteger(r.evalBatches) || r.evalBatches < 1)) throw new PretrainError(`evalBatches must be a positive integer, got ${r.evalBatches}`);
  if (!Number.isInteger(r.warmupSteps) || r.warmupSteps < 0 || r.warmupSteps > r.steps) throw new PretrainError(`warmup steps must be an integer in [0, ${r.steps}] (the number of steps), got ${r.warmupSteps}`);
  if (!(r.lr > 0)) throw new PretrainError(`learning rate must be > 0, got ${r.lr}`);
  if (!(r.noiseDensity > 0 && r.noiseDensity < 1)) throw new PretrainError(`noise density (--mask-prob) must be in (0, 1), got ${r.noiseDensity}`);
  if (!(r.meanNoiseSpanLength >= 1) || !Number.isFinite(r.meanNoiseSpanLength)) throw new PretrainError(`mean noise span length must be >= 1, got ${r.meanNoiseSpanLength}`);
  if (!Number.isInteger(r.seed) || r.seed < 0) throw new PretrainError(`seed must be a non-negative integer, got ${r.seed}`);
  return r;
}

function sha(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 32);
}

/** Weight-decay groups: none on the RMS norm weights (names ending in "Ln"). */
function decayLabels(params: T5Params): unknown {
  return mapNamed(params, (p) => (/Ln$/.test(p) ? "noDecay" : "decay"));
}

/** Pretrain a fresh T5 (see the module comment). Throws TrainingInterrupted on abort, after writing the model folder. */
export async function pretrainT5(opts: T5PretrainOptions): Promise<T5PretrainResult> {
  const log = opts.log ?? (() => undefined);
  const hyper = resolveHyper(opts.hyper ?? {});
  const dtype = opts.dtype ?? "F32";
  const out = opts.outputDir;
  if (opts.saveSteps !== undefined && (!Number.isInteger(opts.saveSteps) || opts.saveSteps < 1)) throw new PretrainError(`saveSteps must be a positive integer, got ${opts.saveSteps}`);
  await checkWritableDir(out, log);
  const status = existingRun(out, opts.resume ?? false);
  const metricsFile = path.join(out, PRETRAIN_METRICS_FILE);
  if (status === "finished") {
    const prev = JSON.parse(readFileSync(metricsFile, "utf8")) as { steps: number; best: EvalRecord | null; final: EvalRecord | null; history: EvalRecord[]; corpus: T5CorpusInfo };
    log(`${out}: the run already finished (${PRETRAIN_METRICS_FILE}); nothing to do`);
    return { outputDir: out, steps: prev.steps, best: prev.best, final: prev.final, history: prev.history, metricsFile, corpus: prev.corpus, skipped: true };
  }

  const tok = opts.tokenizer;
  const tokSource = opts.tokenizerSource ?? "the given tokenizer";
  const ids = checkT5Tokenizer(tok, tokSource);
  const arch = t5ArchitectureConfig(opts.architecture ?? T5_PRETRAIN_DEFAULTS);
  const cfg: T5Config = { ...arch, vocabSize: tok.vocabSize, padTokenId: ids.pad, eosTokenId: ids.eos, decoderStartTokenId: ids.pad };
  const text = readPretrainText(opts.textFiles, { ...(opts.heldOutFile !== undefined ? { heldOutFile: opts.heldOutFile } : {}), ...(opts.heldOutEvery !== undefined ? { heldOutEvery: opts.heldOutEvery } : {}) });

  const t0 = Date.now();
  const stream = t5TokenStream(tok, text.train);
  const sentinels: SentinelOptions = { sentinelTop: ids.sentinelTop, numSentinels: T5_SENTINELS, eosTokenId: ids.eos };
  const batcherOpts: SpanBatcherOptions = { batchSize: hyper.batchSize, inputLength: hyper.inputLength, noiseDensity: hyper.noiseDensity, meanNoiseSpanLength: hyper.meanNoiseSpanLength, seed: hyper.seed, sentinels };
  const batcher = new SpanBatcher(stream, batcherOpts);
  const heldStream = t5TokenStream(tok, text.heldOut);
  const held = new SpanBatcher(heldStream, { ...batcherOpts, batchSize: hyper.evalBatchSize, what: `the held-out text (${text.heldOutSource})` });
  const evalBatchCount = hyper.evalBatches ?? Math.min(T5_PRETRAIN_DEFAULTS.maxEvalBatches, Math.ceil(held.numChunks / hyper.evalBatchSize));
  // Fixed held-out batches: chunks in order (wrapping), corrupted with fixed seeds.
  const heldBatches: SpanHostBatch[] = Array.from({ length: evalBatchCount }, (_, bi) =>
    held.corrupt(
      Array.from({ length: hyper.evalBatchSize }, (_, r) => (bi * hyper.evalBatchSize + r) % held.numChunks),
      5,
      bi,
    ),
  );
  // The first training batch checks the lengths before any model work.
  batcher.hostBatch(0);
  const corpus: T5CorpusInfo = {
    files: opts.textFiles.map((f) => path.resolve(f)),
    lines: text.lines,
    trainDocuments: text.train.length,
    heldOutDocuments: text.heldOut.length,
    heldOut: text.heldOutSource,
    tokens: stream.length,
    chunks: batcher.numChunks,
    tokensLength: batcher.tokensLength,
    targetsLength: batcher.targetsLength,
    heldOutChunks: held.numChunks,
  };
  log(
    `text: ${text.lines} lines, ${text.train.length} training documents -> ${stream.length} tokens, ${batcher.numChunks} chunks of ${batcher.tokensLength} raw tokens -> inputs ${hyper.inputLength}, targets ${batcher.targetsLength} (tokenized in ${((Date.now() - t0) / 1000).toFixed(1)} s); held out: ${text.heldOut.length} documents, ${held.numChunks} chunks (${text.heldOutSource})`,
  );

  const rounds = Math.ceil(hyper.steps / hyper.evalEvery);
  const perRound = hyper.evalEvery * hyper.gradAccumSteps;
  const fingerprint = sha(
    JSON.stringify({ objective: "t5-span-corruption", config: t5ConfigToJson(cfg), hyper, evalBatchCount }),
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
  }
  // The log survives its folder being removed during the run (the folder is made again, as the
  // trainer's state does; the lines before are lost with the folder).
  const appendLog = (obj: Record<string, unknown>): void => {
    if (!existsSync(out)) mkdirSync(out, { recursive: true });
    appendFileSync(logFile, JSON.stringify(obj) + "\n");
  };

  const params = initT5(cfg, mixSeed(hyper.seed, 3) & 0x7fffffff);
  log(
    `model: a fresh T5 (${cfg.feedForwardProj}${cfg.tieWordEmbeddings ? ", tied embeddings" : ""}), d_model ${cfg.dModel}, d_ff ${cfg.dFf}, ${cfg.numLayers}+${cfg.numDecoderLayers} layers, ${cfg.numHeads} heads x d_kv ${cfg.dKv}, vocab ${cfg.vocabSize}`,
  );

  const started = Date.now();
  let res;
  try {
    res = await trainLoop<T5Params, number, T5DeviceInputs>({
      params,
      labels: decayLabels(params),
      optimizer: { groups: { decay: { lr: hyper.lr, weightDecay: hyper.weightDecay }, noDecay: { lr: hyper.lr, weightDecay: 0 } } },
      maxGradNorm: hyper.maxGradNorm,
      epochs: rounds,
      maxSteps: hyper.steps,
      gradAccumSteps: hyper.gradAccumSteps,
      epochBatches: (round) => Array.from({ length: perRound }, (_, j) => round * perRound + j),
      objective: spanObjective(cfg, batcher),
      schedule: (total) => linearWarmupDecay({ totalSteps: total, warmupSteps: hyper.warmupSteps ?? 0 }),
      evaluate: async (p): Promise<EvalResult> => {
        const r = await evaluateSpanCorruption(cfg, p, heldBatches);
        return { main: r.loss, scores: { loss: r.loss, accuracy: r.accuracy } };
      },
      metricMode: "min",
      onBest: async (p, record) => {
        await saveT5ModelDir(out, cfg, p, tok, { dtype, metadata: { propetl_pretrain_step: String(record.step), propetl_pretrain_params: "best held-out loss" } });
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
  } catch (e) {
    if (e instanceof TrainingInterrupted && existsSync(stateFile)) {
      await saveLatestFromState(stateFile, out, cfg, tok, dtype);
      log(`${out}: the model folder holds the parameters of step ${e.step} (the saved state)`);
    }
    throw e;
  }
  try {
    // The output folder removed during the run: the trainer's state recreated it, but the model
    // folder the best evaluation wrote is gone; write it again from the best parameters.
    if (res.bestRecord && !(existsSync(path.join(out, "model.safetensors")) && existsSync(path.join(out, "config.json")))) {
      await saveT5ModelDir(out, cfg, res.best ?? res.params, tok, { dtype, metadata: { propetl_pretrain_step: String(res.bestRecord.step), propetl_pretrain_params: "best held-out loss" } });
      log(`${out}: the model files were missing (the folder was removed during the run?); wrote them again from the best evaluation (step ${res.bestRecord.step})`);
    }
    const final = res.history.length ? res.history[res.history.length - 1] : null;
    const doc = {
      format: PRETRAIN_METRICS_FORMAT,
      version: 1,
      objective: `T5 span corruption (noise density ${hyper.noiseDensity}, mean span ${hyper.meanNoiseSpanLength}; Hugging Face run_t5_mlm_flax.py)`,
      config: t5ConfigToJson(cfg),
      init: null,
      tokenizer: { source: tokSource, vocabSize: tok.vocabSize },
      hyper: { ...hyper, evalBatches: evalBatchCount, tokensLength: batcher.tokensLength, targetsLength: batcher.targetsLength },
      dtype,
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

/** Write the model folder from the parameters in a train state file (after an interrupt). */
async function saveLatestFromState(stateFile: string, out: string, cfg: T5Config, tok: Tokenizer, dtype: T5SaveDtype): Promise<void> {
  const template = initT5(cfg, 0);
  let loaded;
  try {
    loaded = await loadTrainState(stateFile, template);
  } finally {
    tree.dispose(template);
  }
  const t = loaded.trees;
  try {
    await saveT5ModelDir(out, cfg, t.params, tok, { dtype, metadata: { propetl_pretrain_step: String(loaded.position.globalStep), propetl_pretrain_params: "latest (interrupted)" } });
  } finally {
    tree.dispose(t.params);
    tree.dispose(t.mu);
    tree.dispose(t.nu);
    if (t.best) tree.dispose(t.best);
  }
}
