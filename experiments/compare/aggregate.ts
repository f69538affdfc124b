/**
 * Reading and aggregating the comparison experiment's results (no side effects at import; the
 * CLI is report.ts).
 *
 * Layout: <results>/<task>/<variant>/seed-<s>/metrics.json, where <variant> is a method name
 * or `propetl-adapter-k<K>` for the k sweep (k = 0.5 is the plain `propetl-adapter` run). The
 * folder names are authoritative for task, variant and seed; metrics.json values that
 * disagree are reported as problems.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

export interface RunStorage {
  bits: number | null;
  bytes: number | null;
  percentOfBackbone: number | null;
}

export interface RunResult {
  task: string;
  variant: string;
  seed: number;
  /** The method recorded in metrics.json (`method.method`). */
  method: string | null;
  /** Kept fraction k recorded in metrics.json, if any. */
  k: number | null;
  /** Base module of an ablation (`method.base`), if any. */
  base: string | null;
  mainMetric: string | null;
  /** Names of the test scores (e.g. ["f1", "accuracy"]), for "mean" main metrics. */
  scoreNames: string[];
  /** Test main metric as a fraction; null when missing or NaN (written as null in JSON). */
  testMain: number | null;
  validationMain: number | null;
  storage: RunStorage | null;
  trainSeconds: number | null;
  file: string;
}

export interface ReadResults {
  runs: RunResult[];
  /** Files that could not be used, and disagreements, one line each. */
  problems: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function stringOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/**
 * One run from the parsed metrics.json `doc`; task, variant and seed come from the folder.
 * Appends to `problems` what it cannot use or what disagrees with the folder names.
 */
export function parseRun(doc: unknown, where: { task: string; variant: string; seed: number; file: string }, problems: string[] = []): RunResult | null {
  const { file } = where;
  if (!isRecord(doc)) {
    problems.push(`${file}: not a JSON object`);
    return null;
  }
  if (typeof doc.task === "string" && doc.task !== where.task) problems.push(`${file}: task "${doc.task}" in the file, "${where.task}" in the path (path used)`);
  if (typeof doc.seed === "number" && doc.seed !== where.seed) problems.push(`${file}: seed ${doc.seed} in the file, ${where.seed} in the path (path used)`);
  const test = isRecord(doc.test) ? doc.test : null;
  const testMain = test ? finiteOrNull(test.main) : null;
  if (testMain === null) problems.push(`${file}: no finite test.main (left out of the means)`);
  const scores = test && isRecord(test.scores) ? Object.keys(test.scores) : [];
  const validation = isRecord(doc.validation) ? doc.validation : null;
  const method = isRecord(doc.method) ? doc.method : null;
  const st = isRecord(doc.storage) ? doc.storage : null;
  const storage: RunStorage | null = st && (finiteOrNull(st.bits) !== null || finiteOrNull(st.bytes) !== null)
    ? { bits: finiteOrNull(st.bits), bytes: finiteOrNull(st.bytes), percentOfBackbone: finiteOrNull(st.percentOfBackbone) }
    : null;
  return {
    task: where.task,
    variant: where.variant,
    seed: where.seed,
    method: method ? stringOrNull(method.method) : null,
    k: method ? finiteOrNull(method.k) : null,
    base: method ? stringOrNull(method.base) : null,
    mainMetric: stringOrNull(doc.mainMetric),
    scoreNames: scores,
    testMain,
    validationMain: validation ? finiteOrNull(validation.main) : null,
    storage,
    trainSeconds: finiteOrNull(doc.trainSeconds),
    file,
  };
}

function subdirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith("."))
    .filter((n) => {
      try {
        return statSync(path.join(dir, n)).isDirectory();
      } catch {
        return false;
      }
    })
    .sort();
}

