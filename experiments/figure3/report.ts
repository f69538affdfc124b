/**
 * The report of the Figure 3 grid (figure3/plan.ts): test BLEU against bit-level storage on
 * bible-es-en, as a table (RESULTS.md) and a plot (bleu-vs-storage.svg), of whatever part of
 * the grid has finished.
 *
 *   node dist/experiments/figure3/report.js [--results DIR] [--out DIR]
 *
 * Reads <results>/<run id>/metrics.json (and test_predictions.txt) for every run of
 * `planRuns()` (default results dir: experiments/figure3/results; a run folder without
 * metrics.json counts as in progress, its train.log gives the step reached) and writes to
 * <out> (default experiments/figure3):
 *   RESULTS.md           the part between `<!-- generated:begin -->` and `<!-- generated:end -->`
 *                        is rewritten on every run; the rest (the hand-written "What it shows")
 *                        is kept. Created with that section as a placeholder when missing.
 *   bleu-vs-storage.svg  x: storage as % of the backbone (log scale); y: test BLEU (mean over
 *                        the finished seeds, ± sd bars); one line per method, each point
 *                        labelled with its bottleneck or rank; the copy-source BLEU as a
 *                        dashed reference line.
 *
 * The full fine-tuning reference run (plan.ts `fullReferenceRun`, results/full/seed-1) is read
 * like a grid run and shown as a table row and a dotted line in the figure.
 *
 * Two reference rows need no training and are computed here: the copy-source BLEU (the Spanish
 * test sources scored as English translations with the library's `corpusBleu`, the floor a
 * model that copies its input reaches, since names and numbers are shared), and a check of
 * every finished run's test_predictions.txt (as many lines as test examples, and rescored with
 * `corpusBleu` against the test references it gives the BLEU in metrics.json).
 *
 * The aggregation (parseMetrics, pointSummaries, paperClaim, …) and the rendering
 * (generatedMarkdown, bleuVsStorageSvg) are pure functions of parsed objects; only
 * `readRuns`, `referenceRows` and `main` touch files.
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadSeq2SeqTask } from "../../src/data/seq2seq.js";
import { readModelConfig } from "../../src/models/config-file.js";
import type { T5Config } from "../../src/models/t5/config.js";
import type { MethodConfig } from "../../src/petl/method.js";
import { resolveMethodConfig } from "../../src/petl/registry.js";
import { seq2seqStorage } from "../../src/train/seq2seq-run.js";
import { corpusBleu } from "../../src/metrics/bleu.js";
import { readLines } from "../../src/cli/score.js";
import type { PlannedRun } from "../compare/plan.js";
import { type Stat, commandLine, docComment, meanSd } from "../converge/report.js";
import { BEGIN, END, problemsBlock, spliceGenerated as spliceBlock } from "../lib/generated-block.js";
import { type LegendEntry, type MarkerShape, Figure, PALETTE, formatBytes, linearScale, logDomain, logScale, niceDomain } from "../lib/svg-plot.js";
import { COMMON_ARGS, FULL_LR, FULL_VARIANT, K, METHODS, MODEL_DIR, SEEDS, TASK, type Family, type PlannedMethod, type SizeKind, fullReferenceRun, planRuns, sizeArgs, sizeSymbol, variantOf } from "./plan.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/experiments/figure3). */
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
const FIGURE3_DIR = path.join(REPO_ROOT, "experiments", "figure3");
const PREDICTIONS_FILE = "test_predictions.txt";

export { BEGIN, END };
export const WHAT_IT_SHOWS = "## What it shows";
export const PLACEHOLDER = "(written by hand from the tables above)";

const DASH = "–";

const DISPLAY: Readonly<Record<string, string>> = {
  adapter: "Adapter",
  "propetl-adapter": "ProPETL-Adapter",
  lora: "LoRA",
  "propetl-lora": "ProPETL-LoRA",
  full: "Full fine-tuning",
};
export const display = (method: string): string => DISPLAY[method] ?? method;

// ---------------------------------------------------------------------------------------------
// Parsed runs

/**
 * Where a run belongs in the grid (from the plan, not from the file). The full fine-tuning
 * reference has no family or module size: family and sizeKind null, size 0.
 */
export interface RunKey {
  /** The plan's id: <method>/<bn|r>-<size>/seed-<seed>, or full/seed-<seed>. */
  id: string;
  method: string;
  family: Family | null;
  sizeKind: SizeKind | null;
  size: number;
  seed: number;
}

