/** `propetl inspect`: see help.ts (INSPECT_HELP). */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../engine/engine.js";
import { countOnes } from "../io/bitpack.js";
import { readSafetensorsFile } from "../io/safetensors.js";
import { loadTaskCheckpoint } from "../petl/checkpoint.js";
import { formatStorageReport, modelDimsFromConfig } from "../petl/storage.js";
import { CliError, flag, parseCommand } from "./args.js";
import type { OptionSpec } from "./args.js";
import { engineOptions } from "./engine-options.js";
import { checkpointMethod, reportFor } from "./storage.js";

const OPTIONS: Record<string, OptionSpec> = { json: { type: "boolean" } };

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand("inspect", argv, OPTIONS, true);
  if (positionals.length !== 1) throw new CliError("expected one task checkpoint folder (see: propetl inspect --help)", 2);
  const dir = positionals[0];
  if (!existsSync(dir)) throw new CliError(`${dir}: folder not found`);
  const cfgFile = path.join(dir, "adapter_config.json");
  const modelFile = path.join(dir, "adapter_model.safetensors");
  // Full validation first (names, shapes, dtypes, config), with the loader's messages.
  await initEngine(engineOptions());
  const loaded = await loadTaskCheckpoint(dir);
  loaded.dispose();
  const config = JSON.parse(readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
  const { file, method } = checkpointMethod(config, cfgFile);
  const st = await readSafetensorsFile(modelFile);
  const tensors: { name: string; dtype: string; shape: number[]; bytes: number; kept?: number }[] = [];
  let maskBits = 0;
  let maskOnes = 0;
  for (const [name, e] of st.tensors) {
    const row: (typeof tensors)[number] = { name, dtype: e.dtype, shape: e.shape, bytes: e.data.byteLength };
    const meta = st.metadata[name];
    if (e.dtype === "U8" && meta !== undefined) {
      const shape = JSON.parse(meta) as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const ones = countOnes(e.data);
      row.shape = shape;
      row.kept = ones / n;
      maskBits += n;
      maskOnes += ones;
    }
    tensors.push(row);
  }
  const labels = file.label_names;
  const tasks = file.tasks;
  const dims = modelDimsFromConfig(file.backbone, labels[tasks[0]].length);
  const report = reportFor(dims, method, tasks.length);
  const sizes = { config: statSync(cfgFile).size, model: statSync(modelFile).size };
  const metricsFile = path.join(dir, "metrics.json");
  const metrics = existsSync(metricsFile) ? (JSON.parse(readFileSync(metricsFile, "utf8")) as Record<string, unknown>) : null;
  if (flag(v, "json")) {
    process.stdout.write(JSON.stringify({ dir, config, tensors, masks: { bits: maskBits, kept: maskBits ? maskOnes / maskBits : null }, files: sizes, storage: report, metrics }, null, 2) + "\n");
    return 0;
  }
  const b = config.backbone as Record<string, unknown>;
  const lines: string[] = [];
  lines.push(`task checkpoint ${dir} (valid)`);
  lines.push(`method: ${method.method} ${JSON.stringify(config.module)}${method.k !== undefined ? ` k=${method.k}` : ""}; dtype ${String(config.dtype)}`);
  lines.push(`backbone: ${String(b.model_type)}, ${String(b.num_hidden_layers)} layers, hidden ${String(b.hidden_size)}, vocab ${String(b.vocab_size)}`);
  lines.push(`tasks: ${tasks.map((t) => `${t} [${(labels[t] ?? []).join(", ")}]`).join("; ")}`);
  lines.push(`hook points: ${(config.hook_points as string[]).length} (${(config.hook_points as string[]).slice(0, 3).join(", ")}${(config.hook_points as string[]).length > 3 ? ", ..." : ""})`);
  lines.push("");
  const w = Math.max(...tensors.map((t) => t.name.length), 6);
  lines.push(`${"tensor".padEnd(w)}  dtype  ${"shape".padEnd(14)}  ${"bytes".padStart(9)}  kept`);
  for (const t of tensors) {
    lines.push(`${t.name.padEnd(w)}  ${t.dtype.padEnd(5)}  ${`[${t.shape.join(",")}]`.padEnd(14)}  ${String(t.bytes).padStart(9)}  ${t.kept !== undefined ? `${(t.kept * 100).toFixed(1)}%` : ""}`);
  }
  lines.push("");
  if (maskBits) lines.push(`masks: ${maskBits.toLocaleString("en-US")} bits, ${((maskOnes / maskBits) * 100).toFixed(1)}% kept`);
  lines.push(`files: adapter_model.safetensors ${fmtBytes(sizes.model)}, adapter_config.json ${fmtBytes(sizes.config)}`);
  lines.push("");
  lines.push(formatStorageReport(report));
  if (metrics) {
    const test = metrics.test as { scores?: Record<string, number>; examples?: number } | undefined;
    const val = metrics.validation as { main?: number; epoch?: number } | null | undefined;
    lines.push("");
    lines.push(`run: task ${String(metrics.task)}, seed ${String(metrics.seed)}; test ${Object.entries(test?.scores ?? {}).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(", ")} (${test?.examples ?? "?"} examples)${val ? `; best validation ${val.main?.toFixed(4)} at epoch ${val.epoch}` : ""}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
