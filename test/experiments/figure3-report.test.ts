/** The Figure 3 report: aggregation of hand-made metrics objects, the claim line, the reference rows, rendering and splicing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMON_ARGS, FULL_LR, MODEL_DIR, fullReferenceRun, planRuns, runnerPlan } from "../../experiments/figure3/plan.js";
import {
  type PointSummary,
  type RunKey,
  type RunMetrics,
  type RunStatus,
  BEGIN,
  END,
  PLACEHOLDER,
  WHAT_IT_SHOWS,
  bleuVsStorageSvg,
  checkPredictions,
  claimLine,
  copySourceBleu,
  formatStat,
  generatedMarkdown,
  keyOf,
  paperClaim,
  parseMetrics,
  methodConfigOf,
  plannedPart,
  plannedStorage,
  pointSummaries,
  predictionCheckPasses,
  progressFromLog,
  spliceGenerated,
} from "../../experiments/figure3/report.js";
import { corpusBleu } from "../../src/metrics/bleu.js";
import { parseT5Config } from "../../src/models/t5/config.js";

const close = (a: number | null | undefined, b: number, eps = 1e-9) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

const D = 256, LAYERS = 8;
/** A made-up backbone size in bits (only ratios matter here). */
const BACKBONE_BITS = 32 * 10_000_000;

/** Bit-level storage of the adapters as the paper counts it (eqs. 14 and Pfeiffer per layer). */
function bits(method: string, size: number): number {
  const module = 32 * (2 * size * D + size + D);
  return method === "propetl-adapter" ? module + 2 * size * D * LAYERS : module * LAYERS;
}

function key(method: string, size: number, seed: number): RunKey {
  const plan = planRuns().find((r) => r.variant === `${method}/${method.includes("lora") ? "r" : "bn"}-${size}` && r.seed === seed);
  assert.ok(plan, `no planned run ${method} ${size} seed ${seed}`);
  return keyOf(plan);
}

/** A metrics.json document as the text-to-text CLI writes it (only the fields the report reads). */
function doc(o: { method: string; size: number; seed: number; bleu: number; val?: number; step?: number; seconds?: number; task?: string }): Record<string, unknown> {
  const b = bits(o.method, o.size);
  const val = o.val ?? o.bleu + 1;
  const history = [100, 200, 300].map((step) => ({ epoch: 1, step, main: step === (o.step ?? 200) ? val : val - 1, scores: { bleu: step === (o.step ?? 200) ? val : val - 1 } }));
  return {
    format: "propetl-metrics",
    task: o.task ?? "bible-es-en",
    taskKind: "text-to-text",
    seed: o.seed,
    mainMetric: "bleu",
    test: { main: o.bleu, scores: { bleu: o.bleu, bp: 0.9, sysLen: 900, refLen: 1000 }, examples: 577 },
    validation: history.find((h) => h.step === (o.step ?? 200)),
    history,
    steps: 500,
    method: { method: o.method, [o.method.includes("lora") ? "rank" : "bottleneck"]: o.size, ...(o.method.startsWith("propetl") ? { k: 0.5 } : {}) },
    storage: { bits: b, bytes: Math.ceil(b / 8), percentOfBackbone: (100 * b) / BACKBONE_BITS, checkpointBytes: Math.ceil(b / 8) + 2000 },
    trainSeconds: o.seconds ?? 600,
    command: ["propetl", "train", ...(planRuns().find((r) => r.id === key(o.method, o.size, o.seed).id)?.args ?? []), "--output", `/repo/experiments/figure3/results/${key(o.method, o.size, o.seed).id}`, "--json"],
  };
}

function run(method: string, size: number, seed: number, bleu: number, extra: { val?: number; step?: number; seconds?: number } = {}): RunMetrics {
  const problems: string[] = [];
  const r = parseMetrics(doc({ method, size, seed, bleu, ...extra }), key(method, size, seed), problems);
  assert.deepEqual(problems, []);
  assert.ok(r);
  return r;
}

