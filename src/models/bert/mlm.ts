/**
 * Masked-language-model head and masking, as Hugging Face `BertForMaskedLM` defines them:
 * transform (dense + activation + LayerNorm), then a decoder tied to the word embeddings plus
 * a bias. Used by pretraining; saved under HF names (`cls.predictions.*`) so the model dir
 * loads in transformers and in `loadModelDir` (which ignores MLM keys).
 */
import { np, random } from "../../engine/jax.js";
import type { JArray } from "../../engine/jax.js";
import path from "node:path";
import { readSafetensorsFile, weightsFloat32 } from "../../io/safetensors.js";
import type { TensorEntry, TensorInput } from "../../io/safetensors.js";
import { rowCrossEntropy, weightedCrossEntropy } from "../cross-entropy.js";
import { loadModelDir, ModelLoadError } from "../load.js";
import { disposeTree } from "../slots.js";
import type { EncoderConfig } from "./config.js";
import { activation, layerNorm, linear } from "../layers.js";
import type { LayerNormParams, Linear } from "../layers.js";
import type { EncoderParams } from "./params.js";

/** BERT's masked-LM head (`cls.predictions.transform` and its bias); the decoder weight is the word embeddings. */
export type MlmHeadParams = {
  /** The transform's dense layer, [hidden, hidden]. */
  dense: Linear;
  /** The transform's LayerNorm. */
  ln: LayerNormParams;
  /** Output bias over the vocabulary, [vocab]. */
  bias: JArray;
};

/** HF names of the MLM head tensors (the decoder weight is tied to the word embeddings). */
export const MLM_HF_NAMES = {
  denseWeight: "cls.predictions.transform.dense.weight",
  denseBias: "cls.predictions.transform.dense.bias",
  lnWeight: "cls.predictions.transform.LayerNorm.weight",
  lnBias: "cls.predictions.transform.LayerNorm.bias",
  bias: "cls.predictions.bias",
} as const;

/** A fresh head as HF initialises BertForMaskedLM: dense normal(0, 0.02), zero biases, unit LayerNorm. */
export function initMlmHead(cfg: EncoderConfig, seed: number): MlmHeadParams {
  const H = cfg.hiddenSize;
  return {
    dense: { w: random.normal(random.key(seed), [H, H]).mul(0.02), b: np.zeros([H]) },
    ln: { g: np.ones([H]), b: np.zeros([H]) },
    bias: np.zeros([cfg.vocabSize]),
  };
}

/** Host copies of the head's tensors under their HF names (the head is borrowed). */
export async function mlmHeadHfTensors(head: MlmHeadParams): Promise<Record<string, TensorInput>> {
  const out: Record<string, TensorInput> = {};
  const put = async (name: string, x: JArray): Promise<void> => {
    out[name] = { dtype: "F32", shape: x.shape, data: (await x.ref.data()) as Float32Array };
  };
  await put(MLM_HF_NAMES.denseWeight, head.dense.w);
  await put(MLM_HF_NAMES.denseBias, head.dense.b);
  await put(MLM_HF_NAMES.lnWeight, head.ln.g);
  await put(MLM_HF_NAMES.lnBias, head.ln.b);
  await put(MLM_HF_NAMES.bias, head.bias);
  return out;
}

/**
 * Logits over the vocabulary at the selected positions. `hidden` [B,T,H] is consumed;
 * `positions` int32 [N] indexes the flattened B*T tokens (borrowed).
 */
export function mlmLogits(cfg: EncoderConfig, enc: EncoderParams, head: MlmHeadParams, hidden: JArray, positions: JArray): JArray {
  const flat = hidden.reshape([-1, cfg.hiddenSize]);
  const picked = flat.slice(positions.ref);
  const h = layerNorm(head.ln, activation(cfg.hiddenAct, linear(head.dense, picked)), cfg.layerNormEps);
  return np.matmul(h, enc.embeddings.word.ref.transpose()).add(head.bias.ref);
}

/** Mean cross-entropy of logits [N,V] against int32 targets [N]; both consumed. */
export function mlmLoss(logits: JArray, targets: JArray, vocabSize: number): JArray {
  return np.mean(rowCrossEntropy(logits, targets, vocabSize));
}

/**
 * Mean cross-entropy over the real rows at a fixed number of rows: weights 1/n on n real rows,
 * 0 on padding rows (`weightedCrossEntropy`). All three arrays are consumed.
 */
export function weightedMlmLoss(logits: JArray, targets: JArray, weights: JArray, vocabSize: number): JArray {
  return weightedCrossEntropy(logits, targets, weights, vocabSize);
}

export interface MaskingResult {
  /** Input ids after masking. */
  inputIds: Int32Array;
  /** Flattened positions that are predicted. */
  positions: Int32Array;
  /** Original ids at those positions. */
  targets: Int32Array;
}

export interface MaskingOptions {
  /** Fraction of (non-special, non-pad) tokens selected for prediction. Default 0.15. */
  probability?: number;
  maskTokenId: number;
  vocabSize: number;
  /** Ids never selected (pad, CLS, SEP, ...). */
  specialIds: ReadonlySet<number>;
  /** Random source in [0,1). */
  random: () => number;
}

