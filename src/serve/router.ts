/**
 * The task router: one backbone, many task checkpoints, usable without HTTP.
 *
 * `createTaskRouter({ modelDir, tasksDir })` loads the backbone once and catalogs the task
 * checkpoints under `tasksDir` (catalog.ts). `classify({ task, inputs })` tokenizes the inputs
 * as `propetl predict` does and queues them with the micro-batcher (batcher.ts); a batch is
 * split by task and each task's inputs run through the same function `predict` uses
 * (`taskPredictor(...).logits`, train/predictor.ts) on the task's materialised modules, loaded
 * lazily into the LRU cache (task-cache.ts). So a request alone gets exactly what `propetl predict`
 * prints for its inputs. With `fuseRequests` (the default) a task's requests in one batch share
 * forward passes, and several tasks of one multi-task checkpoint (one prototype, per-task masks)
 * share one encoder pass with per-example modules (train/mixed-task.ts); both agree with the
 * one-at-a-time results to float32 rounding (the kernels round differently with the row count).
 * `complete({ task, prompts })` (T5 backbone) queues with a second micro-batcher of the same
 * options; its batch is split by task and generation settings, and each group's prompts run
 * through one generate call (completions.ts) and are split back per request: padding does not
 * change a row's ids, so a request gets the text it gets alone.
 * All device work runs one batch at a time, so an eviction never frees arrays in use.
 */
import { initEngine } from "../engine/engine.js";
import type { EngineOptions } from "../engine/engine.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { loadTaskCheckpoint } from "../petl/checkpoint.js";
import { resolveMaxLength } from "../train/defaults.js";
import type { EncodedExample } from "../train/batching.js";
import { encodeForPrediction, loadPredictionBackbone, predictionOf, taskPredictor } from "../train/predictor.js";
import type { Prediction, PredictionBackbone, TaskPredictor } from "../train/predictor.js";
import { mixedTaskLogitsBatched, taskModules } from "../train/mixed-task.js";
import type { TaskModules } from "../train/mixed-task.js";
import { tree } from "../engine/jax.js";
import type { JArray } from "../engine/jax.js";
import type { HeadParams } from "../models/bert/params.js";
import { resolveGenerateOptions } from "../models/t5/generate-texts.js";
import { GENERATE_DEFAULTS } from "../models/generation-defaults.js";
import type { GenerateSettings } from "../models/t5/generate-texts.js";
import { MicroBatcher } from "./batcher.js";
import { completeTexts, isT5ModelDir, loadT5Backbone, loadT5Task } from "./completions.js";
import type { Completion, T5Backbone, T5Task } from "./completions.js";
import type { BatchOutcome } from "./batcher.js";
import { scanTasks, taskStorage } from "./catalog.js";
import { groupIndices } from "./grouping.js";
import type { Catalog, CatalogProblem, CatalogTask } from "./catalog.js";
import { TaskCache } from "./task-cache.js";
import type { TaskCacheStats } from "./task-cache.js";

