/** `propetl score`: see help.ts (SCORE_HELP). ROUGE and BLEU of text files; no model, no engine. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { corpusBleu } from "../metrics/bleu.js";
import type { BleuResult } from "../metrics/bleu.js";
import { rouge } from "../metrics/rouge.js";
import type { RougeScore, RougeType } from "../metrics/rouge.js";
import { splitTextLines, TextDecodeError } from "../io/text-lines.js";
import { CliError, flag, parseCommand, required } from "./args.js";
import type { OptionSpec } from "./args.js";

const OPTIONS: Record<string, OptionSpec> = {
  metric: { type: "string" },
  predictions: { type: "string" },
  references: { type: "string", multiple: true },
  "no-stemmer": { type: "boolean" },
  json: { type: "boolean" },
};

export const SCORE_METRICS = ["rouge1", "rouge2", "rougeL", "bleu"] as const;
type ScoreMetric = (typeof SCORE_METRICS)[number];

const NAMES: Record<ScoreMetric, string> = { rouge1: "ROUGE-1", rouge2: "ROUGE-2", rougeL: "ROUGE-L", bleu: "BLEU" };

/**
 * The lines of a UTF-8 text file: split at "\n" (a "\r" before it is dropped; a final newline
 * ends the last line rather than starting an empty one; a leading byte-order mark is ignored).
 * Invalid UTF-8 is an error naming the file and the line, not replaced.
 */
export function readLines(file: string, what: string): string[] {
  if (!existsSync(file)) throw new CliError(`${file}: not found (${what})`);
  if (statSync(file).isDirectory()) throw new CliError(`${file}: is a folder, expected the ${what} file (one text per line)`);
  return splitLines(readFileSync(file), file, what);
}

/** `readLines`' rules on bytes already read (e.g. standard input); `name` is used in errors. */
export function splitLines(bytes: Uint8Array, name: string, what: string): string[] {
  try {
    return splitTextLines(bytes, name, { what });
  } catch (e) {
    if (e instanceof TextDecodeError) throw new CliError(e.message);
    throw e;
  }
}

function parseMetrics(s: string): ScoreMetric[] {
  const names = s.split(",").map((x) => x.trim());
  const out: ScoreMetric[] = [];
  for (const name of names) {
    if (!(SCORE_METRICS as readonly string[]).includes(name)) {
      throw new CliError(`--metric: unknown metric "${name}" (known: ${SCORE_METRICS.join(", ")}; several: comma-separated)`, 2);
    }
    if (!out.includes(name as ScoreMetric)) out.push(name as ScoreMetric);
  }
  return out;
}

const fmt = (x: number): string => x.toFixed(5);

function rougeLine(name: string, s: RougeScore): string {
  return `${name.padEnd(8)} P ${fmt(s.precision)}  R ${fmt(s.recall)}  F ${fmt(s.fmeasure)}`;
}

function bleuLine(b: BleuResult): string {
  const prec = b.precisions.map((p) => p.toFixed(1)).join("/");
  return `BLEU = ${b.score.toFixed(2)} ${prec} (BP = ${b.bp.toFixed(3)} ratio = ${b.ratio.toFixed(3)} hyp_len = ${b.sysLen} ref_len = ${b.refLen})`;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("score", argv, OPTIONS);
  const metrics = parseMetrics(required(v, "metric", "score", `${SCORE_METRICS.join(", ")}; comma-separated for several`));
  const predFile = required(v, "predictions", "score", "the system outputs, one per line");
  const refFiles = (v.references as string[] | undefined) ?? [];
  if (refFiles.length === 0) throw new CliError("missing --references (the references, one per line); see: propetl score --help", 2);
  const rougeTypes = metrics.filter((m): m is RougeType & ScoreMetric => m !== "bleu");
  const useStemmer = !flag(v, "no-stemmer");
  if (rougeTypes.length > 0 && refFiles.length > 1) {
    throw new CliError(`ROUGE takes one --references file (got ${refFiles.length}); several reference files are for --metric bleu`, 2);
  }
  if (rougeTypes.length === 0 && !useStemmer) throw new CliError("--no-stemmer applies to ROUGE only", 2);

  const predictions = readLines(predFile, "predictions");
  if (predictions.length === 0) throw new CliError(`${predFile}: no lines (predictions)`);
  const references = refFiles.map((f) => readLines(f, "references"));
  references.forEach((lines, k) => {
    if (lines.length !== predictions.length) {
      const [shorter, longer] = lines.length < predictions.length ? [refFiles[k], predFile] : [predFile, refFiles[k]];
      throw new CliError(
        `${refFiles[k]} has ${lines.length} lines but ${predFile} has ${predictions.length}: ` + `line ${Math.min(lines.length, predictions.length) + 1} of ${longer} has no counterpart in ${shorter}`,
      );
    }
  });

  const scores: Partial<Record<ScoreMetric, RougeScore | BleuResult>> = {};
  if (rougeTypes.length > 0) {
    const r = rouge(predictions, references[0], rougeTypes, { useStemmer });
    for (const t of rougeTypes) scores[t] = r.scores[t];
  }
  if (metrics.includes("bleu")) scores.bleu = corpusBleu(predictions, references);

  if (flag(v, "json")) {
    const settings: Record<string, unknown> = {};
    if (rougeTypes.length > 0) settings.rouge = { implementation: "rouge-score", useStemmer, aggregate: "mean over lines" };
    if (scores.bleu) settings.bleu = { implementation: "sacreBLEU defaults", tokenize: "13a", smoothMethod: "exp", maxNgramOrder: 4, lowercase: false, references: refFiles.length };
    process.stdout.write(JSON.stringify({ predictions: predFile, references: refFiles, lines: predictions.length, scores, settings }, null, 2) + "\n");
    return 0;
  }
  const out: string[] = [];
  for (const m of metrics) {
    const s = scores[m];
    if (m === "bleu") out.push(bleuLine(s as BleuResult));
    else out.push(rougeLine(NAMES[m], s as RougeScore));
  }
  const notes: string[] = [`${predictions.length} lines`];
  if (rougeTypes.length > 0) notes.push(`ROUGE: rouge-score tokens${useStemmer ? ", Porter stemmer" : ", no stemmer"}, mean over lines`);
  if (scores.bleu) notes.push(`BLEU: sacreBLEU defaults (13a, exp smoothing), ${refFiles.length} reference${refFiles.length > 1 ? "s" : ""} per line`);
  out.push(`(${notes.join("; ")})`);
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}
