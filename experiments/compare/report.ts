/**
 * Turns the comparison experiment's results into tables (RESULTS.md) and plots (k-sweep.svg,
 * storage.svg).
 *
 *   node dist/experiments/compare/report.js [--results DIR] [--out DIR]
 *
 * Reads <results>/<task>/<variant>/seed-<s>/metrics.json (default results dir:
 * experiments/compare/results) and writes to <out> (default experiments/compare):
 *   RESULTS.md   the part between `<!-- generated:begin -->` and `<!-- generated:end -->` is
 *                rewritten on every run; text outside the markers is kept (the file is created
 *                with a short header when missing).
 *   k-sweep.svg  test score vs k for ProPETL-Adapter, one line per task, error bars = sample
 *                std over seeds, dashed line = the plain adapter's mean on that task.
 *   storage.svg  average test score over tasks vs bit-level storage (log axis), one point per
 *                method, the k sweep as a connected line.
 *
 * Only numbers found in metrics.json files are shown; missing cells are "–".
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type Aggregate,
  type Cell,
  type RunResult,
  aggregate,
  averageOverTasks,
  metricLabel,
  pairedDifference,
  readResults,
  storageOf,
  sweepK,
  sweepVariant,
} from "./aggregate.js";
import { K_SWEEP, METHODS, SEEDS, TASKS, planRuns } from "./plan.js";
import {
  type LegendEntry,
  type MarkerShape,
  type MarkerStyle,
  Figure,
  PALETTE,
  MARKERS,
  formatBytes,
  formatTick,
  linearScale,
  logDomain,
  logScale,
  niceDomain,
  stepTicks,
  wrapText,
} from "../lib/svg-plot.js";
import { problemsBlock, spliceGenerated as spliceBlock } from "../lib/generated-block.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** experiments/compare in the source tree (this file runs from dist/experiments/compare). */
const COMPARE_DIR = path.resolve(HERE, "..", "..", "..", "experiments", "compare");

export { BEGIN, END } from "../lib/generated-block.js";

const MAIN_ROWS = ["full", "adapter", "lora", "prefix", "propetl-adapter", "propetl-lora", "propetl-prefix"] as const;
const ABLATION_ROWS = ["propetl-adapter", "only-share", "only-mask", "random-mask"] as const;

const DISPLAY: Readonly<Record<string, string>> = {
  full: "Full fine-tune",
  adapter: "Adapter",
  lora: "LoRA",
  prefix: "Prefix",
  "propetl-adapter": "ProPETL-Adapter",
  "propetl-lora": "ProPETL-LoRA",
  "propetl-prefix": "ProPETL-Prefix",
  "only-share": "Only share",
  "only-mask": "Only mask",
  "random-mask": "Random mask",
};

function display(variant: string): string {
  const k = sweepK(variant);
  if (k !== null && variant !== "propetl-adapter") return `ProPETL-Adapter k=${k.toFixed(1)}`;
  return DISPLAY[variant] ?? variant;
}

// ---------------------------------------------------------------------------------------------
// Context shared by the tables and plots

export interface Context {
  runs: RunResult[];
  agg: Aggregate;
  tasks: string[];
  expectedSeeds: number;
  /** Header label per task, e.g. "spam (F1)". */
  taskHeader: Map<string, string>;
  ks: number[];
}

export function buildContext(runs: RunResult[], problems: string[]): Context {
  const tasks: string[] = [...TASKS];
  for (const r of runs) if (!tasks.includes(r.task)) tasks.push(r.task);
  const taskHeader = new Map<string, string>();
  for (const t of tasks) {
    const labels = [...new Set(runs.filter((r) => r.task === t && r.mainMetric !== null).map((r) => metricLabel(r.mainMetric, r.scoreNames)))];
    if (labels.length > 1) problems.push(`task ${t}: runs disagree on the main metric (${labels.join(", ")})`);
    taskHeader.set(t, labels.length ? `${t} (${labels.join(" / ")})` : t);
  }
  const ks = new Set<number>([...K_SWEEP, 0.5]);
  for (const r of runs) {
    const k = sweepK(r.variant);
    if (k !== null) ks.add(k);
  }
  return { runs, agg: aggregate(runs), tasks, expectedSeeds: SEEDS.length, taskHeader, ks: [...ks].sort((a, b) => a - b) };
}

