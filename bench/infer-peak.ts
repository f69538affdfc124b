/**
 * Peak live wasm bytes of `predict`'s forward per example, lazy (the synchronous forward: every
 * layer's intermediates pending until the logits are read) against layer by layer (the
 * default, engine/layer-by-layer.ts), at several batch sizes, on texts from a JSONL file
 * ({"text": ...}) as `propetl predict` reads them. Prints one JSON line per (mode, batch).
 *
 *   node dist/bench/infer-peak.js --model models/propetl-mini --checkpoint runs/spam \
 *     --input spam512.jsonl --batch-sizes 16,64 [--max-length 128] [--threads 2]
 */
import { readFileSync } from "node:fs";
import { initEngine } from "../src/engine/engine.js";
import { tree } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import { wasmHeapStatsReader } from "../src/engine/live-buffers.js";
import { loadTaskCheckpoint } from "../src/petl/checkpoint.js";
import { forwardLogits, predictLogits } from "../src/train/finetune.js";
import type { Backbone, DeviceInputs, LogitsFn, Trainable } from "../src/train/finetune.js";
import { encodeForPrediction, loadPredictionBackbone, materializedMethod } from "../src/train/predictor.js";

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

await initEngine({ threads: Number(arg("threads", "2")) });
const heap = await wasmHeapStatsReader();
const bb = await loadPredictionBackbone(arg("model"));
const ckpt = await loadTaskCheckpoint(arg("checkpoint"), { encoderConfig: bb.config });
const head = ckpt.tasks[0].head;
if (head === null) throw new Error("the checkpoint has no classification head");
const method = materializedMethod(ckpt.materialize(0));
const backbone: Backbone = { config: bb.config, encoder: bb.encoder };
const params: Trainable<Record<string, never>> = { method: {}, head };
const texts = readFileSync(arg("input"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => ({ text: (JSON.parse(l) as { text: string }).text }));
const data = encodeForPrediction(bb.tokenizer, texts, Number(arg("max-length", "128")));
const lazy: LogitsFn<Record<string, never>> = (p, d: DeviceInputs): JArray => {
  const logits = forwardLogits(backbone, method, p, d, false);
  tree.dispose([p, d] as never);
  return logits;
};
for (const batchSize of arg("batch-sizes", "16,64").split(",").map(Number)) {
  for (const mode of ["lazy", "layer-by-layer"] as const) {
    const base = heap({ resetPeak: true }).liveBytes;
    const t0 = performance.now();
    const logits = await predictLogits(backbone, method, params, data, { padTokenId: bb.padTokenId, batchSize, ...(mode === "lazy" ? { logitsFn: lazy } : {}) });
    const peak = heap({ resetPeak: true }).peakLiveBytes - base;
    let sum = 0;
    for (const x of logits) sum += x;
    console.log(JSON.stringify({ mode, batchSize, examples: data.length, peakLiveMiB: Math.round((peak / 2 ** 20) * 10) / 10, peakPerExampleMiB: Math.round((peak / batchSize / 2 ** 20) * 100) / 100, seconds: Math.round((performance.now() - t0) / 100) / 10, logitSum: sum }));
  }
}