/**
 * BERT masking: each eligible token is selected with probability p (at least one per batch);
 * of the selected, 80% become [MASK], 10% a random token, 10% stay unchanged.
 */
export function maskTokens(ids: Int32Array, attentionMask: Int32Array, opts: MaskingOptions): MaskingResult {
  const p = opts.probability ?? 0.15;
  if (!(p > 0 && p < 1)) throw new RangeError(`masking probability must be in (0, 1), got ${p}`);
  const out = Int32Array.from(ids);
  const positions: number[] = [];
  const targets: number[] = [];
  const eligible: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (!attentionMask[i] || opts.specialIds.has(ids[i])) continue;
    eligible.push(i);
    if (opts.random() < p) positions.push(i);
  }
  if (positions.length === 0 && eligible.length > 0) positions.push(eligible[Math.floor(opts.random() * eligible.length)]);
  for (const i of positions) {
    targets.push(ids[i]);
    const r = opts.random();
    if (r < 0.8) out[i] = opts.maskTokenId;
    else if (r < 0.9) out[i] = Math.floor(opts.random() * opts.vocabSize);
  }
  return { inputIds: out, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
}

/**
 * The head stored in a model file's tensors (`cls.predictions.*`), or null when the file has
 * none of them. A partial or mis-shaped head is an error naming the tensors. HF may also store
 * the tied decoder (`cls.predictions.decoder.*`): its bias is used when `cls.predictions.bias`
 * is absent; its weight is the word embedding matrix and is not read.
 */
export function mlmHeadFromTensors(cfg: EncoderConfig, tensors: ReadonlyMap<string, TensorEntry>, file: string): MlmHeadParams | null {
  const H = cfg.hiddenSize;
  const want: [keyof typeof MLM_HF_NAMES, number[]][] = [
    ["denseWeight", [H, H]],
    ["denseBias", [H]],
    ["lnWeight", [H]],
    ["lnBias", [H]],
    ["bias", [cfg.vocabSize]],
  ];
  const entry = (key: keyof typeof MLM_HF_NAMES): [string, TensorEntry] | undefined => {
    const name = MLM_HF_NAMES[key];
    const e = tensors.get(name);
    if (e) return [name, e];
    if (key === "bias") {
      const d = tensors.get("cls.predictions.decoder.bias");
      if (d) return ["cls.predictions.decoder.bias", d];
    }
    return undefined;
  };
  const found = want.map(([k]) => entry(k));
  if (found.every((f) => f === undefined)) return null;
  const missing = want.filter((_, i) => found[i] === undefined).map(([k]) => MLM_HF_NAMES[k]);
  if (missing.length) throw new ModelLoadError(`${file}: the MLM head is incomplete: missing ${missing.join(", ")}`);
  const arrays: JArray[] = [];
  try {
    for (let i = 0; i < want.length; i++) {
      const [name, e] = found[i] as [string, TensorEntry];
      const shape = want[i][1];
      if (e.shape.length !== shape.length || e.shape.some((d, j) => d !== shape[j])) {
        throw new ModelLoadError(`${file}: tensor "${name}" has shape [${e.shape.join(",")}], expected [${shape.join(",")}] from config.json`);
      }
      arrays.push(np.array(weightsFloat32(e, name, file)).reshape(shape));
    }
  } catch (err) {
    for (const a of arrays) a.dispose();
    throw err;
  }
  const [w, b, g, lb, bias] = arrays;
  return { dense: { w, b }, ln: { g, b: lb }, bias };
}


/** A BERT model dir with its masked-language-model head (as `BertForMaskedLM` stores it). */
export interface LoadedMlmModel {
  /** The parsed config.json. */
  config: EncoderConfig;
  /** The encoder's weights. */
  encoder: EncoderParams;
  /** The masked-LM head's weights. */
  head: MlmHeadParams;
  /** "checkpoint" when the file had `cls.predictions.*`, else "initialized" (fresh, seeded). */
  headSource: "checkpoint" | "initialized";
}

/**
 * Load a BERT model dir for masked-language modelling: the encoder (strictly, as
 * `loadModelDir`) and the MLM head from `cls.predictions.*`, or a fresh head (`initMlmHead`
 * with `seed`) when the file has none. RoBERTa (`lm_head.*`) is not supported.
 */
export async function loadMlmModelDir(dir: string, opts: { seed?: number } = {}): Promise<LoadedMlmModel> {
  const model = await loadModelDir(dir);
  const dispose = (t: unknown): void => disposeTree(t);
  dispose(model.head);
  if (model.config.modelType !== "bert") {
    dispose(model.encoder);
    throw new ModelLoadError(`${path.join(dir, "config.json")}: model_type "${model.config.modelType}": only BERT models (masked-LM head cls.predictions.*) can be pretrained here`);
  }
  const weightsFile = path.join(dir, "model.safetensors");
  let head: MlmHeadParams | null;
  try {
    head = mlmHeadFromTensors(model.config, (await readSafetensorsFile(weightsFile)).tensors, weightsFile);
  } catch (e) {
    dispose(model.encoder);
    throw e;
  }
  return {
    config: model.config,
    encoder: model.encoder,
    head: head ?? initMlmHead(model.config, opts.seed ?? 0),
    headSource: head ? "checkpoint" : "initialized",
  };
}