// ---------------------------------------------------------------------------------------------
// Markdown

const DASH = "–";

/** Test score cell: "47.0 ± 1.2", "(n=2)" when seeds are missing, "–" when there is none. */
export function formatCell(c: Cell | undefined, expectedSeeds: number): string {
  if (!c) return DASH;
  const m = (c.mean * 100).toFixed(1);
  const s = c.std === null ? m : `${m} ± ${(c.std * 100).toFixed(1)}`;
  return c.n < expectedSeeds ? `${s} (n=${c.n})` : s;
}

function fmtKB(bytes: number): string {
  const kb = bytes / 1000;
  if (kb >= 100) return Math.round(kb).toLocaleString("en-US");
  return kb >= 10 ? kb.toFixed(1) : kb.toFixed(2);
}

function fmtPercent(p: number): string {
  if (p >= 10) return p.toFixed(0);
  if (p >= 1) return p.toFixed(1);
  return Number.parseFloat(p.toPrecision(2)).toString();
}

function rangeText(r: { min: number; max: number } | null, f: (v: number) => string): string {
  if (!r) return DASH;
  const [a, b] = [f(r.min), f(r.max)];
  return a === b ? a : `${a}–${b}`;
}

function storageCells(ctx: Context, variant: string): [string, string] {
  const s = storageOf(ctx.runs, variant);
  if (!s) return [DASH, DASH];
  return [rangeText(s.bytes, fmtKB), rangeText(s.percentOfBackbone, fmtPercent)];
}

