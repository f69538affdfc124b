/**
 * The contract every fine-tuning method implements (a "plug-in"): adapter, Houlsby, LoRA,
 * prefix, full fine-tuning, their ProPETL versions and the ablations.
 *
 * A method owns a trainable tree `T` (e.g. one prototype + per-layer scores). The trainer
 * differentiates a loss over `{ method: T, head: HeadParams }` only; the frozen backbone is
 * closed over. Ownership follows jax-js: trees passed in are BORROWED unless said otherwise.
 */
import type { JArray } from "../engine/jax.js";
import type { BackboneParams, ModelConfig } from "../models/architecture.js";
import type { HookSite, LayerAddress, LayerHooks, ModelHooks } from "../models/hooks.js";
import type { CombineRule } from "./combine-rule.js";
import type { MethodName, ModuleFamily } from "./methods.js";
import type { ModulePosition } from "./positions.js";

/** Method names and module families come from the method table (methods.ts). */
export type { MethodName } from "./methods.js";

/** Serialisable module options; written to adapter_config.json. */
export interface MethodConfig {
  /** Which method (a row of `METHODS`). */
  method: MethodName;
  /** Adapter bottleneck (adapter/houlsby and their ProPETL/ablation versions). */
  bottleneck?: number;
  /** LoRA rank. */
  rank?: number;
  /** LoRA alpha (scaling alpha / rank). */
  alpha?: number;
  /** Prefix length (positions). */
  prefixLength?: number;
  /** The prefix reparametrisation MLP's hidden size. */
  prefixHidden?: number;
  /** Kept fraction of each layer mask (ProPETL, only-mask, random-mask). */
  k?: number;
  /** Multi-task: kept fraction of each task mask. */
  taskK?: number;
  /** Multi-task: which masks there are and how they combine ("or", "and", "layer" only, "task" only). */
  combine?: CombineRule;
  /** Multi-task: the task names, in task-index order. */
  tasks?: string[];
  /** For the ablations: which module they apply to (default adapter). */
  base?: ModuleFamily;
  /** Seed of random-mask's fixed masks. */
  seed?: number;
}

/** How a method's trainable leaves are optimised: which learning rate group, weight decay. */
export type ParamGroup = "module" | "scores" | "head";

/** Per-forward context: the batch size and, in multi-task batches, each example's task index. */
export interface HookContext {
  /** B: examples in the batch. */
  batchSize: number;
  /** int32 [B] task index per example (multi-task only). Borrowed. */
  taskIds?: JArray;
  /**
   * Host copy of the task indices (same content as taskIds). When every example has the same
   * task, methods take a cheaper single-task path; that choice is made when the hooks are
   * built, so under `jit` pass only `taskIds` (or retrace per batch).
   */
  taskIdsHost?: Int32Array;
  /** False at evaluation: methods may then use precomputed masks. */
  training: boolean;
  /**
   * Hooks are needed for these layers only (indices in the backbone's layer order, stack by
   * stack: `layerAddresses`); the other layers may get none. Per-layer rematerialisation
   * (train/remat.ts) builds one layer's hooks at a time, so work a method shares between
   * layers (a prefix MLP, task masks) is computed for that layer alone and nothing is left
   * waiting for layers that never run. Default: every layer.
   */
  onlyLayers?: readonly number[];
}

/**
 * A fine-tuning method over a trainable tree `T`: its config, fresh parameters, the hooks that
 * apply them to a backbone, and the optimiser groups of its leaves.
 */
export interface Method<T> {
  /** The resolved config (defaults filled in). */
  readonly config: MethodConfig;
  /** Fresh trainable tree for a backbone (seeded). */
  init(cfg: ModelConfig, backbone: BackboneParams, seed: number): T;
  /**
   * Hooks for every layer of every stack, built from the (possibly traced) trainable tree,
   * which the hooks borrow. For "full", `encoderOverride` returns the trainable backbone to use.
   */
  hooks(params: T, ctx: HookContext): ModelHooks;
  /**
   * For full fine-tuning: the backbone to run instead of the frozen one (an encoder's, or T5's
   * whole encoder–decoder; the same architecture as the frozen backbone).
   */
  encoderOverride?(params: T): BackboneParams;
  /** Same tree shape as T with each leaf's optimiser group. */
  groups(params: T): unknown;
}

// ---------------------------------------------------------------------------
// Inference and storage (added for the PETL methods; see propetl.ts and checkpoint.ts)

/**
 * One module instance's tensors by name (e.g. an adapter's `down_weight`). Names contain no
 * dots: trainers address leaves by dotted paths.
 */
export type Unit = Record<string, JArray>;

/** The PETL module families a method is built from (the method table's families). */
export type ModuleKindName = ModuleFamily;

/**
 * A method ready for prediction on ONE task: each layer's modules with their masks already
 * applied (prototype ⊙ hybrid mask), so no score work remains. Owned by whoever holds it;
 * free with `disposeMaterialized`.
 */
