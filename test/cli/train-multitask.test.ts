/**
 * `propetl train --tasks` from the CLI on the bundled propetl-mini: a 3-task run (spam,
 * sotu-party, rte built in) for a couple of steps writes one multi-task checkpoint and per-task
 * metrics; predict --task for each task; predict / eval / export-task errors for a missing or
 * unknown task; export-task's single-task file predicts as the multi-task file with --task;
 * bad --tasks inputs are usage errors before any training; a killed run resumed with --resume
 * ends as the uninterrupted one.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { spawn } from "node:child_process";
import { CLI_MAIN, runCli } from "../helpers/cli.js";
import { tempDir } from "../train/helpers.js";

const MODEL = path.join(REPO_ROOT, "models", "propetl-mini");
const TASKS = ["spam", "sotu-party", "rte"];
const RUN = ["--tasks", TASKS.join(","), "--max-train-examples", "16", "--max-eval-examples", "8", "--epochs", "1", "--max-steps", "2", "--batch-size", "8", "--bottleneck", "4", "--max-length", "32", "--json"];

let work: string;
before(() => {
  work = tempDir("propetl-mt-cli-");
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("help", () => {
  test("train --help documents the multi-task flags; export-task has its help and a line in the command list", async () => {
    const train = await runCli(["train", "--help"]);
    assert.equal(train.code, 0);
    for (const flag of ["--tasks A,B,...", "--temperature T", "--task-k X", "--combine RULE"]) assert.ok(train.stdout.includes(`  ${flag}`), flag);
    const exp = await runCli(["export-task", "--help"]);
    assert.equal(exp.code, 0);
    assert.match(exp.stdout, /^Usage: propetl export-task --checkpoint DIR --task NAME --output DIR/);
    assert.match((await runCli(["--help"])).stdout, /^  export-task +write one task of a multi-task checkpoint/m);
    assert.match((await runCli(["predict", "--help"])).stdout, /--task NAME +the task of a multi-task checkpoint/);
  });
});

describe("train --tasks: bad inputs are usage errors", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown task", ["--tasks", "spam,nosuch"], /unknown task "nosuch"; known tasks: .*spam, sotu-party/],
    ["duplicate task", ["--tasks", "spam,rte,spam"], /task "spam" is listed twice/],
    ["one task", ["--tasks", "spam"], /at least two tasks, got 1 \(spam\)/],
    ["temperature 0", ["--tasks", "spam,rte", "--temperature", "0"], /--temperature must be a number > 0, got "0"/],
    ["negative temperature", ["--tasks", "spam,rte", "--temperature=-1"], /--temperature must be a number > 0, got "-1"/],
    ["bad combine", ["--tasks", "spam,rte", "--combine", "xor"], /--combine must be "or", "and", "layer" or "task", got "xor"/],
    ["task-k out of range", ["--tasks", "spam,rte", "--task-k", "1.5"], /taskK/],
    ["--task with --tasks", ["--tasks", "spam,rte", "--task", "cola"], /--task applies to single-task training/],
    ["--jit", ["--tasks", "spam,rte", "--jit"], /--jit is not supported with --tasks/],
    ["--temperature without --tasks", ["--task", "spam", "--temperature", "2"], /--temperature applies only to multi-task training/],
  ];
  for (const [what, args, re] of cases) {
    test(what, async () => {
      const out = path.join(work, `bad-${what.replace(/\W+/g, "-")}`);
      const r = await runCli(["train", ...args, "--output", out]);
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(existsSync(path.join(out, "metrics.json")), false);
    });
  }
});

describe("train --tasks spam,sotu-party,rte on propetl-mini", () => {
  const out = () => path.join(work, "mt");
  test("trains one multi-task checkpoint with per-task metrics and a storage split", async () => {
    const r = await runCli(["train", ...RUN, "--output", out()]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const logs = events.filter((e) => e.type === "log").map((e) => e.message as string);
    for (const t of TASKS) assert.ok(logs.some((m) => new RegExp(`^  ${t}: 16 train / 8 validation / 8 test .*; p = 0\\.3333$`).test(m)), `${t} in ${logs.join("\n")}`);
    assert.ok(logs.some((m) => /^epoch 1 drew spam \d+ examples \(\d+ batches\), sotu-party \d+ examples/.test(m)), logs.join("\n"));
    assert.equal(events.filter((e) => e.type === "step").length, 2);
    const result = events.find((e) => e.type === "result") as { storage: { shared: { bits: number }; perTask: { bits: number; percentOfBackbone: number } }; tasks: string[] };
    assert.deepEqual(result.tasks, TASKS);
    assert.ok(result.storage.shared.bits > result.storage.perTask.bits && result.storage.perTask.bits > 0);

    const cfg = JSON.parse(readFileSync(path.join(out(), "adapter_config.json"), "utf8")) as { tasks: string[]; k: number; task_k: number; combine: string; label_names: Record<string, string[]> };
    assert.deepEqual(cfg.tasks, TASKS);
    assert.deepEqual([cfg.k, cfg.task_k, cfg.combine], [0.3, 0.3, "or"]);
    assert.deepEqual(cfg.label_names["sotu-party"], ["Democratic", "Republican"]);
    const m = JSON.parse(readFileSync(path.join(out(), "metrics.json"), "utf8")) as {
      tasks: Record<string, { test: { main: number; examples: number }; validation: Record<string, number>; data: { train: number } }>;
      test: { main: number };
      steps: number;
      sampling: { temperature: number; batchesPerEpoch: number; draws: { step: number; batches: Record<string, number>; examples: Record<string, number> }[] };
    };
    assert.deepEqual(Object.keys(m.tasks), TASKS);
    for (const t of TASKS) {
      assert.equal(m.tasks[t].test.examples, 8);
      assert.equal(m.tasks[t].data.train, 16);
      assert.ok(m.tasks[t].test.main >= 0 && m.tasks[t].test.main <= 1);
    }
    const mean = TASKS.reduce((s, t) => s + m.tasks[t].test.main, 0) / 3;
    assert.ok(Math.abs(m.test.main - mean) < 1e-12, "test main = mean of the tasks' main metrics");
    assert.equal(m.steps, 2);
    assert.equal(m.sampling.temperature, 10);
    assert.equal(m.sampling.batchesPerEpoch, 6);
    // --max-steps 2: two of the epoch's six batches ran, 8 examples each.
    assert.equal(m.sampling.draws[0].step, 2);
    assert.equal(Object.values(m.sampling.draws[0].batches).reduce((a, b) => a + b, 0), 2);
    assert.equal(Object.values(m.sampling.draws[0].examples).reduce((a, b) => a + b, 0), 16);
    assert.equal(existsSync(path.join(out(), "train_state.safetensors")), false);
  });

  test("propetl storage on the multi-task checkpoint: the shared part and each task's part", async () => {
    const r = await runCli(["storage", out()]);
    assert.equal(r.code, 0, r.stderr);
    // bn 4, d 256: a task mask is 2·4·256 = 2,048 bits; shared: the prototype (32 · (2,048 weights
    // + 260 biases)) and 4 layer masks of 2,048 bits = 82,048 bits.
    assert.match(r.stdout, /^task masks \(1-bit\) +6,144 +1 +6,144 +3 tasks × 2,048 bits$/m);
    assert.match(r.stdout, /^shared by all 3 tasks: 82,048 bits \(0\.047% of backbone\)$/m);
    assert.match(r.stdout, /^each task adds: 2,048 bits \(0\.001% of backbone\) \+ its head \(66,306 params, outside BLS\)$/m);
  });

  test("predict --task for each task; a missing or unknown --task lists the tasks", async () => {
    const labels: Record<string, string[]> = { spam: ["ham", "spam"], "sotu-party": ["Democratic", "Republican"], rte: ["entailment", "not_entailment"] };
    for (const t of TASKS) {
      const r = await runCli(["predict", "--model", MODEL, "--checkpoint", out(), "--task", t, "--text", "we will cut taxes", "--text-pair", "taxes"]);
      assert.equal(r.code, 0, r.stderr);
      const row = JSON.parse(r.stdout) as { label: string; probs: number[] };
      assert.ok(labels[t].includes(row.label), `${t}: ${row.label}`);
      assert.equal(row.probs.length, 2);
    }
    const missing = await runCli(["predict", "--model", MODEL, "--checkpoint", out(), "--text", "hello"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /is a multi-task checkpoint: name one of its tasks \(--task\): spam, sotu-party, rte/);
    const unknown = await runCli(["predict", "--model", MODEL, "--checkpoint", out(), "--text", "hello", "--task", "cola"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown task "cola"; this checkpoint has: spam, sotu-party, rte/);
    const evalUnknown = await runCli(["eval", "--model", MODEL, "--checkpoint", out(), "--task", "cola", "--max-examples", "4"]);
    assert.equal(evalUnknown.code, 2);
    assert.match(evalUnknown.stderr, /multi-task checkpoint without task "cola"; its tasks: spam, sotu-party, rte/);
    const evalOk = await runCli(["eval", "--model", MODEL, "--checkpoint", out(), "--task", "sotu-party", "--max-examples", "4", "--max-length", "32", "--json"]);
    assert.equal(evalOk.code, 0, evalOk.stderr);
    const doc = JSON.parse(evalOk.stdout) as { task: string; checkpointTask: string; examples: number };
    assert.deepEqual([doc.task, doc.checkpointTask, doc.examples], ["sotu-party", "sotu-party", 4]);
  });

  test("export-task: the single-task file predicts as the multi-task file with --task", async () => {
    const input = path.join(work, "in.jsonl");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(input, ["free money, click now", "The president spoke of the union", "A man sleeps.", "we must balance the budget"].map((text) => JSON.stringify({ text, text_pair: "someone rests" })).join("\n") + "\n");
    for (const t of TASKS) {
      const dest = path.join(work, `export-${t}`);
      const e = await runCli(["export-task", "--checkpoint", out(), "--task", t, "--output", dest]);
      assert.equal(e.code, 0, e.stderr);
      const cfg = JSON.parse(readFileSync(path.join(dest, "adapter_config.json"), "utf8")) as { tasks: string[]; method: string; task_k: number | null };
      assert.deepEqual([cfg.tasks, cfg.method, cfg.task_k], [[t], "propetl-adapter", null]);
      const a = await runCli(["predict", "--model", MODEL, "--checkpoint", out(), "--task", t, "--input", input, "--max-length", "32"]);
      const b = await runCli(["predict", "--model", MODEL, "--checkpoint", dest, "--input", input, "--max-length", "32"]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, a.stdout, `${t}: same predictions`);
      assert.equal(a.stdout.trim().split("\n").length, 4);
    }
    const missing = await runCli(["export-task", "--checkpoint", out(), "--output", path.join(work, "x")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing --task \(the task to export; .* has: spam, sotu-party, rte\)/);
    const unknown = await runCli(["export-task", "--checkpoint", out(), "--task", "mnli", "--output", path.join(work, "y")]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown task "mnli"; .* has: spam, sotu-party, rte/);
    const again = await runCli(["export-task", "--checkpoint", out(), "--task", "rte", "--output", path.join(work, "export-rte")]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds a task checkpoint/);
  });
});

describe("train --tasks --combine layer | task (paper Table 11)", () => {
  test("propetl storage --method --tasks --combine: the rule's masks only; bad values are usage errors", async () => {
    const base = ["storage", "--method", "propetl-adapter", "--model", MODEL, "--bottleneck", "4", "--tasks", "3"];
    const task = await runCli([...base, "--combine", "task"]);
    assert.equal(task.code, 0, task.stderr);
    assert.doesNotMatch(task.stdout, /^layer masks/m);
    assert.match(task.stdout, /^task masks \(1-bit\) +6,144 +1 +6,144 +3 tasks × 2,048 bits$/m);
    const layer = await runCli([...base, "--combine", "layer"]);
    assert.equal(layer.code, 0, layer.stderr);
    assert.match(layer.stdout, /^each task adds: 0 bits/m);
    const bad = await runCli([...base, "--combine", "xor"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--combine must be "or", "and", "layer" or "task", got "xor"/);
    const one = await runCli([...base.slice(0, -2), "--combine", "task"]);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /--combine needs --tasks N with N ≥ 2/);
  });

  const args = ["--tasks", "spam,sotu-party", "--max-train-examples", "8", "--max-eval-examples", "4", "--epochs", "1", "--batch-size", "4", "--bottleneck", "4", "--max-length", "24", "--json"];
  for (const rule of ["layer", "task"] as const) {
    test(`${rule}: the log and storage name the rule's masks only; export-task predicts as --task`, async () => {
      const dir = path.join(work, `rule-${rule}`);
      const r = await runCli(["train", ...args, "--combine", rule, "--output", dir]);
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      const logs = events.filter((e) => e.type === "log").map((e) => e.message as string);
      const masks = rule === "layer" ? "(k 0.3, layer masks only)" : "(task k 0.3, task masks only)";
      assert.ok(logs.some((m) => m.includes(`method propetl-adapter ${masks}`)), logs.join("\n"));
      const result = events.find((e) => e.type === "result") as { storage: { perTask: { bits: number } } };
      // bn 4, d 256: a task mask is 2·4·256 = 2,048 bits; under "layer" a task adds nothing.
      assert.equal(result.storage.perTask.bits, rule === "layer" ? 0 : 2048);
      const st = await runCli(["storage", dir]);
      assert.equal(st.code, 0, st.stderr);
      assert.equal(/^layer masks \(1-bit\)/m.test(st.stdout), rule === "layer", st.stdout);
      assert.equal(/^task masks \(1-bit\)/m.test(st.stdout), rule === "task", st.stdout);
      assert.match(st.stdout, rule === "layer" ? /^each task adds: 0 bits/m : /^each task adds: 2,048 bits/m);
      const dest = path.join(work, `rule-${rule}-spam`);
      const e = await runCli(["export-task", "--checkpoint", dir, "--task", "spam", "--output", dest]);
      assert.equal(e.code, 0, e.stderr);
      const text = ["--text", "free money, click now"];
      const a = await runCli(["predict", "--model", MODEL, "--checkpoint", dir, "--task", "spam", ...text, "--max-length", "24"]);
      const b = await runCli(["predict", "--model", MODEL, "--checkpoint", dest, ...text, "--max-length", "24"]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(b.stdout, a.stdout, `${rule}: same prediction`);
    });
  }
});

/** `propetl ARGS`, killed (SIGKILL) once its stdout matches `killWhen`. */
function runKilled(args: string[], killWhen: RegExp): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!killed && killWhen.test(stdout)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("train --tasks --resume", () => {
  test("a run killed after step 2 and resumed ends as the uninterrupted run", async () => {
    const args = ["--tasks", "spam,sotu-party", "--max-train-examples", "8", "--max-eval-examples", "4", "--epochs", "1", "--batch-size", "4", "--bottleneck", "4", "--max-length", "24", "--seed", "5", "--json"];
    const full = path.join(work, "resume-full");
    const a = await runCli(["train", ...args, "--output", full]);
    assert.equal(a.code, 0, a.stderr);
    const dir = path.join(work, "resume-killed");
    const killed = await runKilled(["train", ...args, "--output", dir, "--save-steps", "1"], /"type":"checkpoint","step":2\b/);
    assert.equal(killed.code, null, "killed by the signal");
    assert.ok(existsSync(path.join(dir, "train_state.safetensors")));
    const refused = await runCli(["train", ...args, "--output", dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /unfinished run.*--resume/);
    const b = await runCli(["train", ...args, "--output", dir, "--resume"]);
    assert.equal(b.code, 0, b.stderr);
    const start = b.stdout.split("\n").filter((l) => l.includes('"type":"start"')).map((l) => JSON.parse(l) as { resumed: boolean; startStep: number })[0];
    assert.ok(start.resumed && start.startStep >= 2, JSON.stringify(start));
    const read = (d: string) => JSON.parse(readFileSync(path.join(d, "metrics.json"), "utf8")) as Record<string, unknown>;
    const [ma, mb] = [read(full), read(dir)];
    for (const key of ["test", "validation", "history", "tasks"]) assert.deepEqual(mb[key], ma[key], key);
    assert.deepEqual((mb.sampling as { draws: unknown }).draws, (ma.sampling as { draws: unknown }).draws);
    assert.ok(readFileSync(path.join(dir, "adapter_model.safetensors")).equals(readFileSync(path.join(full, "adapter_model.safetensors"))));
  });
});

