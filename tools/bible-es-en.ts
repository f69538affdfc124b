/**
 * Builder of the `bible-es-en` translation task (Spanish → English Bible
 * verses): the Reina-Valera 1909 (SWORD spaRV1909eb, Debian
 * `sword-text-sparv`) as source, the World English Bible (engWEB2015eb,
 * `sword-text-web`) as target, verses matched by reference, split by book.
 * Deterministic: the same packages give byte-identical files.
 *
 *   node dist/tools/bible-es-en.js --out data/bible-es-en
 *
 * writes `train.jsonl`, `validation.jsonl`, `test.jsonl` (one
 * `{"id":"Ruth.1.1","source":…,"target":…}` per line, canonical order) and
 * prints what was dropped and why.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomicSync } from "../src/io/atomic-write.js";
import { sha256Hex } from "./sha256.js";
import { readSwordVerses, SWORD_MODULES, type SwordVerse } from "./sources/sword.js";

export type BibleSplit = "train" | "validation" | "test";

/** Books held out (OSIS ids); every other book present in both modules is train. */
export const BIBLE_SPLIT_BOOKS: Readonly<Record<Exclude<BibleSplit, "train">, readonly string[]>> = {
  validation: ["Ruth", "Jonah", "Titus", "Phlm"],
  test: ["Esth", "Gal", "Eph", "Jas"],
};

/** The split of a book (OSIS id). */
export function splitOfBook(book: string): BibleSplit {
  if (BIBLE_SPLIT_BOOKS.validation.includes(book)) return "validation";
  if (BIBLE_SPLIT_BOOKS.test.includes(book)) return "test";
  return "train";
}

/**
 * The Reina-Valera's subscriptions: the KJV-style colophons ("Amén. Escrita
 * de Roma á los Efesios por Tichîco.") that end the last verse of each
 * Pauline epistle and Hebrews as unmarked text; the WEB has none.
 */
export const SPANISH_SUBSCRIPTION = /\bAmén\.\s+[^]*\b(escrita|enviada)\b[^]*$/i;

/** Thresholds of the alignment checks (see `alignVerses`). */
export interface AlignOptions {
  /** A source verse matching this holds text the target lacks and is dropped (default `SPANISH_SUBSCRIPTION`). */
  sourceExtra?: RegExp;
  /** A kept pair's character-length ratio source/target must lie in [min, max] (default [0.5, 2]). */
  minLengthRatio?: number;
  maxLengthRatio?: number;
  /** Largest verse offset tried when looking for a shifted chapter (default 6). */
  maxShift?: number;
  /** A chapter is shifted when some offset's length correlation beats offset 0's by more than this (default 0.1). */
  shiftMargin?: number;
  /** Fewest verse pairs an offset's correlation is computed on (default 8); smaller chapters are not tested. */
  minShiftPairs?: number;
  /** A chapter with more length-ratio misfits than this is dropped whole (default 1): its verse division differs somewhere. */
  maxRatioMisfitsPerChapter?: number;
}

/** One aligned pair, with its reference. */
export interface AlignedVerse {
  id: string;
  book: string;
  chapter: number;
  verse: number;
  source: string;
  target: string;
}

/** Verses dropped by `alignVerses`, by reason. */
export interface AlignmentDrops {
  /** Verses of books that only one module has (e.g. the WEB's deuterocanon), per side. */
  bookOnlyInSource: number;
  bookOnlyInTarget: number;
  /** Verses (of shared books) that only one versification has, per side (e.g. NRSVA's Rev.12.18). */
  verseOnlyInSource: number;
  verseOnlyInTarget: number;
  /** Shared references empty in the source only, the target only, both. */
  emptyInSource: number;
  emptyInTarget: number;
  emptyInBoth: number;
  /** Pairs just before a reference empty on one side only: that side may have merged the empty verse's text into this one (Job.35.15 holds Job.35.16 in the Reina-Valera). */
  beforeEmpty: number;
  /** Pairs whose source matches `sourceExtra` (the Reina-Valera's subscriptions). */
  sourceExtra: number;
  /** Pairs of chapters whose verse numbering is shifted between the modules. */
  shiftedChapter: number;
  /** Pairs whose length ratio is out of range (extra text on one side: colophons, appended verses, back matter). */
  lengthRatio: number;
  /** Pairs of chapters dropped whole for holding more than `maxRatioMisfitsPerChapter` length-ratio misfits (misfits included). */
  misfitChapter: number;
}

export interface Alignment {
  verses: AlignedVerse[];
  drops: AlignmentDrops;
  /** Books that only one module has, in that module's order. */
  booksOnlyInSource: string[];
  booksOnlyInTarget: string[];
  /** The shifted chapters dropped ("Book.chapter"), with the offset found. */
  shiftedChapters: { chapter: string; shift: number; aligned: number; shifted: number }[];
  /** References dropped for preceding a verse empty on one side. */
  beforeEmptyRefs: string[];
  /** References dropped for matching `sourceExtra`. */
  sourceExtraRefs: string[];
  /** References dropped for their length ratio (alone in their chapter). */
  lengthRatioRefs: string[];
  /** Chapters dropped whole for their length-ratio misfits, with the misfits' references. */
  misfitChapters: { chapter: string; misfits: string[] }[];
}