export interface RunMetrics extends RunKey {
  testBleu: number | null;
  testBp: number | null;
  /** Test examples generated (`test.examples`). */
  testExamples: number | null;
  bestValidationBleu: number | null;
  /** The step whose checkpoint was scored on test (`validation.step`). */
  bestStep: number | null;
  /** Optimizer steps run (`steps`). */
  steps: number | null;
  /** Validation evaluations run (`history.length`). */
  evals: number;
  storageBits: number | null;
  storageBytes: number | null;
  storagePercent: number | null;
  checkpointBytes: number | null;
  trainSeconds: number | null;
  /** The CLI's command line as recorded (`command`). */
  command: string[] | null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function finite(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function scoreOf(rec: unknown, name: string): number | null {
  return isRecord(rec) && isRecord(rec.scores) ? finite(rec.scores[name]) : null;
}

const METHOD_BY_NAME = new Map(METHODS.map((m) => [m.method as string, m]));

/** The grid coordinates of a planned run (its variant is `<method>/<bn|r>-<size>`). */
export function keyOf(r: PlannedRun): RunKey {
  if (r.variant === FULL_VARIANT) return { id: r.id, method: "full", family: null, sizeKind: null, size: 0, seed: r.seed };
  const [method, sizePart] = r.variant.split("/");
  const m = METHOD_BY_NAME.get(method);
  const size = Number(sizePart?.replace(/^(bn|r)-/, ""));
  if (!m || !Number.isInteger(size)) throw new Error(`figure3: planned run ${r.id} has an unknown variant ${r.variant}`);
  return { id: r.id, method, family: m.family, sizeKind: m.sizeKind, size, seed: r.seed };
}

/**
 * One run from a parsed metrics.json `doc`. Method, size and seed come from the plan (`key`);
 * disagreements with the file, and what cannot be used, are appended to `problems`.
 */
export function parseMetrics(doc: unknown, key: RunKey, problems: string[] = []): RunMetrics | null {
  if (!isRecord(doc)) {
    problems.push(`${key.id}: metrics.json is not a JSON object`);
    return null;
  }
  if (typeof doc.task === "string" && doc.task !== TASK) problems.push(`${key.id}: task "${doc.task}" in metrics.json, "${TASK}" in the plan`);
  if (typeof doc.seed === "number" && doc.seed !== key.seed) problems.push(`${key.id}: seed ${doc.seed} in metrics.json, ${key.seed} in the plan`);
  if (typeof doc.mainMetric === "string" && doc.mainMetric !== "bleu") problems.push(`${key.id}: main metric "${doc.mainMetric}" in metrics.json, expected "bleu"`);
  const method = isRecord(doc.method) ? doc.method : null;
  if (method && typeof method.method === "string" && method.method !== key.method) problems.push(`${key.id}: method "${method.method}" in metrics.json, "${key.method}" in the plan`);
  const recordedSize = method && key.sizeKind !== null ? finite(method[key.sizeKind]) : null;
  if (recordedSize !== null && recordedSize !== key.size) problems.push(`${key.id}: ${key.sizeKind} ${recordedSize} in metrics.json, ${key.size} in the plan`);
  const testBleu = scoreOf(doc.test, "bleu");
  if (testBleu === null) problems.push(`${key.id}: no finite test.scores.bleu`);
  const storage = isRecord(doc.storage) ? doc.storage : null;
  const storagePercent = storage ? finite(storage.percentOfBackbone) : null;
  if (storagePercent === null) problems.push(`${key.id}: no storage.percentOfBackbone (not plotted)`);
  return {
    ...key,
    testBleu,
    testBp: scoreOf(doc.test, "bp"),
    testExamples: isRecord(doc.test) ? finite(doc.test.examples) : null,
    bestValidationBleu: scoreOf(doc.validation, "bleu"),
    bestStep: isRecord(doc.validation) ? finite(doc.validation.step) : null,
    steps: finite(doc.steps),
    evals: Array.isArray(doc.history) ? doc.history.length : 0,
    storageBits: storage ? finite(storage.bits) : null,
    storageBytes: storage ? finite(storage.bytes) : null,
    storagePercent,
    checkpointBytes: storage ? finite(storage.checkpointBytes) : null,
    trainSeconds: finite(doc.trainSeconds),
    command: Array.isArray(doc.command) && doc.command.every((c) => typeof c === "string") ? (doc.command as string[]) : null,
  };
}

/** How far an unfinished run got, from its train.log (JSON lines; appended to on resume). */
export interface Progress {
  step: number | null;
  totalSteps: number | null;
  /** Validation evaluations logged. */
  evals: number;
  /** The last validation BLEU logged. */
  lastBleu: number | null;
}

export function progressFromLog(log: string): Progress {
  const p: Progress = { step: null, totalSteps: null, evals: 0, lastBleu: null };
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isRecord(rec)) continue;
    if (rec.type === "step") {
      p.step = finite(rec.step) ?? p.step;
      p.totalSteps = finite(rec.totalSteps) ?? p.totalSteps;
    } else if (rec.type === "eval") {
      p.evals++;
      p.lastBleu = finite(rec.main) ?? p.lastBleu;
    }
  }
  return p;
}

