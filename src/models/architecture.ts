/**
 * The contract every backbone architecture implements (one folder each: `bert/` for BERT and
 * RoBERTa). Everything outside an architecture's folder — loading, saving, fresh
 * initialisation, PETL methods, LoRA merging, full fine-tuning, storage, the trainer —
 * reaches the architecture only through this interface, found by `model_type` in
 * `registry.ts`.
 */
import type { JArray } from "../engine/jax.js";
import type { EncoderConfig, ModelType } from "./bert/config.js";
import type { DeviceBatch } from "./bert/encoder.js";
import type { EncoderParams, HeadParams } from "./bert/params.js";
import type { HookSite, LayerAddress, ModelHooks, Stack } from "./hooks.js";
import type { ParamSlot } from "./slots.js";

/** A parsed config.json of any registered architecture. */
export type ModelConfig = EncoderConfig;
/** The frozen backbone's parameter tree of any registered architecture. */
export type BackboneParams = EncoderParams;
/** A task head's parameter tree. */
export type TaskHeadParams = HeadParams;
export type { ModelType };

/** A layer stack and its depth. */
export interface StackShape {
  stack: Stack;
  layers: number;
}

export interface Architecture {
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
  readonly tensorPrefixes: Readonly<Record<string, ModelType>>;

  /** Parse and validate config.json (`modelType` resolved by the registry). */
  parseConfig(json: unknown, file: string, modelType: ModelType): ModelConfig;
  /** config.json contents as Hugging Face writes them. */
  configToJson(cfg: ModelConfig): Record<string, unknown>;

  /** Layer stacks: the encoder, and the decoder of encoder–decoder models. */
  stacks(cfg: ModelConfig): StackShape[];
  /** Hook sites every layer of a stack offers. */
  sites(stack: Stack): readonly HookSite[];
  /**
   * The linear layer a projection site reads (`query` → the query projection), as a path
   * in the backbone tree: what LoRA merging rewrites. Null for sites without one.
   */
  projectionPath(at: LayerAddress, site: HookSite): (string | number)[] | null;

  /** The backbone's tensors in HF order (the loader's strict key list). */
  backboneSlots(cfg: ModelConfig): ParamSlot[];
  /** The classification/regression head's tensors (cfg.numLabels outputs). */
  headSlots(cfg: ModelConfig): ParamSlot[];
  /** Tensors a model file may carry that loading ignores (buffers, pretraining heads). */
  ignorableTensor(name: string): boolean;
  /**
   * The names a slot's tensor may have in a model file: the first is the one written when
   * saving (with the model prefix where HF stores one), the others are accepted on loading.
   */
  hfNames(slot: ParamSlot, cfg: ModelConfig): string[];
  /**
   * The config.json keys a task checkpoint records (with `model_type`) to check that it fits
   * a backbone: those that fix the shapes of the tensors methods attach to. The summary parses
   * back into a config with `parseConfig` (other keys take their defaults).
   */
  readonly summaryKeys: readonly string[];
  /** Longest input in tokens the model takes (incl. special tokens). */
  maxInputLength(cfg: ModelConfig): number;

  /** A fresh backbone as Hugging Face initialises one (seeded). */
  initBackbone(cfg: ModelConfig, seed: number): BackboneParams;
  /** A fresh task head (seeded). */
  initHead(cfg: ModelConfig, seed: number): TaskHeadParams;

  /** Last hidden states [B, T, H] of a batch, with PETL hooks at the named sites. */
  forward(cfg: ModelConfig, params: BackboneParams, batch: DeviceBatch, hooks?: ModelHooks): JArray;
  /** Head logits [B, numLabels] from the last hidden states (consumed). */
  classify(head: TaskHeadParams, hidden: JArray): JArray;
}

/** Every layer of every stack of a model, stack by stack. */
export function layerAddresses(arch: Architecture, cfg: ModelConfig): LayerAddress[] {
  const out: LayerAddress[] = [];
  for (const s of arch.stacks(cfg)) for (let i = 0; i < s.layers; i++) out.push({ stack: s.stack, layer: i });
  return out;
}
