/**
 * The task catalog of a tasks folder: every folder under it (at any depth, hidden folders
 * skipped) that holds an adapter_config.json is a task checkpoint. A single-task checkpoint is
 * named by its path relative to the tasks folder ("sentiment", "team/spam"); each task of a
 * multi-task checkpoint by that path, a slash and the task's name ("mt/rte"). Only the small
 * JSON config is read here; the checkpoint itself loads when a request first needs it.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { checkJsonDepth } from "../io/json-depth.js";
import { CONFIG_FILE, MODEL_FILE, methodConfigOfFile, parseAdapterConfig } from "../petl/checkpoint.js";
import type { AdapterConfigFile } from "../petl/checkpoint.js";
import { resolveMethodConfig } from "../petl/registry.js";
import { computeStorage, modelDimsFromConfig } from "../petl/storage.js";

/** One servable task. */
export interface CatalogTask {
  /** The name requests use. */
  name: string;
  /** The checkpoint folder. */
  dir: string;
  /** The task's name inside the checkpoint. */
  checkpointTask: string;
  /** Method name as the checkpoint records it. */
  method: string;
  /** Label names ([] for a text-to-text task, ["score"]-like one name for regression). */
  labelNames: string[];
  /** "classification", "regression", or "text-to-text" (no head). */
  kind: "classification" | "regression" | "text-to-text";
  /** Bytes of the checkpoint's adapter_model.safetensors (shared by the tasks of a multi-task file). */
  fileBytes: number;
  /** Modification time of adapter_config.json and adapter_model.safetensors (ms), to notice replaced files. */
  mtimeMs: number;
  /** Tasks in the checkpoint file. */
  checkpointTasks: number;
  /** The parsed config (for the storage count). */
  config: AdapterConfigFile;
}

/** A folder that looked like a checkpoint but could not be read: skipped, reported. */
export interface CatalogProblem {
  /** The folder. */
  dir: string;
  /** Why it was skipped. */
  error: string;
}

/** The task checkpoints found under a folder (`scanTasks`). */
export interface Catalog {
  /** The tasks by name. */
  tasks: Map<string, CatalogTask>;
  /** Folders that could not be read. */
  problems: CatalogProblem[];
}

function taskKind(labels: readonly string[]): CatalogTask["kind"] {
  if (labels.length === 0) return "text-to-text";
  return labels.length === 1 ? "regression" : "classification";
}

/** Read one checkpoint folder's config into catalog entries. */
async function readCheckpoint(root: string, dir: string): Promise<CatalogTask[]> {
  const file = path.join(dir, CONFIG_FILE);
  const text = await readFile(file, "utf8");
  checkJsonDepth(text, file);
  const config = parseAdapterConfig(file, JSON.parse(text) as unknown);
  const model = path.join(dir, MODEL_FILE);
  const st = await stat(model).catch(() => undefined);
  if (st === undefined) throw new Error(`${model}: file not found`);
  const mtimeMs = Math.max(st.mtimeMs, (await stat(file)).mtimeMs);
  const rel = path.relative(root, dir).split(path.sep).join("/");
  const base = rel === "" ? path.basename(path.resolve(root)) : rel;
  const multi = config.tasks.length > 1;
  return config.tasks.map((t) => {
    const labelNames = config.label_names[t] ?? [];
    return { name: multi ? `${base}/${t}` : base, dir, checkpointTask: t, method: config.method, labelNames, kind: taskKind(labelNames), fileBytes: st.size, mtimeMs, checkpointTasks: config.tasks.length, config };
  });
}

/**
 * Scan `tasksDir` for task checkpoints (see the module comment), reading up to 16 folders at a
 * time without blocking the process. A missing folder is an error naming it; an unreadable
 * checkpoint is a problem (skipped), as is a second task of the same name.
 */
export async function scanTasks(tasksDir: string): Promise<Catalog> {
  const st = await stat(tasksDir).catch(() => undefined);
  if (st === undefined) throw new Error(`tasks folder ${tasksDir}: not found`);
  if (!st.isDirectory()) throw new Error(`tasks folder ${tasksDir}: not a folder`);
  const problems: CatalogProblem[] = [];
  // Checkpoint folders in a stable order (depth first, names sorted), then read in parallel.
  const dirs: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ dir, error: (e as Error).message });
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === CONFIG_FILE)) {
      dirs.push(dir);
      return;
    }
    if (depth >= 8) return;
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory() && !e.name.startsWith(".")) await visit(path.join(dir, e.name), depth + 1);
    }
  };
  await visit(tasksDir, 0);
  const read = new Array<CatalogTask[] | Error>(dirs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < dirs.length) {
      const i = next++;
      read[i] = await readCheckpoint(tasksDir, dirs[i]).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, dirs.length) }, worker));
  const tasks = new Map<string, CatalogTask>();
  dirs.forEach((dir, i) => {
    const r = read[i];
    if (r instanceof Error) return problems.push({ dir, error: r.message });
    for (const t of r) {
      if (tasks.has(t.name)) problems.push({ dir, error: `task name "${t.name}" is already taken by ${tasks.get(t.name)?.dir}` });
      else tasks.set(t.name, t);
    }
  });
  return { tasks, problems };
}

/** Bit-level storage of one task of a catalog entry's checkpoint (per task; the head apart), as `propetl storage` counts it. */
export function taskStorage(t: CatalogTask): {
  /** Bits of the task's method state. */
  bits: number;
  /** Those bits as a percentage of the backbone's 32-bit parameters. */
  percentOfBackbone: number;
  /** Bits of the task's head (not in `bits`). */
  headBits: number;
} {
  const method = resolveMethodConfig(methodConfigOfFile(t.config));
  const numLabels = Math.max(1, t.labelNames.length);
  const report = computeStorage(modelDimsFromConfig(t.config.backbone, numLabels), { ...method, tasks: t.config.tasks });
  return { bits: report.perTask.bits, percentOfBackbone: report.perTask.percentOfBackbone, headBits: report.head.bits };
}
