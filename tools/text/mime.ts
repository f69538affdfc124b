/**
 * A MIME e-mail reader: headers, multiparts, base64 / quoted-printable,
 * RFC 2047 encoded words and charsets, reduced to a subject and a clean body.
 */
import { cleanLine } from "./clean.js";
import { htmlToText } from "./html.js";

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
