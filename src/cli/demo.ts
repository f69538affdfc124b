/**
 * `propetl demo`: the README's first command. Fine-tunes ProPETL-adapter on the built-in spam
 * task with the bundled propetl-mini backbone, in a few minutes on 2 cores, then prints the
 * test metrics and the storage report next to a plain adapter's. It is `propetl train` with
 * the presets of demo-presets.ts; any train option given after `demo` overrides them.
 */
import { DEMO_PRESETS } from "./demo-presets.js";
import { run as train } from "./train.js";

export { DEMO_PRESETS };

/** The presets the user did not give (each preset is an option and its value). */
function presetsNotIn(argv: readonly string[]): string[] {
  const given = new Set(argv.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]));
  const out: string[] = [];
  for (let i = 0; i < DEMO_PRESETS.length; i += 2) {
    if (!given.has(DEMO_PRESETS[i].slice(2))) out.push(DEMO_PRESETS[i], DEMO_PRESETS[i + 1]);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  return train([...presetsNotIn(argv), ...argv]);
}
