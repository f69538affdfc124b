/**
 * BERT / RoBERTa encoder as pure functions over parameter trees, matching Hugging Face
 * `BertModel` / `RobertaModel` (eval mode: no dropout) and their sequence-classification heads.
 *
 * Ownership: parameters are BORROWED (every use takes `.ref`); activations are consumed.
 */
import { lax, np, nn } from "../../engine/jax.js";
import { prependPrefix } from "../attention-prefix.js";
import { activation, layerNorm, linear, scaledMaskedSoftmax } from "../layers.js";
import type { LayerNormParams } from "../layers.js";
import type { JArray } from "../../engine/jax.js";
import type { EncoderConfig } from "./config.js";
import type { LayerHooks, ModelHooks, SublayerContext } from "../hooks.js";
import type { EmbeddingParams, EncoderLayerParams, EncoderParams, HeadParams } from "./params.js";

/** A batch on the device. Built by `makeBatch` from token ids on the host. */
export interface DeviceBatch {
  /** B: sequences in the batch. */
  batchSize: number;
  /** T: tokens per sequence (padded). */
  seqLen: number;
  /** int32 [B*T] */
  inputIds: JArray;
  /** int32 [B*T] */
  positionIds: JArray;
  /** int32 [B*T] */
  tokenTypeIds: JArray;
  /** float32 [B,1,1,T]: 0 where attended, float32 min where masked (as HF). */
  maskBias: JArray;
}

/** Host-side token ids of a padded batch. */
export interface HostBatch {
  /** B: sequences in the batch. */
  batchSize: number;
  /** T: tokens per sequence (padded). */
  seqLen: number;
  /** Token ids, row-major [B*T]. */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding, [B*T]. */
  attentionMask: Int32Array;
  /** Segment ids, [B*T]. */
  tokenTypeIds: Int32Array;
}

const F32_MIN = -3.4028234663852886e38;

/** Position ids as HF computes them: arange for BERT; for RoBERTa, pad+1.. over non-pad tokens. */
export function positionIdsFor(cfg: EncoderConfig, b: HostBatch): Int32Array {
  const out = new Int32Array(b.batchSize * b.seqLen);
  for (let i = 0; i < b.batchSize; i++) {
    let count = 0;
    for (let t = 0; t < b.seqLen; t++) {
      const k = i * b.seqLen + t;
      if (cfg.modelType === "roberta") {
        const notPad = b.inputIds[k] !== cfg.padTokenId ? 1 : 0;
        count += notPad;
        out[k] = count * notPad + cfg.padTokenId;
      } else {
        out[k] = t;
      }
    }
  }
  return out;
}

/** Validate host ids against the config and move a batch to the device. */
export function makeBatch(cfg: EncoderConfig, b: HostBatch): DeviceBatch {
  const n = b.batchSize * b.seqLen;
  if (b.inputIds.length !== n || b.attentionMask.length !== n || b.tokenTypeIds.length !== n) {
    throw new Error(`batch arrays must all have ${b.batchSize}x${b.seqLen}=${n} entries`);
  }
  const positions = positionIdsFor(cfg, b);
  for (let k = 0; k < n; k++) {
    const id = b.inputIds[k];
    if (id < 0 || id >= cfg.vocabSize) throw new Error(`token id ${id} at batch position ${k} is outside the vocabulary (size ${cfg.vocabSize})`);
    const tt = b.tokenTypeIds[k];
    if (tt < 0 || tt >= cfg.typeVocabSize) throw new Error(`token type id ${tt} at batch position ${k} is outside type_vocab_size ${cfg.typeVocabSize}`);
    if (positions[k] >= cfg.maxPositions) throw new Error(`sequence length ${b.seqLen} exceeds max_position_embeddings ${cfg.maxPositions}`);
  }
  const bias = new Float32Array(n);
  for (let k = 0; k < n; k++) bias[k] = b.attentionMask[k] ? 0 : F32_MIN;
  return {
    batchSize: b.batchSize,
    seqLen: b.seqLen,
    inputIds: np.array(b.inputIds, { dtype: np.int32 }),
    positionIds: np.array(positions, { dtype: np.int32 }),
    tokenTypeIds: np.array(b.tokenTypeIds, { dtype: np.int32 }),
    maskBias: np.array(bias).reshape([b.batchSize, 1, 1, b.seqLen]),
  };
}

/** Free a device batch's arrays (`makeBatch` allocated them). */
export function disposeBatch(b: DeviceBatch): void {
  b.inputIds.dispose();
  b.positionIds.dispose();
  b.tokenTypeIds.dispose();
  b.maskBias.dispose();
}

/** rows [N,H] looked up by ids [N]: rows whose id is `pad` are cut from the gradient. */
function padNoGrad(rows: JArray, ids: JArray, pad: number): JArray {
  const isPad = ids.equal(pad).reshape([-1, 1]);
  return np.where(isPad, lax.stopGradient(rows.ref), rows);
}

