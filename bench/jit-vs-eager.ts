/**
 * `propetl train` with and without jit, on the same run: wall time, time to the first step, and
 * the median step time (compiles happen on the first step of each padded shape, so the median
 * is the steady state). Both runs must end with the same test scores.
 *
 *   node dist/bench/jit-vs-eager.js                         # the bundled propetl-mini
 *   node dist/bench/jit-vs-eager.js --layers 12 --hidden 768 --heads 12 --intermediate 3072
 *        # a randomly initialised backbone of that shape (propetl-mini's tokenizer), written
 *        # to a temp folder; scores are then meaningless but the cost is the real one
 *
 * Options: --task spam --method propetl-adapter --steps 20 --batch-size 32 --max-length 64
 * --threads N (default: all cores).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { encoderConfigToJson } from "../src/models/bert/config.js";
import { readEncoderConfig } from "../src/models/config-file.js";
import { initEncoder } from "../src/models/bert/init.js";
import { saveModelWeights } from "../src/models/load.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const cli = path.join(root, "dist", "src", "cli", "main.js");
const mini = path.join(root, "models", "propetl-mini");

const { values: a } = parseArgs({
  options: {
    task: { type: "string", default: "spam" },
    method: { type: "string", default: "propetl-adapter" },
    steps: { type: "string", default: "20" },
    "batch-size": { type: "string", default: "32" },
    "max-length": { type: "string", default: "64" },
    threads: { type: "string", default: String(os.availableParallelism()) },
    layers: { type: "string" },
    hidden: { type: "string" },
    heads: { type: "string" },
    intermediate: { type: "string" },
  },
});

const work = mkdtempSync(path.join(os.tmpdir(), "propetl-jit-bench-"));
let modelDir = mini;
let shape = "propetl-mini (4 layers, hidden 256)";
if (a.layers || a.hidden || a.heads || a.intermediate) {
  const base = readEncoderConfig(path.join(mini, "config.json"));
  const cfg = {
    ...base,
    numLayers: Number(a.layers ?? base.numLayers),
    hiddenSize: Number(a.hidden ?? base.hiddenSize),
    numHeads: Number(a.heads ?? base.numHeads),
    intermediateSize: Number(a.intermediate ?? base.intermediateSize),
  };
  modelDir = path.join(work, "model");
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, "config.json"), JSON.stringify(encoderConfigToJson(cfg), null, 2));
  await saveModelWeights(path.join(modelDir, "model.safetensors"), cfg, initEncoder(cfg, 1), null);
  for (const f of ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]) copyFileSync(path.join(mini, f), path.join(modelDir, f));
  shape = `random init, ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numHeads} heads, FFN ${cfg.intermediateSize}`;
}

interface Timing { wallS: number; firstStepS: number; medianStepS: number; test: unknown }

function runOnce(jit: boolean): Timing {
  const batch = Number(a["batch-size"]);
  const args = [
    cli, "train", "--model", modelDir, "--task", a.task as string, "--method", a.method as string,
    "--epochs", "1", "--max-train-examples", String(Number(a.steps) * batch), "--max-eval-examples", String(batch),
    "--batch-size", String(batch), "--max-length", a["max-length"] as string, "--seed", "1",
    "--output", path.join(work, jit ? "jit" : "eager"), "--json", ...(jit ? [] : ["--no-jit"]),
  ];
  const t0 = performance.now();
  const out = execFileSync(process.execPath, args, { env: { ...process.env, PROPETL_THREADS: a.threads }, encoding: "utf8", maxBuffer: 1 << 26 });
  const wallS = (performance.now() - t0) / 1000;
  const events = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { type: string; elapsedMs?: number; seeds?: { test: unknown }[] });
  const at = events.filter((e) => e.type === "step").map((e) => (e.elapsedMs as number) / 1000);
  const gaps = at.slice(1).map((t, i) => t - at[i]).sort((x, y) => x - y);
  const result = events.find((e) => e.type === "result");
  return { wallS, firstStepS: at[0], medianStepS: gaps[Math.floor(gaps.length / 2)], test: result?.seeds?.[0]?.test };
}

try {
  const eager = runOnce(false);
  const jitted = runOnce(true);
  const same = JSON.stringify(eager.test) === JSON.stringify(jitted.test);
  console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores; threads ${a.threads}; node ${process.version}`);
  console.log(`model: ${shape}; ${a.task} ${a.method}, ${a.steps} steps of ${a["batch-size"]} x ${a["max-length"]} tokens`);
  console.log(`| mode | wall (s) | first step at (s) | median step (s) |`);
  console.log(`|---|---:|---:|---:|`);
  for (const [name, t] of [["eager", eager], ["jit", jitted]] as const) {
    console.log(`| ${name} | ${t.wallS.toFixed(1)} | ${t.firstStepS.toFixed(1)} | ${t.medianStepS.toFixed(2)} |`);
  }
  console.log(`jit / eager median step: ${(jitted.medianStepS / eager.medianStepS).toFixed(2)}x; same test scores: ${same ? "yes" : `NO (${JSON.stringify(eager.test)} vs ${JSON.stringify(jitted.test)})`}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
