/**
 * The report of the converged comparison (converge/plan.ts): tables (RESULTS.md) and the
 * validation curves (curves.svg) of whatever part of the grid has finished.
 *
 *   node dist/experiments/converge/report.js [--results DIR] [--out DIR]
 *
 * Reads <results>/<run id>/metrics.json for every run of `planRuns()` (default results dir:
 * experiments/converge/results; a run folder without metrics.json counts as in progress, its
 * train.log gives the step reached) and writes to <out> (default experiments/converge):
 *   RESULTS.md  the part between `<!-- generated:begin -->` and `<!-- generated:end -->` is
 *               rewritten on every run; the rest (the hand-written "What it shows") is kept.
 *               Created with that section as a placeholder when missing.
 *   curves.svg  validation F1 per epoch, one line per finished run: colour = method, solid =
 *               after the adapter-placement fix, dashed = before it, marker = seed, ring = the
 *               best epoch (the checkpoint scored on test).
 *
 * The aggregation (parseMetrics, seedValues, pairedDifference, validationCurve, epochTable,
 * …) and the rendering (generatedMarkdown, curvesSvg) are pure functions of parsed metrics
 * objects; only `readRuns` and `main` touch files.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { PlannedRun } from "../compare/plan.js";
import { ADAPTER_BASED, BEFORE_COMMIT, COMMON_ARGS, EPOCHS, METHODS, SEEDS, TASK, planRuns } from "./plan.js";
import { type LegendEntry, Figure, MARKERS, PALETTE, linearScale, niceDomain, stepTicks } from "../lib/svg-plot.js";
import { BEGIN, END, problemsBlock, spliceGenerated as spliceBlock } from "../lib/generated-block.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/experiments/converge). */
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
const CONVERGE_DIR = path.join(REPO_ROOT, "experiments", "converge");

export { BEGIN, END };
export const WHAT_IT_SHOWS = "## What it shows";
export const PLACEHOLDER = "(written by hand from the tables above)";

export type Code = "after" | "before";
export const CODES: readonly Code[] = ["after", "before"];

const DISPLAY: Readonly<Record<string, string>> = {
  adapter: "Adapter",
  "propetl-adapter": "ProPETL-Adapter",
  "only-share": "Only share",
  lora: "LoRA",
  "propetl-lora": "ProPETL-LoRA",
};
export const display = (method: string): string => DISPLAY[method] ?? method;

const DASH = "–";

// ---------------------------------------------------------------------------------------------
// Parsed runs

export interface EpochScore {
  epoch: number;
  f1: number | null;
  accuracy: number | null;
  trainLoss: number | null;
}

export interface RunMetrics {
  /** The plan's id: <code>/<method>/seed-<seed>. */
  id: string;
  code: Code;
  method: string;
  seed: number;
  testF1: number | null;
  testAccuracy: number | null;
  /** The epoch whose checkpoint was scored on test (`validation.epoch`). */
  bestEpoch: number | null;
  bestValidationF1: number | null;
  /** One record per evaluated epoch, ascending. */
  history: EpochScore[];
  /** Epochs asked for (`hyper.epochs`). */
  epochs: number | null;
  trainSeconds: number | null;
  /** The CLI's command line as recorded (`command`). */
  command: string[] | null;
  /** Flattened settings recorded by the CLI (hyper.*, data.*, method.*, engine.*, model.*). */
  recorded: Record<string, string>;
}

/** Numeric run fields that tables aggregate over seeds. */
export type Metric = "testF1" | "testAccuracy" | "bestEpoch" | "bestValidationF1" | "trainSeconds";

