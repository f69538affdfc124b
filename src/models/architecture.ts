/**
 * The contract every backbone architecture implements (one folder each: `bert/` for BERT and
 * RoBERTa, `t5/` for T5). Everything outside an architecture's folder — loading, saving, fresh
 * initialisation, PETL methods, LoRA merging, full fine-tuning, storage, the trainer —
 * reaches the architecture only through this interface, found by `model_type` in
 * `registry.ts`.
 *
 * An architecture is typed by its own config, parameter tree and device batch
 * (`Architecture<EncoderConfig, EncoderParams, DeviceBatch>`); the registry holds them as
 * `Architecture` over the unions below. The registry dispatches on a config's `modelType`, so
 * an architecture's functions only ever see its own configs and trees.
 */
import type { JArray } from "../engine/jax.js";
import type { BertModelType, EncoderConfig } from "./bert/config.js";
import type { DeviceBatch } from "./bert/encoder.js";
import type { EncoderParams, HeadParams } from "./bert/params.js";
import type { HookSite, LayerAddress, ModelHooks, Stack } from "./hooks.js";
import type { ParamSlot } from "./slots.js";
import type { T5Batch } from "./t5/batch.js";
import type { T5Config, T5ModelType } from "./t5/config.js";
import type { T5Params } from "./t5/params.js";

/** A parsed config.json of any registered architecture (discriminated by `modelType`). */
export type ModelConfig = EncoderConfig | T5Config;
/** The frozen backbone's parameter tree of any registered architecture. */
export type BackboneParams = EncoderParams | T5Params;
/** A batch on the device for any registered architecture's forward pass. */
export type ModelBatch = DeviceBatch | T5Batch;
/** Every `model_type` a registered architecture reads. */
export type ModelType = BertModelType | T5ModelType;
/** A task head's parameter tree. */
export type TaskHeadParams = HeadParams;
/**
 * Configs of the architectures with a sequence-classification head: the backbones the
 * fine-tuning pipeline (train, evaluate, predict, task checkpoints) runs on.
 */
export type ClassifierConfig = EncoderConfig;
export type ClassifierParams = EncoderParams;

/**
 * An encoder's tree (BERT/RoBERTa) out of a backbone tree, for code that runs an encoder:
 * a T5 tree there is a programming error, reported as one.
 */
export function asEncoderParams(p: BackboneParams): EncoderParams {
  if (!("embeddings" in p)) throw new TypeError("expected an encoder's (BERT/RoBERTa) parameters, got an encoder–decoder's (T5)");
  return p;
}

/** T5's tree out of a backbone tree (see `asEncoderParams`). */
export function asT5Params(p: BackboneParams): T5Params {
  if (!("shared" in p)) throw new TypeError("expected an encoder–decoder's (T5) parameters, got an encoder's (BERT/RoBERTa)");
  return p;
}

/** A sequence-classification head on the last hidden states. */
export interface ClassificationHead<C extends ModelConfig = ModelConfig> {
  /** The head's tensors (cfg.numLabels outputs). */
  slots(cfg: C): ParamSlot[];
  /** A fresh head (seeded). */
  init(cfg: C, seed: number): TaskHeadParams;
  /** Head logits [B, numLabels] from the last hidden states (consumed). */
  classify(head: TaskHeadParams, hidden: JArray): JArray;
}

/** The widths PETL modules attach to (`Architecture.moduleWidths`). */
export interface ModuleWidths {
  /** The residual stream's width (BERT hidden_size, T5 d_model). */
  hidden: number;
  /** The attention's inner width q/k/v project to (hidden in BERT, num_heads·d_kv in T5). */
  attention: number;
}

/** A layer stack and its depth. */
export interface StackShape {
  /** Which stack. */
  stack: Stack;
  /** Its number of layers (blocks). */
  layers: number;
}