/** The arguments of a recorded command that the plan sets (without the CLI, --output, --json, --resume). */
export function plannedPart(command: readonly string[]): string[] {
  const out: string[] = [];
  const start = command[1] === "train" ? 2 : command[0] === "train" ? 1 : 0;
  for (let i = start; i < command.length; i++) {
    const c = command[i];
    if (c === "--output") i++;
    else if (c !== "--json" && c !== "--resume") out.push(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Planned storage

/** Bit-level storage of one grid point as the library counts it. */
export interface PlannedStorage {
  bits: number;
  bytes: number;
  percentOfBackbone: number;
}

/** The method config of a grid point (the flags `sizeArgs` and the plan give). */
export function methodConfigOf(m: PlannedMethod, size: number): MethodConfig {
  const flags = sizeArgs(m, size);
  const value = (flag: string): number | undefined => {
    const i = flags.indexOf(flag);
    return i < 0 ? undefined : Number(flags[i + 1]);
  };
  const c: MethodConfig = { method: m.method };
  const bottleneck = value("--bottleneck"), rank = value("--rank"), alpha = value("--alpha");
  if (bottleneck !== undefined) c.bottleneck = bottleneck;
  if (rank !== undefined) c.rank = rank;
  if (alpha !== undefined) c.alpha = alpha;
  if (m.method.startsWith("propetl-")) c.k = K;
  return resolveMethodConfig(c);
}

/**
 * The storage of every grid point on a backbone of this shape, keyed by variant
 * (`<method>/<bn|r>-<size>`): known before any run finishes, and what each run must record.
 */
export function plannedStorage(config: T5Config): Map<string, PlannedStorage> {
  const out = new Map<string, PlannedStorage>();
  for (const m of METHODS) {
    for (const size of m.sizes) {
      const s = seq2seqStorage(config, methodConfigOf(m, size));
      if (s) out.set(variantOf(m.method, m.sizeKind, size), { bits: s.totalBits, bytes: s.bytes, percentOfBackbone: s.percentOfBackbone });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Aggregation

/** One point of the figure: a method at one module size, over its finished seeds. */
export interface PointSummary {
  method: string;
  family: Family;
  sizeKind: SizeKind;
  size: number;
  /** Runs the plan has for this point. */
  planned: number;
  /** Finished runs, ascending seed. */
  runs: RunMetrics[];
  test: Stat | null;
  testBySeed: Map<number, number>;
  validation: Stat | null;
  /**
   * Storage of the point (the same in every seed): the first finished run's, else the one
   * counted for the planned backbone (`plannedStorage`) when given.
   */
  storageBits: number | null;
  storageBytes: number | null;
  storagePercent: number | null;
  checkpointBytes: number | null;
  trainMinutes: Stat | null;
}

/**
 * The points of the figure in plan order (METHODS, then size), finished or not. Storage that
 * differs between seeds of one point is reported in `problems` (it is a function of the
 * method, the size and the backbone only).
 */
export function pointSummaries(plan: readonly PlannedRun[], runs: readonly RunMetrics[], problems: string[] = [], planned?: ReadonlyMap<string, PlannedStorage>): PointSummary[] {
  const keys = plan.map(keyOf);
  const out: PointSummary[] = [];
  for (const m of METHODS) {
    const sizes = [...new Set(keys.filter((k) => k.method === m.method).map((k) => k.size))].sort((a, b) => a - b);
    for (const size of sizes) {
      const mine = runs.filter((r) => r.method === m.method && r.size === size).sort((a, b) => a.seed - b.seed);
      const testBySeed = new Map<number, number>();
      for (const r of mine) if (r.testBleu !== null) testBySeed.set(r.seed, r.testBleu);
      const expected = planned?.get(variantOf(m.method, m.sizeKind, size));
      if (expected) {
        for (const r of mine) {
          if (r.storageBits !== null && r.storageBits !== expected.bits) problems.push(`${r.id}: storage ${r.storageBits} bits in metrics.json, ${expected.bits} counted for ${MODEL_DIR}`);
        }
      }
      const first = <K extends "storageBits" | "storageBytes" | "storagePercent" | "checkpointBytes">(k: K): number | null => {
        const vals = mine.map((r) => r[k]).filter((v): v is number => v !== null);
        if (new Set(vals).size > 1 && k !== "checkpointBytes") problems.push(`${m.method} ${sizeSymbol(m.sizeKind)} ${size}: ${k} differs between seeds (${vals.join(", ")})`);
        return vals.length ? vals[0] : null;
      };
      out.push({
        method: m.method,
        family: m.family,
        sizeKind: m.sizeKind,
        size,
        planned: keys.filter((k) => k.method === m.method && k.size === size).length,
        runs: mine,
        test: meanSd([...testBySeed.values()]),
        testBySeed,
        validation: meanSd(mine.map((r) => r.bestValidationBleu).filter((v): v is number => v !== null)),
        storageBits: first("storageBits") ?? expected?.bits ?? null,
        storageBytes: first("storageBytes") ?? expected?.bytes ?? null,
        storagePercent: first("storagePercent") ?? expected?.percentOfBackbone ?? null,
        checkpointBytes: first("checkpointBytes"),
        trainMinutes: meanSd(mine.map((r) => r.trainSeconds).filter((v): v is number => v !== null).map((s) => s / 60)),
      });
    }
  }
  return out;
}

/** A point with a test score and a positive storage count. */
export type ScoredPoint = PointSummary & { test: Stat; storageBits: number };

export interface PaperClaim {
  family: Family;
  /** The finished ProPETL point with the least storage. */
  propetl: ScoredPoint;
  /** The finished plain-module point with the highest mean test BLEU. */
  plain: ScoredPoint;
  /** propetl − plain mean test BLEU. */
  bleuDifference: number;
  /** The plain point's storage over the ProPETL point's (bits / bits). */
  storageRatio: number;
}

function scored(p: PointSummary): p is ScoredPoint {
  return p.test !== null && p.storageBits !== null && p.storageBits > 0;
}

/**
 * The paper's claim, per family, from the data: the smallest-storage ProPETL point's BLEU
 * against the best plain-module BLEU, and how many times the storage of the latter the former
 * needs. Null while either side has no finished point with a storage count.
 */
export function paperClaim(points: readonly PointSummary[], family: Family): PaperClaim | null {
  const fam = points.filter((p) => p.family === family).filter(scored);
  const propetl = fam.filter((p) => p.method.startsWith("propetl-")).sort((a, b) => a.storageBits - b.storageBits)[0];
  const plain = fam.filter((p) => !p.method.startsWith("propetl-")).sort((a, b) => b.test.mean - a.test.mean || a.storageBits - b.storageBits)[0];
  if (!propetl || !plain) return null;
  return { family, propetl, plain, bleuDifference: propetl.test.mean - plain.test.mean, storageRatio: plain.storageBits / propetl.storageBits };
}

/** The check of one run's test_predictions.txt against its metrics.json. */
export interface PredictionCheck {
  id: string;
  /** Lines in the file; null when there is none. */
  lines: number | null;
  /** `test.examples` of metrics.json. */
  expected: number | null;
  /** corpusBleu of the lines against the first `lines` test references; null when not computable. */
  rescored: number | null;
  /** The BLEU metrics.json records. */
  recorded: number | null;
}

/** Rescore a run's predictions against the test references (the first `predictions.length`). */
export function checkPredictions(run: RunMetrics, predictions: readonly string[] | null, references: readonly string[]): PredictionCheck {
  const base = { id: run.id, expected: run.testExamples, recorded: run.testBleu };
  if (predictions === null) return { ...base, lines: null, rescored: null };
  const ok = predictions.length > 0 && predictions.length <= references.length;
  return { ...base, lines: predictions.length, rescored: ok ? corpusBleu(predictions, [references.slice(0, predictions.length)]).score : null };
}

/** Whether a prediction check passed: the line count matches and the rescored BLEU agrees to 1e-6. */
export function predictionCheckPasses(c: PredictionCheck): boolean {
  return c.lines !== null && c.lines === c.expected && c.rescored !== null && c.recorded !== null && Math.abs(c.rescored - c.recorded) < 1e-6;
}

/** BLEU of the sources taken as the translations: what copying the input scores. */
export function copySourceBleu(sources: readonly string[], references: readonly string[]): CopySource {
  const b = corpusBleu(sources, [references]);
  return { bleu: b.score, bp: b.bp, unigramPrecision: b.precisions[0], examples: sources.length };
}

export interface CopySource {
  bleu: number;
  bp: number;
  /** BLEU's 1-gram precision (×100): the share of the source's words found in the reference. */
  unigramPrecision: number;
  examples: number;
}

/** The reference rows: computed by the report, no training. */
export interface References {
  /** Copy-source BLEU on the test split; null when the split could not be read. */
  copySource: CopySource | null;
  predictions: PredictionCheck[];
  /** The full fine-tuning reference run (plan.ts `fullReferenceRun`) and its status; absent: not read. */
  full?: { plan: PlannedRun; status: RunStatus };
}

// ---------------------------------------------------------------------------------------------
// Formatting

const bleuText = (v: number): string => v.toFixed(2);

/** "12.34 ± 0.56"; one seed: "12.34 (1 seed, no sd)"; fewer than planned: "(n=2)"; nothing: "–". */
export function formatStat(s: Stat | null, expected: number, f: (v: number) => string = bleuText): string {
  if (!s) return DASH;
  if (s.sd === null) return `${f(s.mean)} (1 seed, no sd)`;
  return `${f(s.mean)} ± ${f(s.sd)}${s.n < expected ? ` (n=${s.n})` : ""}`;
}

/** A percentage of the backbone with 3 significant digits: 0.0123%, 1.23%; "–" for none. */
export function formatPercent(v: number | null): string {
  return v === null ? DASH : `${Number.parseFloat(v.toPrecision(3))}%`;
}

function formatInt(v: number): string {
  return Math.round(v).toLocaleString("en-US");
}

export function mdTable(header: readonly string[], align: readonly ("l" | "r")[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${align.map((a) => (a === "r" ? "---:" : ":---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** "bn 16", "r 8". */
export function sizeLabel(kind: SizeKind, size: number): string {
  return `${sizeSymbol(kind)} ${size}`;
}

/** One sentence per family with a claim (see `paperClaim`). */
export function claimLine(c: PaperClaim): string {
  const d = c.bleuDifference;
  const diff = `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)}`;
  return (
    `**${c.family === "adapter" ? "Adapter" : "LoRA"} family:** the smallest-storage ProPETL point, ${display(c.propetl.method)} ${sizeLabel(c.propetl.sizeKind, c.propetl.size)} ` +
    `(${formatInt(c.propetl.storageBits)} bits, ${formatPercent(c.propetl.storagePercent)} of the backbone), scores ${formatStat(c.propetl.test, c.propetl.planned)} test BLEU; ` +
    `the best plain point, ${display(c.plain.method)} ${sizeLabel(c.plain.sizeKind, c.plain.size)} (${formatInt(c.plain.storageBits)} bits, ${formatPercent(c.plain.storagePercent)}), scores ${formatStat(c.plain.test, c.plain.planned)}: ` +
    `a difference of ${diff} BLEU (ProPETL − plain, means over the finished seeds) with ${c.storageRatio.toFixed(1)}× less storage.`
  );
}

// ---------------------------------------------------------------------------------------------
// The report

export type RunStatus = { state: "done"; run: RunMetrics } | { state: "in progress"; progress: Progress | null } | { state: "pending" } | { state: "unusable" };

export interface ReportInput {
  plan: readonly PlannedRun[];
  /** Plan id → status. Missing ids are pending. */
  status: ReadonlyMap<string, RunStatus>;
  /** The doc comment of plan.ts (quoted as the protocol), or null. */
  planComment: string | null;
  references: References;
  /** `plannedStorage` of the backbone, when its config.json could be read. */
  plannedStorage?: ReadonlyMap<string, PlannedStorage>;
  problems: readonly string[];
  repoRoot: string;
}

export function finishedRuns(input: Pick<ReportInput, "status">): RunMetrics[] {
  const out: RunMetrics[] = [];
  for (const s of input.status.values()) if (s.state === "done") out.push(s.run);
  return out;
}

function statusText(s: RunStatus | undefined): string {
  if (!s || s.state === "pending") return "pending";
  if (s.state === "done") return "done";
  if (s.state === "unusable") return "metrics.json unusable (see problems)";
  const p = s.progress;
  if (!p || p.step === null) return "in progress (no step logged yet)";
  return `in progress: step ${p.step}/${p.totalSteps ?? "?"}, ${p.evals} validation(s)${p.lastBleu !== null ? `, last validation BLEU ${bleuText(p.lastBleu)}` : ""}`;
}

function methodLine(m: PlannedMethod): string {
  return `${display(m.method)} (\`${m.method}\`) at ${m.sizeKind} ${m.sizes.join(", ")}`;
}

export function generatedMarkdown(input: ReportInput): string {
  const { plan, status } = input;
  const runs = finishedRuns(input);
  const problems = [...input.problems];
  const seeds = [...SEEDS] as number[];
  const out: string[] = [];
  const inProgress = plan.filter((r) => status.get(r.id)?.state === "in progress");
  const points = pointSummaries(plan, runs, problems, input.plannedStorage);

  out.push("_Generated by `node dist/experiments/figure3/report.js` from the runs' metrics.json files; edit outside the markers only._", "");
  out.push(
    `**Runs done:** ${runs.length} of ${plan.length} planned${inProgress.length ? `; ${inProgress.length} in progress` : ""} when this was generated. ` +
      "Every number below is over the finished runs only; `–` = not finished (yet).",
    "",
  );

  // --- The claim ------------------------------------------------------------------------------
  out.push("### Paper claim, from the data", "");
  out.push("The paper's Figure 3: ProPETL reaches the score of the plain module at a fraction of its bit-level storage.", "");
  for (const family of ["adapter", "lora"] as const) {
    const c = paperClaim(points, family);
    out.push(c ? claimLine(c) : `**${family === "adapter" ? "Adapter" : "LoRA"} family:** not enough finished runs yet (needs a ProPETL and a plain point with test BLEU and storage).`, "");
  }

  // --- Protocol -------------------------------------------------------------------------------
  out.push("### What was run", "");
  if (input.planComment) {
    out.push("From `experiments/figure3/plan.ts`:", "");
    out.push(...input.planComment.split("\n").map((l) => (l ? `> ${l}` : ">")), "");
  }
  out.push(
    `The grid (\`planRuns()\`, ${plan.length} runs): task \`${TASK}\`, backbone \`${MODEL_DIR}\`; seeds ${seeds.join(", ")}; ` +
      `${METHODS.map(methodLine).join("; ")}; ProPETL with k ${K}. ` +
      `Every run is \`propetl train --method <method> <size flags> [--k ${K}] --seed <seed> ${COMMON_ARGS.join(" ")}\` ` +
      "(size flags: `--bottleneck N` for the adapters; `--rank N --alpha A` for LoRA, A = N, and ProPETL-LoRA, A = 1.5·N), " +
      "with the full validation and test splits (no `--max-eval-examples`). The test score is that of the checkpoint of the best validation BLEU.",
    "",
  );
  out.push(
    "Commands, from the repository root:",
    "",
    "```sh",
    "npx tsc -p tsconfig.json",
    "node dist/experiments/compare/run.js --plan figure3 --jobs 1 --threads 2   # resumable; rerun until every run is done",
    "node dist/experiments/figure3/report.js                                    # this file and bleu-vs-storage.svg",
    "```",
    "",
    "The runner adds `--output experiments/figure3/results/<run id> --json` (and `--resume` for a run folder that exists) to each run's arguments.",
    "",
  );
  out.push("<details><summary>Each planned run: status and exact command</summary>", "");
  out.push("Done runs show the command recorded in their metrics.json; the others the plan's arguments.", "");
  const listed = input.references.full ? [...plan, input.references.full.plan] : plan;
  const statusOf = (id: string): RunStatus | undefined => (input.references.full && id === input.references.full.plan.id ? input.references.full.status : status.get(id));
  for (const r of listed) {
    const s = statusOf(r.id);
    let cmd: string;
    if (s?.state === "done" && s.run.command) {
      cmd = commandLine(s.run.command, input.repoRoot);
      const recorded = plannedPart(s.run.command);
      if (recorded.join(" ") !== r.args.join(" ")) problems.push(`${r.id}: recorded command arguments differ from the plan's (${recorded.join(" ")})`);
    } else {
      cmd = `propetl train ${r.args.join(" ")} --output experiments/figure3/results/${r.id} --json`;
    }
    out.push(`- \`${r.id}\` — ${statusText(s)}`, `  \`${cmd}\``);
  }
  out.push("", "</details>", "");

  // --- The table ------------------------------------------------------------------------------
  out.push("### Test BLEU and storage per method and module size", "");
  out.push(
    `Test BLEU (corpus BLEU, sacreBLEU's defaults, on the ${TASK} test split): mean ± sample standard deviation (n − 1) over the finished seeds, ` +
      `then each seed's value (seeds ${seeds.join(" / ")}); \`(n=…)\` marks fewer seeds than planned, a single seed has no sd. ` +
      "Best validation BLEU @ step = the checkpoint scored on test. Storage = the method's bit-level storage (paper eq. 2: 32-bit module weights, " +
      "1-bit masks), in bits, bytes and as % of the backbone's; checkpoint = the size on disk of the run's saved task checkpoint (adapter_config.json + adapter_model.safetensors: the module weights and the masks packed 1 bit per entry, plus the file headers and the config). " +
      "Storage of a point without a finished run is the library's count for the planned backbone (`storage` of metrics.json is checked against it). " +
      "Train min = wall-clock training minutes as recorded (runs share a busy machine: not a speed comparison).",
    "",
  );
  const rows = points.map((p) => {
    const perSeed = seeds.map((s) => (p.testBySeed.has(s) ? bleuText(p.testBySeed.get(s) as number) : DASH)).join(" / ");
    const val = seeds
      .map((s) => {
        const r = p.runs.find((x) => x.seed === s);
        return r && r.bestValidationBleu !== null ? `${bleuText(r.bestValidationBleu)} @ ${r.bestStep ?? "?"}` : DASH;
      })
      .join(" / ");
    const mins = seeds
      .map((s) => {
        const r = p.runs.find((x) => x.seed === s);
        return r && r.trainSeconds !== null ? (r.trainSeconds / 60).toFixed(1) : DASH;
      })
      .join(" / ");
    return [
      display(p.method),
      sizeLabel(p.sizeKind, p.size),
      `${p.runs.length}/${p.planned}`,
      formatStat(p.test, p.planned),
      perSeed,
      val,
      p.storageBits !== null ? formatInt(p.storageBits) : DASH,
      p.storageBytes !== null ? `${formatInt(p.storageBytes)} (${formatBytes(p.storageBytes)})` : DASH,
      formatPercent(p.storagePercent),
      p.checkpointBytes !== null ? formatBytes(p.checkpointBytes) : DASH,
      mins,
    ];
  });
  const refs = input.references;
  if (refs.full) {
    const st = refs.full.status;
    const r = st.state === "done" ? st.run : null;
    rows.push([
      `Full fine-tuning (reference, lr ${FULL_LR})`,
      "all weights",
      `${r ? 1 : 0}/1`,
      r && r.testBleu !== null ? `${bleuText(r.testBleu)} (seed ${refs.full.plan.seed})` : DASH,
      r && r.testBleu !== null ? bleuText(r.testBleu) : DASH,
      r && r.bestValidationBleu !== null ? `${bleuText(r.bestValidationBleu)} @ ${r.bestStep ?? "?"}` : DASH,
      r && r.storageBits !== null ? formatInt(r.storageBits) : DASH,
      r && r.storageBytes !== null ? `${formatInt(r.storageBytes)} (${formatBytes(r.storageBytes)})` : DASH,
      r ? formatPercent(r.storagePercent) : DASH,
      r && r.checkpointBytes !== null ? formatBytes(r.checkpointBytes) : DASH,
      r && r.trainSeconds !== null ? (r.trainSeconds / 60).toFixed(1) : DASH,
    ]);
  }
  rows.push([
    "Copy source (reference, no training)",
    DASH,
    DASH,
    refs.copySource ? bleuText(refs.copySource.bleu) : DASH,
    DASH,
    DASH,
    "0",
    "0",
    "0%",
    DASH,
    DASH,
  ]);
  out.push(
    mdTable(
      ["Method", "Size", "Seeds done", "Test BLEU", "Per seed", "Best val. BLEU @ step per seed", "Storage bits", "Storage bytes", "% of backbone", "Checkpoint", "Train min per seed"],
      ["l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      rows,
    ),
    "",
  );

  // --- Reference rows -------------------------------------------------------------------------
  out.push("### Reference rows", "");
  if (refs.full) {
    const st = refs.full.status;
    out.push(
      st.state === "done" && st.run.testBleu !== null
        ? `- **Full fine-tuning** (\`${refs.full.plan.id}\`, trained): every weight of ${MODEL_DIR} trained on the grid's budget at lr ${FULL_LR} and stored (${formatPercent(st.run.storagePercent)} of the backbone): test BLEU ${bleuText(st.run.testBleu)}, one seed. The score PETL methods are measured against in the paper.`
        : `- **Full fine-tuning** (\`${refs.full.plan.id}\`): ${statusText(st)}.`,
    );
  }
  out.push(
    refs.copySource
      ? `- **Copy source:** the ${refs.copySource.examples} Spanish test sources scored as the English output with the library's \`corpusBleu\`: ` +
          `BLEU ${bleuText(refs.copySource.bleu)} (1-gram precision ${refs.copySource.unigramPrecision.toFixed(1)}%, brevity penalty ${refs.copySource.bp.toFixed(3)}): the score of a system that outputs its input unchanged. A run near this line has learned next to nothing of the translation.`
      : "- **Copy source:** the test split could not be read (see problems).",
  );
  const checks = refs.predictions;
  if (!checks.length) out.push(`- **${PREDICTIONS_FILE}:** no finished run to check yet.`);
  else {
    const passed = checks.filter(predictionCheckPasses);
    out.push(
      `- **${PREDICTIONS_FILE}:** ${passed.length} of ${checks.length} finished run(s) have one line per test example and, rescored with \`corpusBleu\` against the test references, the test BLEU their metrics.json records.`,
    );
    for (const c of checks.filter((x) => !predictionCheckPasses(x))) {
      const what =
        c.lines === null
          ? `no ${PREDICTIONS_FILE}`
          : `${c.lines} line(s) for ${c.expected ?? "?"} test examples; rescored BLEU ${c.rescored !== null ? bleuText(c.rescored) : DASH}, recorded ${c.recorded !== null ? bleuText(c.recorded) : DASH}`;
      out.push(`  - \`${c.id}\`: ${what}`);
    }
  }
  out.push("");

  out.push("### Figure", "");
  out.push("![Test BLEU against storage as % of the backbone, one line per method](bleu-vs-storage.svg)", "");
  out.push("x: bit-level storage as % of the backbone (log scale); y: test BLEU, mean over the finished seeds with ± sd bars; each point is labelled with its bottleneck (bn) or rank (r); dashed grey: the copy-source BLEU; dotted black: full fine-tuning's BLEU (its storage, 100%, is off the axis).", "");

  out.push(...problemsBlock(problems));
  return out.join("\n");
}

/**
 * `existing` with the generated block replaced; a new file (existing = null) gets a title, the
 * block, and the hand-written section as a placeholder.
 */
export function spliceGenerated(existing: string | null, generated: string): string {
  return spliceBlock(existing, generated, {
    insertBefore: WHAT_IT_SHOWS,
    newFile: (block) =>
      [
        `# Figure 3 at small scale: BLEU vs storage on \`${TASK}\``,
        "",
        "The part between the generated markers is rewritten by `node dist/experiments/figure3/report.js`; the rest of this file is kept.",
        "",
        block,
        "",
        WHAT_IT_SHOWS,
        "",
        PLACEHOLDER,
        "",
      ].join("\n"),
  });
}

// ---------------------------------------------------------------------------------------------
// The plot

const METHOD_STYLE: Readonly<Record<string, { color: string; shape: MarkerShape }>> = {
  adapter: { color: PALETTE[0], shape: "circle" },
  "propetl-adapter": { color: PALETTE[1], shape: "square" },
  lora: { color: PALETTE[2], shape: "triangle" },
  "propetl-lora": { color: PALETTE[3], shape: "diamond" },
};

export function methodStyle(method: string): { color: string; shape: MarkerShape } {
  return METHOD_STYLE[method] ?? { color: PALETTE[6], shape: "cross" };
}

/** The plotted points: finished, with a test BLEU and a positive storage percentage. */
export function plottable(points: readonly PointSummary[]): (PointSummary & { test: Stat; storagePercent: number })[] {
  return points.filter((p): p is PointSummary & { test: Stat; storagePercent: number } => p.test !== null && p.storagePercent !== null && p.storagePercent > 0);
}

export function bleuVsStorageSvg(points: readonly PointSummary[], copySource: number | null, runsDone: number, planned: number, fullFineTuning: number | null = null): string {
  const W = 900, H = 540;
  const box = { left: 66, top: 64, right: 660, bottom: 476 };
  const title = `Test BLEU against storage on ${TASK} (the paper's Figure 3 at small scale)`;
  const fig = new Figure({ width: W, height: H, fontSize: 12, title });
  fig.text(box.left, 24, title, { size: 15, weight: "bold" });
  fig.text(box.left, 44, `${runsDone} of ${planned} planned runs finished; a point = mean test BLEU over its finished seeds (bars: ± sd)`, { size: 12, fill: "#444" });

  const pts = plottable(points);
  const xs = pts.map((p) => p.storagePercent);
  const ys = pts.flatMap((p) => [p.test.mean - (p.test.sd ?? 0), p.test.mean + (p.test.sd ?? 0)]);
  if (copySource !== null) ys.push(copySource);
  if (fullFineTuning !== null) ys.push(fullFineTuning);
  const xDom = xs.length ? logDomain(Math.min(...xs), Math.max(...xs)) : ([0.01, 1] as [number, number]);
  const yDom = ys.length ? niceDomain(Math.max(0, Math.min(...ys)), Math.max(...ys), 8) : ([0, 10] as [number, number]);
  const ax = fig.axes(box, logScale(xDom, [box.left, box.right]), linearScale(yDom, [box.bottom, box.top]));
  ax.yAxis({ ticks: ax.y.ticks(8), grid: "#e3e3e3", tickSize: 4 });
  ax.xAxis({ ticks: ax.x.ticks(), grid: "#f0f0f0", tickSize: 4, format: (v) => `${Number.parseFloat(v.toPrecision(3))}%` });
  ax.frame("#888");
  ax.xLabel("bit-level storage, % of the backbone (log scale)", { y: box.bottom + 40 });
  ax.yLabel(`test BLEU (${TASK})`, { x: box.left - 46 });

  if (copySource !== null) {
    const c = copySource;
    ax.hline(c, { stroke: "#888", width: 1.2, dash: "6 4" });
    fig.text(box.right - 4, ax.y(c) - 5, `copy source ${bleuText(c)}`, { anchor: "end", size: 11, fill: "#666" });
  }
  if (fullFineTuning !== null) {
    ax.hline(fullFineTuning, { stroke: "#222", width: 1.2, dash: "2 3" });
    fig.text(box.right - 4, ax.y(fullFineTuning) - 5, `full fine-tuning ${bleuText(fullFineTuning)} (100% storage)`, { anchor: "end", size: 11, fill: "#222" });
  }
  for (const m of METHODS) {
    const mine = pts.filter((p) => p.method === m.method).sort((a, b) => a.storagePercent - b.storagePercent);
    if (!mine.length) continue;
    const { color, shape } = methodStyle(m.method);
    const xy = mine.map((p) => ({ x: p.storagePercent, y: p.test.mean }));
    ax.errorBars(mine.filter((p) => p.test.sd !== null).map((p) => ({ x: p.storagePercent, lo: p.test.mean - (p.test.sd ?? 0), hi: p.test.mean + (p.test.sd ?? 0) })), { stroke: color, width: 1.2 });
    ax.line(xy, { stroke: color, width: 2, ...(m.method.startsWith("propetl-") ? {} : { dash: "7 4" }) });
    ax.markers(xy, { shape, size: 4.5, fill: color, stroke: "white", strokeWidth: 1 });
  }
  ax.labels(pts.map((p) => ({ x: p.storagePercent, y: p.test.mean, text: sizeLabel(p.sizeKind, p.size), color: methodStyle(p.method).color })), { size: 11 });
  if (!pts.length) fig.text((box.left + box.right) / 2, (box.top + box.bottom) / 2, "no finished runs yet", { anchor: "middle", size: 13, fill: "#555" });

  const present = new Set(pts.map((p) => p.method));
  const entries: LegendEntry[] = METHODS.map((m) => {
    const { color, shape } = methodStyle(m.method);
    return {
      label: display(m.method) + (present.has(m.method) ? "" : " (none yet)"),
      stroke: { stroke: color, width: 2, ...(m.method.startsWith("propetl-") ? {} : { dash: "7 4" }) },
      marker: { shape, size: 4.5, fill: color, stroke: "white", strokeWidth: 1 },
    };
  });
  let y = box.top;
  y += fig.legend(entries, box.right + 22, y, { title: "method", sample: 30 }) + 10;
  const refEntries: LegendEntry[] = [];
  if (copySource !== null) refEntries.push({ label: "copy source", stroke: { stroke: "#888", width: 1.2, dash: "6 4" } });
  if (fullFineTuning !== null) refEntries.push({ label: "full fine-tuning", stroke: { stroke: "#222", width: 1.2, dash: "2 3" } });
  if (refEntries.length) fig.legend(refEntries, box.right + 22, y, { title: "reference", sample: 30 });
  return fig.toString();
}

// ---------------------------------------------------------------------------------------------
// Files and CLI

/** Status of every planned run under `resultsDir`, and unplanned result folders as problems. */
export function readRuns(resultsDir: string, plan: readonly PlannedRun[]): { status: Map<string, RunStatus>; problems: string[] } {
  const status = new Map<string, RunStatus>();
  const problems: string[] = [];
  for (const r of plan) {
    const dir = path.join(resultsDir, r.id);
    const file = path.join(dir, "metrics.json");
    if (existsSync(file)) {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        problems.push(`${r.id}: metrics.json does not parse (${(e as Error).message})`);
        status.set(r.id, { state: "unusable" });
        continue;
      }
      const run = parseMetrics(doc, keyOf(r), problems);
      status.set(r.id, run ? { state: "done", run } : { state: "unusable" });
    } else if (existsSync(dir)) {
      const log = path.join(dir, "train.log");
      status.set(r.id, { state: "in progress", progress: existsSync(log) ? progressFromLog(readFileSync(log, "utf8")) : null });
    } else status.set(r.id, { state: "pending" });
  }
  const planned = new Set(plan.map((r) => r.id));
  const walk = (rel: string, depth: number): void => {
    const abs = path.join(resultsDir, rel);
    if (depth === 3) {
      if (!planned.has(rel.split(path.sep).join("/")) && existsSync(path.join(abs, "metrics.json"))) problems.push(`${rel}: finished run not in the plan (not shown)`);
      return;
    }
    for (const name of readdirSync(abs)) if (statSync(path.join(abs, name)).isDirectory()) walk(path.join(rel, name), depth + 1);
  };
  if (existsSync(resultsDir)) walk("", 0);
  return { status, problems };
}

/** The reference rows: the copy-source BLEU of the test split and every finished run's predictions check. */
export function referenceRows(resultsDir: string, runs: readonly RunMetrics[], problems: string[]): References {
  let test: { source: string; target: string }[] | null = null;
  try {
    test = loadSeq2SeqTask(TASK).test;
  } catch (e) {
    problems.push(`${TASK}: test split not read (${(e as Error).message})`);
  }
  const references = test ? test.map((x) => x.target) : [];
  const predictions = runs.map((r) => {
    const file = path.join(resultsDir, r.id, PREDICTIONS_FILE);
    let lines: string[] | null = null;
    if (existsSync(file)) {
      try {
        lines = readLines(file, "test predictions");
      } catch (e) {
        problems.push(`${r.id}: ${PREDICTIONS_FILE} not read (${(e as Error).message})`);
      }
    }
    return checkPredictions(r, lines, references);
  });
  return { copySource: test && test.length ? copySourceBleu(test.map((x) => x.source), references) : null, predictions };
}

function main(): void {
  const { values } = parseArgs({ options: { results: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } }, allowPositionals: false });
  if (values.help) {
    console.log(`usage: node dist/experiments/figure3/report.js [--results DIR] [--out DIR]\ndefaults: --results ${path.join(FIGURE3_DIR, "results")} --out ${FIGURE3_DIR}`);
    return;
  }
  const resultsDir = path.resolve(values.results ?? path.join(FIGURE3_DIR, "results"));
  const outDir = path.resolve(values.out ?? FIGURE3_DIR);
  const plan = planRuns();
  const { status, problems } = readRuns(resultsDir, plan);
  const planSource = path.join(FIGURE3_DIR, "plan.ts");
  const planComment = existsSync(planSource) ? docComment(readFileSync(planSource, "utf8")) : null;
  if (planComment === null) problems.push(`no doc comment read from ${planSource}`);
  const fullPlan = fullReferenceRun();
  const fullStatus = readRuns(resultsDir, [fullPlan]);
  problems.push(...fullStatus.problems.filter((p) => !p.includes("not in the plan")));
  const full = { plan: fullPlan, status: fullStatus.status.get(fullPlan.id) ?? ({ state: "pending" } as RunStatus) };
  const runs = finishedRuns({ status });
  const fullRun = full.status.state === "done" ? full.status.run : null;
  const references = { ...referenceRows(resultsDir, fullRun ? [...runs, fullRun] : runs, problems), full };
  const modelConfig = path.join(REPO_ROOT, MODEL_DIR, "config.json");
  let planned: Map<string, PlannedStorage> | undefined;
  if (existsSync(modelConfig)) {
    try {
      const { config } = readModelConfig(modelConfig);
      if (config.modelType === "t5") planned = plannedStorage(config as T5Config);
      else problems.push(`${modelConfig}: model_type ${config.modelType}, not t5 (no planned storage)`);
    } catch (e) {
      problems.push(`${modelConfig}: not read (${(e as Error).message})`);
    }
  }
  const input: ReportInput = { plan, status, planComment, references, ...(planned ? { plannedStorage: planned } : {}), problems, repoRoot: REPO_ROOT };
  const md = path.join(outDir, "RESULTS.md");
  const existing = existsSync(md) ? readFileSync(md, "utf8") : null;
  writeFileSync(md, spliceGenerated(existing, generatedMarkdown(input)));
  const points = pointSummaries(plan, runs, [], planned);
  writeFileSync(path.join(outDir, "bleu-vs-storage.svg"), bleuVsStorageSvg(points, references.copySource?.bleu ?? null, runs.length, plan.length, fullRun?.testBleu ?? null));
  console.log(`${runs.length} of ${plan.length} planned runs done (${resultsDir}); wrote ${md} and bleu-vs-storage.svg`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
