/**
 * Bibles from Debian's SWORD zText modules: the King James Version
 * (`sword-text-kjv`, engKJV2006eb; public domain outside the UK) and the World
 * English Bible (`sword-text-web`, engWEB2015eb; public domain, "World English
 * Bible" is a trademark), and the Spanish Reina-Valera 1909 (`sword-text-sparv`,
 * spaRV1909eb; public domain). The modules are read directly (zlib blocks +
 * little-endian index files) and their OSIS markup is stripped here: no
 * `diatheke` needed. Verses are given by reference (book.chapter.verse)
 * through the versification that each module's `.conf` names.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { inflateSync } from "node:zlib";
import { cleanLine, countWords } from "../text/clean.js";
import { decodeHtmlEntities } from "../text/html.js";
import { splitLongParagraph } from "../text/sentences.js";
import { type IndexSlot, testamentSlots, type Versification, versificationByName } from "./versification.js";

/** Debian's SWORD module directories. */
export const SWORD_MODULES = {
  kjv: "/usr/share/sword/modules/texts/ztext/engKJV2006eb",
  web: "/usr/share/sword/modules/texts/ztext/engWEB2015eb",
  sparv: "/usr/share/sword/modules/texts/ztext/spaRV1909eb",
} as const;

/**
 * Plain text of one OSIS fragment: notes (footnotes, cross references) and
 * titles dropped, paragraph / chapter / book / title markers become "\n",
 * every other tag removed (its content kept), entities decoded.
 */
export function osisToText(osis: string): string {
  return decodeHtmlEntities(
    osis
      .replace(/<note\b[^>]*\/>/g, " ")
      .replace(/<note\b[\s\S]*?<\/note>/g, " ")
      .replace(/<title\b[\s\S]*?<\/title>/g, "\n")
      .replace(/<(div|chapter|lb|p)\b[^>]*>/g, "\n")
      .replace(/<\/(div|chapter|p)>/g, "\n")
      .replace(/<[^>]*>/g, ""),
  );
}

/** The raw entries (OSIS fragments) of a zText module, Old Testament then New, in index order; empty entries skipped. */
export function readZTextEntries(moduleDir: string): string[] {
  const out: string[] = [];
  for (const testament of ["ot", "nt"]) {
    const bzs = join(moduleDir, `${testament}.bzs`);
    if (!existsSync(bzs)) continue;
    const blocks = readFileSync(bzs);
    const verses = readFileSync(join(moduleDir, `${testament}.bzv`));
    const data = readFileSync(join(moduleDir, `${testament}.bzz`));
    const cache = new Map<number, Buffer>();
    for (let i = 0; i + 10 <= verses.length; i += 10) {
      const block = verses.readUInt32LE(i);
      const offset = verses.readUInt32LE(i + 4);
      const size = verses.readUInt16LE(i + 8);
      if (size === 0) continue;
      let buf = cache.get(block);
      if (buf === undefined) {
        if ((block + 1) * 12 > blocks.length) throw new Error(`${bzs}: block ${block} out of range`);
        const start = blocks.readUInt32LE(block * 12);
        const len = blocks.readUInt32LE(block * 12 + 4);
        buf = inflateSync(data.subarray(start, start + len));
        cache.clear(); // entries are in block order: keep one block
        cache.set(block, buf);
      }
      out.push(buf.subarray(offset, offset + size).toString("utf8"));
    }
  }
  if (out.length === 0) throw new Error(`${moduleDir}: no zText entries (expected ot/nt .bzs .bzv .bzz files)`);
  return out;
}

/**
 * A SWORD zText Bible as paragraphs: verses joined in order, split at the
 * module's paragraph, chapter and heading markers; paragraphs longer than
 * `maxWords` (default 160) are split at sentence boundaries. The module's
 * preface/introduction entries are kept when they are ordinary text.
 */
export function swordParagraphs(moduleDir: string, maxWords = 160): string[] {
  const joined = readZTextEntries(moduleDir)
    .map(osisToText)
    .join(" ");
  const out: string[] = [];
  for (const raw of joined.split("\n")) {
    const line = cleanLine(raw.replace(/\u00b6/g, " ")).replace(/ ([,.;:!?])/g, "$1"); // KJV marks paragraphs with "¶"
    if (countWords(line) < 3) continue;
    out.push(...splitLongParagraph(line, maxWords));
  }
  return out;
}