function point(points: readonly PointSummary[], method: string, size: number): PointSummary {
  const p = points.find((x) => x.method === method && x.size === size);
  assert.ok(p, `no point ${method} ${size}`);
  return p;
}

test("the plan: 30 runs, each id names its method, size and seed, the claim's two points first in each seed", () => {
  const plan = planRuns();
  assert.equal(plan.length, 30);
  assert.equal(new Set(plan.map((r) => r.id)).size, 30);
  assert.deepEqual(plan.slice(0, 2).map((r) => r.id), ["adapter/bn-64/seed-1", "propetl-adapter/bn-16/seed-1"]);
  assert.ok(plan.slice(0, 10).every((r) => r.seed === 1), "seed 1 of both families first");
  assert.ok(plan.slice(0, 6).every((r) => r.variant.includes("adapter")), "the adapter family before LoRA");
  const pl = plan.find((r) => r.id === "propetl-lora/r-32/seed-2");
  assert.ok(pl);
  assert.deepEqual(pl.args.slice(0, 8), ["--method", "propetl-lora", "--rank", "32", "--alpha", "48", "--k", "0.5"]);
  assert.ok(plan.every((r) => r.args.join(" ").endsWith(COMMON_ARGS.join(" ")) && r.args.includes(MODEL_DIR)));
  assert.ok(plan.every((r) => !r.args.includes("--max-eval-examples")), "full validation and test splits");
  assert.deepEqual(keyOf(pl), { id: "propetl-lora/r-32/seed-2", method: "propetl-lora", family: "lora", sizeKind: "rank", size: 32, seed: 2 });
});

test("parseMetrics reads BLEU, the best step, storage and time; the plan's key wins over the file", () => {
  const r = run("propetl-adapter", 64, 2, 12.5, { val: 14, step: 300, seconds: 720 });
  close(r.testBleu, 12.5);
  close(r.testBp, 0.9);
  assert.equal(r.testExamples, 577);
  close(r.bestValidationBleu, 14);
  assert.equal(r.bestStep, 300);
  assert.equal(r.steps, 500);
  assert.equal(r.evals, 3);
  assert.equal(r.storageBits, bits("propetl-adapter", 64));
  close(r.storagePercent, (100 * bits("propetl-adapter", 64)) / BACKBONE_BITS);
  assert.equal(r.checkpointBytes, Math.ceil(bits("propetl-adapter", 64) / 8) + 2000);
  assert.equal(r.trainSeconds, 720);

  // A file that disagrees with the plan and has no test score or storage: kept, with problems.
  const problems: string[] = [];
  const bad = { task: "spam", seed: 3, mainMetric: "f1", method: { method: "lora", bottleneck: 4 }, test: { scores: { bleu: null } } };
  const r2 = parseMetrics(bad, key("adapter", 16, 1), problems);
  assert.ok(r2);
  assert.equal(r2.testBleu, null);
  assert.equal(r2.method, "adapter");
  assert.equal(r2.size, 16);
  assert.equal(problems.length, 7, problems.join("\n"));
  assert.ok(problems.some((p) => p.includes("bottleneck 4 in metrics.json, 16 in the plan")));
  assert.equal(parseMetrics("x", key("adapter", 16, 1), problems), null);
});

