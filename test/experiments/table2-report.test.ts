/** The Table 2 plan and report: planned arguments, parsing hand-made metrics objects, aggregation, storage by hand, rendering and splicing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { COMMON_ARGS, MULTI, SETTINGS, TASKS, methodArgs, planRuns } from "../../experiments/table2/plan.js";
import {
  type RunRecord,
  BEGIN,
  END,
  MODEL_DIR,
  PLACEHOLDER,
  WHAT_IT_SHOWS,
  generatedMarkdown,
  methodConfigOf,
  parseRun,
  plannedStorage,
  settingOf,
  spliceGenerated,
  storageProblems,
  tableRows,
} from "../../experiments/table2/report.js";
import { type PlannedStatus, finishedRecords, logProgress } from "../../experiments/lib/run-status.js";
import type { PlannedRun } from "../../experiments/compare/plan.js";
import { readEncoderConfig } from "../../src/models/config-file.js";
import { resolveMethodConfig } from "../../src/petl/registry.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const plan = planRuns();
const byId = (id: string): PlannedRun => {
  const r = plan.find((x) => x.id === id);
  assert.ok(r, id);
  return r;
};

/** A metrics.json as `propetl train --task` writes it (the fields the report reads). */
function singleDoc(task: string, seed: number, main: number, method: Record<string, unknown>, bits: number): Record<string, unknown> {
  return { task, seed, mainMetric: task === "spam" ? "f1" : task === "cola" ? "matthews" : "accuracy", test: { main, scores: {} }, validation: { main: main + 0.01 }, steps: 96, trainSeconds: 150, method, storage: { bits, percentOfBackbone: 1 }, command: ["propetl", "train", ...byId(`${task}/${method.method}/seed-${seed}`).args, "--output", "/x", "--json"] };
}

/** A metrics.json as `propetl train --tasks` writes it. */
function multiDoc(seed: number, mains: number[], combine: string, bits: number, added: number): Record<string, unknown> {
  return {
    task: TASKS.join(","),
    seed,
    mainMetric: "mean of the tasks' main metrics",
    tasks: Object.fromEntries(TASKS.map((t, i) => [t, { mainMetric: t === "cola" ? "matthews" : t === "spam" ? "f1" : "accuracy", test: { main: mains[i] }, validation: { [t === "cola" ? "matthews" : t === "spam" ? "f1" : "accuracy"]: mains[i] } }])),
    test: { main: mains.reduce((a, b) => a + b, 0) / mains.length },
    steps: 282,
    trainSeconds: 500,
    method: { method: "propetl-adapter", combine },
    storage: { bits, shared: { bits: bits - 3 * added }, perTask: { bits: added } },
  };
}

test("plan: 30 runs, each setting's flags, single-task runs per task and multi-task runs over all three", () => {
  assert.equal(plan.length, 2 * 3 * 3 + 4 * 3);
  assert.deepEqual(methodArgs(SETTINGS[0]), ["--method", "adapter"]);
  assert.deepEqual(methodArgs(SETTINGS[1]), ["--method", "propetl-adapter", "--k", "0.5"]);
  const layer = byId(`${MULTI}/propetl-adapter-layer/seed-2`);
  assert.deepEqual(layer.args.slice(0, 10), ["--tasks", "spam,sst2,cola", "--method", "propetl-adapter", "--combine", "layer", "--temperature", "10", "--k", "0.3"]);
  assert.ok(!layer.args.includes("--task-k"), "no task masks, no task k");
  const task = byId(`${MULTI}/propetl-adapter-task/seed-1`);
  assert.ok(task.args.includes("--task-k") && !task.args.includes("--k"), "no layer masks, no k");
  assert.deepEqual(byId("cola/adapter/seed-3").args.slice(-COMMON_ARGS.length), [...COMMON_ARGS]);
  // Seed 1 first, in table order.
  assert.deepEqual(plan.slice(0, 10).map((r) => r.id), [...TASKS.map((t) => `${t}/adapter/seed-1`), ...TASKS.map((t) => `${t}/propetl-adapter/seed-1`), ...["or", "and", "layer", "task"].map((c) => `multi/propetl-adapter-${c}/seed-1`)]);
  // Every setting's flags resolve to the method config the report counts.
  for (const s of SETTINGS) {
    const c = methodConfigOf(s);
    assert.deepEqual(resolveMethodConfig({ ...c, ...(s.combine ? { tasks: [...TASKS] } : {}) }).combine, s.combine ?? undefined);
  }
});

