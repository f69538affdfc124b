/**
 * How every `propetl train` runner (encoder or T5, one task or several) runs its training and
 * ends: interrupts, non-finite losses and a full wasm heap mean the same thing to all of them.
 */
import { isWasmHeapExhausted } from "../engine/engine.js";
import { NonFiniteLossError, TrainingInterrupted } from "../train/trainer.js";
import type { SeedResult } from "../train/task-run.js";
import { CliError } from "./args.js";
import type { StopRequest } from "./interrupt.js";
import type { Reporter } from "./progress.js";

/**
 * Run `train` (which reports its own result and returns 0) and map its failures to exit codes:
 * an interrupt (the state was saved) → 130 with the trainer's message as a warning; a NaN or
 * infinite loss → exit 1 naming the step; a step too large for the 4 GiB wasm heap → exit 1 with
 * `outOfMemory()`'s advice. The reporter and the interrupt handler are released either way.
 */
export async function runTraining(reporter: Reporter, stop: StopRequest, train: () => Promise<number>, outOfMemory: () => string): Promise<number> {
  try {
    return await train();
  } catch (e) {
    if (e instanceof TrainingInterrupted) {
      reporter.warn(e.message);
      return 130;
    }
    if (e instanceof NonFiniteLossError) throw new CliError(e.message, 1);
    if (isWasmHeapExhausted(e)) throw new CliError(outOfMemory(), 1);
    throw e;
  } finally {
    reporter.close();
    stop.dispose();
  }
}

/** The per-seed part of every train runner's JSON result. */
export function seedsJson<S extends Pick<SeedResult, "seed" | "dir"> & { test: unknown; validation: unknown }>(seeds: readonly S[]): Pick<S, "seed" | "dir" | "test" | "validation">[] {
  return seeds.map((r) => ({ seed: r.seed, dir: r.dir, test: r.test, validation: r.validation }));
}