test("pointSummaries: one point per planned method and size, mean ± sd over the finished seeds only", () => {
  const plan = planRuns();
  const problems: string[] = [];
  const runs = [run("adapter", 64, 1, 20), run("adapter", 64, 2, 22), run("adapter", 64, 3, 24, { seconds: 900 }), run("propetl-adapter", 16, 2, 19)];
  const points = pointSummaries(plan, runs, problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    points.map((p) => `${p.method}:${p.size}`),
    ["adapter:4", "adapter:16", "adapter:64", "propetl-adapter:16", "propetl-adapter:64", "propetl-adapter:256", "lora:2", "lora:8", "propetl-lora:8", "propetl-lora:32"],
  );
  const a64 = point(points, "adapter", 64);
  assert.equal(a64.planned, 3);
  close(a64.test?.mean, 22);
  close(a64.test?.sd, 2);
  assert.equal(a64.test?.n, 3);
  close(a64.validation?.mean, 23);
  close(a64.trainMinutes?.mean, (600 + 600 + 900) / 3 / 60);
  assert.equal(a64.storageBits, bits("adapter", 64));
  const p16 = point(points, "propetl-adapter", 16);
  assert.deepEqual([...p16.testBySeed], [[2, 19]]);
  assert.equal(p16.test?.sd, null);
  const none = point(points, "lora", 2);
  assert.equal(none.test, null);
  assert.equal(none.storageBits, null);
  assert.equal(none.runs.length, 0);

  assert.equal(formatStat(a64.test, 3), "22.00 ± 2.00");
  assert.equal(formatStat(p16.test, 3), "19.00 (1 seed, no sd)");
  assert.equal(formatStat(point(pointSummaries(plan, runs.slice(0, 2)), "adapter", 64).test, 3), "21.00 ± 1.41 (n=2)");
  assert.equal(formatStat(null, 3), "–");

  // Storage is a function of method and size: seeds that disagree are a problem.
  const odd = { ...run("adapter", 4, 2, 10), storageBits: 1 };
  const differ: string[] = [];
  pointSummaries(plan, [run("adapter", 4, 1, 10), odd], differ);
  assert.equal(differ.length, 1);
  assert.ok(differ[0].includes("adapter bn 4: storageBits differs between seeds"));
});

test("the paper claim: the smallest-storage ProPETL point against the best plain point, with the storage ratio", () => {
  const plan = planRuns();
  const runs = [
    run("adapter", 4, 1, 15),
    run("adapter", 16, 1, 21),
    run("adapter", 64, 1, 20),
    run("propetl-adapter", 16, 1, 18.5),
    run("propetl-adapter", 64, 1, 22),
  ];
  const points = pointSummaries(plan, runs);
  const c = paperClaim(points, "adapter");
  assert.ok(c);
  assert.equal(c.propetl.method, "propetl-adapter");
  assert.equal(c.propetl.size, 16, "the least storage, not the best score");
  assert.equal(c.plain.method, "adapter");
  assert.equal(c.plain.size, 16, "the best plain BLEU, not the largest module");
  close(c.bleuDifference, -2.5);
  close(c.storageRatio, bits("adapter", 16) / bits("propetl-adapter", 16));
  const line = claimLine(c);
  assert.ok(line.includes("ProPETL-Adapter bn 16"), line);
  assert.ok(line.includes("Adapter bn 16"), line);
  assert.ok(line.includes("a difference of −2.50 BLEU"), line);
  assert.ok(line.includes(`with ${(bits("adapter", 16) / bits("propetl-adapter", 16)).toFixed(1)}× less storage`), line);
  assert.ok(line.includes(`${bits("propetl-adapter", 16).toLocaleString("en-US")} bits`), line);

  // Without a finished point on either side there is no claim.
  assert.equal(paperClaim(points, "lora"), null);
  assert.equal(paperClaim(pointSummaries(plan, runs.filter((r) => r.method === "adapter")), "adapter"), null);
});

test("reference rows: copy-source BLEU is corpusBleu of the sources; predictions are counted and rescored", () => {
  const sources = ["la casa de David", "Jesús dijo", "y Pedro"];
  const refs = ["the house of David", "Jesus said", "and Peter"];
  const c = copySourceBleu(sources, refs);
  close(c.bleu, corpusBleu(sources, [refs]).score);
  assert.equal(c.examples, 3);
  assert.ok(c.unigramPrecision > 0 && c.unigramPrecision < 100);

  const r = { ...run("adapter", 16, 1, 0), testExamples: 3 };
  const preds = ["the house of David", "Jesus said so", "and Peter"];
  const good = checkPredictions({ ...r, testBleu: corpusBleu(preds, [refs]).score }, preds, refs);
  assert.equal(good.lines, 3);
  assert.ok(predictionCheckPasses(good));
  // Wrong count, wrong score, no file: all fail the check.
  assert.ok(!predictionCheckPasses(checkPredictions({ ...r, testBleu: corpusBleu(preds.slice(0, 2), [refs.slice(0, 2)]).score }, preds.slice(0, 2), refs)));
  assert.ok(!predictionCheckPasses(checkPredictions({ ...r, testBleu: 99 }, preds, refs)));
  const missing = checkPredictions(r, null, refs);
  assert.equal(missing.lines, null);
  assert.ok(!predictionCheckPasses(missing));
});

