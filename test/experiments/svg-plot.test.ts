/** The experiments' SVG plotting module and the comparison report's aggregation and formatting. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Figure, PALETTE, formatBytes, linearScale, logScale, niceDomain, num } from "../../experiments/lib/svg-plot.js";
import { type RunResult, aggregate, averageOverTasks, meanStd, pairedDifference, parseRun, readResults, storageOf, sweepK, sweepVariant } from "../../experiments/compare/aggregate.js";
import { BEGIN, END, formatCell, formatDifference, spliceGenerated } from "../../experiments/compare/report.js";

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

/** Tags balance and every `&` is an entity: a minimal well-formedness check. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    const between = svg.slice(last, m.index);
    assert.ok(!between.includes("<") && !between.includes(">"), `stray angle bracket before ${m[0]}`);
    last = re.lastIndex;
    const [, close, tag, , self] = m;
    if (close) assert.equal(stack.pop(), tag, `</${tag}> closes the wrong element`);
    else if (!self) stack.push(tag);
  }
  assert.ok(!svg.slice(last).includes("<"), "unparsed tag at the end");
  assert.deepEqual(stack, [], "unclosed elements");
  assert.ok(!/&(?!amp;|lt;|gt;|quot;)/.test(svg), "raw & in the SVG");
}

test("linear scale maps the domain ends onto the range ends (also inverted, for y)", () => {
  const x = linearScale([0, 10], [50, 250]);
  assert.equal(x(0), 50);
  assert.equal(x(10), 250);
  assert.equal(x(5), 150);
  close(x.invert(150), 5);
  const y = linearScale([0.5, 0.9], [300, 20]);
  close(y(0.5), 300);
  close(y(0.9), 20);
  assert.deepEqual(linearScale([0, 1], [0, 1]).ticks(5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceDomain(0.537, 0.861), [0.5, 0.9]);
  assert.deepEqual(niceDomain(3, 3), [2.6, 3.4]);
});

test("log scale maps the ends, decades evenly, and ticks at powers of ten", () => {
  const x = logScale([1e3, 1e6], [0, 300]);
  close(x(1e3), 0);
  close(x(1e6), 300);
  close(x(1e4), 100);
  close(x(1e5), 200);
  close(x.invert(100), 1e4, 1e-6);
  assert.deepEqual(x.ticks(), [1e3, 1e4, 1e5, 1e6]);
  // Less than three decades: 2× and 5× ticks too.
  assert.deepEqual(logScale([6e4, 3e5], [0, 1]).ticks(), [1e5, 2e5]);
  assert.throws(() => logScale([0, 10], [0, 1]));
  assert.equal(formatBytes(148736), "149 KB");
  assert.equal(formatBytes(21619712), "21.6 MB");
  assert.equal(num(-0.001), "0");
  assert.equal(num(1 / 3), "0.33");
});

test("a figure with every element kind is well-formed SVG with the expected elements", () => {
  const fig = new Figure({ width: 400, height: 300, title: "a < b & c" });
  const box = { left: 50, top: 20, right: 380, bottom: 260 };
  const ax = fig.axes(box, logScale([1e3, 1e6], [box.left, box.right]), linearScale([0, 1], [box.bottom, box.top]));
  ax.yAxis({ grid: "#ddd", tickSize: 4 }).xAxis({ format: formatBytes, tickSize: 4 }).frame();
  ax.xLabel("bytes").yLabel("score \"quoted\"");
  ax.line([{ x: 1e3, y: 0.1 }, { x: 1e4, y: Number.NaN }, { x: 1e5, y: 0.5 }, { x: 1e6, y: 0.9 }], { stroke: PALETTE[0], dash: "4 2" });
  ax.errorBars([{ x: 1e4, lo: 0.2, hi: 0.4 }], { stroke: PALETTE[1] });
  for (const shape of ["circle", "square", "triangle", "diamond", "triangle-down", "cross", "plus", "star"] as const) ax.markers([{ x: 2e4, y: 0.3 }], { shape, fill: PALETTE[2] });
  ax.hline(0.5, { stroke: "#333", dash: "6 4" }).vline(1e5, { stroke: "#333" });
  ax.labels([{ x: 1e4, y: 0.3, text: "A & B" }, { x: 1e4, y: 0.3, text: "same spot" }]);
  fig.legend([{ label: "series <1>", stroke: { stroke: PALETTE[0] }, marker: { shape: "circle" } }], 300, 30);
  const svg = fig.toString();
  assertWellFormed(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="400" height="300" viewBox="0 0 400 300"/);
  assert.match(svg, /<title>a &lt; b &amp; c<\/title>/);
  for (const tag of ["<rect", "<line", "<path", "<circle", "<text"]) assert.ok(svg.includes(tag), `has ${tag}`);
  assert.ok(svg.includes(">A &amp; B</text>") && svg.includes(">series &lt;1&gt;</text>"));
  assert.ok(svg.includes('stroke-dasharray="4 2"'));
  // The NaN point breaks the line into two sub-paths, and 1 MB is a tick label.
  const dashed = /<path d="([^"]+)" fill="none" stroke="#0072B2" stroke-width="1.5" stroke-dasharray="4 2"\/>/.exec(svg);
  assert.ok(dashed && dashed[1].split("M").length - 1 === 2, "line broken at NaN");
  assert.ok(svg.includes(">1 MB</text>"));
  // The two labels at the same spot do not overlap: different positions.
  const labelPos = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>(A &amp; B|same spot)<\/text>/g)].map((m) => `${m[1]},${m[2]}`);
  assert.equal(labelPos.length, 2);
  assert.notEqual(labelPos[0], labelPos[1]);
  assertWellFormed(new Figure({ width: 10, height: 10, viewBox: false, background: null }).toString());
});

function run(task: string, variant: string, seed: number, testMain: number | null, bytes: number | null = 1000): RunResult {
  return {
    task, variant, seed, method: variant, k: null, base: null, mainMetric: "f1", scoreNames: ["f1"], testMain, validationMain: null,
    storage: bytes === null ? null : { bits: bytes * 8, bytes, percentOfBackbone: 0.5 }, trainSeconds: 10, file: `${task}/${variant}/seed-${seed}`,
  };
}

test("aggregation: mean, sample std (n − 1) and n over seeds; missing scores are left out", () => {
  assert.equal(meanStd([]), null);
  assert.deepEqual(meanStd([0.4]), { n: 1, mean: 0.4, std: null });
  const s = meanStd([0.5, 0.6, 0.7]);
  assert.ok(s);
  close(s.mean, 0.6);
  close(s.std as number, 0.1);
  const agg = aggregate([
    run("a", "adapter", 3, 0.7), run("a", "adapter", 1, 0.5), run("a", "adapter", 2, 0.6),
    run("b", "adapter", 1, 0.8), run("b", "adapter", 2, null), run("b", "adapter", 3, 0.9),
    run("a", "lora", 1, 0.3),
  ]);
  const a = agg.get("adapter")?.get("a");
  assert.ok(a);
  assert.equal(a.n, 3);
  assert.deepEqual(a.seeds, [1, 2, 3]);
  close(a.mean, 0.6);
  close(a.std as number, 0.1);
  const b = agg.get("adapter")?.get("b");
  assert.ok(b);
  assert.equal(b.n, 2);
  assert.deepEqual(b.seeds, [1, 3]);
  close(b.mean, 0.85);
  close(b.std as number, Math.sqrt(0.005));
  close(averageOverTasks(agg.get("adapter"), ["a", "b"]) as number, 0.725);
  assert.equal(averageOverTasks(agg.get("lora"), ["a", "b"]), null, "no average unless every task has a result");
  assert.equal(formatCell(a, 3), "60.0 ± 10.0");
  assert.equal(formatCell(b, 3), "85.0 ± 7.1 (n=2)");
  assert.equal(formatCell(agg.get("lora")?.get("a"), 3), "30.0 (n=1)");
  assert.equal(formatCell(undefined, 3), "–");
  assert.deepEqual(storageOf([run("a", "x", 1, 0.5, 2000), run("b", "x", 1, 0.5, null)], "x")?.bytes, { min: 2000, max: 2000 });
  assert.equal(storageOf([run("a", "x", 1, 0.5, null)], "x"), null);
});

test("paired differences: per-seed a − b over the seeds both ran, with wins and losses", () => {
  const runs = [
    run("t", "a", 1, 0.6), run("t", "a", 2, 0.5), run("t", "a", 3, 0.9), run("t", "a", 4, 0.7),
    run("t", "b", 1, 0.5), run("t", "b", 2, 0.7), run("t", "b", 3, 0.9), run("t", "b", 5, 0.1),
    run("u", "b", 4, 0.0),
  ];
  const d = pairedDifference(runs, "t", "a", "b");
  assert.ok(d);
  assert.deepEqual(d.seeds, [1, 2, 3], "seed 4 has no b on t, seed 5 no a; other tasks are not mixed in");
  close(d.mean, (0.1 - 0.2 + 0) / 3);
  close(d.std as number, meanStd([0.1, -0.2, 0])?.std as number);
  assert.equal(d.wins, 1);
  assert.equal(d.losses, 1);
  assert.equal(formatDifference(d), "−3.3 ± 15.3 (1/3)");
  assert.equal(formatDifference(pairedDifference([run("t", "a", 1, 0.55), run("t", "b", 1, 0.5)], "t", "a", "b")), "+5.0 (1/1)");
  assert.equal(formatDifference(pairedDifference([run("t", "a", 1, 0.5), run("t", "b", 1, 0.5)], "t", "a", "b")), "0.0 (0/1)");
  assert.equal(pairedDifference(runs, "t", "a", "missing"), null);
  assert.equal(formatDifference(null), "–");
});

test("metrics.json parsing and the results folder walk", () => {
  const problems: string[] = [];
  const r = parseRun(
    { task: "spam", seed: 2, mainMetric: "f1", test: { main: null, scores: { f1: null, accuracy: 0.7 } }, method: { method: "only-mask", base: "adapter", k: 0.25 }, storage: null, trainSeconds: 5 },
    { task: "spam", variant: "only-mask", seed: 1, file: "f" },
    problems,
  );
  assert.ok(r);
  assert.equal(r.testMain, null);
  assert.equal(r.storage, null);
  assert.equal(r.base, "adapter");
  assert.equal(r.k, 0.25);
  assert.deepEqual(r.scoreNames, ["f1", "accuracy"]);
  assert.equal(problems.length, 2, problems.join("\n")); // seed disagrees, no test.main

  const dir = mkdtempSync(path.join(os.tmpdir(), "propetl-report-"));
  const put = (rel: string, body: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  };
  put("spam/adapter/seed-1/metrics.json", JSON.stringify({ task: "spam", seed: 1, mainMetric: "f1", test: { main: 0.5, scores: { f1: 0.5 } }, storage: { bits: 8000, bytes: 1000, percentOfBackbone: 1 }, trainSeconds: 3 }));
  put("spam/propetl-adapter-k0.3/seed-2/metrics.json", JSON.stringify({ task: "spam", seed: 2, mainMetric: "f1", test: { main: 0.4, scores: { f1: 0.4 } }, storage: null }));
  put("spam/adapter/seed-3/metrics.json", "{not json");
  put("spam/adapter/seed-4/train.log", "running");
  const res = readResults(dir);
  assert.deepEqual(res.runs.map((x) => `${x.task}/${x.variant}/${x.seed}`), ["spam/adapter/1", "spam/propetl-adapter-k0.3/2"]);
  assert.equal(res.problems.length, 1);
  assert.deepEqual(readResults(path.join(dir, "missing")), { runs: [], problems: [] });
  assert.equal(sweepK("propetl-adapter-k0.3"), 0.3);
  assert.equal(sweepK("propetl-adapter"), 0.5);
  assert.equal(sweepK("adapter"), null);
  assert.equal(sweepVariant(1), "propetl-adapter-k1.0");
  assert.equal(sweepVariant(0.5), "propetl-adapter");
});

test("RESULTS.md: only the block between the markers is regenerated", () => {
  const fresh = spliceGenerated(null, "table 1\n");
  assert.ok(fresh.includes(`${BEGIN}\ntable 1\n${END}`));
  const edited = `# My notes\n\nhand-written\n\n${BEGIN}\nold\n${END}\n\nfooter\n`;
  assert.equal(spliceGenerated(edited, "new"), `# My notes\n\nhand-written\n\n${BEGIN}\nnew\n${END}\n\nfooter\n`);
  assert.equal(spliceGenerated("# Notes\n", "x"), `# Notes\n\n${BEGIN}\nx\n${END}\n`);
  assert.throws(() => spliceGenerated(`${END}\n${BEGIN}\n`, "x"));
});
