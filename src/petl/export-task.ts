/**
 * One task of a multi-task checkpoint as a single-task checkpoint (`propetl export-task`):
 * what that task needs at prediction and nothing of the other tasks.
 *
 * - ProPETL and the other shared methods with masks (random-mask): the prototype, and each
 *   position's mask for the task under the file's combine rule (layer mask OR / AND the task
 *   mask, or the task mask alone for "task", computed on the host) stored as that position's
 *   layer mask: a plain single-task ProPETL state (`propetl-<module>`, with the file's module
 *   sizes and k; taskK for "task", whose masks keep that fraction).
 * - only-mask (one module per position, pruned): each module's weights with the task's mask
 *   applied, stored as the plain method of its module (masks are then zeros in the weights).
 * - Methods without task-specific tensors (plain modules, only-share, full, and any method
 *   under the "layer" rule, whose tasks all run the layer masks): the same state, as a
 *   single-task file of the same method.
 *
 * The task's head, label names (or text-to-text prefix) and the file's dtype are kept; the
 * exported file names its one task, so `--task NAME` works on it too. It predicts as the
 * multi-task file does with that task (the materialised modules are the same numbers).
 */
import type { LoadedCheckpoint, HostHead } from "./checkpoint.js";
import { CheckpointError, hostHead, loadTaskCheckpoint, writeTaskCheckpoint } from "./checkpoint.js";
import { ruleMask, ruleMasks } from "./combine-rule.js";
import { combineMasksHost } from "./mask.js";
import type { MethodConfig, MethodState } from "./method.js";
import { METHOD_DEFAULTS, MODULE_FAMILIES, methodLayout } from "./methods.js";
import type { MethodName } from "./methods.js";
import { moduleKind } from "./propetl.js";
import { createMethod, moduleOptions, resolveMethodConfig } from "./registry.js";

/** The single-task method config and state of task `task` of a loaded checkpoint (host only). */
export function singleTaskState(ckpt: LoadedCheckpoint, task: string | number): {
  /** The single-task method config. */
  config: MethodConfig;
  /** Its state (host arrays). */
  state: MethodState;
  /** The task's name. */
  taskName: string;
  /** Set when the layer masks stored are hybrids of layer and task masks (`AdapterConfigFile.hybrid_masks`). */
  hybridMasks?: {
    /** The task mask's kept fraction. */
    taskK: number;
    /** How the masks were combined. */
    combine: "or" | "and";
  };
} {
  const ti = ckpt.taskIndex(task);
  const taskName = ckpt.tasks[ti].name;
  const c = ckpt.method.config;
  const tasks = c.tasks ?? ["default"];
  const layout = methodLayout(c);
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  const rule = c.combine ?? METHOD_DEFAULTS.combine;
  const multiMasked = layout.masks !== "none" && tasks.length > 1 && layout.kind !== null;
  if (!multiMasked || layout.kind === null || !ruleMasks(rule).task) {
    // No task-specific tensors (no masks, or every task runs the layer masks: "layer"): the
    // state is already a single-task state of the same method.
    const config: MethodConfig = { ...c, tasks: [taskName] };
    delete config.taskK;
    delete config.combine;
    for (const [n, t] of ckpt.state.tensors) state.tensors.set(n, t);
    for (const [n, m] of ckpt.state.masks) state.masks.set(n, m);
    return { config: resolveMethodConfig(config), state, taskName };
  }
  const kind = layout.kind;
  const have = ruleMasks(rule);
  const stored = (name: string): Uint8Array => {
    const m = ckpt.state.masks.get(name);
    if (!m) throw new CheckpointError(`the checkpoint has no mask "${name}" (combine rule "${rule}")`);
    return m.bits;
  };
  /** Task `taskName`'s mask at a position (`<stack>.layer.<i>.<position>`) for one module tensor. */
  const maskAt = (pos: string, tensor: string): Uint8Array =>
    ruleMask(rule, have.layer ? stored(`mask.${pos}.${tensor}`) : undefined, stored(`mask.task.${taskName}.${tensor}`), combineMasksHost);
  const config: MethodConfig = { method: (layout.share ? `propetl-${kind}` : kind) as MethodName, tasks: [taskName] };
  for (const key of MODULE_FAMILIES[kind].options) if (c[key] !== undefined) config[key] = c[key];
  const split = (name: string): [string, string] => [name.slice(0, name.lastIndexOf(".")), name.slice(name.lastIndexOf(".") + 1)];
  if (layout.share) {
    // Each position's mask becomes its layer mask; without layer masks ("task") they keep taskK.
    config.k = have.layer ? c.k : c.taskK;
    const resolved = resolveMethodConfig(config);
    const single = createMethod(resolved);
    const spec = single.stateSpec(ckpt.encoderConfig);
    single.dispose();
    for (const [n, t] of ckpt.state.tensors) state.tensors.set(n, t);
    for (const [n, shape] of spec.masks) {
      const [pos, tensor] = split(n.slice("mask.".length));
      state.masks.set(n, { shape, bits: maskAt(pos, tensor) });
    }
    // OR / AND hybrids keep a count between the two masks' (checkpoint.ts `maskCountRange`);
    // "task" masks are exactly what top-k keeps for their k.
    const hybrid = rule === "or" || rule === "and" ? { hybridMasks: { taskK: c.taskK ?? METHOD_DEFAULTS.taskK, combine: rule } } : {};
    return { config: resolved, state, taskName, ...hybrid };
  }
  const masked = new Set(moduleKind(kind).unitSpec(ckpt.encoderConfig, moduleOptions(c)).filter((t) => t.masked).map((t) => t.name));
  for (const [n, t] of ckpt.state.tensors) {
    const [pos, tensor] = split(n);
    if (!masked.has(tensor)) {
      state.tensors.set(n, t);
      continue;
    }
    const bits = maskAt(pos, tensor);
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = bits[i] ? t.data[i] : 0;
    state.tensors.set(n, { shape: t.shape, data });
  }
  return { config: resolveMethodConfig(config), state, taskName };
}

/** Write task `task` of the multi-task checkpoint in `srcDir` as a single-task checkpoint in `outDir`. */
export async function exportTaskCheckpoint(srcDir: string, task: string, outDir: string): Promise<{
  /** The task's name. */
  taskName: string;
  /** The single-task method config written. */
  method: MethodConfig;
  /** adapter_config.json's path. */
  configFile: string;
  /** adapter_model.safetensors' path. */
  modelFile: string;
  /** adapter_model.safetensors' size in bytes. */
  bytes: number;
}> {
  const ckpt = await loadTaskCheckpoint(srcDir);
  try {
    const { config, state, taskName, hybridMasks } = singleTaskState(ckpt, task);
    const entry = ckpt.tasks[ckpt.taskIndex(taskName)];
    const heads: HostHead[] = entry.head ? [await hostHead(entry.head)] : [];
    const method = createMethod(config);
    try {
      const written = await writeTaskCheckpoint(outDir, {
        method,
        state,
        encoderConfig: ckpt.encoderConfig,
        heads,
        ...(entry.head ? { labelNames: [entry.labelNames] } : {}),
        dtype: ckpt.config.dtype,
        ...(hybridMasks ? { hybridMasks } : {}),
        ...(ckpt.config.task_prefixes !== undefined ? { taskPrefixes: [entry.prefix] } : {}),
      });
      return { taskName, method: method.config, ...written };
    } finally {
      method.dispose();
    }
  } finally {
    ckpt.dispose();
  }
}
