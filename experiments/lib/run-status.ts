/**
 * The status of every planned run of an experiment grid run by compare/run.ts, read from its
 * results folder (`<results>/<run id>/`): done (metrics.json, parsed by the experiment's own
 * parser), in progress (a folder without metrics.json; how far its train.log got), pending (no
 * folder), or unusable (a metrics.json that does not parse). Result folders the plan does not
 * name are reported as problems. The one file-reading step of a report; everything else in a
 * report is a pure function of what this returns.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { PlannedRun } from "../compare/plan.js";

/** How far an unfinished run got, from its train.log (the CLI's JSON lines; appended to on resume). */
export interface LogProgress {
  step: number | null;
  totalSteps: number | null;
  /** Validation evaluations logged. */
  evals: number;
  /** The main score of the last evaluation logged. */
  lastMain: number | null;
}

export type PlannedStatus<R> = { state: "done"; run: R } | { state: "in progress"; progress: LogProgress | null } | { state: "pending" } | { state: "unusable" };

const finite = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The progress a train.log records (lines that are not JSON objects are skipped). */
export function logProgress(log: string): LogProgress {
  const p: LogProgress = { step: null, totalSteps: null, evals: 0, lastMain: null };
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) continue;
    const r = rec as Record<string, unknown>;
    if (r.type === "step") {
      p.step = finite(r.step) ?? p.step;
      p.totalSteps = finite(r.totalSteps) ?? p.totalSteps;
    } else if (r.type === "eval") {
      p.evals++;
      p.lastMain = finite(r.main) ?? p.lastMain;
    }
  }
  return p;
}

/**
 * Every planned run's status under `resultsDir`. `parse(doc, run, problems)` turns a parsed
 * metrics.json into the experiment's record (null: unusable; it appends what it cannot use to
 * `problems`). Finished runs in folders the plan does not name (ids are `a/b/seed-N`, three
 * levels) are problems too.
 */
export function readPlannedRuns<R>(resultsDir: string, plan: readonly PlannedRun[], parse: (doc: unknown, run: PlannedRun, problems: string[]) => R | null): { status: Map<string, PlannedStatus<R>>; problems: string[] } {
  const status = new Map<string, PlannedStatus<R>>();
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
      const run = parse(doc, r, problems);
      status.set(r.id, run !== null ? { state: "done", run } : { state: "unusable" });
    } else if (existsSync(dir)) {
      const log = path.join(dir, "train.log");
      status.set(r.id, { state: "in progress", progress: existsSync(log) ? logProgress(readFileSync(log, "utf8")) : null });
    } else status.set(r.id, { state: "pending" });
  }
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

/** The records of the finished runs. */
export function finishedRecords<R>(status: ReadonlyMap<string, PlannedStatus<R>>): R[] {
  const out: R[] = [];
  for (const s of status.values()) if (s.state === "done") out.push(s.run);
  return out;
}
