/**
 * Runs the comparison grid of plan.ts with `propetl train`, several runs at a time, each in
 * its own process and folder (results/<task>/<variant>/seed-<seed>/, the CLI's metrics.json
 * and train.log). Resumable: finished runs (metrics.json present) are skipped and interrupted
 * ones continue from their resume state, so the command can be rerun until the grid is full.
 *
 *   npm run build
 *   node dist/experiments/compare/run.js [--jobs 2] [--threads 1] [--only REGEX] [--reverse]
 *        [--minutes M] [--limit N] [--results DIR] [--model DIR] [--list]
 *
 * --minutes stops starting new runs after M minutes (running ones finish); --reverse takes
 * the plan from its end (a second machine can work the k sweep while this one does the main
 * table); --list prints the plan with each run's status and exits.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { planRuns } from "./plan.js";
import type { PlannedRun } from "./plan.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const cli = path.join(repoRoot, "dist/src/cli/main.js");

const { values: a } = parseArgs({
  options: {
    jobs: { type: "string", default: "2" },
    threads: { type: "string", default: "1" },
    only: { type: "string" },
    reverse: { type: "boolean", default: false },
    minutes: { type: "string", default: "0" },
    limit: { type: "string", default: "0" },
    results: { type: "string", default: path.join(repoRoot, "experiments/compare/results") },
    model: { type: "string" },
    list: { type: "boolean", default: false },
  },
});

const resultsDir = path.resolve(a.results as string);
const jobs = Number(a.jobs), threads = Number(a.threads), limit = Number(a.limit);
if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs must be a positive integer, got ${a.jobs}`);
if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, got ${a.threads}`);
const deadline = Number(a.minutes) > 0 ? Date.now() + Number(a.minutes) * 60_000 : Infinity;

type Status = "done" | "partial" | "pending";
const runDir = (r: PlannedRun): string => path.join(resultsDir, r.id);
const statusOf = (r: PlannedRun): Status =>
  existsSync(path.join(runDir(r), "metrics.json")) ? "done" : existsSync(runDir(r)) ? "partial" : "pending";

let plan = planRuns();
if (a.only) {
  const re = new RegExp(a.only);
  plan = plan.filter((r) => re.test(r.id));
}
if (a.reverse) plan.reverse();

if (a.list) {
  for (const r of plan) console.log(`${statusOf(r).padEnd(8)} ${r.id}  propetl train ${r.args.join(" ")}`);
  const done = plan.filter((r) => statusOf(r) === "done").length;
  console.log(`${done}/${plan.length} done`);
  process.exit(0);
}

const todo = plan.filter((r) => statusOf(r) !== "done");
const queue = limit > 0 ? todo.slice(0, limit) : todo;
console.log(`${plan.length} runs planned, ${plan.length - todo.length} done, running ${queue.length} with ${jobs} jobs x ${threads} threads`);

function runOne(r: PlannedRun): Promise<number> {
  const dir = runDir(r);
  const resume = existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const args = [cli, "train", ...r.args, ...(a.model ? ["--model", a.model] : []), "--output", dir, "--json", ...(resume ? ["--resume"] : [])];
  const log = createWriteStream(path.join(dir, "train.log"), { flags: "a" });
  const child = spawn(process.execPath, args, { env: { ...process.env, PROPETL_THREADS: String(threads) }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve) => child.on("close", (code) => { log.end(); resolve(code ?? 1); }));
}

const started = Date.now();
let next = 0, failed = 0, finished = 0, skipped = 0;
async function worker(): Promise<void> {
  while (next < queue.length && Date.now() < deadline) {
    const r = queue[next++];
    // Another machine may have finished it since the queue was made (results copied in).
    if (statusOf(r) === "done") {
      console.log(`skip ${r.id}: finished elsewhere`);
      skipped++;
      continue;
    }
    const t0 = Date.now();
    const code = await runOne(r);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    if (code === 0 && existsSync(path.join(runDir(r), "metrics.json"))) {
      finished++;
      const m = JSON.parse(readFileSync(path.join(runDir(r), "metrics.json"), "utf8")) as { mainMetric: string; test: { main: number } };
      console.log(`done ${r.id}: test ${m.mainMetric} ${m.test.main.toFixed(4)} (${secs} s) [${finished}/${queue.length}]`);
    } else {
      failed++;
      console.log(`FAILED ${r.id} (exit ${code}, ${secs} s): see ${path.join(runDir(r), "train.log")}`);
    }
  }
}
await Promise.all(Array.from({ length: jobs }, () => worker()));
console.log(`finished ${finished}, failed ${failed}, skipped ${skipped} (finished elsewhere), ${queue.length - finished - failed - skipped} not started; ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exit(failed > 0 ? 1 : 0);
