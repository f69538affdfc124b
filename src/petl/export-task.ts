/**
 * One task of a multi-task checkpoint as a single-task checkpoint (`propetl export-task`):
 * what that task needs at prediction and nothing of the other tasks.
 *
 * - ProPETL and the other shared methods with masks (random-mask): the prototype, and each
 *   position's hybrid mask for the task (layer mask OR / AND the task mask, computed on the
 *   host) stored as that position's layer mask: a plain single-task ProPETL state
 *   (`propetl-<module>`, with the file's module sizes and k).
 * - only-mask (one module per position, pruned): each module's weights with the task's hybrid
 *   mask applied, stored as the plain method of its module (masks are then zeros in the weights).
 * - Methods without task-specific tensors (plain modules, only-share, full): the same state.
 *
 * The task's head, label names (or text-to-text prefix) and the file's dtype are kept; the
 * exported file names its one task, so `--task NAME` works on it too. It predicts as the
 * multi-task file does with that task (the materialised modules are the same numbers).
 */
import type { LoadedCheckpoint, HostHead } from "./checkpoint.js";
import { CheckpointError, hostHead, loadTaskCheckpoint, writeTaskCheckpoint } from "./checkpoint.js";
import { combineMasksHost } from "./mask.js";
import type { MethodConfig, MethodState } from "./method.js";
import { METHOD_DEFAULTS, MODULE_FAMILIES, methodLayout } from "./methods.js";
import type { MethodName } from "./methods.js";
import { createMethod, resolveMethodConfig } from "./registry.js";

/** The single-task method config and state of task `task` of a loaded checkpoint (host only). */
export function singleTaskState(ckpt: LoadedCheckpoint, task: string | number): { config: MethodConfig; state: MethodState; taskName: string; hybridMasks?: { taskK: number; combine: "or" | "and" } } {
  const ti = ckpt.taskIndex(task);
  const taskName = ckpt.tasks[ti].name;
  const c = ckpt.method.config;
  const tasks = c.tasks ?? ["default"];
  const layout = methodLayout(c);
  const state: MethodState = { tensors: new Map(), masks: new Map() };
  const hybrid = layout.masks !== "none" && tasks.length > 1 && layout.kind !== null;
  if (!hybrid || layout.kind === null) {
    const config: MethodConfig = { ...c, tasks: [taskName] };
    delete config.taskK;
    delete config.combine;
    for (const [n, t] of ckpt.state.tensors) state.tensors.set(n, t);
    for (const [n, m] of ckpt.state.masks) state.masks.set(n, m);
    return { config: resolveMethodConfig(config), state, taskName };
  }
  const kind = layout.kind;
  const rule = c.combine ?? METHOD_DEFAULTS.combine;
  const taskMask = (tensor: string): Uint8Array => {
    const m = ckpt.state.masks.get(`mask.task.${taskName}.${tensor}`);
    if (!m) throw new CheckpointError(`the checkpoint has no task mask "mask.task.${taskName}.${tensor}"`);
    return m.bits;
  };
  const hybridOf = (maskName: string): { shape: number[]; bits: Uint8Array } => {
    const layer = ckpt.state.masks.get(maskName) as { shape: number[]; bits: Uint8Array };
    const tensor = maskName.slice(maskName.lastIndexOf(".") + 1);
    return { shape: layer.shape, bits: combineMasksHost(layer.bits, taskMask(tensor), rule) };
  };
  const config: MethodConfig = { method: (layout.share ? `propetl-${kind}` : kind) as MethodName, tasks: [taskName] };
  for (const key of MODULE_FAMILIES[kind].options) if (c[key] !== undefined) config[key] = c[key];
  if (layout.share) {
    config.k = c.k;
    for (const [n, t] of ckpt.state.tensors) state.tensors.set(n, t);
    for (const n of ckpt.state.masks.keys()) if (!n.startsWith("mask.task.")) state.masks.set(n, hybridOf(n));
  } else {
    for (const [n, t] of ckpt.state.tensors) {
      const maskName = `mask.${n}`;
      if (!ckpt.state.masks.has(maskName)) {
        state.tensors.set(n, t);
        continue;
      }
      const bits = hybridOf(maskName).bits;
      const data = new Float32Array(t.data.length);
      for (let i = 0; i < data.length; i++) data[i] = bits[i] ? t.data[i] : 0;
      state.tensors.set(n, { shape: t.shape, data });
    }
  }
  const hybridMasks = layout.share ? { taskK: c.taskK ?? METHOD_DEFAULTS.taskK, combine: rule } : undefined;
  return { config: resolveMethodConfig(config), state, taskName, ...(hybridMasks ? { hybridMasks } : {}) };
}

/** Write task `task` of the multi-task checkpoint in `srcDir` as a single-task checkpoint in `outDir`. */
export async function exportTaskCheckpoint(srcDir: string, task: string, outDir: string): Promise<{ taskName: string; method: MethodConfig; configFile: string; modelFile: string; bytes: number }> {
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
