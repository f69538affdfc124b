/**
 * Reading config.json values with strict validation, for every architecture's config parser:
 * a wrong or missing value is a `ConfigError` naming the file and the key.
 */

/** A config.json value that is missing, of the wrong type or out of range; the message names the file and the key. */
export class ConfigError extends Error {
  /** Always "ConfigError". */
  override name = "ConfigError";
}

type Json = Record<string, unknown>;

/** An integer `key` (>= `min`, default 1); `fallback` when the key is absent. */
export function intKey(cfg: Json, key: string, file: string, opts: { min?: number; fallback?: number } = {}): number {
  const v = cfg[key] ?? opts.fallback;
  if (v === undefined) throw new ConfigError(`${file}: missing key "${key}" (expected an integer)`);
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new ConfigError(`${file}: "${key}" must be an integer, got ${JSON.stringify(v)}`);
  }
  const min = opts.min ?? 1;
  if (v < min) throw new ConfigError(`${file}: "${key}" must be >= ${min}, got ${v}`);
  return v;
}

/** A positive number `key`; `fallback` when the key is absent. */
export function positiveKey(cfg: Json, key: string, file: string, fallback: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== "number" || !(v > 0)) throw new ConfigError(`${file}: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** A boolean `key`; `fallback` when the key is absent. */
export function boolKey(cfg: Json, key: string, file: string, fallback: boolean): boolean {
  const v = cfg[key] ?? fallback;
  if (typeof v !== "boolean") throw new ConfigError(`${file}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** One of `allowed` string values of `key`; `fallback` when the key is absent. */
export function choiceKey<T extends string>(cfg: Json, key: string, file: string, allowed: readonly T[], fallback: T): T {
  const v = cfg[key] ?? fallback;
  if (!(allowed as readonly unknown[]).includes(v)) {
    throw new ConfigError(`${file}: "${key}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
