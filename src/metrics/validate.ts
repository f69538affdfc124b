/**
 * Shared input checks for the metric functions.
 *
 * Every metric takes two equally long, non-empty arrays of finite numbers.
 * Violations throw a RangeError naming the metric, so a bug upstream (a
 * truncated prediction array, a NaN logit) fails loudly instead of producing
 * a plausible-looking score.
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