test("progress of an unfinished run from its train.log: the step and the validations so far", () => {
  const log = [
    '{"type":"step","step":1,"totalSteps":500}',
    '{"type":"eval","epoch":1,"step":100,"main":3.5}',
    "node: some warning",
    '{"type":"step","step":150,"totalSteps":500}',
    '{"type":"eval","epoch":1,"step":200,"main":5.25}',
    '{"type":"step", broken',
  ].join("\n");
  assert.deepEqual(progressFromLog(log), { step: 150, totalSteps: 500, evals: 2, lastBleu: 5.25 });
  assert.deepEqual(progressFromLog(""), { step: null, totalSteps: null, evals: 0, lastBleu: null });
  assert.deepEqual(plannedPart(["propetl", "train", "--method", "adapter", "--output", "/x", "--json", "--resume"]), ["--method", "adapter"]);
});

function statusOf(runs: readonly RunMetrics[], extra: [string, RunStatus][] = []): Map<string, RunStatus> {
  return new Map<string, RunStatus>([...runs.map((r): [string, RunStatus] => [r.id, { state: "done", run: r }]), ...extra]);
}

test("the report renders any subset of the grid: the table, the claim, the reference rows, the commands", () => {
  const plan = planRuns();
  const runs = [run("adapter", 64, 1, 20.25, { val: 21.5, step: 300, seconds: 750 }), run("adapter", 64, 2, 21.75), run("propetl-adapter", 16, 1, 19.5)];
  const status = statusOf(runs, [["adapter/bn-4/seed-1", { state: "in progress", progress: { step: 120, totalSteps: 500, evals: 1, lastBleu: 4.5 } }]]);
  const predictions = runs.map((r) => ({ id: r.id, lines: 577, expected: 577, rescored: r.testBleu, recorded: r.testBleu }));
  predictions[2] = { ...predictions[2], lines: 576 };
  const references = { copySource: { bleu: 0.0638, bp: 0.971, unigramPrecision: 11.2, examples: 577 }, predictions };
  const md = generatedMarkdown({ plan, status, planComment: "The plan's comment.", references, problems: [], repoRoot: "/repo" });
  assert.ok(md.includes("**Runs done:** 3 of 30 planned; 1 in progress"), md.slice(0, 400));
  assert.ok(md.includes("> The plan's comment."));
  assert.ok(md.includes("in progress: step 120/500, 1 validation(s), last validation BLEU 4.50"));
  assert.ok(md.includes("node dist/experiments/compare/run.js --plan figure3"));
  assert.ok(md.includes("`propetl train --method adapter --bottleneck 64 --seed 1 --task bible-es-en --model models/propetl-mini-t5 "), "a done run's recorded command");
  assert.ok(md.includes(" --output experiments/figure3/results/adapter/bn-64/seed-1 --json`"), "its --output relative to the repository");
  const a64 = bits("adapter", 64);
  assert.ok(
    md.includes(`| Adapter | bn 64 | 2/3 | 21.00 ± 1.06 (n=2) | 20.25 / 21.75 / – | 21.50 @ 300 / 22.75 @ 200 / – | ${a64.toLocaleString("en-US")} | ${(a64 / 8).toLocaleString("en-US")} (`),
    md,
  );
  assert.ok(md.includes("| 12.5 / 10.0 / – |"), "train minutes per seed");
  assert.ok(md.includes("| ProPETL-Adapter | bn 16 | 1/3 | 19.50 (1 seed, no sd) | 19.50 / – / – |"));
  assert.ok(md.includes("| LoRA | r 2 | 0/3 | – | – / – / – | – / – / – | – | – | – | – | – / – / – |"), "a point with no finished run");
  assert.ok(md.includes("| Copy source (reference, no training) | – | – | 0.06 |"));
  assert.ok(md.includes("BLEU 0.06 (1-gram precision 11.2%, brevity penalty 0.971)"));
  assert.ok(md.includes("**Adapter family:** the smallest-storage ProPETL point, ProPETL-Adapter bn 16"));
  assert.ok(md.includes("a difference of −1.50 BLEU"));
  assert.ok(md.includes("**LoRA family:** not enough finished runs yet"));
  assert.ok(md.includes("- **test_predictions.txt:** 2 of 3 finished run(s)"));
  assert.ok(md.includes("  - `propetl-adapter/bn-16/seed-1`: 576 line(s) for 577 test examples"));
  assert.ok(!md.includes("Problems while reading"));

  // A recorded command that differs from the plan is a problem, not silently shown.
  const odd = { ...runs[0], command: ["propetl", "train", "--method", "adapter", "--bottleneck", "64", "--epochs", "3"] };
  const md2 = generatedMarkdown({ plan, status: statusOf([odd]), planComment: null, references: { copySource: null, predictions: [] }, problems: ["x: something"], repoRoot: "/repo" });
  assert.ok(md2.includes("Problems while reading the results (2)"));
  assert.ok(md2.includes("adapter/bn-64/seed-1: recorded command arguments differ from the plan's"));
  assert.ok(md2.includes("the test split could not be read"));

  const empty = generatedMarkdown({ plan, status: new Map(), planComment: null, references: { copySource: null, predictions: [] }, problems: [], repoRoot: "/repo" });
  assert.ok(empty.includes("**Runs done:** 0 of 30 planned"));
  assert.ok(empty.includes("no finished run to check yet"));
});