/** A backbone architecture: the contract every model family (BERT/RoBERTa, T5) implements; the registry finds it by `model_type` (DESIGN.md, "A backbone is an architecture"). */
export interface Architecture<C extends ModelConfig = ModelConfig, P extends BackboneParams = BackboneParams, B extends ModelBatch = ModelBatch> {
  /** Display name, e.g. "BERT/RoBERTa". */
  readonly name: string;
  /** `model_type` values of config.json this architecture implements. */
  readonly modelTypes: readonly ModelType[];
  /**
   * How a config.json without `model_type` is recognised, as Hugging Face resolves it:
   * class-name prefixes of its `architectures` entries ("BertForMaskedLM" → "bert"), then
   * the prefix of the weights' tensor names ("roberta." → "roberta").
   */
  readonly classPrefixes: Readonly<Record<string, ModelType>>;
  /** Prefixes of the weights' tensor names that identify the model type when config.json has neither `model_type` nor a known `architectures` entry. */
  readonly tensorPrefixes: Readonly<Record<string, ModelType>>;

  /** Parse and validate config.json (`modelType` resolved by the registry). */
  parseConfig(json: unknown, file: string, modelType: ModelType): C;
  /** config.json contents as Hugging Face writes them. */
  configToJson(cfg: C): Record<string, unknown>;

  /** Layer stacks: the encoder, and the decoder of encoder–decoder models. */
  stacks(cfg: C): StackShape[];
  /** Hook sites every layer of a stack offers. */
  sites(stack: Stack): readonly HookSite[];
  /**
   * The widths PETL modules attach to: `hidden`, the residual stream a sublayer reads and
   * writes (adapters, LoRA's input); `attention`, the inner width of the q/k/v projections
   * (LoRA's output, prefix keys and values). BERT: both hidden_size; T5: d_model and
   * num_heads · d_kv.
   */
  moduleWidths(cfg: C): ModuleWidths;
  /**
   * The linear layer a projection site reads (`query` → the query projection), as a path
   * in the backbone tree to an object whose `w` is its [out, in] weight: what LoRA merging
   * rewrites. Null for sites without one.
   */
  projectionPath(at: LayerAddress, site: HookSite): (string | number)[] | null;

  /** The backbone's tensors in HF order (the loader's strict key list). */
  backboneSlots(cfg: C): ParamSlot[];
  /** Tensors a model file may carry that loading ignores (buffers, pretraining heads, tied copies). */
  ignorableTensor(name: string, cfg: C): boolean;
  /**
   * The names a slot's tensor may have in a model file: the first is the one written when
   * saving (with the model prefix where HF stores one), the others are accepted on loading.
   */
  hfNames(slot: ParamSlot, cfg: C): string[];
  /**
   * The config.json keys a task checkpoint records (with `model_type`) to check that it fits
   * a backbone: those that fix the shapes of the tensors methods attach to. The summary parses
   * back into a config with `parseConfig` (other keys take their defaults).
   */
  readonly summaryKeys: readonly string[];
  /** Longest input in tokens the model takes (incl. special tokens). */
  maxInputLength(cfg: C): number;

  /** A fresh backbone as Hugging Face initialises one (seeded). */
  initBackbone(cfg: C, seed: number): P;

  /**
   * The last hidden states of a batch with PETL hooks at the named sites: [B, T, H] of the
   * encoder (encoder-only models) or of the decoder (encoder–decoder models).
   */
  forward(cfg: C, params: P, batch: B, hooks?: ModelHooks): JArray;
  /** The sequence-classification head, for architectures that have one (null: none, e.g. T5). */
  readonly head: ClassificationHead<C> | null;
}

/** Every layer of every stack of a model, stack by stack. */
export function layerAddresses(arch: Architecture, cfg: ModelConfig): LayerAddress[] {
  const out: LayerAddress[] = [];
  for (const s of arch.stacks(cfg)) for (let i = 0; i < s.layers; i++) out.push({ stack: s.stack, layer: i });
  return out;
}
