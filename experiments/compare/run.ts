/**
 * Runs an experiment grid with `propetl train`, several runs at a time, each in its own
 * process and folder (results/<run id>/, the CLI's metrics.json and train.log). Resumable:
 * finished runs (metrics.json present) are skipped and interrupted ones continue from their
 * resume state; a finished run whose recorded command differs from the plan's (the plan
 * changed since) stops the runner before it starts anything, so old results are never
 * counted as the new plan's; a run another live runner is training (its `runner.lock`) is
 * skipped, so the command can be rerun until the grid is full. Plans: `compare`
 * (compare/plan.ts, the default), `converge` (converge/plan.ts), `figure3`
 * (figure3/plan.ts) and `table2` (table2/plan.ts: single-task and multi-task runs). Every run starts in the repository root, so a plan's relative paths
 * (figure3's `--model models/propetl-mini-t5`) name this checkout's files; a relative
 * `--model` given here is resolved against the directory the runner was started in.
 *
 *   npm run build
 *   node dist/experiments/compare/run.js [--plan compare|converge|figure3|table2] [--jobs 2] [--threads 1]
 *        [--only REGEX] [--reverse] [--minutes M] [--limit N] [--results DIR] [--model DIR]
 *        [--cli-dir DIR] [--before-dir DIR] [--list] [--help]
 *
 * Runs marked `code: "before"` use the CLI of another checkout (--before-dir, built with
 * `npm ci`), e.g. the commit before a fix; without it they are skipped.
 * --minutes stops starting new runs after M minutes (running ones finish); --reverse takes
 * the plan from its end (a second machine can work the k sweep while this one does the main
 * table); --list prints the plan with each run's status and exits.
 */
import { spawn } from "node:child_process";
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { planRuns as comparePlan } from "./plan.js";
import { overrideArgs } from "./plan.js";
import type { PlannedRun } from "./plan.js";
import { planRuns as convergePlan } from "../converge/plan.js";
import { runnerPlan as figure3Plan } from "../figure3/plan.js";
import { planRuns as table2Plan } from "../table2/plan.js";
import { plannedPart } from "../converge/report.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");

const USAGE = `usage: node dist/experiments/compare/run.js [--plan compare|converge|figure3|table2] [--jobs 2] [--threads 1]
       [--only REGEX] [--reverse] [--minutes M] [--limit N] [--results DIR] [--model DIR]
       [--cli-dir DIR] [--before-dir DIR] [--list] [--help]

Runs a plan's experiment grid with \`propetl train\`, resumably: finished runs are skipped,
interrupted ones resume. --only keeps the runs whose id matches REGEX; --minutes stops starting
new runs after M minutes; --list prints the plan with each run's status and exits.`;

const OPTIONS = {
  help: { type: "boolean", short: "h", default: false },
  plan: { type: "string", default: "compare" },
  "before-dir": { type: "string" },
  "cli-dir": { type: "string" },
  jobs: { type: "string", default: "2" },
  threads: { type: "string", default: "1" },
  only: { type: "string" },
  reverse: { type: "boolean", default: false },
  minutes: { type: "string", default: "0" },
  limit: { type: "string", default: "0" },
  results: { type: "string" },
  model: { type: "string" },
  list: { type: "boolean", default: false },
} as const;

