/**
 * Progress output of `propetl train`: on a terminal, a progress bar on stderr with the step
 * rate and ETA, plus one line per evaluation; with `--json` or when stdout is not a terminal,
 * one JSON object per line on stdout (every trainer event, plus logs and the final result).
 */
import type { TrainEvent } from "../train/trainer.js";

export interface Reporter {
  /** A trainer event of one seed's run. */
  event(seed: number, e: TrainEvent): void;
  /** An informational message. */
  log(message: string): void;
  /** A warning (always shown). */
  warn(message: string): void;
  /** The final result: a JSON line, or `text` on a terminal. */
  result(obj: Record<string, unknown>, text: string): void;
  close(): void;
}

export interface ReporterOptions {
  json: boolean;
  quiet?: boolean;
  /** Terminal wording: a run (default "seed <n>"), an epoch ("epoch"), the evaluation ("validation"), the examples of an epoch ("examples"). */
  words?: { run?: string; epoch?: string; eval?: string; examples?: string };
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** JSON lines when asked for or when stdout is not a TTY; a progress bar otherwise. */
export function makeReporter(opts: ReporterOptions): Reporter {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (opts.json || !stdout.isTTY) return new JsonReporter(stdout, opts.quiet ?? false);
  return new TtyReporter(stdout, stderr, opts.quiet ?? false, opts.words ?? {});
}

/** "1:02:03" / "2:03" from seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}`;
}

/** Rate and ETA from the steps done in this process (resumed steps excluded). */
class RateMeter {
  private startStep = 0;
  private startMs = 0;
  private started = false;
  reset(step: number, ms: number): void {
    this.startStep = step;
    this.startMs = ms;
    this.started = true;
  }
  /** Steps per second and the seconds left. */
  measure(step: number, total: number, ms: number): { rate: number; eta: number } {
    if (!this.started) this.reset(step - 1, 0);
    const dt = (ms - this.startMs) / 1000;
    const rate = dt > 0 ? (step - this.startStep) / dt : 0;
    return { rate, eta: rate > 0 ? (total - step) / rate : Number.NaN };
  }
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function scoresText(scores: Record<string, number>): string {
  return Object.entries(scores)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(", ");
}

class JsonReporter implements Reporter {
  private meters = new Map<number, RateMeter>();
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}
  private write(obj: Record<string, unknown>): void {
    this.out.write(JSON.stringify(obj, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)) + "\n");
  }
  event(seed: number, e: TrainEvent): void {
    let meter = this.meters.get(seed);
    if (!meter) this.meters.set(seed, (meter = new RateMeter()));
    if (e.type === "start") meter.reset(e.startStep, 0);
    if (e.type === "step") {
      if (this.quiet && e.step % 50 !== 0 && e.step !== e.totalSteps) return;
      const { rate, eta } = meter.measure(e.step, e.totalSteps, e.elapsedMs);
      this.write({ ...e, seed, stepsPerSec: Number(rate.toFixed(3)), etaSec: Number.isFinite(eta) ? Math.round(eta) : null });
      return;
    }
    this.write({ ...e, seed });
  }
  log(message: string): void {
    if (!this.quiet) this.write({ type: "log", message });
  }
  warn(message: string): void {
    this.write({ type: "warning", message });
  }
  result(obj: Record<string, unknown>): void {
    this.write({ type: "result", ...obj });
  }
  close(): void {}
}

class TtyReporter implements Reporter {
  private meter = new RateMeter();
  private barShown = false;
  private lastDraw = 0;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly err: NodeJS.WriteStream,
    private readonly quiet: boolean,
    private readonly words: NonNullable<ReporterOptions["words"]>,
  ) {}
  private run(seed: number): string {
    return this.words.run ?? `seed ${seed}`;
  }
  private clearBar(): void {
    if (this.barShown) {
      this.err.write("\r\x1b[2K");
      this.barShown = false;
    }
  }
  private line(text: string): void {
    this.clearBar();
    this.err.write(text + "\n");
  }
  event(seed: number, e: TrainEvent): void {
    switch (e.type) {
      case "start":
        this.meter.reset(e.startStep, 0);
        this.line(`${this.run(seed)}: ${e.epochs} ${this.words.epoch ?? "epoch"}s x ${e.stepsPerEpoch} steps = ${e.totalSteps} steps on ${e.trainExamples} ${this.words.examples ?? "examples"}${e.resumed ? `, resuming at step ${e.startStep}` : ""}`);
        return;
      case "step": {
        const now = Date.now();
        if (this.quiet || (now - this.lastDraw < 100 && e.step !== e.totalSteps)) return;
        this.lastDraw = now;
        const { rate, eta } = this.meter.measure(e.step, e.totalSteps, e.elapsedMs);
        const cols = this.err.columns || 100;
        const speed = rate >= 1 ? `${rate.toFixed(1)} it/s` : `${(1 / Math.max(rate, 1e-9)).toFixed(1)} s/it`;
        const head = `${this.words.epoch ?? "epoch"} ${e.epoch}/${e.epochs} `;
        const tail = ` ${e.step}/${e.totalSteps} loss ${fmt(e.loss)} ${speed} ETA ${formatDuration(eta)}`;
        const width = Math.max(5, Math.min(30, cols - head.length - tail.length - 3));
        const done = Math.round((e.step / e.totalSteps) * width);
        const bar = "=".repeat(Math.max(0, done - 1)) + (done > 0 ? ">" : "") + " ".repeat(width - done);
        const text = `${head}[${bar}]${tail}`;
        this.err.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
        this.barShown = true;
        return;
      }
      case "eval":
        this.line(`${this.words.epoch ?? "epoch"} ${e.epoch}: ${this.words.eval ?? "validation"} ${scoresText(e.scores)}${e.trainLoss !== undefined ? `, train loss ${fmt(e.trainLoss)}` : ""}${e.improved ? "  (best, saved)" : `  (best ${fmt(e.best)})`}`);
        return;
      case "early-stop":
        this.line(`early stop after epoch ${e.epoch}: no improvement in ${e.patience} evaluation(s)`);
        return;
      case "interrupted":
        this.line(`interrupted after step ${e.step}${e.file ? `; state saved to ${e.file} (continue with --resume)` : ""}`);
        return;
      case "done":
        this.line(`${this.run(seed)}: done in ${formatDuration(e.elapsedMs / 1000)}${e.stoppedEarly ? " (stopped early)" : ""}`);
        return;
      case "checkpoint":
        return;
    }
  }
  log(message: string): void {
    if (!this.quiet) this.line(message);
  }
  warn(message: string): void {
    this.line(`warning: ${message}`);
  }
  result(_obj: Record<string, unknown>, text: string): void {
    this.clearBar();
    this.out.write(text.endsWith("\n") ? text : text + "\n");
  }
  close(): void {
    this.clearBar();
  }
}
