/**
 * The report of the Table 2 grid (table2/plan.ts): per setting, each task's test score (mean ±
 * sd over the finished seeds), the mean over the tasks, and the bit-level storage per task, of
 * whatever part of the grid has finished.
 *
 *   node dist/experiments/table2/report.js [--results DIR] [--out DIR]
 *
 * Reads <results>/<run id>/metrics.json (default results dir: experiments/table2/results) for
 * every run of `planRuns()`: a single-task run's test score of its task, a multi-task run's
 * test score of every task (`tasks.<name>.test.main`). Writes <out>/RESULTS.md (default
 * experiments/table2): the part between `<!-- generated:begin -->` and `<!-- generated:end -->`
 * is rewritten on every run, the rest (the hand-written "What it shows") is kept; a new file
 * gets that section as a placeholder.
 *
 * Storage per task is the library's count (`computeStorage`) for propetl-mini, known before any
 * run finishes; a finished run's recorded storage is checked against it. A single-task setting
 * stores one module per task; a multi-task one stores one state for the three tasks, so its
 * per-task figure is the total / 3 (the paper's), and the report also gives what each further
 * task adds (its task masks).
 *
 * Everything but `main` is a pure function of parsed objects (test/experiments/table2-report.test.ts).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import type { ModelConfig } from "../../src/models/architecture.js";
import { readEncoderConfig } from "../../src/models/config-file.js";
import type { MethodConfig } from "../../src/petl/method.js";
import { computeStorage, sharedAndTaskParts } from "../../src/petl/storage.js";
import { metricLabel } from "../compare/aggregate.js";
import type { PlannedRun } from "../compare/plan.js";
import { type Stat, commandLine, docComment, formatStat, meanSd, plannedPart } from "../converge/report.js";
import { formatPercent, mdTable } from "../figure3/report.js";
import { BEGIN, END, problemsBlock, spliceGenerated as spliceBlock } from "../lib/generated-block.js";
import { type PlannedStatus, finishedRecords, readPlannedRuns } from "../lib/run-status.js";
import { COMMON_ARGS, EPOCHS, MULTI, MULTI_K, SEEDS, SETTINGS, SINGLE_K, TASKS, TASK_K, TEMPERATURE, TRAIN_EXAMPLES, type Setting, methodArgs, planRuns } from "./plan.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/experiments/table2). */
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
const TABLE2_DIR = path.join(REPO_ROOT, "experiments", "table2");
/** The bundled backbone every run uses (`propetl train`'s default model). */
export const MODEL_DIR = "models/propetl-mini";

export { BEGIN, END };
export const WHAT_IT_SHOWS = "## What it shows";
export const PLACEHOLDER = "(written by hand from the tables above, after the runs)";

const DASH = "–";

// ---------------------------------------------------------------------------------------------
// Parsed runs