/** A bad request: `field` names the part of the request at fault ("inputs[2]", "task"). */
export class RouterInputError extends Error {
  /** Always "RouterInputError". */
  override name = "RouterInputError";
  constructor(
    /** The part of the request at fault, e.g. "inputs[2]". */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** No task of that name in the tasks folder. */
export class UnknownTaskError extends Error {
  /** Always "UnknownTaskError". */
  override name = "UnknownTaskError";
  constructor(
    /** The task name asked for. */
    readonly task: string,
  ) {
    super(`unknown task "${task}" (GET /v1/tasks or listTasks() lists them)`);
  }
}

/** One input: a text, or a text and its pair. */
export type ClassifyInput = string | readonly [string, string];

/** A classification request: texts for one task. */
export interface ClassifyRequest {
  /** The task's name (as `listTasks` gives it). */
  task: string;
  /** The inputs, at least one (at most `TaskRouterOptions.maxInputs`). */
  inputs: readonly ClassifyInput[];
}

/** The answer to a `ClassifyRequest`. */
export interface ClassifyResponse {
  /** The task's name. */
  task: string;
  /** The task's label names (a regression task's one name). */
  labels: string[];
  /** One per input, in order: what `propetl predict` gives for it. */
  results: Prediction[];
}

/** A text-to-text request: prompts for one task (T5 backbone). */
export interface CompleteRequest {
  /** The task's name. */
  task: string;
  /** The source texts, without the task prefix (it is added). */
  prompts: readonly string[];
  /** Most tokens to generate per prompt (default the model folder's generation defaults, capped by `maxNewTokens`). */
  maxTokens?: number;
}

/** The answer to a `CompleteRequest`. */
export interface CompleteResponse {
  /** The task's name. */
  task: string;
  /** One per prompt, in order. */
  completions: Completion[];
}

/** A task as `listTasks` describes it. */
export interface ServedTask {
  /** The name requests use. */
  name: string;
  /** Classification, regression or text-to-text. */
  kind: CatalogTask["kind"];
  /** The method that trained it, as the checkpoint records it. */
  method: string;
  /** Label names in id order ([] for text-to-text). */
  labels: string[];
  /** Bytes of the checkpoint's adapter_model.safetensors (a multi-task file counts once per task it holds). */
  fileBytes: number;
  /** Bit-level storage of the task's method state (per task; the head apart), null where it cannot be counted. */
  storageBits: number | null;
  /** That storage as a percentage of the backbone's parameters (32-bit words). */
  storagePercentOfBackbone: number | null;
  /** The checkpoint folder. */
  checkpoint: string;
  /** Loaded in the cache now. */
  cached: boolean;
}

/** Counters of a router (`TaskRouter.stats`). */
export interface RouterStats {
  /** Tasks in the catalog. */
  tasks: number;
  /** The task cache's counters. */
  cache: TaskCacheStats;
  /** Requests waiting now. */
  queued: number;
  /** Micro-batches run so far. */
  batches: number;
  /** Encoder passes shared by several tasks of one multi-task checkpoint. */
  mixedTaskGroups: number;
}

/** Observation hooks (metrics). */
export interface RouterObserver {
  /** A batch ran: its requests, inputs, tokens, distinct tasks and duration. */
  batch?(info: {
    /** Requests in the batch. */
    requests: number;
    /** Inputs (texts or prompts) over those requests. */
    examples: number;
    /** Their tokens. */
    tokens: number;
    /** Distinct tasks. */
    tasks: number;
    /** How long it ran, in ms. */
    ms: number;
  }): void;
  /** A task (or a multi-task checkpoint's stacked tasks) was looked up: found loaded (hit) or loaded now, and the time it took (ms). */
  cache?(hit: boolean, ms: number): void;
}

/** Options of `createTaskRouter`. */
export interface TaskRouterOptions {
  /** The backbone's model folder (config.json, model.safetensors, tokenizer). */
  modelDir: string;
  /** The folder of task checkpoints. */
  tasksDir: string;
  /** Budget of the cache of loaded tasks in MiB (default 256). */
  cacheMb?: number;
  /** Micro-batch window (ms, default 2). */
  batchWindowMs?: number;
  /** Token budget of a micro-batch (default 4096). */
  maxBatchTokens?: number;
  /** Requests waiting at most (default 1024). */
  maxQueue?: number;
  /** Time limit per request (ms, default 30000; 0 = none). */
  timeoutMs?: number;
  /** Longest tokenized input (default as `predict`: 128, capped by the model). */
  maxLength?: number;
  /** Forward-pass batch size inside a task group (default 64, as `predict`). */
  batchSize?: number;
  /** Inputs per request at most (default 256). */
  maxInputs?: number;
  /** Characters per text at most (default 10000). */
  maxInputChars?: number;
  /**
   * When a request names an unknown task, rescan the folder first if the last scan is older than
   * this (ms; default 0 = never: a scan reads and validates every adapter_config.json, 2.6 s for
   * 10,000 folders measured here, and the request waits for it; use `reload()` instead).
   */
  rescanOnMissMs?: number;
  /**
   * Run the inputs of several requests for one task in one forward pass (default true). The
   * engine's kernels round differently with the batch's row count, so a fused result may differ
   * from the request's result alone in the last float32 bits (labels do not change in the
   * tests); with false each request gets its own forward pass and exactly what `propetl predict`
   * gives for its inputs, at the cost of throughput.
   */
  fuseRequests?: boolean;
  /** A tokenizer instead of the model folder's (classification backbones). */
  tokenizer?: Tokenizer;
  /** Text-to-text: the most tokens a completion may ask for (default 256). */
  maxNewTokens?: number;
  /** Text-to-text: longest prompt in tokens, longer ones truncated (default `GENERATE_DEFAULTS.maxSourceLength`, as `generate`). */
  maxSourceLength?: number;
  /** Engine options, if the engine is not started yet. */
  engine?: EngineOptions;
  /** Observation hooks (metrics), if any. */
  observer?: RouterObserver;
}

/**
 * Serves many tasks from one backbone (`createTaskRouter`): validates requests, micro-batches
 * them, splits batches by task and runs each task's modules from an LRU cache.
 */
export interface TaskRouter {
  /**
   * Classify the inputs with a task, as `propetl predict` does. Rejects with `RouterInputError`
   * (a bad request), `UnknownTaskError`, `QueueFullError`, `RequestTimeoutError` or
   * `ShuttingDownError`.
   */
  classify(req: ClassifyRequest): Promise<ClassifyResponse>;
  /** The tasks of the folder, by name. */
  listTasks(): ServedTask[];
  /** Rescan the tasks folder: new tasks appear, removed ones go, changed files reload on next use. */
  reload(): Promise<{
    /** Tasks after the rescan. */
    tasks: number;
    /** Names that appeared. */
    added: string[];
    /** Names that went. */
    removed: string[];
    /** Names whose files changed. */
    changed: string[];
    /** Folders that could not be read. */
    problems: CatalogProblem[];
  }>;
  /** Whether a task of that name exists (after a rescan on a miss, as `classify` does). */
  hasTask(name: string): Promise<boolean>;
  /** Counters: tasks, cache, queue, batches. */
  stats(): RouterStats;
  /** Tasks' checkpoint problems found by the last scan (unreadable folders, duplicate names). */
  problems(): CatalogProblem[];
  /**
   * Generate for prompts with a text-to-text task (a T5 backbone): what `propetl generate
   * --checkpoint` prints for each prompt.
   */
  complete(req: CompleteRequest): Promise<CompleteResponse>;
  /** "classification" for a BERT/RoBERTa backbone, "text-to-text" for a T5 one. */
  backboneKind: "classification" | "text-to-text";
  /** Answer every queued request, then free the cache and the backbone. */
  close(): Promise<void>;
}

/** Every task of a multi-task checkpoint, stacked for mixed-task passes (mixed-task.ts). */
interface CheckpointTasks {
  kind: "checkpoint";
  modules: TaskModules;
  heads: HeadParams[];
  taskNames: string[];
  bytes: number;
  dispose(): void;
}

/** What the task cache holds: one task's predictor, a multi-task checkpoint's stacked tasks, or a text-to-text task. */
type Loaded = { kind: "task"; tp: TaskPredictor; bytes: number; dispose(): void } | CheckpointTasks | { kind: "t5"; task: T5Task; bytes: number; dispose(): void };

interface GenJob {
  task: CatalogTask;
  prompts: readonly string[];
  /** The generation settings; jobs with equal settings for one task share a generate call. */
  settings: GenerateSettings;
  /** What the job counts against the batch's token budget. */
  tokens: number;
}

interface Job {
  task: CatalogTask;
  examples: EncodedExample[];
}


function checkPositive(name: string, x: number | undefined, fallback: number, min = 1): number {
  const v = x ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number >= ${min}, got ${v}`);
  return v;
}

/** Create a router (see the module comment). Starts the engine with `engine` options if it is not running. */
export async function createTaskRouter(opts: TaskRouterOptions): Promise<TaskRouter> {
  const cacheBytes = checkPositive("cacheMb", opts.cacheMb, 256, 0) * 1024 * 1024;
  const batchSize = checkPositive("batchSize", opts.batchSize, 64);
  const maxInputs = checkPositive("maxInputs", opts.maxInputs, 256);
  const maxInputChars = checkPositive("maxInputChars", opts.maxInputChars, 10000);
  const fuseRequests = opts.fuseRequests ?? true;
  const rescanOnMissMs = checkPositive("rescanOnMissMs", opts.rescanOnMissMs, 0, 0);
  let catalog: Catalog = await scanTasks(opts.tasksDir);
  let lastScan = Date.now();
  const maxNewTokens = checkPositive("maxNewTokens", opts.maxNewTokens, 256);
  const maxSourceLength = checkPositive("maxSourceLength", opts.maxSourceLength, GENERATE_DEFAULTS.maxSourceLength, 2);
  await initEngine(opts.engine);
  const t5 = isT5ModelDir(opts.modelDir) ? await loadT5Backbone(opts.modelDir) : null;
  const bbOrNull = t5 === null ? await loadPredictionBackbone(opts.modelDir, opts.tokenizer ? { tokenizer: opts.tokenizer } : {}) : null;
  let maxLength = 0;
  if (bbOrNull !== null) {
    try {
      maxLength = resolveMaxLength(opts.maxLength, bbOrNull.config);
    } catch (e) {
      bbOrNull.dispose();
      throw e;
    }
  }
  // Classification paths run only with a classification backbone (validate refuses otherwise).
  const classifier = (): PredictionBackbone => {
    if (bbOrNull === null) throw new Error("this router serves a T5 backbone: no classification");
    return bbOrNull;
  };
  const cache = new TaskCache<Loaded>(cacheBytes);
  let batches = 0;
  let mixedTaskGroups = 0;

  // Device work, one piece at a time (batches and cache invalidation).
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => undefined);
    return p;
  };

  const cacheKey = (t: CatalogTask): string => `task\u0000${t.name}\u0000${t.mtimeMs}`;
  const checkpointKey = (t: CatalogTask): string => `checkpoint\u0000${t.dir}\u0000${t.mtimeMs}`;
  const loadCheckpointTasks = async (t: CatalogTask): Promise<CheckpointTasks> => {
    const bb = classifier();
    const ckpt = await loadTaskCheckpoint(t.dir, { encoderConfig: bb.config });
    try {
      const heads = ckpt.tasks.map((e) => {
        if (e.head === null) throw new Error(`${t.dir}: task "${e.name}" has no classification head`);
        return e.head;
      });
      const modules = taskModules(ckpt);
      const refs = heads.map((h) => tree.ref(h));
      let bytes = modules.bytes;
      for (const h of refs) for (const x of tree.leaves(h) as JArray[]) bytes += x.size * 4;
      return {
        kind: "checkpoint",
        modules,
        heads: refs,
        taskNames: ckpt.tasks.map((e) => e.name),
        bytes,
        dispose: () => {
          modules.dispose();
          tree.dispose(refs);
        },
      };
    } finally {
      ckpt.dispose();
    }
  };
  const loadTask = async (t: CatalogTask): Promise<TaskPredictor> => {
    const bb = classifier();
    const ckpt = await loadTaskCheckpoint(t.dir, { encoderConfig: bb.config });
    try {
      return taskPredictor(bb, ckpt, ckpt.taskIndex(t.checkpointTask), t.dir);
    } finally {
      ckpt.dispose();
    }
  };

  const runBatch = (jobs: readonly Job[]): Promise<BatchOutcome<Prediction[]>[]> =>
    exclusive(async () => {
      batches++;
      const t0 = performance.now();
      const out = new Array<BatchOutcome<Prediction[]>>(jobs.length);
      // Task groups in order of first appearance; each group's inputs in request order.
      const groups = groupIndices(jobs, (j) => cacheKey(j.task));
      const taskCount = groups.size;
      // Several tasks of one multi-task checkpoint: one encoder pass over their stacked modules.
      const byCheckpoint = new Map<string, string[]>();
      if (fuseRequests) {
        for (const [key, members] of groups) {
          const t = jobs[members[0]].task;
          if (t.checkpointTasks < 2) continue;
          const k = checkpointKey(t);
          byCheckpoint.set(k, [...(byCheckpoint.get(k) ?? []), key]);
        }
      }
      for (const [ckey, taskKeys] of byCheckpoint) {
        if (taskKeys.length < 2) continue;
        const members = taskKeys.flatMap((k) => groups.get(k) ?? []);
        for (const k of taskKeys) groups.delete(k);
        const first = jobs[members[0]].task;
        mixedTaskGroups++;
        try {
          const ta = performance.now();
          const { value, hit } = await cache.get(ckey, () => loadCheckpointTasks(first));
          if (value.kind !== "checkpoint") throw new Error(`cache entry ${ckey} is a ${value.kind} entry`);
          opts.observer?.cache?.(hit, performance.now() - ta);
          const ct = value;
          const all = members.flatMap((i) => {
            const ti = ct.taskNames.indexOf(jobs[i].task.checkpointTask);
            return jobs[i].examples.map((e) => ({ ...e, taskId: ti }));
          });
          const bb = classifier();
          const logits = await mixedTaskLogitsBatched(bb.config, bb.encoder, ct.modules, ct.heads, all, bb.padTokenId, batchSize);
          let row = 0;
          for (const i of members) {
            const t = jobs[i].task;
            out[i] = { ok: true, value: jobs[i].examples.map(() => { const l = logits[row++]; return predictionOf(t.labelNames, l.length, l, 0); }) };
          }
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          for (const i of members) out[i] = { ok: false, error };
        }
      }
      for (const [key, members] of groups) {
        const task = jobs[members[0]].task;
        try {
          const ta = performance.now();
          const { value, hit } = await cache.get(key, async () => {
            const loaded = await loadTask(task);
            return { kind: "task" as const, tp: loaded, bytes: loaded.bytes, dispose: () => loaded.dispose() };
          });
          if (value.kind !== "task") throw new Error(`cache entry ${key} is a ${value.kind} entry`);
          const tp = value.tp;
          opts.observer?.cache?.(hit, performance.now() - ta);
          if (fuseRequests) {
            const all = members.flatMap((i) => jobs[i].examples);
            const logits = await tp.logits(all, { batchSize });
            let row = 0;
            for (const i of members) {
              const n = jobs[i].examples.length;
              out[i] = { ok: true, value: Array.from({ length: n }, (_, r) => predictionOf(tp.labelNames, tp.numLabels, logits, row + r)) };
              row += n;
            }
          } else {
            for (const i of members) {
              const logits = await tp.logits(jobs[i].examples, { batchSize });
              out[i] = { ok: true, value: jobs[i].examples.map((_, r) => predictionOf(tp.labelNames, tp.numLabels, logits, r)) };
            }
          }
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          for (const i of members) out[i] = { ok: false, error };
        }
      }
      const examples = jobs.reduce((s, j) => s + j.examples.length, 0);
      const tokens = jobs.reduce((s, j) => s + j.examples.reduce((a, e) => a + e.inputIds.length, 0), 0);
      opts.observer?.batch?.({ requests: jobs.length, examples, tokens, tasks: taskCount, ms: performance.now() - t0 });
      return out;
    });

  // Classify and completion requests queue with the same window, token budget, queue limit and timeouts.
  const batcherOptions = {
    ...(opts.batchWindowMs !== undefined ? { windowMs: opts.batchWindowMs } : {}),
    ...(opts.maxBatchTokens !== undefined ? { maxBatchTokens: opts.maxBatchTokens } : {}),
    ...(opts.maxQueue !== undefined ? { maxQueue: opts.maxQueue } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
  const batcher = new MicroBatcher<Job, Prediction[]>(runBatch, batcherOptions);

  const t5Key = (t: CatalogTask): string => `t5\u0000${t.name}\u0000${t.mtimeMs}`;
  // A batch's completion jobs grouped by task and generation settings; each group's prompts
  // (in request order) go through one generate call, padded to the group's longest prompt.
  const runGeneration = (jobs: readonly GenJob[]): Promise<BatchOutcome<Completion[]>[]> =>
    exclusive(async () => {
      batches++;
      const t0 = performance.now();
      const out = new Array<BatchOutcome<Completion[]>>(jobs.length);
      const backbone = t5 as T5Backbone;
      const groups = groupIndices(jobs, (j) => `${t5Key(j.task)}\u0000${JSON.stringify(j.settings)}`);
      for (const members of groups.values()) {
        const first = jobs[members[0]];
        try {
          const ta = performance.now();
          const { value, hit } = await cache.get(t5Key(first.task), async () => {
            const loaded = await loadT5Task(backbone, first.task.dir, first.task.checkpointTask);
            return { kind: "t5" as const, task: loaded, bytes: loaded.bytes, dispose: () => loaded.dispose() };
          });
          if (value.kind !== "t5") throw new Error(`cache entry for ${first.task.name} is a ${value.kind} entry`);
          opts.observer?.cache?.(hit, performance.now() - ta);
          const completions = await completeTexts(backbone, value.task, members.flatMap((i) => jobs[i].prompts), first.settings, { maxSourceLength, batchSize: GENERATE_DEFAULTS.batchSize });
          let row = 0;
          for (const i of members) {
            out[i] = { ok: true, value: completions.slice(row, row + jobs[i].prompts.length) };
            row += jobs[i].prompts.length;
          }
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          for (const i of members) out[i] = { ok: false, error };
        }
      }
      opts.observer?.batch?.({
        requests: jobs.length,
        examples: jobs.reduce((s, j) => s + j.prompts.length, 0),
        tokens: jobs.reduce((s, j) => s + j.tokens, 0),
        tasks: new Set(jobs.map((j) => j.task.name)).size,
        ms: performance.now() - t0,
      });
      return out;
    });
  const genBatcher = new MicroBatcher<GenJob, Completion[]>(runGeneration, batcherOptions);

  // One scan at a time; callers during a scan share it.
  let scanning: Promise<{ added: string[]; removed: string[]; changed: string[] }> | null = null;
  const rescan = (): Promise<{ added: string[]; removed: string[]; changed: string[] }> => {
    scanning ??= rescanOnce().finally(() => {
      scanning = null;
    });
    return scanning;
  };
  const rescanOnce = async (): Promise<{ added: string[]; removed: string[]; changed: string[] }> => {
    const next = await scanTasks(opts.tasksDir);
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [name, t] of next.tasks) {
      const old = catalog.tasks.get(name);
      if (!old) added.push(name);
      else if (old.mtimeMs !== t.mtimeMs || old.dir !== t.dir) changed.push(name);
    }
    for (const name of catalog.tasks.keys()) if (!next.tasks.has(name)) removed.push(name);
    catalog = next;
    lastScan = Date.now();
    return { added, removed, changed };
  };

  /** Free cached tasks whose catalog entry is gone or changed (between batches). */
  const dropStale = (): Promise<void> =>
    exclusive(async () => {
      const live = new Set([...catalog.tasks.values()].flatMap((t) => [cacheKey(t), checkpointKey(t), t5Key(t)]));
      for (const k of cache.keys()) if (!live.has(k)) cache.delete(k);
    });

  const lookup = async (name: string): Promise<CatalogTask> => {
    let t = catalog.tasks.get(name);
    if (t === undefined && rescanOnMissMs > 0 && Date.now() - lastScan >= rescanOnMissMs) {
      const r = await rescan();
      if (r.removed.length || r.changed.length) void dropStale();
      t = catalog.tasks.get(name);
    }
    if (t === undefined) throw new UnknownTaskError(name);
    return t;
  };

  const validate = async (req: ClassifyRequest): Promise<{ task: CatalogTask; items: { text: string; textPair?: string }[] }> => {
    if (typeof req !== "object" || req === null) throw new RouterInputError("body", "expected an object with task and inputs");
    if (typeof req.task !== "string" || req.task === "") throw new RouterInputError("task", "expected a non-empty string");
    if (!Array.isArray(req.inputs)) throw new RouterInputError("inputs", "expected an array of texts or [text, pair] arrays");
    if (req.inputs.length === 0) throw new RouterInputError("inputs", "expected at least one input");
    if (req.inputs.length > maxInputs) throw new RouterInputError("inputs", `at most ${maxInputs} inputs per request, got ${req.inputs.length}`);
    const items = req.inputs.map((x, i) => {
      const checkText = (s: unknown, field: string): string => {
        if (typeof s !== "string") throw new RouterInputError(field, "expected a string");
        if (s.trim() === "") throw new RouterInputError(field, "expected a non-empty text");
        if (s.length > maxInputChars) throw new RouterInputError(field, `at most ${maxInputChars} characters, got ${s.length}`);
        return s;
      };
      if (typeof x === "string") return { text: checkText(x, `inputs[${i}]`) };
      if (Array.isArray(x) && x.length === 2) return { text: checkText(x[0], `inputs[${i}][0]`), textPair: checkText(x[1], `inputs[${i}][1]`) };
      throw new RouterInputError(`inputs[${i}]`, "expected a text or a [text, pair] array of two texts");
    });
    const task = await lookup(req.task);
    if (task.kind === "text-to-text" || bbOrNull === null) throw new RouterInputError("task", `"${req.task}" is a text-to-text task without a classification head (use completions)`);
    return { task, items };
  };

  return {
    backboneKind: t5 === null ? "classification" : "text-to-text",
    async complete(req) {
      if (typeof req !== "object" || req === null) throw new RouterInputError("body", "expected an object with task and prompts");
      if (typeof req.task !== "string" || req.task === "") throw new RouterInputError("task", "expected a non-empty string");
      if (!Array.isArray(req.prompts) || req.prompts.length === 0) throw new RouterInputError("prompts", "expected a non-empty array of texts");
      if (req.prompts.length > maxInputs) throw new RouterInputError("prompts", `at most ${maxInputs} prompts per request, got ${req.prompts.length}`);
      req.prompts.forEach((p, i) => {
        if (typeof p !== "string" || p.trim() === "") throw new RouterInputError(`prompts[${i}]`, "expected a non-empty text");
        if (p.length > maxInputChars) throw new RouterInputError(`prompts[${i}]`, `at most ${maxInputChars} characters, got ${p.length}`);
      });
      if (req.maxTokens !== undefined && !(Number.isInteger(req.maxTokens) && req.maxTokens >= 1 && req.maxTokens <= maxNewTokens)) {
        throw new RouterInputError("maxTokens", `expected an integer in [1, ${maxNewTokens}], got ${req.maxTokens}`);
      }
      const task = await lookup(req.task);
      if (task.kind !== "text-to-text" || t5 === null) throw new RouterInputError("task", `"${req.task}" is a ${task.kind} task, not a text-to-text one (use classify)`);
      const requested = req.maxTokens ?? resolveGenerateOptions(t5.generation, {}).maxNewTokens;
      const settings: GenerateSettings = { maxNewTokens: Math.min(requested, maxNewTokens) };
      // The token budget counts each prompt's tokens (before the task prefix and truncation) and the tokens it may generate.
      const tokens = req.prompts.reduce((s, p) => s + Math.min(t5.tokenizer.encode(p, undefined, { maxLength: Infinity }).inputIds.length, maxSourceLength) + (settings.maxNewTokens ?? 0), 0);
      const job: GenJob = { task, prompts: req.prompts, settings, tokens };
      const completions = await genBatcher.submit(job, tokens);
      return { task: task.name, completions };
    },
    async classify(req) {
      const { task, items } = await validate(req);
      const examples = encodeForPrediction(classifier().tokenizer, items, maxLength);
      const tokens = examples.reduce((s, e) => s + e.inputIds.length, 0);
      const results = await batcher.submit({ task, examples }, tokens);
      return { task: task.name, labels: task.labelNames, results };
    },
    listTasks() {
      const cached = new Set(cache.keys());
      return [...catalog.tasks.values()].map((t) => {
        let storage: { bits: number; percentOfBackbone: number } | null = null;
        try {
          storage = taskStorage(t);
        } catch {
          storage = null;
        }
        return {
          name: t.name,
          kind: t.kind,
          method: t.method,
          labels: t.labelNames,
          fileBytes: t.fileBytes,
          storageBits: storage?.bits ?? null,
          storagePercentOfBackbone: storage?.percentOfBackbone ?? null,
          checkpoint: t.dir,
          cached: cached.has(cacheKey(t)),
        };
      });
    },
    async reload() {
      const r = await rescan();
      await dropStale();
      return { tasks: catalog.tasks.size, ...r, problems: catalog.problems };
    },
    async hasTask(name) {
      try {
        await lookup(name);
        return true;
      } catch {
        return false;
      }
    },
    stats: () => ({ tasks: catalog.tasks.size, cache: cache.stats(), queued: batcher.queued + genBatcher.queued, batches, mixedTaskGroups }),
    problems: () => catalog.problems,
    async close() {
      await Promise.all([batcher.drain(), genBatcher.drain()]);
      await exclusive(async () => {
        cache.clear();
        bbOrNull?.dispose();
        t5?.dispose();
      });
    },
  };
}
