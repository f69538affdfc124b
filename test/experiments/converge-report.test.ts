/** The converged comparison's report: aggregation of hand-made metrics objects, and rendering with runs missing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { planRuns } from "../../experiments/converge/plan.js";
import {
  type RunKey,
  type RunMetrics,
  type RunStatus,
  BEGIN,
  END,
  PLACEHOLDER,
  WHAT_IT_SHOWS,
  commandLine,
  curvesSvg,
  docComment,
  epochTable,
  formatStat,
  generatedMarkdown,
  keyOf,
  meanSd,
  pairedDifference,
  parseMetrics,
  peakEpoch,
  perSeed,
  plannedPart,
  progressFromLog,
  seedValues,
  signed,
  spliceGenerated,
  validationCurve,
} from "../../experiments/converge/report.js";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

function key(code: "after" | "before", method: string, seed: number): RunKey {
  return { id: `${code}/${method}/seed-${seed}`, code, method, seed };
}

/** A metrics.json document as the CLI writes it (only the fields the report reads). */
function doc(o: { method: string; seed: number; f1: number; accuracy?: number; curve?: (number | null)[]; seconds?: number; k?: number }): Record<string, unknown> {
  const curve = o.curve ?? [0.5, 0.8, 0.9];
  let best = 0;
  curve.forEach((v, i) => {
    if (v !== null && v > (curve[best] ?? -1)) best = i;
  });
  const history = curve.map((v, i) => ({ epoch: i + 1, step: 50 * (i + 1), main: v, scores: { f1: v, accuracy: v === null ? null : v + 0.05 }, trainLoss: 0.5 / (i + 1) }));
  return {
    format: "propetl-metrics",
    task: "spam",
    seed: o.seed,
    mainMetric: "f1",
    test: { main: o.f1, scores: { f1: o.f1, accuracy: o.accuracy ?? o.f1 + 0.04 }, examples: 500 },
    validation: history[best],
    history,
    method: { method: o.method, bottleneck: 64, ...(o.k !== undefined ? { k: o.k } : {}) },
    hyper: { epochs: curve.length, lr: 0.001, seed: o.seed },
    engine: { backend: "wasm", threads: 1 },
    trainSeconds: o.seconds ?? 100,
    command: ["propetl", "train", "--method", o.method, "--seed", String(o.seed), "--output", `/repo/experiments/converge/results/x/seed-${o.seed}`, "--json"],
  };
}

function run(code: "after" | "before", method: string, seed: number, f1: number, curve?: (number | null)[]): RunMetrics {
  const problems: string[] = [];
  const k = key(code, method, seed);
  const r = parseMetrics(doc({ method, seed, f1, curve }), k, problems);
  assert.deepEqual(problems, []);
  assert.ok(r);
  // The command the runner would have recorded for a planned run.
  const planned = planRuns().find((p) => p.id === k.id);
  return planned ? { ...r, command: ["propetl", "train", ...planned.args, "--output", `/repo/experiments/converge/results/${k.id}`, "--json"] } : r;
}

test("mean and sample sd; one value has no sd and is reported as a single seed; none is –", () => {
  const s = meanSd([0.8, 0.9, 1.0]);
  assert.ok(s);
  assert.equal(s.n, 3);
  close(s.mean, 0.9);
  close(s.sd, 0.1);
  const one = meanSd([0.7]);
  assert.deepEqual(one, { n: 1, mean: 0.7, sd: null });
  assert.equal(meanSd([]), null);
  assert.equal(formatStat(s, 3), "90.0 ± 10.0");
  assert.equal(formatStat(meanSd([0.8, 0.9]), 3), "85.0 ± 7.1 (n=2)");
  assert.equal(formatStat(one, 3), "70.0 (1 seed, no sd)");
  assert.equal(formatStat(null, 3), "–");
  assert.equal(formatStat(meanSd([-0.02, -0.01]), 3, (v) => signed(v)), "−1.5 ± 0.7 (n=2)");
  assert.equal(signed(0.0004), "0.0");
  assert.equal(signed(-0.0123), "−1.2");
  assert.equal(perSeed(new Map([[1, 0.5], [3, 0.25]]), [1, 2, 3], (v) => (v * 100).toFixed(1)), "50.0 / – / 25.0");
});