/** The fields of a SWORD module's `.conf` that reading its text needs. */
export interface SwordModuleConf {
  /** Path of the `.conf` file. */
  path: string;
  /** Module name, the `[section]` header, e.g. "spaRV1909eb". */
  module: string;
  /** `Versification=` (SWORD's default "KJV" when absent). */
  versification: string;
  /** `Encoding=`: "UTF-8" or "Latin-1" (SWORD's default when absent). */
  encoding: "UTF-8" | "Latin-1";
  /** `Version=`, "" when absent. */
  version: string;
  /** `DataPath=` as written. */
  dataPath: string;
}

/**
 * Parses a SWORD `.conf` file's text (`path` is used in messages and kept).
 * A value ending in a backslash continues on the next line (long About= texts);
 * only the first value of a repeated key is kept.
 */
export function parseSwordConf(text: string, path: string): SwordModuleConf {
  // Logical lines: a physical line ending in a backslash is joined with the next; each keeps its first line's number.
  const lines: { no: number; text: string }[] = [];
  let open = false;
  text.split(/\r?\n/).forEach((line, i) => {
    const last = lines[lines.length - 1];
    if (open && last !== undefined) last.text = `${last.text.slice(0, -1)}\n${line}`;
    else lines.push({ no: i + 1, text: line });
    open = line.endsWith("\\");
  });
  let module = "";
  const fields = new Map<string, string>();
  lines.forEach(({ no, text: line }) => {
    const i = no - 1;
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const section = /^\[(.+)\]$/.exec(t);
    if (section) {
      if (module !== "") throw new Error(`${path}:${i + 1}: a second module section [${section[1]}]; expected one per file`);
      module = section[1];
      return;
    }
    const eq = t.indexOf("=");
    if (eq <= 0) throw new Error(`${path}:${i + 1}: expected "Key=Value", got ${JSON.stringify(t.slice(0, 60))}`);
    const key = t.slice(0, eq);
    if (!fields.has(key)) fields.set(key, t.slice(eq + 1)); // repeated keys (GlobalOptionFilter, History_…) are not needed here
  });
  if (module === "") throw new Error(`${path}: no [module] section header`);
  const enc = fields.get("Encoding") ?? "Latin-1";
  if (enc !== "UTF-8" && enc !== "Latin-1") throw new Error(`${path}: Encoding=${enc} is not supported (expected UTF-8 or Latin-1)`);
  return {
    path,
    module,
    versification: fields.get("Versification") ?? "KJV",
    encoding: enc,
    version: fields.get("Version") ?? "",
    dataPath: fields.get("DataPath") ?? "",
  };
}

/**
 * The `.conf` of the module stored in `moduleDir`: the file in the library's
 * `mods.d/` (four levels up: `<root>/modules/texts/ztext/<name>`) whose
 * `DataPath=` names that directory. Other modules' `.conf` files are only
 * searched for their DataPath, never parsed. A `.conf` is in its module's
 * encoding; the fields used here are ASCII, so it is read byte for byte
 * (Latin-1), which decodes them the same either way.
 */
