/** The `train` options `propetl demo` presets (its help and README derive from them). */
/**
 * Quick-run settings, from the converged comparison (experiments/converge/RESULTS.md): three
 * passes over 1,600 training examples of length <= 64, module learning rate 1e-3 and mask scores
 * 30x that (the authors' ratio). The most that finishes in under 5 minutes on 2 cores (4 min 21 s
 * measured; README "The demo"); the comparison's adapter keeps improving until about epoch 8.
 */
export const DEMO_PRESETS = [
  "--task", "spam",
  "--method", "propetl-adapter",
  "--epochs", "3",
  "--max-train-examples", "1600",
  "--max-length", "64",
  "--lr", "1e-3",
  "--mask-lr", "3e-2",
] as const;

/** The presets as one would type them, wrapped for help text. */
export function demoPresetsText(indent = "  ", width = 92): string {
  const words: string[] = [];
  for (let i = 0; i < DEMO_PRESETS.length; i += 2) words.push(`${DEMO_PRESETS[i]} ${DEMO_PRESETS[i + 1]}`);
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line && indent.length + line.length + 1 + w.length > width) {
      lines.push(indent + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(indent + line);
  return lines.join("\n");
}