test("parseMetrics reads the scores, best epoch, history and settings; the plan's key wins over the file", () => {
  const problems: string[] = [];
  const r = parseMetrics(doc({ method: "propetl-adapter", seed: 2, f1: 0.87, accuracy: 0.92, curve: [0.7, 0.91, 0.9], seconds: 1273.3, k: 0.5 }), key("after", "propetl-adapter", 2), problems);
  assert.deepEqual(problems, []);
  assert.ok(r);
  assert.equal(r.id, "after/propetl-adapter/seed-2");
  close(r.testF1, 0.87);
  close(r.testAccuracy, 0.92);
  assert.equal(r.bestEpoch, 2);
  close(r.bestValidationF1, 0.91);
  assert.equal(r.epochs, 3);
  assert.equal(r.trainSeconds, 1273.3);
  assert.deepEqual(r.history.map((h) => h.epoch), [1, 2, 3]);
  assert.equal(r.recorded["method.k"], "0.5");
  assert.equal(r.recorded["hyper.lr"], "0.001");
  assert.equal(r.recorded["hyper.seed"], undefined, "the seed is a grid coordinate, not a setting");

  // A file that disagrees with the plan, has no test score and no history: kept, with problems.
  const bad = { task: "sst2", seed: 3, method: { method: "lora" }, test: { scores: { f1: null } } };
  const p2: string[] = [];
  const r2 = parseMetrics(bad, key("after", "adapter", 1), p2);
  assert.ok(r2);
  assert.equal(r2.testF1, null);
  assert.equal(r2.method, "adapter");
  assert.equal(r2.seed, 1);
  assert.equal(p2.length, 5, p2.join("\n"));
  assert.equal(parseMetrics([1, 2], key("after", "adapter", 1), p2), null);
});

test("seedValues: per seed over the finished runs of one code version and method only", () => {
  const runs = [run("after", "adapter", 3, 0.9), run("after", "adapter", 1, 0.8), run("before", "adapter", 2, 0.1), run("after", "lora", 2, 0.2)];
  const v = seedValues(runs, "after", "adapter", "testF1");
  assert.deepEqual([...v.bySeed.keys()], [1, 3]);
  close(v.stat?.mean, 0.85);
  assert.equal(v.stat?.n, 2);
  const none = seedValues(runs, "after", "only-share", "testF1");
  assert.equal(none.bySeed.size, 0);
  assert.equal(none.stat, null);
  const one = seedValues(runs, "before", "adapter", "bestEpoch");
  assert.deepEqual([...one.bySeed], [[2, 3]]);
  assert.equal(one.stat?.sd, null);
});

test("paired differences only over the seeds both sides have; who is higher; no overlap is empty", () => {
  const runs = [
    run("after", "propetl-adapter", 1, 0.87),
    run("after", "propetl-adapter", 2, 0.9),
    run("after", "propetl-adapter", 3, 0.88),
    run("after", "adapter", 1, 0.89),
    run("after", "adapter", 3, 0.88),
    run("after", "adapter", 4, 0.5),
  ];
  const d = pairedDifference(runs, { code: "after", method: "propetl-adapter" }, { code: "after", method: "adapter" });
  assert.deepEqual(d.seeds, [1, 3]);
  close(d.diffs.get(1) ?? Number.NaN, -0.02);
  close(d.diffs.get(3) ?? Number.NaN, 0);
  assert.equal(d.diffs.has(2), false);
  close(d.stat?.mean, -0.01);
  close(d.stat?.sd, Math.sqrt(2) * 0.01);
  assert.equal(d.aHigher, 0);
  assert.equal(d.bHigher, 1);
  assert.equal(d.ties, 1);
  assert.deepEqual(d.onlyA, [2]);
  assert.deepEqual(d.onlyB, [4]);

  // after − before of one method: the code version is part of the side.
  const ab = pairedDifference([run("after", "adapter", 1, 0.89), run("before", "adapter", 1, 0.885)], { code: "after", method: "adapter" }, { code: "before", method: "adapter" });
  close(ab.stat?.mean, 0.005);
  assert.equal(ab.stat?.sd, null);
  assert.equal(ab.aHigher, 1);

  const none = pairedDifference(runs, { code: "after", method: "propetl-lora" }, { code: "after", method: "lora" });
  assert.deepEqual(none.seeds, []);
  assert.equal(none.stat, null);
  assert.equal(none.diffs.size, 0);
});