export function readSwordConf(moduleDir: string): SwordModuleConf {
  const dir = resolve(moduleDir);
  const root = resolve(dir, "..", "..", "..", "..");
  const modsD = join(root, "mods.d");
  if (!existsSync(modsD)) throw new Error(`${moduleDir}: no SWORD mods.d directory at ${modsD}`);
  for (const f of readdirSync(modsD).filter((n) => n.endsWith(".conf")).sort()) {
    const text = readFileSync(join(modsD, f), "latin1");
    const dataPath = /^DataPath=(.*)$/m.exec(text)?.[1]?.trim();
    if (dataPath !== undefined && dataPath !== "" && resolve(root, dataPath) === dir) return parseSwordConf(text, join(modsD, f));
  }
  throw new Error(`${moduleDir}: no .conf in ${modsD} has DataPath= naming this directory`);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Text of one module entry in the module's encoding. UTF-8 is decoded
 * strictly (invalid bytes are an error naming `where`); Latin-1 maps each byte
 * to its code point, and a C1 control byte (0x80–0x9F, never text in Latin-1,
 * the sign of a mislabelled Windows-1252 module) is an error too.
 */
export function decodeSwordText(bytes: Uint8Array, encoding: "UTF-8" | "Latin-1", where: string): string {
  if (encoding === "UTF-8") {
    try {
      return UTF8.decode(bytes);
    } catch {
      throw new Error(`${where}: invalid UTF-8 (the module's .conf says Encoding=UTF-8)`);
    }
  }
  const bad = bytes.findIndex((b) => b >= 0x80 && b <= 0x9f);
  if (bad >= 0) throw new Error(`${where}: byte 0x${bytes[bad].toString(16)} at offset ${bad} is a C1 control, not Latin-1 text`);
  return Buffer.from(bytes).toString("latin1");
}

/**
 * Every slot of a zText module's verse index, per testament, decoded: "" for
 * an empty slot. Slot i of a testament is the versification's slot i
 * (`testamentSlots`).
 */
export function readZTextSlots(moduleDir: string, encoding: "UTF-8" | "Latin-1"): { ot: string[]; nt: string[] } {
  const out = { ot: [] as string[], nt: [] as string[] };
  for (const testament of ["ot", "nt"] as const) {
    const bzs = join(moduleDir, `${testament}.bzs`);
    if (!existsSync(bzs)) continue;
    const blocks = readFileSync(bzs);
    const verses = readFileSync(join(moduleDir, `${testament}.bzv`));
    const data = readFileSync(join(moduleDir, `${testament}.bzz`));
    let cachedBlock = -1;
    let buf = Buffer.alloc(0);
    for (let i = 0; i + 10 <= verses.length; i += 10) {
      const block = verses.readUInt32LE(i);
      const offset = verses.readUInt32LE(i + 4);
      const size = verses.readUInt16LE(i + 8);
      if (size === 0) {
        out[testament].push("");
        continue;
      }
      if (block !== cachedBlock) {
        if ((block + 1) * 12 > blocks.length) throw new Error(`${bzs}: block ${block} out of range`);
        const start = blocks.readUInt32LE(block * 12);
        const len = blocks.readUInt32LE(block * 12 + 4);
        buf = inflateSync(data.subarray(start, start + len));
        cachedBlock = block;
      }
      if (offset + size > buf.length) throw new Error(`${join(moduleDir, `${testament}.bzv`)}: slot ${i / 10} points past the end of block ${block}`);
      out[testament].push(decodeSwordText(buf.subarray(offset, offset + size), encoding, `${moduleDir} ${testament} slot ${i / 10}`));
    }
  }
  if (out.ot.length + out.nt.length === 0) throw new Error(`${moduleDir}: no zText entries (expected ot/nt .bzs .bzv .bzz files)`);
  return out;
}

/** One verse of a module: its reference and its plain text ("" when the module has none there). */
export interface SwordVerse {
  /** OSIS reference "Book.chapter.verse", e.g. "Ruth.1.1". */
  ref: string;
  book: string;
  chapter: number;
  verse: number;
  text: string;
}

/** Spanish clitic pronouns, written joined to the verb in the Reina-Valera ("sácalo", "díjole"). */
const ENCLITICS = new Set(["lo", "la", "los", "las", "le", "les", "me", "te", "se", "nos", "os"]);

/**
 * Spaces at the seams between a word element and an added-words element
 * (`<w>…</w><transChange>…</transChange>` written with nothing between, as
 * spaRV1909eb does ~580 times: "no</w><transChange>será esta</transChange><w>oscuridad"),
 * where the source's word boundary was lost. A seam stays closed when the
 * piece after it is a single clitic pronoun ("sáca</w><transChange>lo" is
 * "sácalo"). Seams already holding whitespace are untouched.
 */
export function openMarkupSeams(osis: string): string {
  return osis
    .replace(/<\/w>(<transChange\b[^>]*>)([^<]*)(?=<\/transChange>)/g, (_m, open: string, inner: string) =>
      `</w>${ENCLITICS.has(inner.trim()) ? "" : " "}${open}${inner}`)
    .replace(/<\/transChange>(<w\b[^>]*>)([^<]*)(?=<\/w>)/g, (_m, open: string, inner: string) =>
      `</transChange>${ENCLITICS.has(inner.trim()) ? "" : " "}${open}${inner}`);
}

/**
 * Plain text of one verse entry: markup seams opened (`openMarkupSeams`),
 * canonical titles (`<title canonical="true">`, e.g. psalm superscriptions,
 * part of the text) kept as text, then `osisToText` (notes and other titles
 * dropped, tags removed, entities decoded), then `cleanLine` (NFC,
 * whitespace runs one space, control characters removed) and no space
 * before closing punctuation. No other character is changed.
 */
export function verseText(osis: string): string {
  const titlesKept = openMarkupSeams(osis).replace(/<title\b[^>]*\bcanonical="true"[^>]*>([\s\S]*?)<\/title>/g, "$1 ");
  return cleanLine(osisToText(titlesKept)).replace(/ ([,.;:!?»”’)\]])/g, "$1");
}