/** One finished run: each task's test (and best validation) main score it has. */
export interface RunRecord {
  id: string;
  variant: string;
  seed: number;
  /** A multi-task run (all tasks) or a single-task run (one task). */
  multi: boolean;
  /** Task → test main metric (a fraction; Matthews correlation for CoLA). */
  test: Map<string, number>;
  validation: Map<string, number>;
  /** Task → its main metric's name. */
  mainMetric: Map<string, string>;
  /** The run's recorded bit-level storage (all tasks of a multi-task run), and what each task adds. */
  storageBits: number | null;
  addedBits: number | null;
  steps: number | null;
  trainSeconds: number | null;
  command: string[] | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

const SETTING_BY_VARIANT = new Map(SETTINGS.map((s) => [s.variant, s]));

/** The setting of a planned run (an error for a variant the plan does not have). */
export function settingOf(r: Pick<PlannedRun, "id" | "variant">): Setting {
  const s = SETTING_BY_VARIANT.get(r.variant);
  if (!s) throw new Error(`table2: planned run ${r.id} has an unknown variant ${r.variant}`);
  return s;
}

/**
 * One run from a parsed metrics.json `doc`; where it belongs (setting, task, seed) comes from the
 * plan. Disagreements with the file and what cannot be used are appended to `problems`.
 */
export function parseRun(doc: unknown, planned: PlannedRun, problems: string[] = []): RunRecord | null {
  const id = planned.id;
  if (!isRecord(doc)) {
    problems.push(`${id}: metrics.json is not a JSON object`);
    return null;
  }
  const setting = settingOf(planned);
  const multi = setting.combine !== null;
  if (typeof doc.seed === "number" && doc.seed !== planned.seed) problems.push(`${id}: seed ${doc.seed} in metrics.json, ${planned.seed} in the plan`);
  const method = isRecord(doc.method) ? doc.method : null;
  if (method && method.method !== setting.method) problems.push(`${id}: method ${JSON.stringify(method.method)} in metrics.json, "${setting.method}" in the plan`);
  if (method && multi && method.combine !== setting.combine) problems.push(`${id}: combine ${JSON.stringify(method.combine)} in metrics.json, "${setting.combine}" in the plan`);
  const test = new Map<string, number>();
  const validation = new Map<string, number>();
  const mainMetric = new Map<string, string>();
  if (multi) {
    const tasks = isRecord(doc.tasks) ? doc.tasks : null;
    if (!tasks) {
      problems.push(`${id}: no "tasks" in metrics.json (not a multi-task run?)`);
      return null;
    }
    for (const t of TASKS) {
      const rec = isRecord(tasks[t]) ? tasks[t] : null;
      const main = rec && isRecord(rec.test) ? finite(rec.test.main) : null;
      if (main === null) problems.push(`${id}: no finite tasks.${t}.test.main`);
      else test.set(t, main);
      const metric = rec && typeof rec.mainMetric === "string" ? rec.mainMetric : null;
      if (metric !== null) mainMetric.set(t, metric);
      const v = rec && metric !== null && isRecord(rec.validation) ? finite(rec.validation[metric]) : null;
      if (v !== null) validation.set(t, v);
    }
  } else {
    if (typeof doc.task === "string" && doc.task !== planned.task) problems.push(`${id}: task "${doc.task}" in metrics.json, "${planned.task}" in the plan`);
    const main = isRecord(doc.test) ? finite(doc.test.main) : null;
    if (main === null) problems.push(`${id}: no finite test.main`);
    else test.set(planned.task, main);
    if (typeof doc.mainMetric === "string") mainMetric.set(planned.task, doc.mainMetric);
    const v = isRecord(doc.validation) ? finite(doc.validation.main) : null;
    if (v !== null) validation.set(planned.task, v);
  }
  const storage = isRecord(doc.storage) ? doc.storage : null;
  const storageBits = storage ? finite(storage.bits) : null;
  if (storageBits === null) problems.push(`${id}: no storage.bits in metrics.json`);
  return {
    id,
    variant: planned.variant,
    seed: planned.seed,
    multi,
    test,
    validation,
    mainMetric,
    storageBits,
    addedBits: storage && isRecord(storage.perTask) ? finite(storage.perTask.bits) : null,
    steps: finite(doc.steps),
    trainSeconds: finite(doc.trainSeconds),
    command: Array.isArray(doc.command) && doc.command.every((c) => typeof c === "string") ? (doc.command as string[]) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Storage

/** Bit-level storage of a setting, per task (the head, per task in every setting, aside). */
export interface SettingStorage {
  /** Bits the setting stores for all the tasks together. */
  totalBits: number;
  /** totalBits / tasks: the paper's "per task". */
  perTaskBits: number;
  perTaskPercent: number;
  /** What one more task adds: its own module (single-task), its task masks, or nothing ("layer"). */
  addedBits: number;
}

/** The method config a setting trains (its flags, resolved by the library as the CLI does). */
export function methodConfigOf(s: Setting): MethodConfig {
  const c: MethodConfig = { method: s.method };
  if (s.combine === null) {
    if (s.method !== "adapter") c.k = SINGLE_K;
    return c;
  }
  c.combine = s.combine;
  if (s.combine !== "task") c.k = MULTI_K;
  if (s.combine !== "layer") c.taskK = TASK_K;
  return c;
}

/** The storage of every setting on a backbone of this config, by variant. */
export function plannedStorage(config: ModelConfig): Map<string, SettingStorage> {
  const out = new Map<string, SettingStorage>();
  const T = TASKS.length;
  for (const s of SETTINGS) {
    if (s.combine === null) {
      // One module per task, each trained and stored on its own.
      const r = computeStorage({ config, numLabels: 2 }, methodConfigOf(s));
      out.set(s.variant, { totalBits: T * r.totalBits, perTaskBits: r.totalBits, perTaskPercent: r.percentOfBackbone, addedBits: r.totalBits });
      continue;
    }
    const r = computeStorage({ config, numLabels: 2 }, { ...methodConfigOf(s), tasks: [...TASKS] });
    out.set(s.variant, { totalBits: r.totalBits, perTaskBits: r.totalBits / T, perTaskPercent: r.perTask.percentOfBackbone, addedBits: sharedAndTaskParts(r).perTask.bits });
  }
  return out;
}

/**
 * Disagreements between the runs' recorded storage and the planned count: a single-task run
 * records its one task's storage (= the setting's per-task figure), a multi-task run the total.
 */
export function storageProblems(runs: readonly RunRecord[], planned: ReadonlyMap<string, SettingStorage>): string[] {
  const out: string[] = [];
  for (const r of runs) {
    const p = planned.get(r.variant);
    if (!p || r.storageBits === null) continue;
    const want = r.multi ? p.totalBits : p.perTaskBits;
    if (r.storageBits !== want) out.push(`${r.id}: metrics.json records ${r.storageBits} storage bits, the library counts ${want} for the plan`);
    if (r.multi && r.addedBits !== null && r.addedBits !== p.addedBits) out.push(`${r.id}: metrics.json records ${r.addedBits} bits added per task, the library counts ${p.addedBits}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Aggregation

/** One row of the table: a setting's scores per task and over the tasks. */
export interface Row {
  setting: Setting;
  /** Task → seed → test score. */
  bySeed: Map<string, Map<number, number>>;
  /** Task → mean ± sd over the seeds that have it. */
  cells: Map<string, Stat | null>;
  /** Seed → mean over the tasks (only seeds with every task's score). */
  averageBySeed: Map<number, number>;
  /** Mean ± sd over seeds of the per-seed mean over tasks. */
  average: Stat | null;
  /** Runs finished / planned. */
  done: number;
  planned: number;
}

/** The rows of the table, in SETTINGS order, from the finished runs. */
export function tableRows(plan: readonly PlannedRun[], runs: readonly RunRecord[]): Row[] {
  return SETTINGS.map((setting) => {
    const bySeed = new Map<string, Map<number, number>>(TASKS.map((t) => [t, new Map<number, number>()]));
    const mine = runs.filter((r) => r.variant === setting.variant);
    for (const r of mine) for (const [t, v] of r.test) bySeed.get(t)?.set(r.seed, v);
    const cells = new Map(TASKS.map((t) => [t, meanSd([...(bySeed.get(t) as Map<number, number>).values()])]));
    const averageBySeed = new Map<number, number>();
    for (const seed of SEEDS) {
      const xs = TASKS.map((t) => bySeed.get(t)?.get(seed));
      if (xs.every((x) => x !== undefined)) averageBySeed.set(seed, (xs as number[]).reduce((a, b) => a + b, 0) / xs.length);
    }
    return {
      setting,
      bySeed,
      cells,
      averageBySeed,
      average: meanSd([...averageBySeed.values()]),
      done: mine.length,
      planned: plan.filter((r) => r.variant === setting.variant).length,
    };
  });
}

/** Each task's main-metric label ("F1", "Acc", "MCC"): as the runs record it, else the built-in task's. */
export function taskMetricLabels(runs: readonly RunRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of TASKS) out.set(t, metricLabel(runs.find((r) => r.mainMetric.has(t))?.mainMetric.get(t) ?? resolveBuiltinTask(t).task.mainMetric));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const int = (v: number): string => Math.round(v).toLocaleString("en-US");

function statusText(s: PlannedStatus<RunRecord> | undefined): string {
  if (!s || s.state === "pending") return "pending";
  if (s.state === "done") return "done";
  if (s.state === "unusable") return "metrics.json unusable (see problems)";
  const p = s.progress;
  if (!p || p.step === null) return "in progress (no step logged yet)";
  return `in progress: step ${p.step}/${p.totalSteps ?? "?"}, ${p.evals} validation(s)`;
}

export interface ReportInput {
  plan: readonly PlannedRun[];
  /** Plan id → status; missing ids are pending. */
  status: ReadonlyMap<string, PlannedStatus<RunRecord>>;
  /** The doc comment of plan.ts (quoted as the protocol), or null. */
  planComment: string | null;
  /** `plannedStorage` of the backbone, when its config.json could be read. */
  storage?: ReadonlyMap<string, SettingStorage>;
  backboneParams?: number;
  problems: readonly string[];
  repoRoot: string;
}

/** The generated block of RESULTS.md. */
export function generatedMarkdown(input: ReportInput): string {
  const { plan, status } = input;
  const runs = finishedRecords(status);
  const problems = [...input.problems];
  if (input.storage) problems.push(...storageProblems(runs, input.storage));
  const rows = tableRows(plan, runs);
  const labels = taskMetricLabels(runs);
  const seeds = [...SEEDS] as number[];
  const inProgress = plan.filter((r) => status.get(r.id)?.state === "in progress").length;
  const out: string[] = [];
  out.push("_Generated by `node dist/experiments/table2/report.js` from the runs' metrics.json files; edit outside the markers only._", "");
  out.push(
    `**Runs done:** ${runs.length} of ${plan.length} planned${inProgress ? `; ${inProgress} in progress` : ""} when this was generated. ` +
      `Every number is over the finished runs only; \`${DASH}\` = not finished (yet).`,
    "",
  );

  out.push("### Scores and storage per task (cf. paper Tables 2 and 11)", "");
  out.push(
    "Test score of each task's main metric ×100 (spam: F1 of the spam class; SST-2: accuracy; CoLA: Matthews correlation), " +
      `mean ± sample standard deviation (n − 1) over the finished seeds (${seeds.join(", ")}); \`(n=…)\` marks fewer seeds than planned, a single seed has no sd. ` +
      "Avg. = each seed's mean over the three tasks, then mean ± sd over the seeds that have all three. " +
      "Stored per task = bit-level storage (paper eq. 2: 32-bit module weights, 1-bit masks; heads, one per task in every setting, not counted): " +
      "a single-task setting stores one module per task; a multi-task one stores one state for the three tasks, counted as total / 3 (the paper's per-task figure). " +
      "Each task adds = what one more task would add: its own module (single-task), its task masks (multi-task), nothing under layer-masks-only. " +
      "Storage is the library's count for propetl-mini" + (input.backboneParams !== undefined ? ` (${int(input.backboneParams)} backbone parameters)` : "") + "; finished runs' recorded storage is checked against it (problems below).",
    "",
  );
  const header = ["Setting", "Runs done", ...TASKS.map((t) => `${t} (${labels.get(t)})`), "Avg.", "Stored per task (bits)", "% of backbone per task", "Each task adds (bits)"];
  const body = rows.map((row) => {
    const st = input.storage?.get(row.setting.variant);
    return [
      row.setting.label,
      `${row.done}/${row.planned}`,
      ...TASKS.map((t) => formatStat(row.cells.get(t) ?? null, seeds.length)),
      formatStat(row.average, seeds.length),
      st ? int(st.perTaskBits) : DASH,
      st ? formatPercent(st.perTaskPercent) : DASH,
      st ? int(st.addedBits) : DASH,
    ];
  });
  out.push(mdTable(header, ["l", "r", ...TASKS.map(() => "r" as const), "r", "r", "r", "r"], body), "");

  out.push("<details><summary>Per seed</summary>", "");
  const perSeed = rows.map((row) => [
    row.setting.label,
    ...TASKS.map((t) => seeds.map((s) => (row.bySeed.get(t)?.has(s) ? ((row.bySeed.get(t)?.get(s) as number) * 100).toFixed(1) : DASH)).join(" / ")),
    seeds.map((s) => (row.averageBySeed.has(s) ? ((row.averageBySeed.get(s) as number) * 100).toFixed(1) : DASH)).join(" / "),
  ]);
  out.push(mdTable(["Setting", ...TASKS.map((t) => `${t}, seeds ${seeds.join(" / ")}`), "Avg."], ["l", ...TASKS.map(() => "r" as const), "r"], perSeed), "", "</details>", "");

  out.push("### What was run", "");
  if (input.planComment) {
    out.push("From `experiments/table2/plan.ts`:", "");
    out.push(...input.planComment.split("\n").map((l) => (l ? `> ${l}` : ">")), "");
  }
  out.push(
    `The grid (\`planRuns()\`, ${plan.length} runs) on \`${MODEL_DIR}\` (the default model): single-task runs are \`propetl train --task <task> <method flags> --seed <seed> ${COMMON_ARGS.join(" ")}\`, ` +
      `multi-task runs \`propetl train --tasks ${TASKS.join(",")} <method flags> --seed <seed> ${COMMON_ARGS.join(" ")}\` (${TRAIN_EXAMPLES} training examples of each task, ${EPOCHS} epochs, temperature ${TEMPERATURE}). Method flags per setting:`,
    "",
  );
  for (const s of SETTINGS) out.push(`- ${s.label}: \`${methodArgs(s).join(" ")}\`${s.combine === null ? " (one run per task)" : ""}`);
  out.push(
    "",
    "Commands, from the repository root:",
    "",
    "```sh",
    "npx tsc -p tsconfig.json",
    "node dist/experiments/table2/smoke.js                                     # pre-flight: 2 steps of every planned configuration",
    "node dist/experiments/compare/run.js --plan table2 --jobs 1 --threads 2   # resumable; rerun until every run is done",
    "node dist/experiments/table2/report.js                                    # this file",
    "```",
    "",
    `The runner adds \`--output experiments/table2/results/<run id> --json\` (and \`--resume\` for a run folder that exists); multi-task runs are under \`${MULTI}/\`.`,
    "",
  );
  out.push("<details><summary>Each planned run: status and exact command</summary>", "");
  out.push("Done runs show the command recorded in their metrics.json; the others the plan's arguments.", "");
  for (const r of plan) {
    const s = status.get(r.id);
    let cmd: string;
    if (s?.state === "done" && s.run.command) {
      cmd = commandLine(s.run.command, input.repoRoot);
      const recorded = plannedPart(s.run.command);
      if (recorded.join(" ") !== r.args.join(" ")) problems.push(`${r.id}: recorded command arguments differ from the plan's (${recorded.join(" ")})`);
    } else cmd = `propetl train ${r.args.join(" ")} --output experiments/table2/results/${r.id} --json`;
    out.push(`- \`${r.id}\` — ${statusText(s)}`, `  \`${cmd}\``);
  }
  out.push("", "</details>", "");
  out.push(...problemsBlock(problems));
  return out.join("\n");
}

/** `existing` with the generated block replaced; a new file gets a title, the block and the hand-written section as a placeholder. */
export function spliceGenerated(existing: string | null, generated: string): string {
  return spliceBlock(existing, generated, {
    insertBefore: WHAT_IT_SHOWS,
    newFile: (block) =>
      [
        `# Table 2 at small scale: multi-task ProPETL on ${TASKS.join(", ")} (with the Table 11 ablations)`,
        "",
        "The part between the generated markers is rewritten by `node dist/experiments/table2/report.js`; the rest of this file is kept.",
        "",
        block,
        "",
        WHAT_IT_SHOWS,
        "",
        PLACEHOLDER,
        "",
      ].join("\n"),
  });
}

// ---------------------------------------------------------------------------------------------
// Files and CLI

function main(): void {
  const { values } = parseArgs({ options: { results: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } }, allowPositionals: false });
  if (values.help) {
    console.log(`usage: node dist/experiments/table2/report.js [--results DIR] [--out DIR]\ndefaults: --results ${path.join(TABLE2_DIR, "results")} --out ${TABLE2_DIR}`);
    return;
  }
  const resultsDir = path.resolve(values.results ?? path.join(TABLE2_DIR, "results"));
  const outDir = path.resolve(values.out ?? TABLE2_DIR);
  const plan = planRuns();
  const { status, problems } = readPlannedRuns(resultsDir, plan, parseRun);
  const planSource = path.join(TABLE2_DIR, "plan.ts");
  const planComment = existsSync(planSource) ? docComment(readFileSync(planSource, "utf8")) : null;
  if (planComment === null) problems.push(`no doc comment read from ${planSource}`);
  let storage: Map<string, SettingStorage> | undefined;
  let backboneParams: number | undefined;
  const configFile = path.join(REPO_ROOT, MODEL_DIR, "config.json");
  try {
    const config = readEncoderConfig(configFile);
    storage = plannedStorage(config);
    backboneParams = computeStorage({ config, numLabels: 2 }, { method: "adapter" }).model.backboneParams;
  } catch (e) {
    problems.push(`${configFile}: not read (${(e as Error).message}); no storage column`);
  }
  const input: ReportInput = { plan, status, planComment, ...(storage ? { storage } : {}), ...(backboneParams !== undefined ? { backboneParams } : {}), problems, repoRoot: REPO_ROOT };
  const md = path.join(outDir, "RESULTS.md");
  const existing = existsSync(md) ? readFileSync(md, "utf8") : null;
  writeFileSync(md, spliceGenerated(existing, generatedMarkdown(input)));
  console.log(`${finishedRecords(status).length} of ${plan.length} planned runs done (${resultsDir}); wrote ${md}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