/** Word + position + token-type embeddings, then LayerNorm. Returns [B,T,H]. */
export function embed(cfg: EncoderConfig, p: EmbeddingParams, batch: DeviceBatch): JArray {
  const { batchSize: B, seqLen: T } = batch;
  // HF builds word (and RoBERTa position) embeddings with padding_idx: the pad row gets no
  // gradient. Same here: at pad positions the looked-up vector is a constant.
  const words = padNoGrad(p.word.ref.slice(batch.inputIds.ref), batch.inputIds.ref, cfg.padTokenId);
  const positionsRaw = p.position.ref.slice(batch.positionIds.ref);
  const positions = cfg.modelType === "roberta" ? padNoGrad(positionsRaw, batch.positionIds.ref, cfg.padTokenId) : positionsRaw;
  const types = p.tokenType.ref.slice(batch.tokenTypeIds.ref);
  const sum = words.add(positions).add(types).reshape([B, T, cfg.hiddenSize]);
  return layerNorm(p.ln, sum, cfg.layerNormEps);
}

/** [B,S,H] -> [B,heads,S,hd] */
function splitHeads(x: JArray, heads: number): JArray {
  const [B, S, H] = x.shape;
  return x.reshape([B, S, heads, H / heads]).transpose([0, 2, 1, 3]);
}

/** Multi-head self-attention with optional prefixes; returns the context [B,T,H]. */
function selfAttention(cfg: EncoderConfig, p: EncoderLayerParams, x: JArray, batch: DeviceBatch, hooks: LayerHooks | undefined): JArray {
  const { batchSize: B, seqLen: T } = batch;
  const H = cfg.hiddenSize;
  const heads = cfg.numHeads;
  let q = linear(p.query, x.ref);
  if (hooks?.query) q = hooks.query(x, q);
  let k = linear(p.key, x.ref);
  if (hooks?.key) k = hooks.key(x, k);
  let v = linear(p.value, x.ref);
  if (hooks?.value) v = hooks.value(x, v);
  let bias = batch.maskBias.ref;
  if (hooks?.prefix) {
    const pre = prependPrefix(hooks.prefix(B), k, v);
    k = pre.key;
    v = pre.value;
    bias = np.concatenate([np.zeros([B, 1, 1, pre.length]), bias], 3);
  }
  x.dispose();
  const qh = splitHeads(q, heads);
  const kh = splitHeads(k, heads).transpose([0, 1, 3, 2]);
  const vh = splitHeads(v, heads);
  const probs = scaledMaskedSoftmax(np.matmul(qh, kh), bias, 1 / Math.sqrt(H / heads));
  const ctx = np.matmul(probs, vh);
  return ctx.transpose([0, 2, 1, 3]).reshape([B, T, H]);
}

/** A post-LN sublayer's context for its output hook: residual input (borrowed) and frozen LayerNorm. */
function sublayer(residual: JArray, ln: LayerNormParams, eps: number): SublayerContext {
  return { residual, norm: (y) => layerNorm(ln, y, eps) };
}

/** One transformer layer (post-LN, as BERT/RoBERTa). x [B,T,H] is consumed. */
export function encoderLayer(cfg: EncoderConfig, p: EncoderLayerParams, x: JArray, batch: DeviceBatch, hooks?: LayerHooks): JArray {
  const eps = cfg.layerNormEps;
  const ctx = selfAttention(cfg, p, x.ref, batch, hooks);
  let attn = linear(p.attnOut, ctx);
  if (hooks?.attentionOutput) attn = hooks.attentionOutput(attn, sublayer(x, p.attnLn, eps));
  const h1 = layerNorm(p.attnLn, attn.add(x), eps);
  const inter = activation(cfg.hiddenAct, linear(p.inter, h1.ref));
  let out = linear(p.out, inter);
  if (hooks?.ffnOutput) out = hooks.ffnOutput(out, sublayer(h1, p.outLn, eps));
  return layerNorm(p.outLn, out.add(h1), eps);
}

/** Last hidden state [B,T,H]. `hooks.encoder[i]` attaches PETL modules to layer i. */
export function encode(cfg: EncoderConfig, p: EncoderParams, batch: DeviceBatch, hooks?: ModelHooks): JArray {
  if (hooks?.decoder !== undefined) throw new Error(`${cfg.modelType} has no decoder: hooks were given for decoder layers`);
  const layerHooks = hooks?.encoder;
  if (layerHooks && layerHooks.length > cfg.numLayers) throw new Error(`hooks for ${layerHooks.length} encoder layers, but the model has ${cfg.numLayers}`);
  let h = embed(cfg, p.embeddings, batch);
  for (let i = 0; i < cfg.numLayers; i++) h = encoderLayer(cfg, p.layers[i], h, batch, layerHooks?.[i]);
  return h;
}

/** Classification/regression logits [B, numLabels] from the first token. */
export function classify(p: HeadParams, hidden: JArray): JArray {
  const first = hidden.slice([], 0);
  return linear(p.out, np.tanh(linear(p.dense, first)));
}

/**
 * Mean loss: cross-entropy for classification (labels int32 [B]), MSE for regression
 * (numLabels 1, labels float32 [B]). Both inputs are consumed.
 */
export function sequenceLoss(logits: JArray, labels: JArray, numLabels: number): JArray {
  if (numLabels === 1) {
    const diff = logits.reshape([-1]).sub(labels);
    return np.mean(np.square(diff));
  }
  const logp = nn.logSoftmax(logits, -1);
  const onehot = nn.oneHot(labels, numLabels);
  return np.mean(np.sum(logp.mul(onehot), -1)).mul(-1);
}
