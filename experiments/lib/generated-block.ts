/**
 * Results files that are part generated, part hand-written: a report script rewrites only the
 * block between the markers below and keeps every other line, so conclusions written by hand
 * survive regeneration.
 */

export const BEGIN = "<!-- generated:begin -->";
export const END = "<!-- generated:end -->";

export interface SpliceOptions {
  /** The whole file to write when none exists yet (`block` is the marked generated block). */
  newFile(block: string): string;
  /**
   * A file without markers gets the block inserted before this line (a hand-written
   * section's heading) when it has one, else appended.
   */
  insertBefore?: string;
}

/** `existing` (null: no file yet) with its generated block replaced by `generated`. */
export function spliceGenerated(existing: string | null, generated: string, options: SpliceOptions): string {
  const block = `${BEGIN}\n${generated.trimEnd()}\n${END}`;
  if (existing === null) return options.newFile(block);
  const b = existing.indexOf(BEGIN);
  const e = existing.indexOf(END);
  if (b < 0 && e < 0) {
    const w = options.insertBefore === undefined ? -1 : existing.indexOf(options.insertBefore);
    return w < 0 ? `${existing.trimEnd()}\n\n${block}\n` : `${existing.slice(0, w)}${block}\n\n${existing.slice(w)}`;
  }
  if (b < 0 || e < b) throw new Error(`the ${BEGIN} / ${END} markers are missing or out of order; fix the file by hand`);
  return existing.slice(0, b) + block + existing.slice(e + END.length);
}

/** A collapsed list of what went wrong while reading results (no lines when nothing did). */
export function problemsBlock(problems: readonly string[]): string[] {
  if (!problems.length) return [];
  return [`<details><summary>Problems while reading the results (${problems.length})</summary>`, "", ...problems.map((p) => `- ${p}`), "", "</details>", ""];
}
