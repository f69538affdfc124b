/**
 * Generate N distinct task checkpoints from one, for serving measurements (bench/serve-load.ts,
 * bench/RESULTS.md): each copy keeps the source's method, prototype and label names; its masks
 * have a seeded share of bits flipped (--flip, default 0.05) and its head's output bias a small
 * seeded shift, so every task computes something different. Host only (no engine): written with
 * `writeTaskCheckpoint`, validated like any checkpoint.
 *
 *   node dist/bench/gen-tasks.js --from CHECKPOINT --count N --output DIR [--seed S] [--flip X] [--prefix task-]
 *
 * With --tasks-per-file T, each folder is instead one multi-task checkpoint of T tasks over the
 * source's prototype and layer masks: a seeded random task mask per task (30% of bits kept,
 * combined OR, as `train --tasks` defaults) and a head per task (the source's, bias shifted).
 * Its tasks are served as "<folder>/<task>" and share encoder passes in `propetl serve`.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { mulberry32 } from "../src/data/splits.js";
import { hostHead, loadTaskCheckpoint, writeTaskCheckpoint } from "../src/petl/checkpoint.js";
import type { MethodState } from "../src/petl/method.js";
import { createMethod } from "../src/petl/registry.js";

function die(msg: string): never {
  process.stderr.write(`gen-tasks: ${msg}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { from: { type: "string" }, count: { type: "string" }, output: { type: "string" }, seed: { type: "string" }, flip: { type: "string" }, prefix: { type: "string" }, "tasks-per-file": { type: "string" } } });
  const perFile = Number(values["tasks-per-file"] ?? 1);
  if (!Number.isInteger(perFile) || perFile < 1) die(`--tasks-per-file must be a positive integer, got ${values["tasks-per-file"]}`);
  const from = values.from ?? die("--from CHECKPOINT is required");
  const out = values.output ?? die("--output DIR is required");
  const count = Number(values.count ?? die("--count N is required"));
  if (!Number.isInteger(count) || count < 1) die(`--count must be a positive integer, got ${values.count}`);
  const seed = Number(values.seed ?? 1);
  const flip = Number(values.flip ?? 0.05);
  if (!(flip >= 0 && flip <= 1)) die(`--flip must be in [0, 1], got ${values.flip}`);
  const prefix = values.prefix ?? "task-";
  const ckpt = await loadTaskCheckpoint(from);
  try {
    if (ckpt.tasks.length !== 1) die(`${from}: expected a single-task checkpoint, got ${ckpt.tasks.length} tasks`);
    const head0 = ckpt.tasks[0].head;
    if (head0 === null) die(`${from}: no classification head`);
    const head = await hostHead(head0);
    mkdirSync(out, { recursive: true });
    const width = String(count - 1).length;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const dir = path.join(out, `${prefix}${String(i).padStart(width, "0")}`);
      if (existsSync(path.join(dir, "adapter_config.json"))) continue;
      const next = mulberry32(seed * 1_000_003 + i);
      if (perFile > 1) {
        const names = Array.from({ length: perFile }, (_, t) => `t${t}`);
        const method = createMethod({ ...ckpt.method.config, tasks: names, taskK: 0.3, combine: "or" });
        const spec = method.stateSpec(ckpt.encoderConfig);
        const masks = new Map<string, { shape: number[]; bits: Uint8Array }>();
        for (const [name, shape] of spec.masks) {
          const src = ckpt.state.masks.get(name);
          if (src) masks.set(name, src);
          else masks.set(name, { shape, bits: Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() / 4294967296 < 0.3 ? 1 : 0)) });
        }
        const bias = head["out_proj.bias"];
        const heads = names.map(() => ({ ...head, "out_proj.bias": { shape: bias.shape, data: Float32Array.from(bias.data, (x) => x + (next() / 4294967296 - 0.5) * 0.2) } }));
        await writeTaskCheckpoint(dir, { method, state: { tensors: ckpt.state.tensors, masks }, encoderConfig: ckpt.encoderConfig, heads, labelNames: names.map(() => ckpt.tasks[0].labelNames), dtype: ckpt.config.dtype });
        method.dispose();
        continue;
      }
      const state: MethodState = { tensors: ckpt.state.tensors, masks: new Map() };
      for (const [name, m] of ckpt.state.masks) {
        const bits = Uint8Array.from(m.bits, (b) => ((next() / 4294967296) < flip ? 1 - b : b));
        state.masks.set(name, { shape: m.shape, bits });
      }
      const bias = head["out_proj.bias"];
      const h = { ...head, "out_proj.bias": { shape: bias.shape, data: Float32Array.from(bias.data, (x) => x + ((next() / 4294967296) - 0.5) * 0.2) } };
      await writeTaskCheckpoint(dir, { method: ckpt.method, state, encoderConfig: ckpt.encoderConfig, heads: [h], labelNames: [ckpt.tasks[0].labelNames], dtype: ckpt.config.dtype });
      if ((i + 1) % 500 === 0) process.stderr.write(`gen-tasks: ${i + 1}/${count} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    process.stderr.write(`gen-tasks: ${count} task folders in ${out} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } finally {
    ckpt.dispose();
  }
}

await main();