function mdTable(header: string[], align: ("l" | "r")[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : ":---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

function averageText(ctx: Context, variant: string): string {
  const a = averageOverTasks(ctx.agg.get(variant), ctx.tasks);
  return a === null ? DASH : (a * 100).toFixed(1);
}

function methodTable(ctx: Context, rows: readonly { variant: string; label: string }[], first = "Method"): string {
  const header = [first, "Stored (KB)", "% of backbone", ...ctx.tasks.map((t) => ctx.taskHeader.get(t) ?? t), "Avg."];
  const body = rows.map(({ variant, label }) => {
    const cells = ctx.agg.get(variant);
    return [label, ...storageCells(ctx, variant), ...ctx.tasks.map((t) => formatCell(cells?.get(t), ctx.expectedSeeds)), averageText(ctx, variant)];
  });
  return mdTable(header, ["l", "r", "r", ...ctx.tasks.map((): "r" => "r"), "r"], body);
}

/** The comparisons behind the paper's claims, as (a, b): "a − b" per seed. */
const PAIRS = [
  ["propetl-adapter", "adapter"],
  ["propetl-lora", "lora"],
  ["propetl-prefix", "prefix"],
  ["propetl-adapter", "only-share"],
  ["propetl-adapter", "only-mask"],
  ["propetl-adapter", "random-mask"],
  ["only-mask", "adapter"], // paper Table 5: a per-layer adapter pruned to k = 0.5 vs the full one
] as const;

/** "−1.0 ± 2.3 (1/3)": mean ± sd of the per-seed differences ×100, and seeds where a > b. */
export function formatDifference(d: ReturnType<typeof pairedDifference>): string {
  if (!d) return DASH;
  const sign = (v: number) => (Math.abs(v) < 0.05 ? "0.0" : v < 0 ? `−${Math.abs(v).toFixed(1)}` : `+${v.toFixed(1)}`);
  const m = sign(d.mean * 100);
  const s = d.std === null ? m : `${m} ± ${(d.std * 100).toFixed(1)}`;
  return `${s} (${d.wins}/${d.n})`;
}

function differenceTable(ctx: Context): string {
  const header = ["Comparison", ...ctx.tasks.map((t) => ctx.taskHeader.get(t) ?? t)];
  const body = PAIRS.map(([a, b]) => [`${display(a)} − ${display(b)}`, ...ctx.tasks.map((t) => formatDifference(pairedDifference(ctx.runs, t, a, b)))]);
  return mdTable(header, ["l", ...ctx.tasks.map((): "r" => "r")], body);
}

function baseOf(ctx: Context, variant: string): string | null {
  const bases = [...new Set(ctx.runs.filter((r) => r.variant === variant && r.base).map((r) => r.base as string))];
  return bases.length ? bases.join("/") : null;
}

function fmtDuration(s: number): string {
  const h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
}

export function generatedMarkdown(ctx: Context, problems: readonly string[]): string {
  const { runs } = ctx;
  const planned = planRuns();
  const plannedIds = new Set(planned.map((p) => p.id));
  const found = runs.filter((r) => plannedIds.has(`${r.task}/${r.variant}/seed-${r.seed}`)).length;
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const secs = runs.reduce((s, r) => s + (r.trainSeconds ?? 0), 0);
  const noTime = runs.filter((r) => r.trainSeconds === null).length;
  const known = new Set<string>([...METHODS, ...ctx.ks.map(sweepVariant)]);
  const other = [...new Set(runs.map((r) => r.variant).filter((v) => !known.has(v)))];

  const out: string[] = [];
  out.push("_Generated by `node dist/experiments/compare/report.js` from the metrics.json files; edit outside the markers only._", "");
  out.push(
    `**Runs found:** ${runs.length} (${found} of the ${planned.length} planned runs${runs.length > found ? `, ${runs.length - found} not in the plan` : ""}). ` +
      `**Seeds:** ${seeds.length ? seeds.join(", ") : DASH} (planned: ${SEEDS.join(", ")}). ` +
      `**Total train time:** ${Math.round(secs).toLocaleString("en-US")} s (${fmtDuration(secs)})${noTime ? ` (${noTime} run${noTime === 1 ? "" : "s"} without trainSeconds)` : ""}.`,
    "",
  );
  out.push(
    "Scores are the task's main test metric ×100, mean ± sample standard deviation (n − 1) over seeds; " +
      `\`(n=…)\` marks cells with fewer than the ${ctx.expectedSeeds} planned seeds (a single seed has no ±). ` +
      "Avg. is the mean of the task means, shown only when every task has a result. " +
      "Stored is the bit-level storage of the method (paper eq. 2, Appendix B; 1 KB = 1000 bytes; the classification head is not counted); " +
      "% of backbone compares it, in 32-bit words, with the backbone's parameter count. " +
      `${DASH} = no result (yet).`,
    "",
  );

  out.push("### Main comparison (cf. paper Table 1)", "");
  out.push(methodTable(ctx, MAIN_ROWS.map((v) => ({ variant: v, label: display(v) }))), "");

  out.push("### Sharing vs. masking ablations (cf. paper Table 4)", "");
  out.push(
    methodTable(
      ctx,
      ABLATION_ROWS.map((v) => {
        const base = v === "propetl-adapter" ? null : baseOf(ctx, v);
        return { variant: v, label: display(v) + (base ? ` (${base})` : "") };
      }),
      "Setting",
    ),
    "",
  );

  out.push("### Paired differences (same seed)", "");
  out.push(
    "Test score of the first setting minus the second, ×100, over the seeds both have: mean ± sample standard deviation, " +
      "and in brackets the seeds on which the first scored higher out of those compared. " +
      "A pair of runs with the same seed shares its data order and held-out split.",
    "",
  );
  out.push(differenceTable(ctx), "");

  out.push("### Sparsity sweep: ProPETL-Adapter with kept fraction k (cf. paper Figure 4)", "");
  out.push("k = 0.5 is the ProPETL-Adapter run of the tables above; the plain Adapter is repeated for reference.", "");
  out.push(
    methodTable(
      ctx,
      [...ctx.ks.map((k) => ({ variant: sweepVariant(k), label: k.toFixed(1) })), { variant: "adapter", label: "Adapter (reference)" }],
      "k",
    ),
    "",
  );

  out.push("### Plots", "");
  out.push("![Test score vs k](k-sweep.svg)", "");
  out.push("![Test score vs bit-level storage](storage.svg)", "");

  if (other.length) out.push(`Runs of variants outside these tables (not shown): ${other.map((v) => `\`${v}\``).join(", ")}.`, "");
  out.push(...problemsBlock(problems));
  return out.join("\n");
}

/** `existing` (null: no file yet) with the generated block replaced (or appended when it has no markers). */
export function spliceGenerated(existing: string | null, generated: string): string {
  return spliceBlock(existing, generated, {
    newFile: (block) => `# Comparison experiment: results\n\nText outside the generated markers is kept when the report is regenerated.\n\n${block}\n`,
  });
}

