/**
 * Draws a pretraining run's curves as one SVG (no dependencies): the per-step training loss
 * (raw and 10-step mean) with the held-out loss, and the held-out token accuracy. Reads a
 * log.jsonl: {"step","loss",...} lines per step and {"step","eval":{"loss","accuracy"}} (the
 * propetl-mini script) or {"step","heldOut":{"loss","accuracy"}} (`propetl pretrain`'s
 * pretrain_log.jsonl) lines per evaluation. A step logged twice (a run killed between a step
 * and its checkpoint, then resumed) keeps its last record. `--objective span` labels the
 * curves for T5 span corruption (default `mlm`: BERT masked-token).
 *
 *   node dist/experiments/pretrain/plot-loss.js experiments/pretrain/runs/mini/log.jsonl models/propetl-mini/mlm-loss.svg
 *   node dist/experiments/pretrain/plot-loss.js RUN/pretrain_log.jsonl models/propetl-mini-t5/pretrain-loss.svg --objective span
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Figure, linearScale, niceDomain, niceStep, stepTicks } from "../lib/svg-plot.js";

const [logFile, outFile, objFlag, objValue] = process.argv.slice(2);
if (!logFile || !outFile || (objFlag !== undefined && (objFlag !== "--objective" || (objValue !== "mlm" && objValue !== "span")))) {
  console.error("usage: plot-loss.js <log.jsonl> <out.svg> [--objective mlm|span]");
  process.exit(2);
}
const span = objValue === "span";
const TOKEN = span ? "target-token" : "masked-token";
type Row = { step: number; loss?: number; eval?: { loss: number; accuracy: number }; heldOut?: { loss: number; accuracy: number } };
const byStep = new Map<number, number>();
const evals = new Map<number, { loss: number; accuracy: number }>();
readFileSync(logFile, "utf8").split("\n").forEach((l, i) => {
  if (!l.trim()) return;
  const r = JSON.parse(l) as Row;
  const h = r.eval ?? r.heldOut;
  if (h) evals.set(r.step, h);
  else if (typeof r.loss === "number") byStep.set(r.step, r.loss);
  else throw new Error(`${logFile}:${i + 1}: neither a step record (loss) nor an eval record`);
});
const rows = [...byStep].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ x: step, y: loss }));
const held = [...evals].sort((a, b) => a[0] - b[0]);
const smooth = rows.map((r, i) => {
  const win = rows.slice(Math.max(0, i - 9), i + 1);
  return { x: r.x, y: win.reduce((s, p) => s + p.y, 0) / win.length };
});

const W = 900, H = 360, T = 40, B = 44;
const maxStep = Math.max(...rows.map((r) => r.x));
const fig = new Figure({ width: W, height: H, fontSize: 12 });
const xTicks = stepTicks(0, maxStep, niceStep(maxStep, 6));

// Left: losses.
const lossBox = { left: 56, top: T, right: 530, bottom: H - B };
const ys = [...rows.map((r) => r.y), ...held.map(([, e]) => e.loss)];
const [lo, hi] = niceDomain(Math.min(...ys), Math.max(...ys));
const la = fig.axes(lossBox, linearScale([0, maxStep], [lossBox.left, lossBox.right]), linearScale([lo, hi], [lossBox.bottom, lossBox.top]));
la.yAxis({ ticks: stepTicks(lo, hi, niceStep(hi - lo, 6)), grid: "#ddd" });
la.xAxis({ ticks: xTicks });
la.line(rows, { stroke: "#9ecae1", width: 1 });
la.line(smooth, { stroke: "#08519c", width: 2 });
la.line(held.map(([s, e]) => ({ x: s, y: e.loss })), { stroke: "#d55e00", width: 1.5 });
la.markers(held.map(([s, e]) => ({ x: s, y: e.loss })), { fill: "#d55e00", size: 3 });
la.xLabel("optimizer step (batch 32 × 128 tokens)");
la.yLabel(`${TOKEN} loss (nats)`);
fig.text(56, 16, `${span ? "Span-corruption" : "MLM"} loss: training per step (light), 10-step mean (dark), held-out (orange)`);

// Right: held-out accuracy.
const accBox = { left: 610, top: T, right: W - 16, bottom: H - B };
const accs = held.map(([, e]) => e.accuracy * 100);
const [alo, ahi] = niceDomain(0, Math.max(1, ...accs));
const aa = fig.axes(accBox, linearScale([0, maxStep], [accBox.left, accBox.right]), linearScale([alo, ahi], [accBox.bottom, accBox.top]));
aa.yAxis({ ticks: stepTicks(alo, ahi, niceStep(ahi - alo, 5)), grid: "#ddd" });
aa.xAxis({ ticks: stepTicks(0, maxStep, niceStep(maxStep, 3)) });
aa.line(held.map(([s], i) => ({ x: s, y: accs[i] })), { stroke: "#d55e00", width: 1.5 });
aa.markers(held.map(([s], i) => ({ x: s, y: accs[i] })), { fill: "#d55e00", size: 3 });
aa.xLabel("optimizer step");
aa.yLabel(`held-out ${TOKEN} accuracy (%)`);
fig.text(610, 16, "held-out: sotu-party dev paragraphs");
writeFileSync(outFile, fig.toString());
const last = held[held.length - 1];
console.log(`wrote ${outFile} (${rows.length} steps, last 10-step mean loss ${smooth[smooth.length - 1].y.toFixed(3)}` +
  (last ? `, held-out at step ${last[0]}: loss ${last[1].loss.toFixed(3)}, accuracy ${(last[1].accuracy * 100).toFixed(1)}%)` : ")"));
