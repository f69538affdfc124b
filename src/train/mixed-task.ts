/**
 * Mixed-task inference from ONE multi-task checkpoint: a batch whose examples belong to
 * different tasks runs through the encoder once, each example with its own task's modules,
 * and each row goes through its task's head.
 *
 * Each task's modules are materialised once (prototype ⊙ hybrid mask, as `loadPredictor`
 * does for one task); the masked tensors, which differ between tasks, are stacked into
 * [T, ...] and gathered per batch by the examples' task ids into per-example weights
 * [B, ...] (the module kinds take per-example weights, as in multi-task training); the
 * unmasked ones (biases) are the same for every task and stay shared. Methods without
 * task-specific tensors (plain modules, only-share, full, and masks under the "layer" combine
 * rule, which every task shares) run one set of modules for all.
 * The result equals running each task alone (test/train/mixed-task.test.ts).
 */
import { asEncoderParams } from "../models/architecture.js";
import { np, tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { Tokenizer } from "../data/tokenizer.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { classify, makeBatch } from "../models/bert/encoder.js";
import { encodeAsync } from "../models/bert/encode-async.js";
import type { ModelHooks } from "../models/hooks.js";
import { loadModelDir } from "../models/load.js";
import type { EncoderParams, HeadParams } from "../models/bert/params.js";
import { CheckpointError, loadTaskCheckpoint } from "../petl/checkpoint.js";
import type { LoadedCheckpoint } from "../petl/checkpoint.js";
import type { Materialized, ModuleKind } from "../petl/method.js";
import { ruleMasks } from "../petl/combine-rule.js";
import { METHOD_DEFAULTS, methodLayout } from "../petl/methods.js";
import { disposeMaterialized, hooksByStack, materializedHooks, moduleKind } from "../petl/propetl.js";
import { moduleOptions } from "../petl/registry.js";
import { encodeExamples, evalBatches, padBatch } from "./batching.js";
import type { EncodedExample } from "./batching.js";

/** Every task's modules of a checkpoint, ready for per-example selection (owned; `dispose`). */
export interface TaskModules {
  /** Hooks for a batch whose example b belongs to task `taskIds[b]` (device int32 [B], borrowed). */
  hooks(taskIds: JArray): ModelHooks;
  /** The encoder to run (full fine-tuning's tuned copy), or null for the frozen backbone. */
  encoder: EncoderParams | null;
  /** Device bytes the modules hold. */
  bytes: number;
  /** Free the modules. */
  dispose(): void;
}

const bytesOf = (xs: Iterable<JArray>): number => {
  let n = 0;
  for (const x of xs) n += x.size * (x.dtype === "float16" ? 2 : 4);
  return n;
};

function* materializedArrays(m: Materialized): Iterable<JArray> {
  for (const layer of m.units) for (const unit of layer) yield* Object.values(unit);
  if (m.encoder) yield* tree.leaves(m.encoder) as JArray[];
}

/** Stack the tasks' materialised modules (see the module comment). `ckpt` is borrowed. */
export function taskModules(ckpt: LoadedCheckpoint): TaskModules {
  const c = ckpt.method.config;
  const layout = methodLayout(c);
  const T = ckpt.tasks.length;
  const first = ckpt.materialize(0);
  if (layout.kind === null || layout.masks === "none" || T === 1 || first.kind === "full" || !ruleMasks(c.combine ?? METHOD_DEFAULTS.combine).task) {
    // The same modules serve every task (no task masks: e.g. the "layer" combine rule).
    return { hooks: () => materializedHooks(first), encoder: first.encoder ? asEncoderParams(first.encoder) : null, bytes: bytesOf(materializedArrays(first)), dispose: () => disposeMaterialized(first) };
  }
  const rest: Materialized[] = [];
  try {
    for (let t = 1; t < T; t++) rest.push(ckpt.materialize(t));
  } catch (e) {
    disposeMaterialized(first);
    for (const m of rest) disposeMaterialized(m);
    throw e;
  }
  const all = [first, ...rest];
  const kind = moduleKind(layout.kind) as ModuleKind<unknown>;
  const masked = new Set(kind.unitSpec(ckpt.encoderConfig, moduleOptions(c)).filter((s) => s.masked).map((s) => s.name));
  // [layer][position][tensor]: stacked [T, ...] when masked, else task 0's tensor.
  const units = first.units.map((layer, i) =>
    layer.map((unit, q) =>
      Object.fromEntries(Object.entries(unit).map(([name, t]) => [name, masked.has(name) ? np.stack(all.map((m) => (m.units[i][q][name] as JArray).ref), 0) : t.ref])),
    ),
  );
  for (const m of all) disposeMaterialized(m);
  return {
    hooks: (taskIds) =>
      hooksByStack(first.layers, (i) =>
        kind.layerHooks((q, name) => {
          const t = units[i]?.[q]?.[name];
          if (t === undefined) throw new Error(`mixed-task modules have no tensor "${name}" at position ${q} of layer ${i}`);
          return masked.has(name) ? t.ref.slice(taskIds.ref) : t.ref;
        }, first.options, (q) => Object.keys(units[i]?.[q] ?? {}).length > 0),
      ),
    encoder: null,
    bytes: bytesOf(units.flatMap((layer) => layer.flatMap((unit) => Object.values(unit)))),
    dispose: () => {
      for (const layer of units) for (const unit of layer) for (const t of Object.values(unit)) t.dispose();
    },
  };
}

/**
 * Logits of a mixed-task batch in one encoder pass: row b with task `taskIdsHost[b]`'s head.
 * Returns one Float32Array per example (its task's label count). Everything is borrowed.
 */
export async function mixedTaskLogits(config: EncoderConfig, encoder: EncoderParams, modules: TaskModules, heads: readonly HeadParams[], items: readonly EncodedExample[], padTokenId: number): Promise<Float32Array[]> {
  const taskIdsHost = Int32Array.from(items, (e, i) => {
    const t = e.taskId;
    if (t === undefined || !Number.isInteger(t) || t < 0 || t >= heads.length) throw new RangeError(`example ${i}: task id ${t} is outside [0, ${heads.length})`);
    return t;
  });
  const host = padBatch(items, { padTokenId, regression: false });
  const batch = makeBatch(config, host);
  const taskIds = np.array(taskIdsHost, { dtype: np.int32 });
  let hidden: JArray;
  try {
    // Layer by layer (encodeAsync): the pass holds one layer's intermediates at a time.
    hidden = await encodeAsync(config, modules.encoder ?? encoder, batch, modules.hooks(taskIds));
  } finally {
    taskIds.dispose();
    tree.dispose([batch.inputIds, batch.positionIds, batch.tokenTypeIds, batch.maskBias]);
  }
  const out: Float32Array[] = new Array<Float32Array>(items.length);
  try {
    for (let t = 0; t < heads.length; t++) {
      const rows: number[] = [];
      taskIdsHost.forEach((x, b) => {
        if (x === t) rows.push(b);
      });
      if (rows.length === 0) continue;
      const C = heads[t].out.w.shape[0];
      const logits = (await classify(heads[t], hidden.ref.slice(np.array(Int32Array.from(rows), { dtype: np.int32 }))).data()) as Float32Array;
      rows.forEach((b, r) => (out[b] = logits.slice(r * C, (r + 1) * C)));
    }
  } finally {
    hidden.dispose();
  }
  return out;
}

/**
 * Logits of examples of mixed tasks (`taskId` set), in forward passes of at most `batchSize`
 * (longest first, as `predict` batches), in input order. Everything is borrowed.
 */
export async function mixedTaskLogitsBatched(config: EncoderConfig, encoder: EncoderParams, modules: TaskModules, heads: readonly HeadParams[], data: readonly EncodedExample[], padTokenId: number, batchSize: number): Promise<Float32Array[]> {
  const out = new Array<Float32Array>(data.length);
  for (const rows of evalBatches(data.map((e) => e.inputIds.length), batchSize)) {
    const r = await mixedTaskLogits(config, encoder, modules, heads, rows.map((i) => data[i]), padTokenId);
    rows.forEach((i, k) => (out[i] = r[k]));
  }
  return out;
}

/** A backbone and a multi-task checkpoint serving every task at once. */
export interface MultiTaskPredictor {
  /** The backbone's config. */
  config: EncoderConfig;
  /** The backbone's tokenizer. */
  tokenizer: Tokenizer;
  /** The loaded checkpoint. */
  checkpoint: LoadedCheckpoint;
  /** The checkpoint's tasks: names, label names, label counts. */
  tasks: {
    /** Task name. */
    name: string;
    /** Label names in id order. */
    labelNames: string[];
    /** Outputs of its head. */
    numLabels: number;
  }[];
  /** Tokenize texts, each for a task (name or index): the encoded examples carry `taskId`. */
  encode(items: readonly {
    /** The (first) text. */
    text: string;
    /** The second text of a pair. */
    textPair?: string;
    /** The task, by name or index. */
    task: string | number;
    /** A label to carry along (default -1). */
    label?: number;
  }[], maxLength: number): EncodedExample[];
  /** Each example's logits under its own task (batches mix tasks), in input order. */
  logits(data: readonly EncodedExample[], opts?: {
    /** Examples per forward pass (default 64). */
    batchSize?: number;
  }): Promise<Float32Array[]>;
  /** Free the backbone, the modules and the heads. */
  dispose(): void;
}

/** Load a backbone and a (multi-task) checkpoint for mixed-task prediction. */
export async function loadMultiTaskPredictor(modelDir: string, checkpointDir: string, opts: { tokenizer?: Tokenizer } = {}): Promise<MultiTaskPredictor> {
  const tokenizer = opts.tokenizer ?? (await (await import("../data/tokenizer.js")).loadTokenizer(modelDir));
  const model = await loadModelDir(modelDir);
  tree.dispose(model.head);
  let ckpt: LoadedCheckpoint;
  let modules: TaskModules;
  try {
    ckpt = await loadTaskCheckpoint(checkpointDir, { encoderConfig: model.config });
  } catch (e) {
    tree.dispose(model.encoder);
    throw e;
  }
  const heads = ckpt.tasks.map((t) => t.head);
  if (heads.some((h) => h === null)) {
    ckpt.dispose();
    tree.dispose(model.encoder);
    throw new CheckpointError(`${checkpointDir}: a checkpoint of a ${model.config.modelType} model has no classification head to predict labels with`);
  }
  try {
    modules = taskModules(ckpt);
  } catch (e) {
    ckpt.dispose();
    tree.dispose(model.encoder);
    throw e;
  }
  const padTokenId = tokenizer.padTokenId >= 0 ? tokenizer.padTokenId : model.config.padTokenId;
  const H = heads as HeadParams[];
  return {
    config: model.config,
    tokenizer,
    checkpoint: ckpt,
    tasks: ckpt.tasks.map((t, i) => ({ name: t.name, labelNames: t.labelNames, numLabels: H[i].out.w.shape[0] })),
    encode: (items, maxLength) =>
      items.map((it, i) => {
        const [e] = encodeExamples(tokenizer, [{ text: it.text, ...(it.textPair !== undefined ? { textPair: it.textPair } : {}), label: it.label ?? -1, line: i }], { maxLength, taskId: ckpt.taskIndex(it.task) });
        return { ...e, index: i };
      }),
    logits: (data, o = {}) => mixedTaskLogitsBatched(model.config, model.encoder, modules, H, data, padTokenId, o.batchSize ?? 64),
    dispose: () => {
      modules.dispose();
      ckpt.dispose();
      tree.dispose(model.encoder);
    },
  };
}
