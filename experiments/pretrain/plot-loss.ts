/**
 * Draws the MLM loss curve of a pretraining run as an SVG (no dependencies).
 *
 *   node dist/experiments/pretrain/plot-loss.js experiments/pretrain/runs/mini/log.jsonl models/propetl-mini/mlm-loss.svg
 */
import { readFileSync, writeFileSync } from "node:fs";

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
const x = (s: number) => L + ((W - L - R) * s) / maxStep;
const y = (v: number) => T + ((H - T - B) * (hi - v)) / (hi - lo);
const path = (pts: { step: number; loss: number }[]) => pts.map((p, i) => `${i ? "L" : "M"}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join("");
const yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const xTicks = Array.from({ length: 6 }, (_, i) => Math.round((maxStep * i) / 5));
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
${yTicks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join("\n")}
${xTicks.map((s) => `<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${s}</text>`).join("\n")}
<path d="${path(rows)}" fill="none" stroke="#9ecae1" stroke-width="1"/>
<path d="${path(smooth)}" fill="none" stroke="#08519c" stroke-width="2"/>
<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">optimizer step (batch 32 × 128 tokens)</text>
<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">MLM loss (nats)</text>
<text x="${L}" y="16">propetl-mini masked-LM loss (light: per step; dark: 10-step mean)</text>
</svg>
`;
writeFileSync(outFile, svg);
console.log(`wrote ${outFile} (${rows.length} steps, last loss ${rows[rows.length - 1].loss.toFixed(3)})`);
