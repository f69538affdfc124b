/** `propetl storage`: see help.ts (STORAGE_HELP). */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { MethodConfig } from "../petl/method.js";
import { resolveMethodConfig } from "../petl/registry.js";
import { compareStorage, computeStorage, formatStorageReport, modelDimsFromConfig } from "../petl/storage.js";
import type { ModelDims, StorageReport } from "../petl/storage.js";
import { CliError, flag, int, parseCommand, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { methodConfigFromArgs, METHOD_OPTIONS } from "./common.js";

const OPTIONS: Record<string, OptionSpec> = {
  ...METHOD_OPTIONS,
  model: { type: "string" },
  config: { type: "string" },
  "model-config": { type: "string" },
  "num-labels": { type: "string" },
  tasks: { type: "string" },
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
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

/** The method config stored in a checkpoint's adapter_config.json. */
export function methodConfigFromCheckpointFile(file: Record<string, unknown>, where: string): MethodConfig {
  const m = (file.module ?? {}) as Record<string, unknown>;
  const c: MethodConfig = { method: file.method as MethodConfig["method"] };
  if (typeof m.bottleneck === "number") c.bottleneck = m.bottleneck;
  if (typeof m.rank === "number") c.rank = m.rank;
  if (typeof m.alpha === "number") c.alpha = m.alpha;
  if (typeof m.prefix_length === "number") c.prefixLength = m.prefix_length;
  if (typeof m.prefix_hidden === "number") c.prefixHidden = m.prefix_hidden;
  if (typeof m.base === "string") c.base = m.base as MethodConfig["base"];
  if (typeof file.k === "number") c.k = file.k;
  try {
    return resolveMethodConfig(c);
  } catch (e) {
    throw new CliError(`${where}: ${(e as Error).message}`);
  }
}

export function reportFor(dims: ModelDims, c: MethodConfig, tasks: number): StorageReport {
  return computeStorage(dims, {
    method: c.method,
    ...(c.bottleneck !== undefined ? { bottleneck: c.bottleneck } : {}),
    ...(c.rank !== undefined ? { rank: c.rank } : {}),
    ...(c.prefixLength !== undefined ? { prefixLength: c.prefixLength } : {}),
    ...(c.k !== undefined ? { k: c.k } : {}),
    ...(c.base !== undefined ? { base: c.base } : {}),
    tasks,
  });
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
    const file = readJson(cfgFile, "a task checkpoint folder holds adapter_config.json and adapter_model.safetensors");
    method = methodConfigFromCheckpointFile(file, cfgFile);
    const backbone = file.backbone as Record<string, unknown> | undefined;
    if (!backbone) throw new CliError(`${cfgFile}: no "backbone" entry`);
    const labels = file.label_names as Record<string, string[]> | undefined;
    const first = labels ? Object.values(labels)[0] : undefined;
    const taskList = Array.isArray(file.tasks) ? file.tasks : ["default"];
    tasks = taskList.length;
    dims = modelDimsFromConfig(backbone, first?.length ?? 2, path.basename(path.resolve(dir)));
    const model = path.join(dir, "adapter_model.safetensors");
    if (existsSync(model)) fileBytes = statSync(model).size;
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
  const report = reportFor(dims, method, tasks);
  const compareName = str(v, "compare");
  let other: StorageReport | undefined;
  if (compareName !== undefined) {
    let c: MethodConfig;
    try {
      // Same module sizes as the main report (the checkpoint's, or the flags').
      const sizes = {
        ...(method.bottleneck !== undefined ? { bottleneck: method.bottleneck } : {}),
        ...(method.rank !== undefined ? { rank: method.rank } : {}),
        ...(method.prefixLength !== undefined ? { prefixLength: method.prefixLength } : {}),
        ...(method.prefixHidden !== undefined ? { prefixHidden: method.prefixHidden } : {}),
      };
      c = resolveMethodConfig({ ...methodConfigFromArgs({ ...v, method: compareName }), ...sizes });
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
  if (fileBytes !== undefined) text += `\ncheckpoint file: ${fileBytes.toLocaleString("en-US")} bytes (adapter_model.safetensors: BLS + head + header)`;
  if (other) text += `\n\n${formatStorageReport(other)}\n\n${compareStorage(report, other)}`;
  process.stdout.write(text + "\n");
  return 0;
}