/** Where a run belongs in the grid (from the plan, not from the file). */
export interface RunKey {
  id: string;
  code: Code;
  method: string;
  seed: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function scoreOf(rec: unknown, name: string): number | null {
  return isRecord(rec) && isRecord(rec.scores) ? finite(rec.scores[name]) : null;
}

/** Groups of metrics.json whose scalar fields are shown as the recorded protocol. */
const RECORDED_GROUPS = ["hyper", "data", "method", "engine", "model"] as const;
/** Fields that differ by design between runs of one grid (shown elsewhere or not at all). */
const NOT_RECORDED = new Set(["hyper.seed", "method.method"]);

export function keyOf(r: PlannedRun): RunKey {
  return { id: r.id, code: r.code === "before" ? "before" : "after", method: r.variant, seed: r.seed };
}

/**
 * One run from a parsed metrics.json `doc`. Task, method and seed come from the plan (`key`);
 * disagreements with the file, and what cannot be used, are appended to `problems`.
 */
export function parseMetrics(doc: unknown, key: RunKey, problems: string[] = []): RunMetrics | null {
  if (!isRecord(doc)) {
    problems.push(`${key.id}: metrics.json is not a JSON object`);
    return null;
  }
  if (typeof doc.task === "string" && doc.task !== TASK) problems.push(`${key.id}: task "${doc.task}" in metrics.json, "${TASK}" in the plan`);
  if (typeof doc.seed === "number" && doc.seed !== key.seed) problems.push(`${key.id}: seed ${doc.seed} in metrics.json, ${key.seed} in the plan`);
  const method = isRecord(doc.method) && typeof doc.method.method === "string" ? doc.method.method : null;
  if (method !== null && method !== key.method) problems.push(`${key.id}: method "${method}" in metrics.json, "${key.method}" in the plan`);
  const testF1 = scoreOf(doc.test, "f1");
  if (testF1 === null) problems.push(`${key.id}: no finite test.scores.f1`);
  const history: EpochScore[] = [];
  if (Array.isArray(doc.history)) {
    for (const h of doc.history) {
      const epoch = isRecord(h) ? finite(h.epoch) : null;
      if (epoch === null) continue;
      history.push({ epoch, f1: scoreOf(h, "f1"), accuracy: scoreOf(h, "accuracy"), trainLoss: isRecord(h) ? finite(h.trainLoss) : null });
    }
    history.sort((a, b) => a.epoch - b.epoch);
  }
  if (!history.length) problems.push(`${key.id}: no per-epoch history`);
  const recorded: Record<string, string> = {};
  for (const g of RECORDED_GROUPS) {
    const obj = doc[g];
    if (!isRecord(obj)) continue;
    for (const [k, v] of Object.entries(obj)) {
      const name = `${g}.${k}`;
      if (NOT_RECORDED.has(name)) continue;
      if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") recorded[name] = String(v);
    }
  }
  const hyper = isRecord(doc.hyper) ? doc.hyper : null;
  return {
    ...key,
    testF1,
    testAccuracy: scoreOf(doc.test, "accuracy"),
    bestEpoch: isRecord(doc.validation) ? finite(doc.validation.epoch) : null,
    bestValidationF1: scoreOf(doc.validation, "f1"),
    history,
    epochs: hyper ? finite(hyper.epochs) : null,
    trainSeconds: finite(doc.trainSeconds),
    command: Array.isArray(doc.command) && doc.command.every((c) => typeof c === "string") ? (doc.command as string[]) : null,
    recorded,
  };
}

/** How far an unfinished run got, from its train.log (JSON lines; appended to on resume). */
export interface Progress {
  step: number | null;
  totalSteps: number | null;
  /** Epochs validated so far (the highest `eval` epoch). */
  epochsEvaluated: number;
}

export function progressFromLog(log: string): Progress {
  const p: Progress = { step: null, totalSteps: null, epochsEvaluated: 0 };
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isRecord(rec)) continue;
    if (rec.type === "step") {
      p.step = finite(rec.step) ?? p.step;
      p.totalSteps = finite(rec.totalSteps) ?? p.totalSteps;
    } else if (rec.type === "eval") {
      p.epochsEvaluated = Math.max(p.epochsEvaluated, finite(rec.epoch) ?? 0);
    }
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Aggregation

export interface Stat {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null for a single value. */
  sd: number | null;
}

/** Mean and sample standard deviation; null for no values. */
export function meanSd(xs: readonly number[]): Stat | null {
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return { n, mean, sd };
}

export interface SeedValues {
  /** seed → value, for the finished runs that have it. */
  bySeed: Map<number, number>;
  stat: Stat | null;
}

/** `metric` of (code, method) per seed, and its mean ± sd over the seeds that have it. */
export function seedValues(runs: readonly RunMetrics[], code: Code, method: string, metric: Metric): SeedValues {
  const bySeed = new Map<number, number>();
  for (const r of runs) {
    const v = r[metric];
    if (r.code === code && r.method === method && v !== null) bySeed.set(r.seed, v);
  }
  const sorted = new Map([...bySeed].sort((a, b) => a[0] - b[0]));
  return { bySeed: sorted, stat: meanSd([...sorted.values()]) };
}

export interface Side {
  code: Code;
  method: string;
}

export interface Paired {
  /** Seeds where both sides have the metric, ascending. */
  seeds: number[];
  /** seed → a − b. */
  diffs: Map<number, number>;
  stat: Stat | null;
  /** Seeds where a is higher / b is higher / they are equal. */
  aHigher: number;
  bHigher: number;
  ties: number;
  /** Seeds that only one side has (left out of the differences). */
  onlyA: number[];
  onlyB: number[];
}

/** `metric` of `a` minus that of `b`, paired by seed (the same data order and split). */
export function pairedDifference(runs: readonly RunMetrics[], a: Side, b: Side, metric: Metric = "testF1"): Paired {
  const va = seedValues(runs, a.code, a.method, metric).bySeed;
  const vb = seedValues(runs, b.code, b.method, metric).bySeed;
  const seeds = [...va.keys()].filter((s) => vb.has(s));
  const diffs = new Map(seeds.map((s) => [s, (va.get(s) as number) - (vb.get(s) as number)] as const));
  const ds = [...diffs.values()];
  const eps = 1e-12;
  return {
    seeds,
    diffs,
    stat: meanSd(ds),
    aHigher: ds.filter((d) => d > eps).length,
    bHigher: ds.filter((d) => d < -eps).length,
    ties: ds.filter((d) => Math.abs(d) <= eps).length,
    onlyA: [...va.keys()].filter((s) => !vb.has(s)),
    onlyB: [...vb.keys()].filter((s) => !va.has(s)),
  };
}

export interface CurvePoint {
  epoch: number;
  f1: number;
}

/** Validation F1 per epoch (epochs without an F1 are left out). */
export function validationCurve(run: RunMetrics): CurvePoint[] {
  return run.history.filter((h): h is EpochScore & { f1: number } => h.f1 !== null).map((h) => ({ epoch: h.epoch, f1: h.f1 }));
}

/** The epoch of the highest validation F1 (the first one on ties): where the curve stopped rising. */
export function peakEpoch(curve: readonly CurvePoint[]): number | null {
  let best: CurvePoint | null = null;
  for (const p of curve) if (best === null || p.f1 > best.f1) best = p;
  return best ? best.epoch : null;
}

export interface EpochRow {
  epoch: number;
  /** seed → validation F1 at this epoch. */
  f1: Map<number, number>;
  f1Stat: Stat | null;
  trainLoss: Stat | null;
}

export interface EpochTable {
  /** Seeds with a finished run, ascending. */
  seeds: number[];
  rows: EpochRow[];
  /** seed → the epoch of its highest validation F1. */
  peak: Map<number, number>;
}

/** Validation F1 (and train loss) per epoch of (code, method), one column per finished seed. */
export function epochTable(runs: readonly RunMetrics[], code: Code, method: string): EpochTable {
  const mine = runs.filter((r) => r.code === code && r.method === method).sort((a, b) => a.seed - b.seed);
  const epochs = [...new Set(mine.flatMap((r) => r.history.map((h) => h.epoch)))].sort((a, b) => a - b);
  const rows = epochs.map((epoch): EpochRow => {
    const f1 = new Map<number, number>();
    const losses: number[] = [];
    for (const r of mine) {
      const h = r.history.find((x) => x.epoch === epoch);
      if (h?.f1 !== null && h?.f1 !== undefined) f1.set(r.seed, h.f1);
      if (h?.trainLoss !== null && h?.trainLoss !== undefined) losses.push(h.trainLoss);
    }
    return { epoch, f1, f1Stat: meanSd([...f1.values()]), trainLoss: meanSd(losses) };
  });
  const peak = new Map<number, number>();
  for (const r of mine) {
    const e = peakEpoch(validationCurve(r));
    if (e !== null) peak.set(r.seed, e);
  }
  return { seeds: mine.map((r) => r.seed), rows, peak };
}

export interface SettingValue {
  value: string;
  /** `<code>/<method>` groups with runs that recorded this value. */
  groups: string[];
  runs: number;
}

/** Every recorded setting with its distinct values over the finished runs. */
export function recordedSettings(runs: readonly RunMetrics[]): { key: string; values: SettingValue[] }[] {
  const keys = new Map<string, Map<string, SettingValue>>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.recorded)) {
      let vals = keys.get(k);
      if (!vals) keys.set(k, (vals = new Map()));
      const sv = vals.get(v) ?? { value: v, groups: [], runs: 0 };
      const g = `${r.code}/${r.method}`;
      if (!sv.groups.includes(g)) sv.groups.push(g);
      sv.runs++;
      vals.set(v, sv);
    }
  }
  return [...keys].map(([key, vals]) => ({ key, values: [...vals.values()] }));
}

