/**
 * Smoke check of the Figure 3 plan, before running the grid: planned runs' exact
 * `propetl train` arguments (by default one per module family) are accepted by the CLI and
 * train for a few steps on a few examples, and what the runs write is what the report reads
 * (metrics.json parsed without problems, test_predictions.txt passing the rescoring check).
 * Not part of the test suite: it trains and generates (about a minute on a busy 2-core box).
 *
 *   node dist/experiments/figure3/smoke.js [--model DIR] [--only ID,ID] [--keep]
 *
 * Without --model the backbone is a tiny random T5 (test/helpers/t5-model.ts) written to a
 * temporary folder; with `--model models/propetl-mini-t5` it checks the real one. `--model` and
 * `--max-train-examples 8 --max-steps 2 --max-eval-examples 3` replace the plan's values of
 * those options (overrideArgs; propetl refuses an option given twice), as the runner does with
 * its own `--model`. The runs go
 * to a temporary folder, removed at the end unless --keep. Exit status 0 when every check passes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { initEngine } from "../../src/engine/engine.js";
import { writeTinyT5Dir } from "../../test/helpers/t5-model.js";
import { overrideArgs } from "../compare/plan.js";
import { planRuns } from "./plan.js";
import { finishedRuns, predictionCheckPasses, readRuns, referenceRows } from "./report.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
const CLI = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");

export const OVERRIDES = ["--max-train-examples", "8", "--max-steps", "2", "--max-eval-examples", "3"] as const;
export const DEFAULT_IDS = ["adapter/bn-64/seed-1", "propetl-lora/r-32/seed-1"] as const;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { model: { type: "string" }, only: { type: "string" }, keep: { type: "boolean", default: false } } });
  const work = mkdtempSync(path.join(os.tmpdir(), "propetl-figure3-smoke-"));
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    if (!ok) failures.push(what);
  };
  try {
    let modelDir = values.model ? path.resolve(values.model) : path.join(work, "tiny-t5");
    if (!values.model) {
      await initEngine({ threads: 1 });
      await writeTinyT5Dir(modelDir);
      console.log(`tiny random T5 written to ${modelDir}`);
    }
    modelDir = path.resolve(modelDir);
    const ids = values.only ? values.only.split(",") : [...DEFAULT_IDS];
    const plan = planRuns();
    const results = path.join(work, "results");
    for (const id of ids) {
      const r = plan.find((x) => x.id === id);
      if (!r) throw new Error(`no planned run ${id}`);
      const args = [CLI, "train", ...overrideArgs(r.args, ["--model", modelDir, ...OVERRIDES]), "--output", path.join(results, r.id), "--json"];
      console.log(`propetl train ${args.slice(2).join(" ")}`);
      const t0 = Date.now();
      const res = spawnSync(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, PROPETL_THREADS: process.env.PROPETL_THREADS ?? "1" }, encoding: "utf8" });
      check(res.status === 0, `${id}: exit ${res.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s${res.status === 0 ? "" : `\n${res.stderr}`}`);
    }
    const { status, problems } = readRuns(results, plan);
    check(problems.length === 0, `metrics.json read without problems${problems.length ? `: ${problems.join("; ")}` : ""}`);
    const runs = finishedRuns({ status });
    check(runs.length === ids.length, `${runs.length} of ${ids.length} runs finished`);
    for (const r of runs) {
      // 8 examples in the plan's batches of 16: one step (the epoch ends before --max-steps 2).
      check(r.steps === 1 && r.testExamples === 3 && r.testBleu !== null, `${r.id}: ${r.steps} step(s), ${r.testExamples} test examples, test BLEU ${r.testBleu}`);
      check(r.storageBits !== null && r.storageBits > 0 && r.storagePercent !== null && r.storagePercent > 0, `${r.id}: storage ${r.storageBits} bits, ${r.storagePercent}% of the backbone`);
    }
    const refProblems: string[] = [];
    const refs = referenceRows(results, runs, refProblems);
    check(refProblems.length === 0 && refs.copySource !== null, `copy-source BLEU ${refs.copySource?.bleu.toFixed(2)} on ${refs.copySource?.examples} test examples${refProblems.length ? `; ${refProblems.join("; ")}` : ""}`);
    for (const c of refs.predictions) check(predictionCheckPasses(c), `${c.id}: ${c.lines} prediction line(s) for ${c.expected}, rescored BLEU ${c.rescored} vs recorded ${c.recorded}`);
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
  return failures.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
