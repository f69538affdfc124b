/**
 * Bibles from Debian's SWORD zText modules: the King James Version
 * (`sword-text-kjv`, engKJV2006eb; public domain outside the UK) and the World
 * English Bible (`sword-text-web`, engWEB2015eb; public domain, "World English
 * Bible" is a trademark). The modules are read directly (zlib blocks +
 * little-endian index files) and their OSIS markup is stripped here: no
 * `diatheke` needed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { cleanLine, countWords } from "../text/clean.js";
import { decodeHtmlEntities } from "../text/html.js";
import { splitLongParagraph } from "../text/sentences.js";

/** Debian's SWORD module directories. */
export const SWORD_MODULES = {
  kjv: "/usr/share/sword/modules/texts/ztext/engKJV2006eb",
  web: "/usr/share/sword/modules/texts/ztext/engWEB2015eb",
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