function parseCommandLine(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"] {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}
const a = parseCommandLine();
if (a.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const plans: Record<string, () => PlannedRun[]> = { compare: comparePlan, converge: convergePlan, figure3: figure3Plan, table2: table2Plan };
const planName = a.plan as string;
if (!(planName in plans)) {
  process.stderr.write(`--plan must be one of ${Object.keys(plans).join(", ")}, got ${planName}\n${USAGE}\n`);
  process.exit(2);
}
const resultsDir = path.resolve(a.results ?? path.join(repoRoot, "experiments", planName, "results"));
// A long grid may run from a frozen checkout (--cli-dir) while this one is rebuilt.
const cli = path.join(a["cli-dir"] ? path.resolve(a["cli-dir"]) : repoRoot, "dist/src/cli/main.js");
if (!existsSync(cli)) throw new Error(`${cli} not found (build it first)`);
const beforeCli = a["before-dir"] ? path.join(path.resolve(a["before-dir"]), "dist/src/cli/main.js") : undefined;
if (beforeCli && !existsSync(beforeCli)) throw new Error(`--before-dir: ${beforeCli} not found (run npm ci there first)`);
const jobs = Number(a.jobs), threads = Number(a.threads), limit = Number(a.limit);
if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`--jobs must be a positive integer, got ${a.jobs}`);
if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, got ${a.threads}`);
const deadline = Number(a.minutes) > 0 ? Date.now() + Number(a.minutes) * 60_000 : Infinity;

/** "stale": a metrics.json whose recorded command is not the plan's (the plan changed since it ran). */
type Status = "done" | "stale" | "partial" | "pending";
const runDir = (r: PlannedRun): string => path.join(resultsDir, r.id);
function statusOf(r: PlannedRun): Status {
  const metrics = path.join(runDir(r), "metrics.json");
  if (!existsSync(metrics)) return existsSync(runDir(r)) ? "partial" : "pending";
  const recorded = (JSON.parse(readFileSync(metrics, "utf8")) as { command?: unknown }).command;
  const ok = Array.isArray(recorded) && recorded.every((c) => typeof c === "string")
    && plannedPart(recorded as string[]).join(" ") === plannedPart(r.args).join(" ");
  return ok ? "done" : "stale";
}

let plan = plans[planName]();
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

const stale = plan.filter((r) => statusOf(r) === "stale");
if (stale.length > 0) {
  console.error(`${stale.length} finished run(s) in ${resultsDir} were run with other arguments than the plan's (the plan changed since); move them aside before running:`);
  for (const r of stale) console.error(`  ${path.join(runDir(r), "metrics.json")}`);
  process.exit(1);
}
const todo = plan.filter((r) => statusOf(r) !== "done" && (r.code !== "before" || beforeCli !== undefined));
const noBefore = plan.filter((r) => statusOf(r) !== "done" && r.code === "before" && beforeCli === undefined).length;
if (noBefore > 0) console.log(`${noBefore} run(s) need --before-dir and are skipped`);
const queue = limit > 0 ? todo.slice(0, limit) : todo;
console.log(`${plan.length} runs planned, ${plan.length - todo.length} done, running ${queue.length} with ${jobs} jobs x ${threads} threads`);

/**
 * Take the run's lock (`<run dir>/runner.lock`, holding the runner's pid), so that two runners
 * (another `--only` beside the main one, another machine on a shared folder) never train the
 * same run into one folder at once. A lock whose process is gone is taken over. Returns the
 * pid holding it when another live process does, else null (the lock is now this runner's).
 */
function takeLock(dir: string): number | null {
  const lock = path.join(dir, "runner.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(lock, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) return pid;
      rmSync(lock, { force: true }); // its runner is gone
    }
  }
  throw new Error(`${lock}: could not take the lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function runOne(r: PlannedRun): Promise<number> {
  const dir = runDir(r);
  const resume = existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const holder = takeLock(dir);
  if (holder !== null) {
    console.log(`skip ${r.id}: another runner (pid ${holder}) is training it`);
    return Promise.resolve(-1);
  }
  const args = [r.code === "before" ? (beforeCli as string) : cli, "train", ...overrideArgs(r.args, a.model ? ["--model", path.resolve(a.model)] : []), "--output", dir, "--json", ...(resume ? ["--resume"] : [])];
  const log = createWriteStream(path.join(dir, "train.log"), { flags: "a" });
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, PROPETL_THREADS: String(threads) }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      log.end();
      rmSync(path.join(dir, "runner.lock"), { force: true });
      resolve(code ?? 1);
    }),
  );
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
    if (code === -1) {
      skipped++;
      continue;
    }
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
console.log(`finished ${finished}, failed ${failed}, skipped ${skipped} (finished or running elsewhere), ${queue.length - finished - failed - skipped} not started; ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exit(failed > 0 ? 1 : 0);
