/**
 * `propetl demo`: the README's first command. Fine-tunes ProPETL-adapter on the built-in spam
 * task with the bundled propetl-mini backbone, in a few minutes on 2 cores, then prints the
 * test metrics and the storage report next to a plain adapter's. It is `propetl train` with
 * the presets of demo-presets.ts; any train option given after `demo` overrides them.
 */
import { DEMO_PRESETS } from "./demo-presets.js";
import { run as train } from "./train.js";

export { DEMO_PRESETS };

export async function run(argv: string[]): Promise<number> {
  return train([...DEMO_PRESETS, ...argv]);
}
