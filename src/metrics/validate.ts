/**
 * Shared input checks for the metric functions.
 *
 * The classification/regression metrics take two equally long, non-empty arrays of finite
 * numbers; the text metrics (ROUGE, BLEU) take arrays of strings (checkText, checkTextList,
 * checkTexts). Violations throw an error naming the metric, so a bug upstream (a truncated
 * prediction array, a NaN logit, an undefined line) fails loudly instead of producing a
 * plausible-looking score.
 */

export type NumArray = ArrayLike<number>;

export function checkPair(name: string, a: NumArray, b: NumArray, aName: string, bName: string): number {
  if (a.length !== b.length) {
    throw new RangeError(`${name}: ${aName} has ${a.length} entries but ${bName} has ${b.length}`);
  }
  if (a.length === 0) {
    throw new RangeError(`${name}: empty input`);
  }
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`${name}: ${aName}[${i}] is not a finite number (${a[i]})`);
    if (!Number.isFinite(b[i])) throw new RangeError(`${name}: ${bName}[${i}] is not a finite number (${b[i]})`);
  }
  return a.length;
}

/** Require every value to be 0 or 1 (binary classification labels). */
export function checkBinary(name: string, a: NumArray, aName: string): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v !== 0 && v !== 1) {
      throw new RangeError(`${name}: ${aName}[${i}] = ${v}; binary metrics need labels 0 or 1`);
    }
  }
}

/** Require every value to be an integer (class index). */
export function checkIntegers(name: string, a: NumArray, aName: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i])) {
      throw new RangeError(`${name}: ${aName}[${i}] = ${a[i]} is not an integer class index`);
    }
  }
}

/** What a value is, for error messages: "null", "undefined", "number", "object", ... */
export function describeType(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "array" : typeof x;
}

/** Require a string (text metrics); a TypeError naming the argument otherwise. */
export function checkText(name: string, x: unknown, xName: string): asserts x is string {
  if (typeof x !== "string") throw new TypeError(`${name}: ${xName} is not a string (${describeType(x)})`);
}

/** Require a non-empty array of strings; returns its length. */
export function checkTextList(name: string, a: unknown, aName: string): number {
  if (!Array.isArray(a)) throw new TypeError(`${name}: ${aName} is not an array of strings (${describeType(a)})`);
  if (a.length === 0) throw new RangeError(`${name}: ${aName} is empty`);
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== "string") throw new TypeError(`${name}: ${aName}[${i}] is not a string (${describeType(a[i])})`);
  }
  return a.length;
}

/**
 * Text metrics take two equally long, non-empty arrays of strings (empty strings are valid
 * texts). Returns the length; violations throw an error naming the metric, the argument and
 * the entry.
 */
export function checkTexts(name: string, a: unknown, aName: string, b: unknown, bName: string): number {
  const n = checkTextList(name, a, aName);
  const m = checkTextList(name, b, bName);
  if (n !== m) throw new RangeError(`${name}: ${aName} has ${n} entries but ${bName} has ${m}`);
  return n;
}
