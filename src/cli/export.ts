/** `propetl export --format peft`: see help.ts (EXPORT_HELP) and petl/peft-lora.ts. */
import { existsSync } from "node:fs";
import path from "node:path";
import { checkWritableFolder } from "../io/output-path.js";
import { initEngine } from "../engine/engine.js";
import { loadTaskCheckpoint } from "../petl/checkpoint.js";
import { PEFT_CONFIG_FILE, PEFT_MODEL_FILE, PeftFormatError, peftLoraFromCheckpoint, writePeftFolder } from "../petl/peft-lora.js";
import { CliError, flag, parseCommand, required, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { engineOptions } from "./engine-options.js";

const OPTIONS: Record<string, OptionSpec> = {
  format: { type: "string" },
  checkpoint: { type: "string" },
  task: { type: "string" },
  output: { type: "string" },
  "base-model": { type: "string" },
  json: { type: "boolean" },
};

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("export", argv, OPTIONS);
  const format = required(v, "format", "export", "the format to write: peft");
  if (format !== "peft") throw new CliError(`--format must be "peft" (Hugging Face PEFT LoRA), got "${format}"`, 2);
  const src = required(v, "checkpoint", "export", "a task checkpoint folder of a LoRA method");
  const out = required(v, "output", "export", "the folder to write the PEFT adapter to");
  if (!existsSync(src)) throw new CliError(`--checkpoint ${src}: folder not found`);
  if (path.resolve(out) === path.resolve(src)) throw new CliError("--output must be another folder than --checkpoint", 2);
  if (existsSync(path.join(out, PEFT_CONFIG_FILE)) || existsSync(path.join(out, PEFT_MODEL_FILE))) throw new CliError(`${out} already holds an adapter; choose another --output`, 2);
  checkWritableFolder(out, "adapter folder");
  await initEngine(engineOptions());
  const ckpt = await loadTaskCheckpoint(src);
  try {
    const task = str(v, "task");
    let r;
    try {
      r = await peftLoraFromCheckpoint(ckpt, { ...(task !== undefined ? { task } : {}), baseModel: str(v, "base-model") ?? null });
    } catch (e) {
      if (e instanceof PeftFormatError) throw new CliError(`${src}: ${e.message}`, 1);
      throw e;
    }
    const files = await writePeftFolder(out, r.config, r.tensors);
    const doc = { format: "peft", checkpoint: src, output: out, method: ckpt.config.method, r: r.config.r, lora_alpha: r.config.lora_alpha, tensors: r.tensors.size, labelNames: r.labelNames, ...files };
    if (flag(v, "json") || !process.stdout.isTTY) process.stdout.write(JSON.stringify(doc) + "\n");
    else {
      process.stdout.write(`${src} (${ckpt.config.method}) -> ${out}: PEFT LoRA r ${r.config.r}, alpha ${r.config.lora_alpha}, ${r.tensors.size} tensors\n`);
      process.stdout.write(`labels in id order (PEFT does not store them; set the model's id2label): ${r.labelNames.join(", ")}\n`);
    }
    return 0;
  } finally {
    ckpt.dispose();
  }
}