test("parseRun: a single-task run's score of its task, a multi-task run's scores of every task, disagreements as problems", () => {
  const problems: string[] = [];
  const single = parseRun(singleDoc("sst2", 2, 0.8, { method: "propetl-adapter", k: 0.5 }, 100), byId("sst2/propetl-adapter/seed-2"), problems);
  assert.ok(single);
  assert.deepEqual([...single.test], [["sst2", 0.8]]);
  assert.equal(single.mainMetric.get("sst2"), "accuracy");
  assert.equal(single.multi, false);
  assert.deepEqual(problems, []);
  const multi = parseRun(multiDoc(1, [0.9, 0.7, 0.1], "task", 999, 33), byId("multi/propetl-adapter-task/seed-1"), problems);
  assert.ok(multi);
  assert.deepEqual([...multi.test], [["spam", 0.9], ["sst2", 0.7], ["cola", 0.1]]);
  assert.deepEqual([multi.storageBits, multi.addedBits, multi.multi], [999, 33, true]);
  assert.equal(multi.validation.get("cola"), 0.1);
  assert.deepEqual(problems, []);
  parseRun(multiDoc(2, [0.9, 0.7, 0.1], "or", 1, 1), byId("multi/propetl-adapter-task/seed-1"), problems);
  assert.match(problems.join("\n"), /seed 2 in metrics.json, 1 in the plan/);
  assert.match(problems.join("\n"), /combine "or" in metrics.json, "task" in the plan/);
  assert.equal(parseRun([], byId("spam/adapter/seed-1"), problems), null);
  assert.equal(parseRun({ seed: 1 }, byId("multi/propetl-adapter-or/seed-1"), problems), null);
  assert.match(problems.join("\n"), /no "tasks" in metrics.json/);
});

test("tableRows: mean ± sd per task over seeds, and the per-seed mean over tasks", () => {
  const runs: RunRecord[] = [];
  const add = (id: string, doc: Record<string, unknown>) => {
    const r = parseRun(doc, byId(id));
    assert.ok(r);
    runs.push(r);
  };
  add("multi/propetl-adapter-or/seed-1", multiDoc(1, [0.9, 0.6, 0.0], "or", 1, 1));
  add("multi/propetl-adapter-or/seed-2", multiDoc(2, [0.8, 0.7, 0.3], "or", 1, 1));
  for (const [t, v] of [["spam", 0.5], ["sst2", 0.6]] as const) add(`${t}/adapter/seed-1`, singleDoc(t, 1, v, { method: "adapter" }, 1));
  const rows = tableRows(plan, runs);
  assert.deepEqual(rows.map((r) => r.setting.variant), SETTINGS.map((s) => s.variant));
  const or = rows[2];
  assert.deepEqual([or.done, or.planned], [2, 3]);
  close(or.cells.get("spam")?.mean, 0.85);
  close(or.cells.get("spam")?.sd ?? null, Math.sqrt(0.005));
  close(or.averageBySeed.get(1), 0.5);
  close(or.averageBySeed.get(2), 0.6);
  close(or.average?.mean, 0.55);
  const adapter = rows[0];
  assert.deepEqual([adapter.done, adapter.planned], [2, 9]);
  assert.equal(adapter.cells.get("cola"), null);
  assert.equal(adapter.averageBySeed.size, 0, "no seed has all three tasks: no average");
  assert.equal(adapter.average, null);
});