test("validation curves skip epochs without F1; the peak is the first highest epoch", () => {
  const r = run("after", "adapter", 1, 0.9, [0.5, null, 0.9, 0.85, 0.9]);
  assert.deepEqual(validationCurve(r).map((p) => p.epoch), [1, 3, 4, 5]);
  assert.equal(peakEpoch(validationCurve(r)), 3);
  assert.equal(peakEpoch([]), null);
});

test("epochTable: one column per finished seed, rows over the union of epochs, means over the seeds present", () => {
  const runs = [run("after", "adapter", 2, 0.9, [0.6, 0.8]), run("after", "adapter", 1, 0.9, [0.5, 0.9, 0.85]), run("before", "adapter", 1, 0.1, [0.1])];
  const t = epochTable(runs, "after", "adapter");
  assert.deepEqual(t.seeds, [1, 2]);
  assert.deepEqual(t.rows.map((r) => r.epoch), [1, 2, 3]);
  close(t.rows[0].f1Stat?.mean, 0.55);
  close(t.rows[1].f1Stat?.mean, 0.85);
  assert.equal(t.rows[2].f1Stat?.n, 1);
  assert.equal(t.rows[2].f1.has(2), false);
  close(t.rows[0].trainLoss?.mean, 0.5);
  assert.deepEqual([...t.peak], [[1, 2], [2, 2]]);
  assert.deepEqual(epochTable(runs, "after", "lora").rows, []);
});

test("progress of an unfinished run from its train.log, across a resume and junk lines", () => {
  const log = [
    '{"type":"start","totalSteps":600}',
    '{"type":"step","step":1,"totalSteps":600}',
    '{"type":"eval","epoch":1}',
    "node: some warning",
    '{"type":"step","step":60,"totalSteps":600}',
    '{"type":"start","resumed":true}',
    '{"type":"step","step":51,"totalSteps":600}',
    '{"type":"step", broken',
  ].join("\n");
  assert.deepEqual(progressFromLog(log), { step: 51, totalSteps: 600, epochsEvaluated: 1 });
  assert.deepEqual(progressFromLog(""), { step: null, totalSteps: null, epochsEvaluated: 0 });
});

test("commands: the planned part is compared with the plan; --output under the repository is shown relative", () => {
  const cmd = ["propetl", "train", "--method", "adapter", "--seed", "1", "--output", "/repo/experiments/converge/results/after/adapter/seed-1", "--json", "--resume"];
  assert.deepEqual(plannedPart(cmd), ["--method", "adapter", "--seed", "1"]);
  assert.equal(commandLine(cmd, "/repo"), "propetl train --method adapter --seed 1 --output experiments/converge/results/after/adapter/seed-1 --json --resume");
  assert.equal(commandLine(["propetl", "--output", "/elsewhere/x", "a b"], "/repo"), "propetl --output /elsewhere/x 'a b'");
  assert.equal(docComment("/**\n * First line.\n *\n * - item\n */\nexport const A = 1;"), "First line.\n\n- item");
  assert.equal(docComment("const a = 1;"), null);
});

function statusOf(runs: readonly RunMetrics[], extra: [string, RunStatus][] = []): Map<string, RunStatus> {
  return new Map<string, RunStatus>([...runs.map((r): [string, RunStatus] => [r.id, { state: "done", run: r }]), ...extra]);
}

