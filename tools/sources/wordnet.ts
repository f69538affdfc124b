/** WordNet 3.0 glosses from Debian `wordnet-base` (WordNet 3.0 licence: permissive, BSD-like; keep Princeton's notice). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanLine } from "../text/clean.js";

/** Default WordNet database directory of Debian's wordnet-base. */
export const WORDNET_DIR = "/usr/share/wordnet";

/**
 * One line per WordNet synset (nouns, verbs, adjectives, adverbs, in that
 * order and in file order): `<lemmas>: <gloss>`, e.g.
 * `cry, outcry, call, yell, shout, vociferation: a loud utterance; often in protest or opposition; "the speaker was interrupted by loud cries from the rear of the audience"`.
 * Underscores in lemmas become spaces; adjective markers like "(a)" are dropped.
 */
export function wordnetGlossLines(dir: string = WORDNET_DIR): string[] {
  const out: string[] = [];
  for (const pos of ["noun", "verb", "adj", "adv"]) {
    const file = join(dir, `data.${pos}`);
    const text = readFileSync(file, "utf8");
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("  ")) continue; // licence header lines start with two spaces
      const bar = line.indexOf(" | ");
      if (bar < 0) continue;
      const fields = line.slice(0, bar).split(" ");
      const wCnt = parseInt(fields[3] ?? "", 16);
      if (!Number.isFinite(wCnt)) continue;
      const lemmas: string[] = [];
      for (let i = 0; i < wCnt; i++) {
        const w = fields[4 + 2 * i];
        if (w === undefined) break;
        const lemma = w.replace(/\([a-z]+\)$/, "").replace(/_/g, " ");
        if (!lemmas.includes(lemma)) lemmas.push(lemma);
      }
      const gloss = cleanLine(line.slice(bar + 3));
      if (gloss === "" || lemmas.length === 0) continue;
      out.push(`${lemmas.join(", ")}: ${gloss}`);
    }
  }
  return out;
}