/** Pearson correlation of paired numbers; NaN when either side is constant. */
function correlation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Correlation of the source verse lengths with the target lengths `shift`
 * verses later, over one chapter's pairs (in verse order); NaN when fewer
 * than `minPairs` pairs overlap.
 */
function shiftedCorrelation(pairs: readonly AlignedVerse[], shift: number, minPairs: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const j = i + shift;
    if (j < 0 || j >= pairs.length) continue;
    xs.push(pairs[i].source.length);
    ys.push(pairs[j].target.length);
  }
  return xs.length >= minPairs ? correlation(xs, ys) : NaN;
}

/**
 * Aligns two Bibles' verses by reference, in the source's order. Dropped,
 * in this order: references in one module only (whole books, or single
 * verses of a shared book), references empty on either side, the verse
 * before one empty on one side only (its text may hold the empty one's),
 * source verses with extra text (`sourceExtra`: the Reina-Valera's subscriptions); then whole
 * chapters whose numbering is shifted (the source verse lengths correlate
 * better with the target's `k` verses later, 1 ≤ |k| ≤ maxShift, than with
 * the same verses, by more than `shiftMargin`: where the Reina-Valera starts
 * a chapter a few verses off the KJV's, every verse of it would be paired
 * with its neighbour's translation); then whole chapters with more than
 * `maxRatioMisfitsPerChapter` pairs whose length ratio is out of range (a
 * verse division that differs inside the chapter), and the remaining pairs
 * whose length ratio is out of range.
 */
export function alignVerses(source: readonly SwordVerse[], target: readonly SwordVerse[], options: AlignOptions = {}): Alignment {
  const minRatio = options.minLengthRatio ?? 0.5;
  const maxRatio = options.maxLengthRatio ?? 2;
  const maxShift = options.maxShift ?? 6;
  const margin = options.shiftMargin ?? 0.1;
  const minPairs = options.minShiftPairs ?? 8;
  const maxMisfits = options.maxRatioMisfitsPerChapter ?? 1;
  const sourceExtra = options.sourceExtra ?? SPANISH_SUBSCRIPTION;
  const sourceExtraRefs: string[] = [];
  const drops: AlignmentDrops = {
    bookOnlyInSource: 0,
    bookOnlyInTarget: 0,
    verseOnlyInSource: 0,
    verseOnlyInTarget: 0,
    emptyInSource: 0,
    emptyInTarget: 0,
    emptyInBoth: 0,
    beforeEmpty: 0,
    sourceExtra: 0,
    shiftedChapter: 0,
    lengthRatio: 0,
    misfitChapter: 0,
  };
  const sourceBooks = new Set(source.map((v) => v.book));
  const targetBooks = new Set(target.map((v) => v.book));
  const byRef = new Map<string, SwordVerse>();
  for (const v of target) {
    if (byRef.has(v.ref)) throw new Error(`target: reference ${v.ref} appears twice`);
    byRef.set(v.ref, v);
  }
  const sourceRefs = new Set<string>();
  const halfEmpty = new Set<string>();
  const chapters = new Map<string, AlignedVerse[]>();
  for (const v of source) {
    if (sourceRefs.has(v.ref)) throw new Error(`source: reference ${v.ref} appears twice`);
    sourceRefs.add(v.ref);
    const t = byRef.get(v.ref);
    if (t === undefined) {
      if (targetBooks.has(v.book)) drops.verseOnlyInSource++;
      else drops.bookOnlyInSource++;
      continue;
    }
    if (v.text === "" || t.text === "") {
      if (v.text === "" && t.text === "") drops.emptyInBoth++;
      else if (v.text === "") drops.emptyInSource++;
      else drops.emptyInTarget++;
      if (v.text !== "" || t.text !== "") halfEmpty.add(v.ref);
      continue;
    }
    if (sourceExtra.test(v.text)) {
      drops.sourceExtra++;
      sourceExtraRefs.push(v.ref);
      continue;
    }
    const key = `${v.book}.${v.chapter}`;
    let list = chapters.get(key);
    if (list === undefined) chapters.set(key, (list = []));
    list.push({ id: v.ref, book: v.book, chapter: v.chapter, verse: v.verse, source: v.text, target: t.text });
  }
  for (const v of target) {
    if (sourceRefs.has(v.ref)) continue;
    if (sourceBooks.has(v.book)) drops.verseOnlyInTarget++;
    else drops.bookOnlyInTarget++;
  }
  const beforeEmptyRefs: string[] = [];
  for (const [key, pairs] of chapters) {
    const kept = pairs.filter((p) => !halfEmpty.has(`${p.book}.${p.chapter}.${p.verse + 1}`));
    for (const p of pairs) if (!kept.includes(p)) beforeEmptyRefs.push(p.id);
    drops.beforeEmpty += pairs.length - kept.length;
    chapters.set(key, kept);
  }
  const verses: AlignedVerse[] = [];
  const shiftedChapters: Alignment["shiftedChapters"] = [];
  const lengthRatioRefs: string[] = [];
  const misfitChapters: Alignment["misfitChapters"] = [];
  for (const [key, pairs] of chapters) {
    const aligned = shiftedCorrelation(pairs, 0, minPairs);
    let best = 0;
    let bestCorr = aligned;
    if (!Number.isNaN(aligned)) {
      for (let k = 1; k <= maxShift; k++) {
        for (const s of [-k, k]) {
          const c = shiftedCorrelation(pairs, s, minPairs);
          if (c > bestCorr) {
            bestCorr = c;
            best = s;
          }
        }
      }
    }
    if (best !== 0 && bestCorr > aligned + margin) {
      shiftedChapters.push({ chapter: key, shift: best, aligned, shifted: bestCorr });
      drops.shiftedChapter += pairs.length;
      continue;
    }
    const misfit = (p: AlignedVerse): boolean => {
      const ratio = p.source.length / p.target.length;
      return ratio < minRatio || ratio > maxRatio;
    };
    const misfits = pairs.filter(misfit).map((p) => p.id);
    if (misfits.length > maxMisfits) {
      misfitChapters.push({ chapter: key, misfits });
      drops.misfitChapter += pairs.length;
      continue;
    }
    for (const p of pairs) {
      if (misfit(p)) {
        drops.lengthRatio++;
        lengthRatioRefs.push(p.id);
      } else {
        verses.push(p);
      }
    }
  }
  return {
    verses,
    drops,
    booksOnlyInSource: [...sourceBooks].filter((b) => !targetBooks.has(b)),
    booksOnlyInTarget: [...targetBooks].filter((b) => !sourceBooks.has(b)),
    shiftedChapters,
    beforeEmptyRefs,
    sourceExtraRefs,
    lengthRatioRefs,
    misfitChapters,
  };
}