test("the full fine-tuning reference: read like a run, a table row, a reference line, its command; pending until done", () => {
  const plan = planRuns();
  const fullPlan = fullReferenceRun();
  assert.equal(fullPlan.id, "full/seed-1");
  assert.ok(!fullPlan.args.includes("--mask-lr"), "no mask rate for full fine-tuning");
  assert.equal(fullPlan.args[fullPlan.args.indexOf("--lr") + 1], FULL_LR);
  assert.deepEqual(runnerPlan().map((r) => r.id).slice(0, 7).at(-1), "full/seed-1", "after seed 1 of the adapter family");
  const total = 9393920 * 32;
  const problems: string[] = [];
  const fullRun = parseMetrics(
    { task: "bible-es-en", seed: 1, mainMetric: "bleu", method: { method: "full" }, test: { scores: { bleu: 3.25 }, examples: 577 }, validation: { step: 100, scores: { bleu: 2.5 } }, steps: 100, storage: { bits: total, bytes: total / 8, percentOfBackbone: 100, checkpointBytes: total / 8 + 900 }, trainSeconds: 900 },
    keyOf(fullPlan),
    problems,
  );
  assert.deepEqual(problems, []);
  assert.ok(fullRun);
  const base = { copySource: null, predictions: [] };
  const done = generatedMarkdown({ plan, status: new Map(), planComment: null, references: { ...base, full: { plan: fullPlan, status: { state: "done", run: fullRun } } }, problems: [], repoRoot: "/repo" });
  assert.ok(done.includes(`| Full fine-tuning (reference, lr ${FULL_LR}) | all weights | 1/1 | 3.25 (seed 1) | 3.25 | 2.50 @ 100 | 300,605,440 |`), done);
  assert.ok(done.includes("- **Full fine-tuning** (`full/seed-1`, trained): every weight of models/propetl-mini-t5"));
  assert.ok(done.includes("test BLEU 3.25, one seed"));
  assert.ok(done.includes("`propetl train --method full --seed 1 --task bible-es-en"), "its command is listed");
  assert.ok(done.includes("**Runs done:** 0 of 30 planned"), "the reference is not a grid run");
  const pending = generatedMarkdown({ plan, status: new Map(), planComment: null, references: { ...base, full: { plan: fullPlan, status: { state: "pending" } } }, problems: [], repoRoot: "/repo" });
  assert.ok(pending.includes("- **Full fine-tuning** (`full/seed-1`): pending."));
  assert.ok(pending.includes("| Full fine-tuning (reference, lr 3e-4) | all weights | 0/1 | – |"));
  const svg = bleuVsStorageSvg(pointSummaries(plan, []), 0.06, 0, 30, 3.25);
  assert.ok(svg.includes("full fine-tuning 3.25 (100% storage)"));
});

