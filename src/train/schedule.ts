/**
 * Learning-rate schedules as pure functions of the optimizer step.
 *
 * `linearWarmupDecay` is Hugging Face's `get_linear_schedule_with_warmup` (the schedule the
 * ProPETL authors' AdapterHub/Trainer scripts use): the multiplier rises linearly from 0 to 1
 * over the warmup steps, then falls linearly to 0 at `totalSteps`. As in HF, the update made
 * at step `s` (0-based) uses the multiplier of `s`, so the very first update has multiplier 0
 * when there is any warmup. Warmup steps = ceil(totalSteps * warmupRatio), HF's rule.
 */

export interface LinearScheduleOptions {
  /** Total optimizer steps of the run (after gradient accumulation). */
  totalSteps: number;
  /** Fraction of `totalSteps` used for warmup (default 0.1, the paper's scripts). */
  warmupRatio?: number;
  /** Explicit warmup steps; overrides `warmupRatio`. */
  warmupSteps?: number;
}

/** A learning-rate multiplier for each 0-based optimizer step. */
export type Schedule = (step: number) => number;

export const DEFAULT_WARMUP_RATIO = 0.1;

/** HF's `get_warmup_steps`: ceil(total * ratio). */
export function warmupStepsFor(totalSteps: number, warmupRatio = DEFAULT_WARMUP_RATIO): number {
  if (!Number.isInteger(totalSteps) || totalSteps < 0) throw new RangeError(`totalSteps must be a non-negative integer, got ${totalSteps}`);
  if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new RangeError(`warmupRatio must be in [0, 1], got ${warmupRatio}`);
  return Math.ceil(totalSteps * warmupRatio);
}

/** Linear warmup then linear decay to zero (HF `get_linear_schedule_with_warmup`). */
export function linearWarmupDecay(opts: LinearScheduleOptions): Schedule {
  const total = opts.totalSteps;
  const warmup = opts.warmupSteps ?? warmupStepsFor(total, opts.warmupRatio ?? DEFAULT_WARMUP_RATIO);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`warmupSteps must be a non-negative integer, got ${warmup}`);
  return (step: number): number => {
    if (step < warmup) return step / Math.max(1, warmup);
    return Math.max(0, (total - step) / Math.max(1, total - warmup));
  };
}

/** Constant multiplier 1 (for tests and ablations). */
export const constantSchedule: Schedule = () => 1;
