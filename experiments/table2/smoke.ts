/**
 * Smoke check of the Table 2 plan, before running the grid: every planned configuration (the
 * seed-1 run of each setting: 6 single-task and 4 multi-task runs) is run with its exact
 * `propetl train` arguments on the bundled propetl-mini for 2 steps of one batch of 32, and what
 * the runs write is what the report reads (metrics.json parsed without problems, every task
 * scored, recorded storage equal to the library's count for the plan, adapter_config.json's
 * combine / k / task_k as planned). It prints each run's seconds per step (2 steps and 2 small
 * validations on a shared machine: a rough guide to the plan's budget, not a measurement of it).
 * Not part of the test suite: it trains (a few minutes on a busy 2-core box).
 *
 *   node dist/experiments/table2/smoke.js [--only ID,ID] [--keep]
 *
 * `--max-train-examples 32 --max-steps 2 --max-eval-examples 4` replace the plan's values of
 * those options (overrideArgs; propetl refuses an option given twice), as the runner does with
 * its own `--model`. The runs go to a temporary folder, removed at the end unless --keep. Exit
 * status 0 when every check passes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { readEncoderConfig } from "../../src/models/config-file.js";
import { overrideArgs } from "../compare/plan.js";
import { finishedRecords, readPlannedRuns } from "../lib/run-status.js";
import { TASKS, planRuns } from "./plan.js";
import { MODEL_DIR, generatedMarkdown, methodConfigOf, parseRun, plannedStorage, settingOf, storageProblems, tableRows } from "./report.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
const CLI = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");

export const OVERRIDES = ["--max-train-examples", "32", "--max-steps", "2", "--max-eval-examples", "4"] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: "string" }, keep: { type: "boolean", default: false } } });
  const work = mkdtempSync(path.join(os.tmpdir(), "propetl-table2-smoke-"));
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  try {
    const plan = planRuns();
    const ids = values.only ? values.only.split(",") : plan.filter((r) => r.seed === 1).map((r) => r.id);
    const chosen = ids.map((id) => {
      const r = plan.find((x) => x.id === id);
      if (!r) throw new Error(`no planned run ${id}`);
      return r;
    });
    const results = path.join(work, "results");
    for (const r of chosen) {
      const args = [CLI, "train", ...overrideArgs(r.args, OVERRIDES), "--output", path.join(results, r.id), "--json"];
      console.log(`propetl train ${args.slice(2).join(" ")}`);
      const t0 = Date.now();
      const res = spawnSync(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, PROPETL_THREADS: process.env.PROPETL_THREADS ?? "1" }, encoding: "utf8" });
      check(res.status === 0, `${r.id}: exit ${res.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s${res.status === 0 ? "" : `\n${res.stderr.slice(-2000)}`}`);
    }
    const { status, problems } = readPlannedRuns(results, chosen, parseRun);
    check(problems.length === 0, `metrics.json read without problems${problems.length ? `: ${problems.join("; ")}` : ""}`);
    const runs = finishedRecords(status);
    check(runs.length === chosen.length, `${runs.length} of ${chosen.length} runs finished`);
    const planned = plannedStorage(readEncoderConfig(path.join(REPO_ROOT, MODEL_DIR, "config.json")));
    const sp = storageProblems(runs, planned);
    check(sp.length === 0, `recorded storage = the library's count for the plan${sp.length ? `: ${sp.join("; ")}` : ""}`);
    for (const r of runs) {
      const want = r.multi ? [...TASKS] : [chosen.find((c) => c.id === r.id)?.task ?? "?"];
      check(r.steps === 2 && want.every((t) => r.test.has(t)), `${r.id}: ${r.steps} step(s), test scores for ${[...r.test.keys()].join(", ")}; ${r.trainSeconds !== null && r.steps ? (r.trainSeconds / r.steps).toFixed(1) : "?"} s per step`);
      const cfg = JSON.parse(readFileSync(path.join(results, r.id, "adapter_config.json"), "utf8")) as { combine: string | null; k: number | null; task_k: number | null };
      const m = methodConfigOf(settingOf(r));
      check(cfg.combine === (m.combine ?? null) && cfg.k === (m.k ?? null) && cfg.task_k === (m.taskK ?? null), `${r.id}: adapter_config.json combine ${cfg.combine}, k ${cfg.k}, task_k ${cfg.task_k}`);
    }
    const rows = tableRows(chosen, runs);
    check(rows.every((row) => row.done === row.planned), `table rows: ${rows.map((row) => `${row.setting.variant} ${row.done}/${row.planned}`).join(", ")}`);
    // The plan as run here (with the overrides), so the recorded commands match it.
    const asRun = chosen.map((r) => ({ ...r, args: overrideArgs(r.args, OVERRIDES) }));
    const md = generatedMarkdown({ plan: asRun, status, planComment: null, storage: planned, problems, repoRoot: REPO_ROOT });
    check(!md.includes("Problems while reading"), "the report renders without problems");
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
  return failures.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