test("RESULTS.md: a new file gets the hand-written section as a placeholder; regenerating keeps what was written by hand", () => {
  const first = spliceGenerated(null, "tables v1");
  assert.ok(first.includes(`${BEGIN}\ntables v1\n${END}`));
  assert.ok(first.indexOf(WHAT_IT_SHOWS) > first.indexOf(END));
  assert.ok(first.includes(PLACEHOLDER));
  const edited = first.replace(PLACEHOLDER, "ProPETL-adapter bn 16 is within 1 BLEU of the adapter.");
  const second = spliceGenerated(edited, "tables v2");
  assert.ok(second.includes("tables v2") && !second.includes("tables v1"));
  assert.ok(second.includes("ProPETL-adapter bn 16 is within 1 BLEU of the adapter."));
  assert.equal(second.slice(second.indexOf(END)), edited.slice(edited.indexOf(END)), "everything after the block unchanged");
  assert.equal(second.slice(0, second.indexOf(BEGIN)), edited.slice(0, edited.indexOf(BEGIN)), "everything before the block unchanged");
  assert.throws(() => spliceGenerated(`${END}\n${BEGIN}`, "g"));
});

test("bleu-vs-storage.svg: a marker and a label per finished point, ordered by storage on a log axis, one line per method", () => {
  const plan = planRuns();
  const runs = [
    run("adapter", 4, 1, 15),
    run("adapter", 16, 1, 18),
    run("adapter", 64, 1, 20),
    run("adapter", 64, 2, 22),
    run("propetl-adapter", 16, 1, 17),
    run("propetl-adapter", 256, 1, 21),
  ];
  const points = pointSummaries(plan, runs);
  const svg = bleuVsStorageSvg(points, 0.06, runs.length, plan.length);
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.ok(svg.includes(">6 of 30 planned runs finished;"));
  // Data markers: adapter circles and ProPETL squares with a white outline (the legend adds one of each).
  const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="4.5" fill="#0072B2" stroke="white"/g)];
  const squares = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="8.1" height="8.1" fill="#E69F00" stroke="white"/g)];
  assert.equal(circles.length, 3 + 1);
  assert.equal(squares.length, 2 + 1);
  // The adapter points from left to right in order of storage, and the higher BLEU higher up.
  const data = circles.slice(0, 3).map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
  assert.ok(data[0].x < data[1].x && data[1].x < data[2].x, JSON.stringify(data));
  assert.ok(data[0].y > data[1].y && data[1].y > data[2].y, "SVG y grows downwards");
  // Log scale: equal storage ratios are equal distances. bn 4 → 16 → 64 is close to ×4 each (the bias terms differ).
  const ratio = (data[1].x - data[0].x) / (data[2].x - data[1].x);
  const expected = Math.log(bits("adapter", 16) / bits("adapter", 4)) / Math.log(bits("adapter", 64) / bits("adapter", 16));
  close(ratio, expected, 0.02);
  for (const label of ["bn 4", "bn 16", "bn 64", "bn 256"]) assert.ok(svg.includes(`>${label}</text>`), label);
  assert.equal([...svg.matchAll(/>bn 16<\/text>/g)].length, 2, "adapter and ProPETL both at bn 16");
  assert.equal([...svg.matchAll(/<path d="M[^"]+" fill="none" stroke="#(0072B2|E69F00)" stroke-width="2"/g)].length, 2, "one line per method with points");
  assert.ok(svg.includes(">copy source 0.06</text>"));
  assert.ok(svg.includes(">LoRA (none yet)</text>"));
  assert.ok(svg.includes("% of the backbone (log scale)</text>"));
  const empty = bleuVsStorageSvg(pointSummaries(plan, []), null, 0, 30);
  assert.ok(empty.includes(">no finished runs yet</text>"));
});