/** The arguments of a recorded command that the plan sets (without the CLI, --output, --json, --resume, --model). */
export function plannedPart(command: readonly string[]): string[] {
  const out: string[] = [];
  const start = command[1] === "train" ? 2 : command[0] === "train" ? 1 : 0;
  for (let i = start; i < command.length; i++) {
    const c = command[i];
    if (c === "--output" || c === "--model") i++;
    else if (c !== "--json" && c !== "--resume") out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const x100 = (v: number, digits = 1): string => (v * 100).toFixed(digits);

/** "−1.2", "+0.4", "0.0" (a value ×100). */
export function signed(v: number, digits = 1): string {
  const s = (v * 100).toFixed(digits);
  if (Number(s) === 0) return (0).toFixed(digits);
  return v < 0 ? `−${s.slice(1)}` : `+${s}`;
}

/**
 * "88.9 ± 1.2" (×100); a single seed has no sd and says so: "88.9 (1 seed, no sd)"; fewer seeds
 * than planned are marked "(n=2)"; "–" when nothing is finished.
 */
export function formatStat(s: Stat | null, expected: number, f: (v: number) => string = (v) => x100(v)): string {
  if (!s) return DASH;
  if (s.sd === null) return `${f(s.mean)} (1 seed, no sd)`;
  return `${f(s.mean)} ± ${f(s.sd).replace(/^[+−]/, "")}${s.n < expected ? ` (n=${s.n})` : ""}`;
}

/** The planned seeds' values, "a / b / c", "–" for a seed without one. */
export function perSeed(bySeed: ReadonlyMap<number, number>, seeds: readonly number[], f: (v: number) => string): string {
  return seeds.map((s) => (bySeed.has(s) ? f(bySeed.get(s) as number) : DASH)).join(" / ");
}

function mdTable(header: readonly string[], align: readonly ("l" | "r")[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : ":---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** The plan's doc comment (the text of its leading /** … *\/ block, unwrapped), or null. */
export function docComment(source: string): string | null {
  const m = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return null;
  return m[1]
    .split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, ""))
    .join("\n")
    .trim();
}

/** A recorded command as a shell line, with an --output under the repository written relative to it. */
export function commandLine(command: readonly string[], repoRoot: string): string {
  const parts = command.map((c, i) => (command[i - 1] === "--output" && path.isAbsolute(c) && c.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, c) : c));
  return parts.map((p) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, "'\\''")}'`)).join(" ");
}