export interface Materialized {
  /** The module family the units are, or "full" (then `encoder` is set). */
  kind: ModuleKindName | "full";
  /** The layers `units` are for, stack by stack (models/architecture.ts `layerAddresses`). */
  layers: LayerAddress[];
  /**
   * [layer][position] → unit tensors (positions: see the kind, e.g. Houlsby's two); an empty
   * unit where the layer has no such position (LoRA's cross-attention in encoder layers).
   */
  units: Unit[][];
  /** The module hyper-parameters (LoRA's scaling is alpha / rank). */
  options: ModuleOptions;
  /** Full fine-tuning: the tuned backbone, to run instead of the frozen one. */
  encoder?: BackboneParams;
}

/** What a task checkpoint stores for a method, on the host. */
export interface MethodState {
  /** Float tensors (prototype, per-layer modules, kept values), row-major. */
  tensors: Map<string, {
    /** The tensor's shape. */
    shape: number[];
    /** Its values, row-major. */
    data: Float32Array;
  }>;
  /** Binary masks as 0/1 bytes (written bit-packed), row-major. */
  masks: Map<string, {
    /** The mask's shape. */
    shape: number[];
    /** One byte per entry, 0 or 1. */
    bits: Uint8Array;
  }>;
}

/** Names and shapes a stored state must have (checkpoint validation). */
export interface StateSpec {
  /** Float tensors: name to shape. */
  tensors: Map<string, number[]>;
  /** Masks: name to shape. */
  masks: Map<string, number[]>;
}

/**
 * Everything the PETL methods implement on top of `Method`: inference modules, checkpoint
 * state, and the hook points they use.
 */
export interface PetlMethod<T> extends Method<T> {
  /**
   * Hook sites the method uses in a layer offering `offered` (adapter_config.json's
   * `hook_points`); without it, every site any of its positions may use.
   */
  hookSites(offered?: readonly HookSite[]): HookSite[];
  /**
   * Bind the backbone config without creating parameters (`init` does it too): needed before
   * `hooks` / `materialize` when the tree was not made by `init` (e.g. a resumed run).
   */
  bind(cfg: ModelConfig): void;
  /** Inference modules for task index `task` (default 0). Borrows `params`; result owned. */
  materialize(params: T, task?: number): Materialized;
  /** Host copy of the checkpoint contents (no scores, nothing for training). */
  exportState(params: T): Promise<MethodState>;
  /** Expected state names and shapes for a backbone. */
  stateSpec(cfg: ModelConfig): StateSpec;
  /** Inference modules for task index `task` from a stored state (borrowed, validated first). */
  materializeState(cfg: ModelConfig, state: MethodState, task?: number): Materialized;
  /** Free constants the method holds (random-mask's fixed masks). */
  dispose(): void;
}

/** A tensor of a module instance: name, shape, and whether ProPETL masks it (biases are not). */
export interface TensorSpec {
  name: string;
  shape: number[];
  masked: boolean;
}

/** Resolved module hyper-parameters (registry.ts fills the defaults from methods.ts). */
export interface ModuleOptions {
  /** Adapter bottleneck width. */
  bottleneck: number;
  /** LoRA rank. */
  rank: number;
  /** LoRA alpha. */
  alpha: number;
  /** Prefix length (positions). */
  prefixLength: number;
  /** Prefix reparametrisation MLP width. */
  prefixHidden: number;
}

/** Reads unit tensors of a trainable source: `read(unit, name)` returns an OWNED array. */
export type UnitReader = (unit: number, name: string) => JArray;

/**
 * A PETL module family (adapter.ts, lora.ts, prefix.ts): shapes, initialisation and forward.
 * `S` is its trainable source: `count` module instances (1 when shared by every position).
 */
export interface ModuleKind<S> {
  name: ModuleKindName;
  /**
   * Module positions in each layer with their hook sites, e.g. Houlsby's attention_output and
   * ffn_output (positions.ts: required ones, and those placed only where a stack offers them).
   */
  positions: readonly ModulePosition[];
  /** The tensors of one instance (what masks and checkpoints see). */
  unitSpec(cfg: ModelConfig, o: ModuleOptions): TensorSpec[];
  /** Fresh trainable source holding `count` instances. */
  initSource(cfg: ModelConfig, o: ModuleOptions, count: number, seed: number): S;
  /**
   * A reader of the instances' unit tensors for one forward pass; `reads` is how many times
   * the whole pass will call it per tensor name (lets a kind compute shared work once).
   */
  openSource(source: S, cfg: ModelConfig, o: ModuleOptions, count: number, reads: number): UnitReader;
  /**
   * One layer's hooks; `get(position, name)` gives an owned, possibly batched ([B, ...]) tensor;
   * `has(position)`: whether the layer has that position (see positions.ts).
   */
  layerHooks(get: (position: number, name: string) => JArray, o: ModuleOptions, has: (position: number) => boolean): LayerHooks;
}
