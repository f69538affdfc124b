/** `propetl storage`: see help.ts (STORAGE_HELP). */
import { existsSync } from "node:fs";
import path from "node:path";
import { methodConfigOfFile, parseAdapterConfig } from "../petl/checkpoint.js";
import { combineRuleList, isCombineRule } from "../petl/combine-rule.js";
import type { AdapterConfigFile } from "../petl/checkpoint.js";
import type { MethodConfig } from "../petl/method.js";
import { moduleSizes, resolveMethodConfig } from "../petl/registry.js";
import { compareStorage, computeStorage, formatSharedAndTaskParts, formatStorageReport, modelDimsFromConfig } from "../petl/storage.js";
import type { ModelDims, StorageReport } from "../petl/storage.js";
import { CliError, flag, int, parseCommand, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { methodConfigFromArgs, METHOD_OPTIONS } from "./common.js";
import { readSafetensorsIndex } from "../io/safetensors.js";
import { readJsonFileSync } from "../io/json-file.js";

const OPTIONS: Record<string, OptionSpec> = {
  ...METHOD_OPTIONS,
  model: { type: "string" },
  config: { type: "string" },
  "model-config": { type: "string" },
  "num-labels": { type: "string" },
  tasks: { type: "string" },
  combine: { type: "string" },
  compare: { type: "string" },
  json: { type: "boolean" },
};

/** roberta-base's config.json fields that the count needs (the paper's GLUE backbone). */
export const ROBERTA_BASE_CONFIG = {
  model_type: "roberta",
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 514,
  type_vocab_size: 1,
};

function readJson(file: string, what: string): Record<string, unknown> {
  if (!existsSync(file)) throw new CliError(`${file}: not found (${what})`);
  return readJsonFileSync(file, (m) => new CliError(m)) as Record<string, unknown>;
}

/**
 * A checkpoint's adapter_config.json, validated by checkpoint.ts's reader (errors name the
 * file), and the resolved method config it describes.
 */
export function checkpointMethod(json: unknown, where: string): { file: AdapterConfigFile; method: MethodConfig } {
  try {
    const file = parseAdapterConfig(where, json);
    return { file, method: resolveMethodConfig(methodConfigOfFile(file)) };
  } catch (e) {
    const msg = (e as Error).message;
    throw new CliError(msg.startsWith(`${where}: `) ? msg : `${where}: ${msg}`);
  }
}

/** The storage report of a resolved method config for `tasks` tasks (errors are usage errors). */
export function reportFor(dims: ModelDims, c: MethodConfig, tasks: number): StorageReport {
  return computeStorage(dims, { ...c, tasks });
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand("storage", argv, OPTIONS, true);
  if (positionals.length > 1) throw new CliError(`expected at most one checkpoint folder, got ${positionals.length} arguments`, 2);
  let method: MethodConfig;
  let dims: ModelDims;
  let tasks = int(v, "tasks") ?? 1;
  let fileBytes: number | undefined;
  if (positionals.length === 1) {
    const dir = positionals[0];
    const cfgFile = path.join(dir, "adapter_config.json");
    const checkpoint = checkpointMethod(readJson(cfgFile, "a task checkpoint folder holds adapter_config.json and adapter_model.safetensors"), cfgFile);
    const file = checkpoint.file;
    method = checkpoint.method;
    tasks = file.tasks.length;
    dims = modelDimsFromConfig(file.backbone, file.label_names[file.tasks[0]].length, path.basename(path.resolve(dir)));
    const model = path.join(dir, "adapter_model.safetensors");
    if (existsSync(model)) {
      // The figures describe the file only if it is whole: its header must describe exactly its bytes.
      try {
        fileBytes = (await readSafetensorsIndex(model)).fileSize;
      } catch (e) {
        throw new CliError(`${(e as Error).message} (no storage figures for a damaged checkpoint)`);
      }
    }
  } else {
    if (str(v, "method") === undefined) throw new CliError("give a checkpoint folder, or --method NAME (see: propetl storage --help)", 2);
    try {
      method = resolveMethodConfig(methodConfigFromArgs(v));
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError((e as Error).message, 2);
    }
    const modelDir = str(v, "model");
    if (str(v, "config") !== undefined && str(v, "model-config") !== undefined) throw new CliError("give --config or --model-config (the same option), not both", 2);
    const configFile = str(v, "config") ?? str(v, "model-config") ?? (modelDir ? path.join(modelDir, "config.json") : undefined);
    const config = configFile ? readJson(configFile, "a Hugging Face config.json") : ROBERTA_BASE_CONFIG;
    const name = configFile ? path.basename(path.dirname(path.resolve(configFile))) : "roberta-base";
    dims = modelDimsFromConfig(config, int(v, "num-labels") ?? 2, name);
  }
  const combine = str(v, "combine");
  if (combine !== undefined) {
    if (positionals.length === 1) throw new CliError("--combine applies to --method; a checkpoint's adapter_config.json records its rule", 2);
    if (!isCombineRule(combine)) throw new CliError(`--combine must be ${combineRuleList()}, got "${combine}"`, 2);
    if (tasks < 2) throw new CliError("--combine needs --tasks N with N ≥ 2 (the rule combines layer and task masks)", 2);
    method = { ...method, combine };
  }
  const report = reportFor(dims, method, tasks);
  const compareName = str(v, "compare");
  let other: StorageReport | undefined;
  if (compareName !== undefined) {
    let c: MethodConfig;
    try {
      // Same module sizes as the main report (the checkpoint's, or the flags').
      c = resolveMethodConfig({ ...methodConfigFromArgs({ ...v, method: compareName }), ...moduleSizes(method) });
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
    other = reportFor(dims, c, tasks);
  }
  if (flag(v, "json")) {
    process.stdout.write(JSON.stringify({ report, ...(other ? { compare: other } : {}), ...(fileBytes !== undefined ? { checkpointFileBytes: fileBytes } : {}) }, null, 2) + "\n");
    return 0;
  }
  let text = formatStorageReport(report);
  if (report.tasks > 1) text += `\n${formatSharedAndTaskParts(report)}`;
  if (fileBytes !== undefined) text += `\ncheckpoint file: ${fileBytes.toLocaleString("en-US")} bytes (adapter_model.safetensors: BLS + head + header)`;
  if (other) text += `\n\n${formatStorageReport(other)}\n\n${compareStorage(report, other)}`;
  process.stdout.write(text + "\n");
  return 0;
}