/** Every <task>/<variant>/seed-<s>/metrics.json under `root` (a missing root gives no runs). */
export function readResults(root: string): ReadResults {
  const runs: RunResult[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { runs, problems };
  for (const task of subdirs(root)) {
    for (const variant of subdirs(path.join(root, task))) {
      for (const seedDir of subdirs(path.join(root, task, variant))) {
        const m = /^seed-(\d+)$/.exec(seedDir);
        if (!m) continue;
        const file = path.join(root, task, variant, seedDir, "metrics.json");
        if (!existsSync(file)) continue; // not finished (or not started) yet
        let doc: unknown;
        try {
          doc = JSON.parse(readFileSync(file, "utf8"));
        } catch (e) {
          problems.push(`${file}: unreadable (${(e as Error).message})`);
          continue;
        }
        const run = parseRun(doc, { task, variant, seed: Number(m[1]), file }, problems);
        if (run) runs.push(run);
      }
    }
  }
  return { runs, problems };
}

// ---------------------------------------------------------------------------------------------
// Statistics

export interface Stat {
  /** Number of values. */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null when n < 2. */
  std: number | null;
}

/** Mean and sample standard deviation; null for no values. */
export function meanStd(xs: readonly number[]): Stat | null {
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return { n, mean, std };
}

export interface Cell extends Stat {
  /** Seeds that contributed a test score, ascending. */
  seeds: number[];
}

/** variant → task → test main metric over seeds (runs without a finite score are left out). */
export type Aggregate = Map<string, Map<string, Cell>>;

export function aggregate(runs: readonly RunResult[]): Aggregate {
  const groups = new Map<string, Map<string, RunResult[]>>();
  for (const r of runs) {
    if (r.testMain === null) continue;
    let byTask = groups.get(r.variant);
    if (!byTask) groups.set(r.variant, (byTask = new Map()));
    const list = byTask.get(r.task) ?? [];
    list.push(r);
    byTask.set(r.task, list);
  }
  const out: Aggregate = new Map();
  for (const [variant, byTask] of groups) {
    const cells = new Map<string, Cell>();
    for (const [task, list] of byTask) {
      const sorted = [...list].sort((a, b) => a.seed - b.seed);
      const s = meanStd(sorted.map((r) => r.testMain as number));
      if (s) cells.set(task, { ...s, seeds: sorted.map((r) => r.seed) });
    }
    out.set(variant, cells);
  }
  return out;
}

export interface PairedDifference extends Stat {
  /** Seeds run by both variants, ascending. */
  seeds: number[];
  /** Seeds where `a` scored strictly higher / strictly lower than `b`. */
  wins: number;
  losses: number;
}

/**
 * Test score of `a` minus that of `b` on `task`, paired by seed (the same seed gives both runs
 * the same data order and held-out split, so the pairing removes that share of the variance).
 * Null when no seed has both runs.
 */
export function pairedDifference(runs: readonly RunResult[], task: string, a: string, b: string): PairedDifference | null {
  const score = (variant: string) => {
    const m = new Map<number, number>();
    for (const r of runs) if (r.task === task && r.variant === variant && r.testMain !== null) m.set(r.seed, r.testMain);
    return m;
  };
  const sa = score(a), sb = score(b);
  const seeds = [...sa.keys()].filter((s) => sb.has(s)).sort((x, y) => x - y);
  const diffs = seeds.map((s) => (sa.get(s) as number) - (sb.get(s) as number));
  const stat = meanStd(diffs);
  if (!stat) return null;
  return { ...stat, seeds, wins: diffs.filter((d) => d > 0).length, losses: diffs.filter((d) => d < 0).length };
}

/** Mean of the task means over `tasks`; null unless every task has a cell. */
export function averageOverTasks(cells: ReadonlyMap<string, Cell> | undefined, tasks: readonly string[]): number | null {
  if (!cells || tasks.length === 0) return null;
  const means: number[] = [];
  for (const t of tasks) {
    const c = cells.get(t);
    if (!c) return null;
    means.push(c.mean);
  }
  return means.reduce((a, b) => a + b, 0) / means.length;
}

export interface StorageSummary {
  bits: { min: number; max: number } | null;
  bytes: { min: number; max: number } | null;
  percentOfBackbone: { min: number; max: number } | null;
}

function range(xs: readonly (number | null)[]): { min: number; max: number } | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? { min: Math.min(...v), max: Math.max(...v) } : null;
}

/** Storage of a variant over its runs (ranges, in case runs disagree); null when no run has it. */
export function storageOf(runs: readonly RunResult[], variant: string): StorageSummary | null {
  const st = runs.filter((r) => r.variant === variant && r.storage).map((r) => r.storage as RunStorage);
  if (!st.length) return null;
  return {
    bits: range(st.map((s) => s.bits ?? (s.bytes !== null ? s.bytes * 8 : null))),
    bytes: range(st.map((s) => s.bytes ?? (s.bits !== null ? s.bits / 8 : null))),
    percentOfBackbone: range(st.map((s) => s.percentOfBackbone)),
  };
}

// ---------------------------------------------------------------------------------------------
// Variants

/** `propetl-adapter-k0.3` → 0.3; `propetl-adapter` → 0.5 (the main run); anything else null. */
export function sweepK(variant: string): number | null {
  if (variant === "propetl-adapter") return 0.5;
  const m = /^propetl-adapter-k(\d+(?:\.\d+)?)$/.exec(variant);
  return m ? Number(m[1]) : null;
}

/** The variant folder of sweep point k (0.5 → `propetl-adapter`). */
export function sweepVariant(k: number): string {
  return Math.abs(k - 0.5) < 1e-9 ? "propetl-adapter" : `propetl-adapter-k${k.toFixed(1)}`;
}

const METRIC_LABELS: Readonly<Record<string, string>> = {
  accuracy: "Acc",
  f1: "F1",
  matthews: "MCC",
  pearson: "Pearson",
  spearman: "Spearman",
};

/** Header text of a task's main metric: "F1", "Acc", "mean of F1/Acc". */
export function metricLabel(mainMetric: string | null, scoreNames: readonly string[] = []): string {
  if (mainMetric === null) return "?";
  if (mainMetric === "mean") return scoreNames.length ? `mean of ${scoreNames.map((s) => METRIC_LABELS[s] ?? s).join("/")}` : "mean";
  return METRIC_LABELS[mainMetric] ?? mainMetric;
}