// ---------------------------------------------------------------------------------------------
// Plots

function noData(fig: Figure, x: number, y: number, msg: string): void {
  fig.text(x, y, msg, { anchor: "middle", size: 13, fill: "#555" });
}

export function kSweepSvg(ctx: Context): string {
  const W = 780, H = 436;
  const box = { left: 66, top: 56, right: 560, bottom: 384 };
  const title = "ProPETL-Adapter: test score vs kept fraction k";
  const fig = new Figure({ width: W, height: H, fontSize: 12, title });
  fig.text(box.left, 22, title, { size: 15, weight: "bold" });
  fig.text(box.left, 42, "mean ± sample std over seeds; dashed: plain Adapter mean (same colour)", { size: 12, fill: "#444" });

  const series = ctx.tasks.map((task, i) => {
    const pts = ctx.ks.map((k) => ({ k, cell: ctx.agg.get(sweepVariant(k))?.get(task) })).filter((p): p is { k: number; cell: Cell } => p.cell !== undefined);
    return { task, i, pts, adapter: ctx.agg.get("adapter")?.get(task) ?? null };
  });
  const ys: number[] = [];
  for (const s of series) {
    for (const p of s.pts) ys.push(p.cell.mean - (p.cell.std ?? 0), p.cell.mean + (p.cell.std ?? 0));
    if (s.adapter) ys.push(s.adapter.mean);
  }
  const yDom = ys.length ? niceDomain(Math.min(...ys) * 100, Math.max(...ys) * 100, 6) : ([0, 100] as [number, number]);
  const kMin = Math.min(...ctx.ks), kMax = Math.max(...ctx.ks);
  const ax = fig.axes(box, linearScale([kMin - 0.05, kMax + 0.05], [box.left, box.right]), linearScale(yDom, [box.bottom, box.top]));
  ax.yAxis({ ticks: ax.y.ticks(6), grid: "#e3e3e3", tickSize: 4 });
  ax.xAxis({ ticks: stepTicks(kMin, kMax, 0.1), format: (v) => v.toFixed(1), tickSize: 4 });
  ax.frame("#888");
  ax.xLabel("k (fraction of the prototype's weights each layer mask keeps)", { y: box.bottom + 40 });
  ax.yLabel("test score × 100 (task's main metric)", { x: box.left - 46 });

  // Spread the tasks a little along x so their error bars don't hide each other.
  const dx = (i: number) => (i - (ctx.tasks.length - 1) / 2) * 0.012;
  for (const s of series) {
    const color = PALETTE[s.i % PALETTE.length];
    if (s.adapter) ax.hline(s.adapter.mean * 100, { stroke: color, width: 1.5, dash: "6 4", opacity: 0.9 });
  }
  for (const s of series) {
    const color = PALETTE[s.i % PALETTE.length];
    const shape = MARKERS[s.i % MARKERS.length];
    const pts = s.pts.map((p) => ({ x: p.k + dx(s.i), y: p.cell.mean * 100 }));
    ax.errorBars(s.pts.filter((p) => p.cell.std !== null).map((p) => ({ x: p.k + dx(s.i), lo: (p.cell.mean - (p.cell.std as number)) * 100, hi: (p.cell.mean + (p.cell.std as number)) * 100 })), { stroke: color, width: 1.2, cap: 3 });
    ax.line(pts, { stroke: color, width: 2 });
    ax.markers(pts, { shape, size: 4, fill: color, stroke: "white", strokeWidth: 0.8 });
  }
  if (!series.some((s) => s.pts.length)) noData(fig, (box.left + box.right) / 2, (box.top + box.bottom) / 2, "no k-sweep results yet");

  const legend: LegendEntry[] = series.map((s) => ({
    label: ctx.taskHeader.get(s.task) ?? s.task,
    stroke: { stroke: PALETTE[s.i % PALETTE.length], width: 2 },
    marker: { shape: MARKERS[s.i % MARKERS.length], size: 4, fill: PALETTE[s.i % PALETTE.length] },
  }));
  legend.push({ label: "Adapter mean", stroke: { stroke: "#555", width: 1.5, dash: "6 4" } });
  fig.legend(legend, box.right + 20, box.top, { title: "task (metric)" });
  return fig.toString();
}