/** One JSONL line of the task: `{"id":…,"source":…,"target":…}`. */
export function exampleLine(v: AlignedVerse): string {
  return JSON.stringify({ id: v.id, source: v.source, target: v.target });
}

/** The three files' contents (each line ends in "\n") and the alignment they came from. */
export interface BibleEsEnBuild {
  files: Record<BibleSplit, string>;
  counts: Record<BibleSplit, number>;
  alignment: Alignment;
}

/** Splits aligned verses by book into the three JSONL texts. */
export function buildSplits(alignment: Alignment): BibleEsEnBuild {
  const lines: Record<BibleSplit, string[]> = { train: [], validation: [], test: [] };
  for (const v of alignment.verses) lines[splitOfBook(v.book)].push(exampleLine(v));
  const files = { train: "", validation: "", test: "" };
  const counts = { train: 0, validation: 0, test: 0 };
  for (const s of ["train", "validation", "test"] as const) {
    files[s] = lines[s].map((l) => `${l}\n`).join("");
    counts[s] = lines[s].length;
  }
  return { files, counts, alignment };
}

/** Builds the task from SWORD module directories (default: Debian's). */
export function buildBibleEsEn(sourceDir: string = SWORD_MODULES.sparv, targetDir: string = SWORD_MODULES.web): BibleEsEnBuild {
  return buildSplits(alignVerses(readSwordVerses(sourceDir), readSwordVerses(targetDir)));
}

function main(argv: readonly string[]): void {
  let out = "";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) out = argv[++i];
    else throw new Error(`unknown argument ${JSON.stringify(argv[i])}; usage: node dist/tools/bible-es-en.js --out <dir>`);
  }
  if (out === "") throw new Error("usage: node dist/tools/bible-es-en.js --out <dir>");
  const build = buildBibleEsEn();
  mkdirSync(out, { recursive: true });
  for (const s of ["train", "validation", "test"] as const) {
    const path = join(out, `${s}.jsonl`);
    writeFileAtomicSync(path, build.files[s]);
    const bytes = Buffer.byteLength(build.files[s]);
    console.log(`${path}: ${build.counts[s]} examples, ${bytes} bytes, sha256 ${sha256Hex(build.files[s])}`);
  }
  const a = build.alignment;
  console.log(`kept ${a.verses.length} verse pairs; dropped: ${JSON.stringify(a.drops)}`);
  console.log(`books only in the source: ${a.booksOnlyInSource.join(" ") || "(none)"}; only in the target: ${a.booksOnlyInTarget.join(" ") || "(none)"}`);
  console.log(`shifted chapters: ${a.shiftedChapters.map((c) => `${c.chapter} (offset ${c.shift}: r ${c.aligned.toFixed(2)} -> ${c.shifted.toFixed(2)})`).join(", ")}`);
  console.log(`verses before a verse empty on one side: ${a.beforeEmptyRefs.join(" ")}`);
  console.log(`verses with a subscription: ${a.sourceExtraRefs.join(" ")}`);
  console.log(`chapters with length-ratio misfits: ${a.misfitChapters.map((c) => `${c.chapter} (${c.misfits.join(" ")})`).join(", ")}`);
  console.log(`single length-ratio drops: ${a.lengthRatioRefs.join(" ")}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`bible-es-en: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
