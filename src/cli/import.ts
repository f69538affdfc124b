/** `propetl import --format peft`: see help.ts (IMPORT_HELP) and petl/peft-lora.ts. */
import { existsSync } from "node:fs";
import path from "node:path";
import { checkWritableFolder } from "../io/output-path.js";
import { CONFIG_FILE, MODEL_FILE, writeTaskCheckpoint } from "../petl/checkpoint.js";
import { PeftFormatError, readPeftLora } from "../petl/peft-lora.js";
import { createMethod } from "../petl/registry.js";
import { readEncoderConfig } from "../models/config-file.js";
import { CliError, flag, list, parseCommand, required } from "./args.js";
import type { OptionSpec } from "./args.js";

const OPTIONS: Record<string, OptionSpec> = {
  format: { type: "string" },
  adapter: { type: "string" },
  model: { type: "string" },
  output: { type: "string" },
  labels: { type: "string" },
  json: { type: "boolean" },
};

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("import", argv, OPTIONS);
  const format = required(v, "format", "import", "the format to read: peft");
  if (format !== "peft") throw new CliError(`--format must be "peft" (Hugging Face PEFT LoRA), got "${format}"`, 2);
  const adapter = required(v, "adapter", "import", "a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)");
  const modelDir = required(v, "model", "import", "the backbone the adapter was trained on (a Hugging Face BERT/RoBERTa folder)");
  const out = required(v, "output", "import", "the task checkpoint folder to write");
  if (!existsSync(adapter)) throw new CliError(`--adapter ${adapter}: folder not found`);
  if (!existsSync(modelDir)) throw new CliError(`--model ${modelDir}: folder not found`);
  if (existsSync(path.join(out, CONFIG_FILE)) || existsSync(path.join(out, MODEL_FILE))) throw new CliError(`${out} already holds a task checkpoint; choose another --output`, 2);
  checkWritableFolder(out, "task checkpoint folder");
  const cfg = readEncoderConfig(path.join(modelDir, "config.json"));
  let r;
  try {
    r = readPeftLora(adapter, cfg);
  } catch (e) {
    if (e instanceof PeftFormatError) throw new CliError(e.message, 1);
    throw e;
  }
  const labels = list(v, "labels");
  const n = r.head["out_proj.weight"].shape[0];
  if (labels && labels.length !== n) throw new CliError(`--labels names ${labels.length} label(s), but the adapter's classifier has ${n} outputs`, 2);
  const method = createMethod(r.method);
  const files = await writeTaskCheckpoint(out, { method, state: r.state, encoderConfig: { ...cfg, numLabels: n }, heads: [r.head], ...(labels ? { labelNames: [labels] } : {}), dtype: "F32" });
  const doc = { format: "peft", adapter, output: out, method: r.method, labels: n, baseModel: r.baseModel, ...files };
  if (flag(v, "json") || !process.stdout.isTTY) process.stdout.write(JSON.stringify(doc) + "\n");
  else process.stdout.write(`${adapter} (PEFT LoRA r ${r.method.rank}, alpha ${r.method.alpha}) -> ${out}: a lora task checkpoint with ${n} labels (${files.bytes.toLocaleString("en-US")} bytes)\n`);
  return 0;
}