test("the report renders any subset of the grid and says how much of it is done", () => {
  const plan = planRuns();
  const runs = [run("after", "adapter", 1, 0.89, [0.5, 0.92, 0.9]), run("after", "propetl-adapter", 1, 0.87), run("before", "adapter", 1, 0.885, [0.6, 0.89, 0.88])];
  const status = statusOf(runs, [["after/only-share/seed-1", { state: "in progress", progress: { step: 105, totalSteps: 600, epochsEvaluated: 2 } }]]);
  const md = generatedMarkdown({ plan, status, planComment: "The plan's comment.", problems: [], repoRoot: "/repo" });
  const afterCount = plan.filter((r) => keyOf(r).code === "after").length;
  const beforeCount = plan.length - afterCount;
  assert.ok(md.includes(`**Runs done:** 3 of ${plan.length} planned (after the fix: 2 of ${afterCount}; before the fix: 1 of ${beforeCount}); 1 in progress`), md.slice(0, 400));
  assert.ok(md.includes("> The plan's comment."));
  assert.ok(md.includes("in progress: step 105/600, 2 epoch(s) validated"));
  assert.ok(md.includes("`propetl train --method adapter --seed 1 --task spam --epochs "), "a done run's recorded command");
  assert.ok(md.includes(" --output experiments/converge/results/after/adapter/seed-1 --json`"), "its --output relative to the repository");
  assert.ok(md.includes("| Adapter | 1/3 | 89.0 (1 seed, no sd) | 89.0 / – / – |"), "single-seed cell");
  assert.ok(md.includes("| LoRA | 0/3 | – | – / – / – |"), "missing method");
  assert.ok(md.includes("| ProPETL-Adapter − Adapter (after the fix) | −2.0 | – | – | −2.0 (1 seed, no sd) | A 0, B 1 of 1 | – |"));
  assert.ok(md.includes("| Adapter: after − before the fix | +0.5 | – | – | +0.5 (1 seed, no sd) | A 1, B 0 of 1 | – |"));
  assert.ok(md.includes("| Only share − Adapter (after the fix) | – | – | – | – | – | 1 (B only) |"));
  // The adapter's per-epoch table: the peak in bold, the peak row.
  assert.ok(md.includes("| 2 | **92.0** | 0.2500 | **89.0** | 0.2500 |"), md);
  assert.ok(md.includes("| peak epoch | 2 |  | 2 |  |"));
  assert.ok(!md.includes("Problems while reading"));

  // A recorded command that differs from the plan is a problem, not silently shown.
  const odd = { ...runs[0], command: ["propetl", "train", "--method", "adapter", "--seed", "1", "--epochs", "3"] };
  const md2 = generatedMarkdown({ plan, status: statusOf([odd]), planComment: null, problems: ["x: something"], repoRoot: "/repo" });
  assert.ok(md2.includes("Problems while reading the results (2)"));
  assert.ok(md2.includes("after/adapter/seed-1: recorded command arguments differ from the plan's"));

  // Nothing finished: still renders.
  const empty = generatedMarkdown({ plan, status: new Map(), planComment: null, problems: [], repoRoot: "/repo" });
  assert.ok(empty.includes(`**Runs done:** 0 of ${plan.length} planned`));
  assert.ok(empty.includes("No adapter run has finished yet."));
});

test("RESULTS.md: a new file gets the hand-written section as a placeholder; regenerating keeps what the lead wrote", () => {
  const first = spliceGenerated(null, "tables v1");
  assert.ok(first.includes(`${BEGIN}\ntables v1\n${END}`));
  assert.ok(first.indexOf(WHAT_IT_SHOWS) > first.indexOf(END));
  assert.ok(first.includes(PLACEHOLDER));
  const edited = first.replace(PLACEHOLDER, "ProPETL-adapter is within noise of the adapter.");
  const second = spliceGenerated(edited, "tables v2");
  assert.ok(second.includes("tables v2") && !second.includes("tables v1"));
  assert.ok(second.includes("ProPETL-adapter is within noise of the adapter."));
  assert.ok(!second.includes(PLACEHOLDER));
  // No markers: the block goes before the hand-written section.
  const noMarkers = spliceGenerated(`# T\n\n${WHAT_IT_SHOWS}\n\nmine\n`, "g");
  assert.ok(noMarkers.indexOf(BEGIN) < noMarkers.indexOf(WHAT_IT_SHOWS) && noMarkers.includes("mine"));
  assert.throws(() => spliceGenerated(`${END}\n${BEGIN}`, "g"));
});

test("curves.svg: one path per finished run, before dashed, a legend; empty grid says so", () => {
  const runs = [run("after", "adapter", 1, 0.89, [0.5, 0.92, 0.9]), run("before", "adapter", 1, 0.885, [0.6, 0.89]), run("after", "lora", 2, 0.8, [0.7, 0.8, 0.75])];
  const svg = curvesSvg(runs, 24);
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  const lines = [...svg.matchAll(/<path d="M[^"]+" fill="none" stroke="(#[0-9A-F]+)" stroke-width="1.8"( stroke-dasharray="7 4")?/g)];
  assert.equal(lines.length, 3);
  assert.equal(lines.filter((m) => m[2]).length, 1, "one dashed (before) line");
  assert.ok(svg.includes(">3 of 24 planned runs finished; one line per run (validation split, after every epoch)</text>"));
  assert.ok(svg.includes(">epoch</text>") && svg.includes(">validation F1 × 100 (spam)</text>"));
  assert.ok(svg.includes(">ProPETL-LoRA (none yet)</text>"));
  const empty = curvesSvg([], 24);
  assert.ok(empty.includes(">no finished runs yet</text>"));
});
