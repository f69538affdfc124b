/** `propetl predict`: see help.ts (PREDICT_HELP). */
import path from "node:path";
import { createReadStream, existsSync, statSync } from "node:fs";
import { writeFileAtomic } from "../io/atomic-write.js";
import { checkOutputFile } from "../io/output-path.js";
import { streamTextLines } from "../io/text-lines.js";
import type { TextEncoding } from "../io/text-lines.js";
import { initEngine } from "../engine/engine.js";
import { resolveMaxLength } from "../train/defaults.js";
import { loadPredictor, predictionOf } from "../train/predictor.js";
import type { Predictor } from "../train/predictor.js";
import { asUsageError, CliError, int, parseCommand, required, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { encodingFromArgs, jitFromArgs } from "./common.js";
import { engineOptions } from "./engine-options.js";
import { checkJsonDepth } from "../io/json-depth.js";

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string" },
  checkpoint: { type: "string" },
  text: { type: "string" },
  "text-pair": { type: "string" },
  input: { type: "string" },
  output: { type: "string" },
  "text-key": { type: "string" },
  "text-pair-key": { type: "string" },
  task: { type: "string" },
  "batch-size": { type: "string" },
  "max-length": { type: "string" },
  jit: { type: "boolean" },
  "no-jit": { type: "boolean" },
  json: { type: "boolean" },
  encoding: { type: "string" },
};

interface Item {
  text: string;
  textPair?: string;
  extra: Record<string, unknown>;
}

function resultOf(p: Predictor, logits: Float32Array, row: number): Record<string, unknown> {
  const r = predictionOf(p.labelNames, p.numLabels, logits, row);
  return r.kind === "regression" ? { score: r.value } : { label: r.label, label_id: r.labelId, probs: r.probs };
}

async function readJsonl(file: string, textKey: string, pairKey: string, encoding: TextEncoding): Promise<Item[]> {
  if (file !== "-" && !existsSync(file)) throw new CliError(`--input ${file}: file not found`);
  if (file !== "-" && statSync(file).isDirectory()) throw new CliError(`--input ${file}: is a folder, expected a JSONL file`);
  const stream = file === "-" ? process.stdin : createReadStream(file);
  const items: Item[] = [];
  let line = 0;
  const name = file === "-" ? "<stdin>" : file;
  const lines = streamTextLines(stream as AsyncIterable<Uint8Array>, name, { encoding, what: "--input", hint: "if the file is Latin-1 (ISO-8859-1), pass --encoding latin1" });
  for await (const s of lines) {
    line++;
    if (s.trim() === "") continue;
    let obj: unknown;
    try {
      checkJsonDepth(s, `${file}:${line}`);
      obj = JSON.parse(s);
    } catch (e) {
      throw new CliError(`${name}:${line}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new CliError(`${name}:${line}: expected a JSON object`);
    const o = obj as Record<string, unknown>;
    const text = o[textKey];
    if (typeof text !== "string" || text.trim() === "") throw new CliError(`${name}:${line}: missing or empty "${textKey}" (a string)`);
    const pair = o[pairKey];
    if (pair !== undefined && typeof pair !== "string") throw new CliError(`${name}:${line}: "${pairKey}" must be a string`);
    items.push({ text, ...(typeof pair === "string" ? { textPair: pair } : {}), extra: o });
  }
  return items;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("predict", argv, OPTIONS);
  const jit = jitFromArgs(v);
  const modelDir = required(v, "model", "predict", "the backbone's model folder");
  const checkpointDir = required(v, "checkpoint", "predict", "a task checkpoint folder");
  const text = str(v, "text");
  const input = str(v, "input");
  if ((text === undefined) === (input === undefined)) throw new CliError("give either --text (with optional --text-pair) or --input FILE.jsonl", 2);
  const batchSize = int(v, "batch-size") ?? 64;
  const maxLengthFlag = int(v, "max-length", { min: 2 });
  if (!existsSync(checkpointDir)) throw new CliError(`--checkpoint ${checkpointDir}: folder not found`);
  const outFile = str(v, "output");
  if (outFile !== undefined) checkOutputFile(outFile, "--output file");
  const items: Item[] = text !== undefined ? [{ text, ...(str(v, "text-pair") !== undefined ? { textPair: str(v, "text-pair") as string } : {}), extra: {} }] : await readJsonl(input as string, str(v, "text-key") ?? "text", str(v, "text-pair-key") ?? "text_pair", encodingFromArgs(v));
  await initEngine(engineOptions());
  const task = str(v, "task");
  const predictor = await loadPredictor(modelDir, checkpointDir, { jit, requireTask: true, ...(task !== undefined ? { task } : {}) });
  if (predictor.modelTypeInferred !== null) process.stderr.write(`note: ${path.join(modelDir, "config.json")} names no model_type: ${predictor.modelTypeInferred}\n`);
  try {
    const maxLength = asUsageError(() => resolveMaxLength(maxLengthFlag, predictor.config));
    const encoded = predictor.encode(items, maxLength);
    const logits = items.length ? await predictor.logits(encoded, { batchSize }) : new Float32Array(0);
    const lines: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const r = resultOf(predictor, logits, i);
      const line = text !== undefined ? { text: items[i].text, ...(items[i].textPair !== undefined ? { text_pair: items[i].textPair } : {}), ...r } : { ...items[i].extra, ...r };
      lines.push(JSON.stringify(line) + "\n");
    }
    // A file is written whole and atomically (never half a file); stdout as it is.
    if (outFile) await writeFileAtomic(outFile, lines.join(""));
    else for (const l of lines) process.stdout.write(l);
    return 0;
  } finally {
    predictor.dispose();
  }
}