interface PointStyle {
  color: string;
  shape: MarkerShape;
  hollow: boolean;
}

const POINT_STYLE: Readonly<Record<string, PointStyle>> = {
  full: { color: PALETTE[6], shape: "square", hollow: false },
  adapter: { color: PALETTE[0], shape: "circle", hollow: true },
  "propetl-adapter": { color: PALETTE[0], shape: "circle", hollow: false },
  lora: { color: PALETTE[1], shape: "triangle", hollow: true },
  "propetl-lora": { color: PALETTE[1], shape: "triangle", hollow: false },
  prefix: { color: PALETTE[2], shape: "diamond", hollow: true },
  "propetl-prefix": { color: PALETTE[2], shape: "diamond", hollow: false },
  "only-share": { color: PALETTE[3], shape: "triangle-down", hollow: false },
  "only-mask": { color: PALETTE[4], shape: "star", hollow: false },
  "random-mask": { color: PALETTE[5], shape: "cross", hollow: false },
};

function markerOf(st: PointStyle, size = 5): MarkerStyle {
  return st.hollow ? { shape: st.shape, size, fill: "white", stroke: st.color, strokeWidth: 1.8 } : { shape: st.shape, size, fill: st.color, stroke: st.shape === "cross" ? st.color : "white", strokeWidth: st.shape === "cross" ? 2.4 : 0.8 };
}