test("planned storage: the library's count for every grid point on propetl-mini-t5's shape, as Appendix B counts it", () => {
  // propetl-mini-t5's config.json (T5 v1.0, d_model 256, 4 + 4 layers).
  const cfg = parseT5Config(
    { model_type: "t5", vocab_size: 8000, d_model: 256, d_kv: 64, d_ff: 1024, num_layers: 4, num_decoder_layers: 4, num_heads: 4, feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 },
    "propetl-mini-t5 shape",
  );
  const planned = plannedStorage(cfg);
  assert.equal(planned.size, 10);
  for (const bn of [4, 16, 64]) assert.equal(planned.get(`adapter/bn-${bn}`)?.bits, bits("adapter", bn), `adapter bn ${bn}`);
  for (const bn of [16, 64, 256]) assert.equal(planned.get(`propetl-adapter/bn-${bn}`)?.bits, bits("propetl-adapter", bn), `propetl-adapter bn ${bn}`);
  // LoRA (eq. 16): 32·4·r·d per attention block, of which T5 has 12 here (4 encoder self-attention, 4 decoder
  // self-attention and 4 cross-attention); ProPETL-LoRA: one 32-bit prototype and a 1-bit mask per block.
  const ATTENTION_BLOCKS = 12;
  assert.equal(planned.get("lora/r-2")?.bits, 32 * 4 * 2 * D * ATTENTION_BLOCKS);
  assert.equal(planned.get("propetl-lora/r-32")?.bits, 32 * 4 * 32 * D + 4 * 32 * D * ATTENTION_BLOCKS);
  const a4 = planned.get("adapter/bn-4");
  assert.ok(a4 && a4.percentOfBackbone > 0 && a4.percentOfBackbone < 1);
  const c = methodConfigOf({ method: "propetl-lora", family: "lora", sizeKind: "rank", sizes: [8] }, 8);
  assert.deepEqual([c.method, c.rank, c.alpha, c.k], ["propetl-lora", 8, 12, 0.5], "the plan's flags: alpha = 1.5·r, k 0.5");

  // Points without a finished run show the planned storage; a run that recorded another count is a problem.
  const problems: string[] = [];
  const points = pointSummaries(planRuns(), [{ ...run("adapter", 16, 1, 20), storageBits: 5 }], problems, planned);
  assert.equal(point(points, "lora", 8).storageBits, 32 * 4 * 8 * D * ATTENTION_BLOCKS);
  assert.equal(point(points, "lora", 8).test, null);
  assert.equal(point(points, "adapter", 16).storageBits, 5, "a finished run's own record is shown");
  assert.equal(problems.length, 1);
  assert.ok(problems[0].startsWith(`adapter/bn-16/seed-1: storage 5 bits in metrics.json, ${bits("adapter", 16)} counted for models/propetl-mini-t5`), problems[0]);
  // Planned storage alone puts nothing on the plot and makes no claim.
  const unfinished = pointSummaries(planRuns(), [], [], planned);
  assert.equal(paperClaim(unfinished, "adapter"), null);
  assert.ok(bleuVsStorageSvg(unfinished, null, 0, 30).includes(">no finished runs yet</text>"));
});