// ---------------------------------------------------------------------------------------------
// The report

export type RunStatus = { state: "done"; run: RunMetrics } | { state: "in progress"; progress: Progress | null } | { state: "pending" } | { state: "unusable" };

export interface ReportInput {
  plan: readonly PlannedRun[];
  /** Plan id → status. Missing ids are pending. */
  status: ReadonlyMap<string, RunStatus>;
  /** The doc comment of plan.ts (quoted as the protocol), or null. */
  planComment: string | null;
  problems: readonly string[];
  repoRoot: string;
}

export function finishedRuns(input: Pick<ReportInput, "status">): RunMetrics[] {
  const out: RunMetrics[] = [];
  for (const s of input.status.values()) if (s.state === "done") out.push(s.run);
  return out;
}

/** The planned methods of one code version, in the plan's method order. */
export function methodsOf(plan: readonly PlannedRun[], code: Code): string[] {
  const ms = new Set(plan.filter((r) => keyOf(r).code === code).map((r) => r.variant));
  const order = [...(METHODS as readonly string[])];
  return [...ms].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
}

export interface Comparison {
  label: string;
  a: Side;
  b: Side;
}

/** The paired comparisons of the report: the questions of issue 10, item 7. */
export function comparisons(): Comparison[] {
  const c = (code: Code, a: string, b: string, what = code === "after" ? "after the fix" : "before the fix"): Comparison => ({ label: `${display(a)} − ${display(b)} (${what})`, a: { code, method: a }, b: { code, method: b } });
  return [
    c("after", "propetl-adapter", "adapter"),
    c("after", "propetl-lora", "lora"),
    c("after", "only-share", "adapter"),
    c("before", "propetl-adapter", "adapter"),
    c("before", "only-share", "adapter"),
    ...ADAPTER_BASED.map((m) => ({ label: `${display(m)}: after − before the fix`, a: { code: "after" as const, method: m }, b: { code: "before" as const, method: m } })),
  ];
}

function codeTitle(code: Code): string {
  return code === "after" ? "After the adapter-placement fix (current code)" : `Before the fix (commit ${BEFORE_COMMIT})`;
}

function fmtSeconds(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}

function statusText(s: RunStatus | undefined): string {
  if (!s || s.state === "pending") return "pending";
  if (s.state === "done") return "done";
  if (s.state === "unusable") return "metrics.json unusable (see problems)";
  const p = s.progress;
  if (!p || p.step === null) return "in progress (no step logged yet)";
  return `in progress: step ${p.step}/${p.totalSteps ?? "?"}, ${p.epochsEvaluated} epoch(s) validated`;
}