export function storageSvg(ctx: Context): string {
  const W = 800, H = 486;
  const box = { left: 66, top: 56, right: 590, bottom: 404 };
  const title = "Test score vs bit-level storage";
  const fig = new Figure({ width: W, height: H, fontSize: 12, title });
  fig.text(box.left, 22, title, { size: 15, weight: "bold" });
  fig.text(box.left, 42, `score: mean over seeds, averaged over ${ctx.tasks.join(", ")}; storage per task, head excluded`, { size: 12, fill: "#444" });

  const methodPts = [...METHODS].map((v) => {
    const s = storageOf(ctx.runs, v);
    const bytes = s?.bytes ? (s.bytes.min + s.bytes.max) / 2 : null;
    const avg = averageOverTasks(ctx.agg.get(v), ctx.tasks);
    return { variant: v, bytes, avg };
  });
  const shown = methodPts.filter((p): p is { variant: (typeof METHODS)[number]; bytes: number; avg: number } => p.bytes !== null && p.bytes > 0 && p.avg !== null);
  const missing = methodPts.filter((p) => !shown.includes(p as (typeof shown)[number])).map((p) => display(p.variant));
  const sweep = ctx.ks
    .map((k) => {
      const v = sweepVariant(k);
      const s = storageOf(ctx.runs, v);
      return { k, bytes: s?.bytes ? (s.bytes.min + s.bytes.max) / 2 : null, avg: averageOverTasks(ctx.agg.get(v), ctx.tasks) };
    })
    .filter((p): p is { k: number; bytes: number; avg: number } => p.bytes !== null && p.bytes > 0 && p.avg !== null);

  const xs = [...shown.map((p) => p.bytes), ...sweep.map((p) => p.bytes)];
  const ys = [...shown.map((p) => p.avg * 100), ...sweep.map((p) => p.avg * 100)];
  const xDom: [number, number] = xs.length ? [Math.min(...xs) / 2, Math.max(...xs) * 2] : logDomain(1e4, 1e8);
  const yDom = ys.length ? niceDomain(Math.min(...ys), Math.max(...ys), 6) : ([0, 100] as [number, number]);
  const ax = fig.axes(box, logScale(xDom, [box.left, box.right]), linearScale(yDom, [box.bottom, box.top]));
  ax.yAxis({ ticks: ax.y.ticks(6), grid: "#e3e3e3", tickSize: 4 });
  ax.xAxis({ ticks: ax.x.ticks(), format: formatBytes, grid: "#e3e3e3", tickSize: 4 });
  ax.frame("#888");
  ax.xLabel("bit-level storage per task (bytes, log scale)", { y: box.bottom + 40 });
  ax.yLabel("average test score × 100", { x: box.left - 46 });

  if (sweep.length) {
    const pts = sweep.map((p) => ({ x: p.bytes, y: p.avg * 100 }));
    ax.line(pts, { stroke: PALETTE[0], width: 1.5, opacity: 0.7 });
    ax.markers(pts, { shape: "circle", size: 2.5, fill: PALETTE[0] });
  }
  for (const p of shown) ax.markers([{ x: p.bytes, y: p.avg * 100 }], markerOf(POINT_STYLE[p.variant]));
  const ends = sweep.length > 1 ? [sweep[0], sweep[sweep.length - 1]] : [];
  ax.labels([
    ...shown.map((p) => ({ x: p.bytes, y: p.avg * 100, text: display(p.variant), color: "#222" })),
    ...ends.map((p) => ({ x: p.bytes, y: p.avg * 100, text: `k=${formatTick(p.k)}`, color: PALETTE[0] })),
  ]);
  if (!shown.length && !sweep.length) noData(fig, (box.left + box.right) / 2, (box.top + box.bottom) / 2, "no method has results on every task yet");

  const legend: LegendEntry[] = shown.map((p) => ({ label: display(p.variant), marker: markerOf(POINT_STYLE[p.variant]) }));
  if (sweep.length) legend.push({ label: `ProPETL-Adapter, k=${formatTick(sweep[0].k)}…${formatTick(sweep[sweep.length - 1].k)}`, stroke: { stroke: PALETTE[0], width: 1.5, opacity: 0.7 }, marker: { shape: "circle", size: 2.5, fill: PALETTE[0] } });
  const used = fig.legend(legend, box.right + 18, box.top, { title: "method" });
  let y = box.top + used + 16;
  for (const line of ["hollow: PETL module,", "filled: its ProPETL version", "(k does not change storage)"]) {
    fig.text(box.right + 18, y, line, { size: 11, fill: "#444" });
    y += 15;
  }
  if (missing.length && (shown.length || sweep.length)) {
    const lines = wrapText(`not shown (no storage, or not every task done): ${missing.join(", ")}`, W - 2 * box.left, 11);
    lines.forEach((l, i) => fig.text(box.left, H - 10 - (lines.length - 1 - i) * 14, l, { size: 11, fill: "#555" }));
  }
  return fig.toString();
}

// ---------------------------------------------------------------------------------------------
// CLI

function main(): void {
  const { values } = parseArgs({
    options: { results: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: false,
  });
  if (values.help) {
    console.log("usage: node dist/experiments/compare/report.js [--results DIR] [--out DIR]\n" + `defaults: --results ${path.join(COMPARE_DIR, "results")} --out ${COMPARE_DIR}`);
    return;
  }
  const resultsDir = path.resolve(values.results ?? path.join(COMPARE_DIR, "results"));
  const outDir = path.resolve(values.out ?? COMPARE_DIR);
  const { runs, problems } = readResults(resultsDir);
  const ctx = buildContext(runs, problems);
  mkdirSync(outDir, { recursive: true });
  const md = path.join(outDir, "RESULTS.md");
  const existing = existsSync(md) ? readFileSync(md, "utf8") : null;
  writeFileSync(md, spliceGenerated(existing, generatedMarkdown(ctx, problems)));
  writeFileSync(path.join(outDir, "k-sweep.svg"), kSweepSvg(ctx));
  writeFileSync(path.join(outDir, "storage.svg"), storageSvg(ctx));
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const secs = runs.reduce((s, r) => s + (r.trainSeconds ?? 0), 0);
  console.log(`${runs.length} runs from ${resultsDir} (seeds ${seeds.join(", ") || "none"}; ${Math.round(secs)} train seconds)${problems.length ? `, ${problems.length} problems (listed in RESULTS.md)` : ""}`);
  console.log(`wrote ${md}, k-sweep.svg, storage.svg in ${outDir}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