test("plannedStorage on propetl-mini, by hand (Appendix B eq. 14, Sec. 3.4)", () => {
  const config = readEncoderConfig(path.join(REPO_ROOT, MODEL_DIR, "config.json"));
  const d = config.hiddenSize, L = config.numLayers, bn = 64;
  assert.deepEqual([d, L], [256, 4]);
  const module = 2 * bn * d + bn + d; // down + up weights and biases
  const mask = 2 * bn * d; // one bit per masked weight entry
  const proto = 32 * module;
  const st = plannedStorage(config);
  const expect: Record<string, [number, number]> = {
    // [total over the 3 tasks, what each task adds]
    adapter: [3 * 32 * L * module, 32 * L * module],
    "propetl-adapter": [3 * (proto + L * mask), proto + L * mask],
    "propetl-adapter-or": [proto + L * mask + 3 * mask, mask],
    "propetl-adapter-and": [proto + L * mask + 3 * mask, mask],
    "propetl-adapter-layer": [proto + L * mask, 0],
    "propetl-adapter-task": [proto + 3 * mask, mask],
  };
  for (const [variant, [total, added]] of Object.entries(expect)) {
    const s = st.get(variant);
    assert.ok(s, variant);
    assert.equal(s.totalBits, total, `${variant} total`);
    close(s.perTaskBits, total / 3);
    assert.equal(s.addedBits, added, `${variant} added`);
  }
  // A single-task run records one task's storage; a multi-task run the total.
  const single = parseRun(singleDoc("spam", 1, 0.5, { method: "adapter" }, 32 * L * module), byId("spam/adapter/seed-1")) as RunRecord;
  const multi = parseRun(multiDoc(1, [0, 0, 0], "layer", proto + L * mask, 0), byId("multi/propetl-adapter-layer/seed-1")) as RunRecord;
  assert.deepEqual(storageProblems([single, multi], st), []);
  const wrong = parseRun(multiDoc(1, [0, 0, 0], "task", 5, mask), byId("multi/propetl-adapter-task/seed-1")) as RunRecord;
  assert.match(storageProblems([wrong], st).join("\n"), /records 5 storage bits, the library counts/);
});

test("generatedMarkdown and spliceGenerated: the table, the commands, run statuses; the hand-written section survives", () => {
  const status = new Map<string, PlannedStatus<RunRecord>>();
  const r = parseRun(singleDoc("spam", 1, 0.875, { method: "adapter" }, 4_235_264), byId("spam/adapter/seed-1")) as RunRecord;
  status.set(r.id, { state: "done", run: r });
  status.set("sst2/adapter/seed-1", { state: "in progress", progress: logProgress('{"type":"step","step":7,"totalSteps":96}\nnot json\n{"type":"eval","main":0.5}') });
  assert.equal(finishedRecords(status).length, 1);
  const config = readEncoderConfig(path.join(REPO_ROOT, MODEL_DIR, "config.json"));
  const md = generatedMarkdown({ plan, status, planComment: "the protocol", storage: plannedStorage(config), problems: [], repoRoot: "/repo" });
  assert.match(md, /\*\*Runs done:\*\* 1 of 30 planned; 1 in progress/);
  assert.match(md, /\| Setting \| Runs done \| spam \(F1\) \| sst2 \(Acc\) \| cola \(MCC\) \| Avg\. \| Stored per task \(bits\) \| % of backbone per task \| Each task adds \(bits\) \|/);
  assert.match(md, /\| Adapter \(single-task\) \| 1\/9 \| 87\.5 \(1 seed, no sd\) \| – \| – \| – \| 4,235,264 \|/);
  assert.match(md, /\| ProPETL-Adapter, multi-task, layer masks only \| 0\/3 \| – \| – \| – \| – \| 396,629 \| [0-9.]+% \| 0 \|/);
  assert.match(md, /node dist\/experiments\/compare\/run\.js --plan table2/);
  assert.match(md, /`sst2\/adapter\/seed-1` — in progress: step 7\/96, 1 validation\(s\)/);
  assert.match(md, /> the protocol/);
  assert.ok(!md.includes("Problems while reading"), "the recorded command and storage match the plan");
  const file = spliceGenerated(null, md);
  assert.ok(file.includes(BEGIN) && file.includes(END) && file.includes(`${WHAT_IT_SHOWS}\n\n${PLACEHOLDER}`));
  const edited = file.replace(PLACEHOLDER, "Hand-written conclusions.");
  const again = spliceGenerated(edited, "new block");
  assert.ok(again.includes("Hand-written conclusions.") && again.includes(`${BEGIN}\nnew block\n${END}`) && !again.includes("Runs done"));
  assert.equal(settingOf({ id: "x", variant: "propetl-adapter-task" }).combine, "task");
  assert.throws(() => settingOf({ id: "x", variant: "nope" }), /unknown variant nope/);
});