export function generatedMarkdown(input: ReportInput): string {
  const { plan, status } = input;
  const runs = finishedRuns(input);
  const problems = [...input.problems];
  const seeds = [...SEEDS] as number[];
  const out: string[] = [];
  const countDone = (code: Code) => plan.filter((r) => keyOf(r).code === code && status.get(r.id)?.state === "done").length;
  const countPlanned = (code: Code) => plan.filter((r) => keyOf(r).code === code).length;
  const inProgress = plan.filter((r) => status.get(r.id)?.state === "in progress");

  out.push("_Generated by `node dist/experiments/converge/report.js` from the runs' metrics.json files; edit outside the markers only._", "");
  out.push(
    `**Runs done:** ${runs.length} of ${plan.length} planned (` +
      CODES.map((c) => `${c} the fix: ${countDone(c)} of ${countPlanned(c)}`).join("; ") +
      `)${inProgress.length ? `; ${inProgress.length} in progress` : ""} when this was generated. ` +
      "Every number below is over the finished runs only; `–` = not finished (yet).",
    "",
  );

  // --- Protocol -----------------------------------------------------------------------------
  out.push("### What was run", "");
  if (input.planComment) {
    out.push("From `experiments/converge/plan.ts`:", "");
    out.push(...input.planComment.split("\n").map((l) => (l ? `> ${l}` : ">")), "");
  }
  const after = methodsOf(plan, "after"), before = methodsOf(plan, "before");
  out.push(
    `The grid (\`planRuns()\`): task \`${TASK}\`; seeds ${seeds.join(", ")}; ` +
      `after the fix: ${after.map((m) => `\`${m}\``).join(", ")} (${countPlanned("after")} runs); ` +
      `before the fix (the CLI of commit \`${BEFORE_COMMIT}\`): ${before.map((m) => `\`${m}\``).join(", ")} (${countPlanned("before")} runs). ` +
      `Every run is \`propetl train --method <method> --seed <seed> ${COMMON_ARGS.join(" ")}\` ` +
      `(EPOCHS = ${EPOCHS}), run by \`node dist/experiments/compare/run.js --plan converge\`, which adds \`--output <results>/<run id> --json\`. ` +
      "The test score is that of the checkpoint of the best validation epoch.",
    "",
  );

  const settings = recordedSettings(runs);
  if (settings.length) {
    out.push(`Settings recorded in the finished runs' metrics.json (${runs.length} run${runs.length === 1 ? "" : "s"}; a value not shared by all of them names the \`<code>/<method>\` groups that have it):`, "");
    const rows = settings.map(({ key, values }) => [
      `\`${key}\``,
      values.length === 1 && values[0].runs === runs.length ? values[0].value : values.map((v) => `${v.value} (${v.groups.join(", ")})`).join("; "),
    ]);
    out.push(mdTable(["Field", "Value"], ["l", "l"], rows), "");
  }

  out.push("<details><summary>Each planned run: status and exact command</summary>", "");
  out.push("Done runs show the command recorded in their metrics.json; the others the plan's arguments.", "");
  for (const r of plan) {
    const s = status.get(r.id);
    let cmd: string;
    if (s?.state === "done" && s.run.command) {
      cmd = commandLine(s.run.command, input.repoRoot);
      const recorded = plannedPart(s.run.command);
      if (recorded.join(" ") !== r.args.join(" ")) problems.push(`${r.id}: recorded command arguments differ from the plan's (${recorded.join(" ")})`);
    } else {
      cmd = `propetl train ${r.args.join(" ")} --output experiments/converge/results/${r.id} --json`;
    }
    out.push(`- \`${r.id}\` — ${statusText(s)}${keyOf(r).code === "before" ? ` (CLI of commit ${BEFORE_COMMIT})` : ""}`, `  \`${cmd}\``);
  }
  out.push("", "</details>", "");

  // --- Per code version × method --------------------------------------------------------------
  out.push("### Test scores per method", "");
  out.push(
    `Test F1 and accuracy on the ${TASK} test split ×100: mean ± sample standard deviation (n − 1) over the finished seeds, ` +
      `then each seed's value (seeds ${seeds.join(" / ")}); \`(n=…)\` marks fewer seeds than planned, a single seed has no sd. ` +
      "Best epoch = the epoch whose checkpoint was scored on test (highest validation F1), of the epochs run. " +
      "Train s = wall-clock training seconds as recorded; the runner trains several runs at once (`--jobs`, default 2) on a shared machine, so they are not a speed comparison.",
    "",
  );
  for (const code of CODES) {
    out.push(`#### ${codeTitle(code)}`, "");
    const rows = methodsOf(plan, code).map((m) => {
      const f1 = seedValues(runs, code, m, "testF1");
      const acc = seedValues(runs, code, m, "testAccuracy");
      const val = seedValues(runs, code, m, "bestValidationF1");
      const epoch = seedValues(runs, code, m, "bestEpoch");
      const secs = seedValues(runs, code, m, "trainSeconds");
      const ran = new Map(runs.filter((r) => r.code === code && r.method === m).map((r) => [r.seed, r.history.length] as const));
      const epochCell = seeds.map((s) => (epoch.bySeed.has(s) ? `${epoch.bySeed.get(s)} of ${ran.get(s) ?? "?"}` : DASH)).join(" / ");
      const planned = plan.filter((r) => keyOf(r).code === code && r.variant === m).length;
      return [
        display(m),
        `${f1.bySeed.size}/${planned}`,
        formatStat(f1.stat, planned),
        perSeed(f1.bySeed, seeds, (v) => x100(v)),
        formatStat(acc.stat, planned),
        perSeed(acc.bySeed, seeds, (v) => x100(v)),
        perSeed(val.bySeed, seeds, (v) => x100(v)),
        epochCell,
        perSeed(secs.bySeed, seeds, fmtSeconds),
      ];
    });
    out.push(mdTable(["Method", "Seeds done", "Test F1", "F1 per seed", "Test acc.", "Acc. per seed", "Best val. F1 per seed", "Best epoch of epochs run", "Train s per seed"], ["l", "r", "r", "r", "r", "r", "r", "r", "r"], rows), "");
  }

  // --- Paired differences -----------------------------------------------------------------------
  out.push("### Paired differences per seed (test F1)", "");
  out.push(
    "Test F1 of A minus that of B, ×100, seed by seed (the same seed gives both runs the same data order), " +
      "over the seeds both have finished; mean ± sample standard deviation of those differences; and on how many seeds A or B scored higher. " +
      "Seeds only one side has are listed, not used.",
    "",
  );
  const pairRows = comparisons().map((c) => {
    const d = pairedDifference(runs, c.a, c.b, "testF1");
    const unpaired = [...d.onlyA.map((s) => `${s} (A only)`), ...d.onlyB.map((s) => `${s} (B only)`)];
    return [
      c.label,
      ...seeds.map((s) => (d.diffs.has(s) ? signed(d.diffs.get(s) as number) : DASH)),
      formatStat(d.stat, seeds.length, (v) => signed(v)),
      d.seeds.length ? `A ${d.aHigher}, B ${d.bHigher}${d.ties ? `, tie ${d.ties}` : ""} of ${d.seeds.length}` : DASH,
      unpaired.length ? unpaired.join(", ") : DASH,
    ];
  });
  out.push(mdTable(["A − B", ...seeds.map((s) => `seed ${s}`), "Mean ± sd", "Higher on", "Unpaired seeds"], ["l", ...seeds.map((): "r" => "r"), "r", "l", "l"], pairRows), "");

  // --- Per-epoch validation F1 of the plain adapter ---------------------------------------------
  out.push("### Validation F1 per epoch: plain adapter", "");
  out.push(
    `Validation F1 ×100 after each epoch (${TASK} validation split) of the plain adapter, per finished seed; **bold** = that run's highest ` +
      "(the first on ties: the epoch after which its validation F1 stopped rising, and the checkpoint scored on test). " +
      "Train loss = the mean training loss of that epoch, averaged over the seeds shown.",
    "",
  );
  const tables = CODES.filter((c) => methodsOf(plan, c).includes("adapter")).map((code) => ({ code, t: epochTable(runs, code, "adapter") }));
  const shown = tables.filter((x) => x.t.seeds.length);
  if (!shown.length) out.push("No adapter run has finished yet.", "");
  else {
    const epochs = [...new Set(shown.flatMap((x) => x.t.rows.map((r) => r.epoch)))].sort((a, b) => a - b);
    const header = ["Epoch"];
    const align: ("l" | "r")[] = ["l"];
    for (const { code, t } of shown) {
      header.push(...t.seeds.map((s) => `${code}, seed ${s}`));
      if (t.seeds.length > 1) header.push(`${code}, mean`);
      header.push(`${code}, train loss`);
      align.push(...t.seeds.map((): "r" => "r"), ...(t.seeds.length > 1 ? ["r" as const] : []), "r");
    }
    const rows = epochs.map((e) => {
      const row = [String(e)];
      for (const { t } of shown) {
        const r = t.rows.find((x) => x.epoch === e);
        for (const s of t.seeds) {
          const v = r?.f1.get(s);
          row.push(v === undefined ? DASH : t.peak.get(s) === e ? `**${x100(v)}**` : x100(v));
        }
        if (t.seeds.length > 1) row.push(r?.f1Stat ? x100(r.f1Stat.mean) : DASH);
        row.push(r?.trainLoss ? r.trainLoss.mean.toFixed(4) : DASH);
      }
      return row;
    });
    const peakRow = ["peak epoch"];
    for (const { t } of shown) {
      peakRow.push(...t.seeds.map((s) => String(t.peak.get(s) ?? DASH)));
      if (t.seeds.length > 1) peakRow.push(formatStat(meanSd([...t.peak.values()]), t.seeds.length, (v) => v.toFixed(1)));
      peakRow.push("");
    }
    rows.push(peakRow);
    out.push(mdTable(header, align, rows), "");
    for (const { code, t } of tables) if (!t.seeds.length) out.push(`No ${code}-the-fix adapter run has finished yet.`, "");
  }

  out.push("### Curves", "");
  out.push("![Validation F1 per epoch, one line per finished run](curves.svg)", "");
  out.push("Colour = method; solid = after the fix, dashed = before it; marker shape = seed; ring = the best epoch (the checkpoint scored on test).", "");

  out.push(...problemsBlock(problems));
  return out.join("\n");
}

