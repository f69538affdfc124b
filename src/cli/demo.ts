/**
 * `propetl demo`: the README's first command. Fine-tunes ProPETL-adapter on the built-in spam
 * task with the bundled propetl-mini backbone, in a few minutes on 2 cores, then prints the
 * test metrics and the storage report next to a plain adapter's. It is `propetl train` with
 * the presets below; any train option given after `demo` overrides them.
 */
import { run as train } from "./train.js";

/** Quick-run settings: one pass over 1,600 training examples of length <= 64, a higher
 * learning rate than the paper's 1e-4 (which needs 20 epochs). */
export const DEMO_PRESETS = [
  "--task", "spam",
  "--method", "propetl-adapter",
  "--epochs", "1",
  "--max-train-examples", "1600",
  "--max-length", "64",
  "--lr", "2e-3",
  "--mask-lr", "1e-2",
] as const;

export async function run(argv: string[]): Promise<number> {
  return train([...DEMO_PRESETS, ...argv]);
}
