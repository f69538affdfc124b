/**
 * Draws the MLM loss curve of a pretraining run as an SVG (no dependencies).
 *
 *   node dist/experiments/pretrain/plot-loss.js experiments/pretrain/runs/mini/log.jsonl models/propetl-mini/mlm-loss.svg
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Figure, linearScale } from "../lib/svg-plot.js";

const [logFile, outFile] = process.argv.slice(2);
if (!logFile || !outFile) {
  console.error("usage: plot-loss.js <log.jsonl> <out.svg>");
  process.exit(2);
}
const rows = readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as { step: number; loss: number });
// Smooth with a trailing mean over 10 steps; keep the raw points faint.
const smooth = rows.map((r, i) => {
  const win = rows.slice(Math.max(0, i - 9), i + 1);
  return { step: r.step, loss: win.reduce((s, x) => s + x.loss, 0) / win.length };
});
const W = 640, H = 360, L = 56, R = 16, T = 24, B = 44;
const maxStep = Math.max(...rows.map((r) => r.step));
const lo = Math.floor(Math.min(...rows.map((r) => r.loss))), hi = Math.ceil(Math.max(...rows.map((r) => r.loss)));
const fig = new Figure({ width: W, height: H, fontSize: 12, viewBox: false });
const box = { left: L, top: T, right: W - R, bottom: H - B };
const ax = fig.axes(box, linearScale([0, maxStep], [box.left, box.right]), linearScale([lo, hi], [box.bottom, box.top]));
const toPoints = (pts: { step: number; loss: number }[]) => pts.map((p) => ({ x: p.step, y: p.loss }));
ax.yAxis({ ticks: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), grid: "#ddd" });
ax.xAxis({ ticks: Array.from({ length: 6 }, (_, i) => Math.round((maxStep * i) / 5)) });
ax.line(toPoints(rows), { stroke: "#9ecae1", width: 1 });
ax.line(toPoints(smooth), { stroke: "#08519c", width: 2 });
ax.xLabel("optimizer step (batch 32 × 128 tokens)");
ax.yLabel("MLM loss (nats)");
fig.text(L, 16, "propetl-mini masked-LM loss (light: per step; dark: 10-step mean)");
const svg = fig.toString();
writeFileSync(outFile, svg);
console.log(`wrote ${outFile} (${rows.length} steps, last loss ${rows[rows.length - 1].loss.toFixed(3)})`);