export interface ReadSwordVersesOptions {
  /** The module's `.conf` (default: found by `readSwordConf`). */
  conf?: SwordModuleConf;
  /** The versification (default: the one `conf` names). */
  versification?: Versification;
}

/**
 * The verses of a zText Bible module in canonical order, each with its
 * reference: the module's `.conf` gives the versification and the encoding,
 * the versification gives each index slot's reference. Checked: each
 * testament's slot count equals the versification's, and every
 * `<chapter osisID="…">` start tag sits in the slot of that chapter's
 * heading or first verse (else the layout is wrong and this throws), except
 * chapters of a book the versification lacks, which osis2mod puts into a
 * heading slot (never a verse slot) and which are thus left out.
 */
export function readSwordVerses(moduleDir: string, options: ReadSwordVersesOptions = {}): SwordVerse[] {
  const conf = options.conf ?? readSwordConf(moduleDir);
  const v = options.versification ?? versificationByName(conf.versification);
  const slots = readZTextSlots(moduleDir, conf.encoding);
  const knownBooks = new Set(v.books.map((b) => b.osis));
  const out: SwordVerse[] = [];
  for (const testament of ["ot", "nt"] as const) {
    const layout = testamentSlots(v, testament);
    const entries = slots[testament];
    if (entries.length === 0) continue; // a module may hold one testament only
    if (entries.length !== layout.length) {
      throw new Error(`${moduleDir}: ${testament}.bzv has ${entries.length} slots; versification ${v.name} has ${layout.length} (is Versification= in ${conf.path} right?)`);
    }
    layout.forEach((slot, i) => {
      const entry = entries[i];
      for (const m of entry.matchAll(/<chapter\b[^>]*\bosisID="([^"]+)"[^>]*\bsID=/g)) {
        const here = (slot.kind === "chapter" || (slot.kind === "verse" && slot.verse === 1)) && m[1] === `${slot.book}.${slot.chapter}`;
        // osis2mod puts a book the versification lacks (engWEB2015eb: DanGr) into the next heading slot: no verse is touched.
        const outside = slot.kind !== "verse" && !knownBooks.has(m[1].slice(0, m[1].lastIndexOf(".")));
        const ok = here || outside;
        if (!ok) throw new Error(`${moduleDir}: ${testament} slot ${i} (${describeSlot(slot)}) holds the start of chapter ${m[1]}: the index does not follow ${v.name}`);
      }
      if (slot.kind !== "verse") return;
      out.push({ ref: `${slot.book}.${slot.chapter}.${slot.verse}`, book: slot.book, chapter: slot.chapter, verse: slot.verse, text: entry === "" ? "" : verseText(entry) });
    });
  }
  return out;
}

function describeSlot(slot: IndexSlot): string {
  switch (slot.kind) {
    case "header":
      return "a module/testament header";
    case "book":
      return `book heading ${slot.book}`;
    case "chapter":
      return `chapter heading ${slot.book}.${slot.chapter}`;
    case "verse":
      return `verse ${slot.book}.${slot.chapter}.${slot.verse}`;
  }
}
