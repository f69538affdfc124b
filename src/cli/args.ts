/**
 * Argument parsing shared by the commands: node:util parseArgs with strict checking, typed
 * number/list readers with messages naming the option, and usage errors.
 */
import { parseArgs } from "node:util";
import type { RematChoice } from "../train/remat-choice.js";

/** A user-facing error; `exitCode` 2 for usage errors, 1 otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export type OptionSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/**
 * A negative number after a string option (`--seed -1`) is its value, not an option: joined as
 * `--seed=-1` so that the option's own range check names the problem (parseArgs would call the
 * argument "ambiguous").
 */
function joinNegativeValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Parse `argv` against `options`; unknown options, missing values and an option given twice
 * (unless it is `multiple`) are usage errors.
 */
export function parseCommand(command: string, argv: string[], options: Record<string, OptionSpec>, allowPositionals = false): { values: Values; positionals: string[] } {
  const all: Record<string, OptionSpec> = { ...options, help: { type: "boolean", short: "h" } };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, all), options: all, strict: true, allowPositionals, tokens: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new CliError(`${msg} (see: propetl ${command} --help)`, 2);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== "option" || all[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new CliError(`--${t.name} is given more than once; give it once (see: propetl ${command} --help)`, 2);
    seen.add(t.name);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  if (typeof x !== "string") throw new CliError(`--${name} expects a value`, 2);
  return x;
}

export function required(v: Values, name: string, command: string, what = "a value"): string {
  const x = str(v, name);
  if (x === undefined || x === "") throw new CliError(`missing --${name} (${what}); see: propetl ${command} --help`, 2);
  return x;
}

export function flag(v: Values, name: string): boolean {
  return v[name] === true;
}

/** An integer option (undefined when absent); `min` defaults to 1, -Infinity parses only. */
export function int(v: Values, name: string, opts: { min?: number } = {}): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  const min = opts.min ?? 1;
  if (!/^[+-]?\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min) throw new CliError(`--${name} must be an integer${min > -Infinity ? ` >= ${min}` : ""}, got "${s}"`, 2);
  return n;
}

/** A number option (undefined when absent). */
export function num(v: Values, name: string, opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}): number | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  const min = opts.min ?? -Infinity;
  const max = opts.max ?? Infinity;
  const okMin = opts.exclusiveMin ? n > min : n >= min;
  if (s.trim() === "" || !Number.isFinite(n) || !okMin || n > max) {
    const range = [min > -Infinity ? `${opts.exclusiveMin ? ">" : ">="} ${min}` : "", max < Infinity ? `<= ${max}` : ""].filter((r) => r !== "").join(" and ");
    throw new CliError(`--${name} must be a number${range ? ` ${range}` : ""}, got "${s}"`, 2);
  }
  return n;
}

/** A comma-separated list option. */
export function list(v: Values, name: string): string[] | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const items = s.split(",").map((x) => x.trim()).filter((x) => x !== "");
  if (items.length === 0) throw new CliError(`--${name} must be a comma-separated list, got "${s}"`, 2);
  return items;
}

/** Comma-separated integers (seeds). */
export function intList(v: Values, name: string): number[] | undefined {
  const items = list(v, name);
  if (items === undefined) return undefined;
  return items.map((s) => {
    if (!/^[+-]?\d+$/.test(s)) throw new CliError(`--${name}: "${s}" is not an integer`, 2);
    return Number(s);
  });
}

/** Run `fn`; its errors become usage errors (exit status 2). */
export function asUsageError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, 2);
  }
}

/** --remat (always), --no-remat (never) or neither ("auto": when the whole-network gradient would not fit comfortably). */
export function rematFlag(v: Values): RematChoice {
  if (flag(v, "remat") && flag(v, "no-remat")) throw new CliError("--remat and --no-remat contradict each other: give one (neither: decided from the step's size)", 2);
  return flag(v, "no-remat") ? false : flag(v, "remat") ? true : "auto";
}