/**
 * `existing` with the generated block replaced; a new file (existing = null) gets a title, the
 * block, and the hand-written section as a placeholder. Without markers the block is put
 * before the hand-written section (or appended).
 */
export function spliceGenerated(existing: string | null, generated: string): string {
  return spliceBlock(existing, generated, {
    insertBefore: WHAT_IT_SHOWS,
    newFile: (block) =>
      [
        `# Converged comparison on \`${TASK}\`: results`,
        "",
        "The part between the generated markers is rewritten by `node dist/experiments/converge/report.js`; the rest of this file is kept.",
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
// The plot

export function methodColor(method: string): string {
  const i = (METHODS as readonly string[]).indexOf(method);
  return PALETTE[(i < 0 ? METHODS.length : i) % PALETTE.length];
}

export function curvesSvg(runs: readonly RunMetrics[], planned: number): string {
  const W = 900, H = 520;
  const box = { left: 66, top: 64, right: 640, bottom: 466 };
  const title = `Validation F1 per epoch on ${TASK}: the converged comparison`;
  const fig = new Figure({ width: W, height: H, fontSize: 12, title });
  fig.text(box.left, 24, title, { size: 15, weight: "bold" });
  fig.text(box.left, 44, `${runs.length} of ${planned} planned runs finished; one line per run (validation split, after every epoch)`, { size: 12, fill: "#444" });

  const seeds = [...SEEDS] as number[];
  const curves = [...runs]
    .sort((a, b) => a.code.localeCompare(b.code) || (METHODS as readonly string[]).indexOf(a.method) - (METHODS as readonly string[]).indexOf(b.method) || a.seed - b.seed)
    .map((r) => ({ r, pts: validationCurve(r) }))
    .filter((c) => c.pts.length);
  const ys = curves.flatMap((c) => c.pts.map((p) => p.f1 * 100));
  const maxEpoch = Math.max(EPOCHS, ...curves.flatMap((c) => c.pts.map((p) => p.epoch)));
  const yDom = ys.length ? niceDomain(Math.min(...ys), Math.min(100, Math.max(...ys)), 8) : ([0, 100] as [number, number]);
  const ax = fig.axes(box, linearScale([0.5, maxEpoch + 0.5], [box.left, box.right]), linearScale(yDom, [box.bottom, box.top]));
  ax.yAxis({ ticks: ax.y.ticks(8), grid: "#e3e3e3", tickSize: 4 });
  ax.xAxis({ ticks: stepTicks(1, maxEpoch, maxEpoch > 20 ? 5 : 1), grid: "#f0f0f0", tickSize: 4 });
  ax.frame("#888");
  ax.xLabel("epoch", { y: box.bottom + 40 });
  ax.yLabel(`validation F1 × 100 (${TASK})`, { x: box.left - 46 });

  const shapeOf = (seed: number) => MARKERS[Math.max(0, seeds.indexOf(seed)) % MARKERS.length];
  // Before-fix runs first, so the after-fix lines are drawn on top.
  for (const { r, pts } of [...curves].sort((a, b) => (a.r.code === b.r.code ? 0 : a.r.code === "before" ? -1 : 1))) {
    const color = methodColor(r.method);
    const xy = pts.map((p) => ({ x: p.epoch, y: p.f1 * 100 }));
    ax.line(xy, { stroke: color, width: 1.8, ...(r.code === "before" ? { dash: "7 4" } : {}), opacity: 0.9 });
    ax.markers(xy, { shape: shapeOf(r.seed), size: 3, fill: r.code === "before" ? "white" : color, stroke: color, strokeWidth: 1.2 });
    const best = r.bestEpoch !== null ? pts.find((p) => p.epoch === r.bestEpoch) : undefined;
    if (best) ax.markers([{ x: best.epoch, y: best.f1 * 100 }], { shape: "circle", size: 7, fill: "none", stroke: color, strokeWidth: 1.5 });
  }
  if (!curves.length) fig.text((box.left + box.right) / 2, (box.top + box.bottom) / 2, "no finished runs yet", { anchor: "middle", size: 13, fill: "#555" });

  const lx = box.right + 22;
  let y = box.top;
  const present = new Set(curves.map((c) => c.r.method));
  const methodEntries: LegendEntry[] = (METHODS as readonly string[]).map((m) => ({ label: display(m) + (present.has(m) ? "" : " (none yet)"), stroke: { stroke: methodColor(m), width: 2.5 } }));
  y += fig.legend(methodEntries, lx, y, { title: "method (colour)" }) + 10;
  y += fig.legend(
    [
      { label: "after the fix", stroke: { stroke: "#555", width: 1.8 }, marker: { shape: "circle", size: 3, fill: "#555", stroke: "#555" } },
      { label: `before (${BEFORE_COMMIT})`, stroke: { stroke: "#555", width: 1.8, dash: "7 4" }, marker: { shape: "circle", size: 3, fill: "white", stroke: "#555", strokeWidth: 1.2 } },
    ],
    lx,
    y,
    { title: "code" },
  ) + 10;
  y += fig.legend(seeds.map((s) => ({ label: `seed ${s}`, marker: { shape: shapeOf(s), size: 3.5, fill: "#555", stroke: "#555" } })), lx, y, { title: "seed (marker)" }) + 10;
  fig.legend([{ label: "best epoch (tested)", marker: { shape: "circle", size: 7, fill: "none", stroke: "#555", strokeWidth: 1.5 } }], lx, y);

  return fig.toString();
}

// ---------------------------------------------------------------------------------------------
// Files and CLI

/** Status of every planned run under `resultsDir`, and unplanned result folders as problems. */
export function readRuns(resultsDir: string, plan: readonly PlannedRun[]): { status: Map<string, RunStatus>; problems: string[] } {
  const status = new Map<string, RunStatus>();
  const problems: string[] = [];
  for (const r of plan) {
    const dir = path.join(resultsDir, r.id);
    const file = path.join(dir, "metrics.json");
    if (existsSync(file)) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        problems.push(`${r.id}: metrics.json does not parse (${(e as Error).message})`);
        status.set(r.id, { state: "unusable" });
        continue;
      }
      const run = parseMetrics(doc, keyOf(r), problems);
      status.set(r.id, run ? { state: "done", run } : { state: "unusable" });
    } else if (existsSync(dir)) {
      const log = path.join(dir, "train.log");
      status.set(r.id, { state: "in progress", progress: existsSync(log) ? progressFromLog(readFileSync(log, "utf8")) : null });
    } else status.set(r.id, { state: "pending" });
  }
  // Result folders the plan does not name (a renamed method or seed, say).
  const planned = new Set(plan.map((r) => r.id));
  const walk = (rel: string, depth: number): void => {
    const abs = path.join(resultsDir, rel);
    if (depth === 3) {
      if (!planned.has(rel.split(path.sep).join("/")) && existsSync(path.join(abs, "metrics.json"))) problems.push(`${rel}: finished run not in the plan (not shown)`);
      return;
    }
    for (const name of readdirSync(abs)) if (statSync(path.join(abs, name)).isDirectory()) walk(path.join(rel, name), depth + 1);
  };
  if (existsSync(resultsDir)) walk("", 0);
  return { status, problems };
}

function main(): void {
  const { values } = parseArgs({ options: { results: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } }, allowPositionals: false });
  if (values.help) {
    console.log(`usage: node dist/experiments/converge/report.js [--results DIR] [--out DIR]\ndefaults: --results ${path.join(CONVERGE_DIR, "results")} --out ${CONVERGE_DIR}`);
    return;
  }
  const resultsDir = path.resolve(values.results ?? path.join(CONVERGE_DIR, "results"));
  const outDir = path.resolve(values.out ?? CONVERGE_DIR);
  const plan = planRuns();
  const { status, problems } = readRuns(resultsDir, plan);
  const planSource = path.join(CONVERGE_DIR, "plan.ts");
  const planComment = existsSync(planSource) ? docComment(readFileSync(planSource, "utf8")) : null;
  if (planComment === null) problems.push(`no doc comment read from ${planSource}`);
  const input: ReportInput = { plan, status, planComment, problems, repoRoot: REPO_ROOT };
  const md = path.join(outDir, "RESULTS.md");
  const existing = existsSync(md) ? readFileSync(md, "utf8") : null;
  writeFileSync(md, spliceGenerated(existing, generatedMarkdown(input)));
  const runs = finishedRuns(input);
  writeFileSync(path.join(outDir, "curves.svg"), curvesSvg(runs, plan.length));
  console.log(`${runs.length} of ${plan.length} planned runs done (${resultsDir}); wrote ${md} and curves.svg`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
