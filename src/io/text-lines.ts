/**
 * The one reader of text files: lines of UTF-8 (strict: an invalid byte is an error naming the
 * file and line, never a silent U+FFFD) or, when the user says so, Latin-1 (ISO-8859-1, every
 * byte a character). A byte-order mark at the start is ignored; lines end at "\n" with an
 * optional "\r" before it; a final newline ends the last line rather than starting an empty
 * one. Lines are split on the 0x0A byte before decoding, which is safe in both encodings.
 *
 * Whole files (`splitTextLines`, `readTextFileLines`) and streams in constant memory
 * (`streamTextLines`) share the decoding.
 */
import { existsSync, readFileSync, statSync } from "node:fs";

/** How a text file is encoded: UTF-8 (default) or Latin-1 (`--encoding latin1`). */
export type TextEncoding = "utf-8" | "latin1";

export const TEXT_ENCODINGS: readonly TextEncoding[] = ["utf-8", "latin1"];

/** Parse an `--encoding` value ("utf8", "UTF-8", "latin1", "iso-8859-1" are accepted). */
export function parseTextEncoding(value: string): TextEncoding {
  const v = value.trim().toLowerCase();
  if (v === "utf-8" || v === "utf8") return "utf-8";
  if (v === "latin1" || v === "latin-1" || v === "iso-8859-1" || v === "iso8859-1") return "latin1";
  throw new RangeError(`unknown text encoding "${value}" (accepted: utf-8, latin1)`);
}

/** A line that is not valid in the file's encoding; `line` is 1-based. */
export class TextDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    what?: string,
    hint?: string,
  ) {
    super(`${file}:${line}: invalid UTF-8${what ? ` (${what})` : ""}${hint ? `; ${hint}` : ""}`);
    this.name = "TextDecodeError";
  }
}

export interface TextLinesOptions {
  encoding?: TextEncoding;
  /** What the file is, for error messages ("input", "references"). */
  what?: string;
  /** Advice appended to an invalid-UTF-8 error (e.g. the command's --encoding flag). */
  hint?: string;
}

/** Decodes one line's bytes (no newline) in the chosen encoding; throws TextDecodeError. */
class LineDecoder {
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private readonly latin1 = new TextDecoder("latin1");
  lineNo = 0;

  constructor(
    private readonly name: string,
    private readonly opts: TextLinesOptions,
  ) {}

  decode(bytes: Uint8Array): string {
    this.lineNo++;
    if (this.lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    let line: string;
    if (this.opts.encoding === "latin1") {
      line = this.latin1.decode(bytes);
    } else {
      try {
        line = this.utf8.decode(bytes);
      } catch {
        throw new TextDecodeError(this.name, this.lineNo, this.opts.what, this.opts.hint);
      }
    }
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }
}

/** The lines of a file's bytes (`name` names it in errors). */
export function splitTextLines(bytes: Uint8Array, name: string, opts: TextLinesOptions = {}): string[] {
  const dec = new LineDecoder(name, opts);
  const lines: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    lines.push(dec.decode(bytes.subarray(start, end)));
    start = end + 1;
  }
  return lines;
}

/** The lines of a file; a missing file or a folder is an error naming it. */
export function readTextFileLines(file: string, opts: TextLinesOptions = {}): string[] {
  const what = opts.what ? ` (${opts.what})` : "";
  if (!existsSync(file)) throw new Error(`${file}: not found${what}`);
  if (statSync(file).isDirectory()) throw new Error(`${file}: is a folder, expected a text file${what}`);
  return splitTextLines(readFileSync(file), file, opts);
}

/** The lines of a byte stream (a file stream, stdin) as they arrive, in constant memory. */
export async function* streamTextLines(stream: AsyncIterable<Uint8Array | string>, name: string, opts: TextLinesOptions = {}): AsyncGenerator<string> {
  const dec = new LineDecoder(name, opts);
  let rest: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    if (typeof chunk === "string") throw new TypeError(`${name}: streamTextLines needs a byte stream (no encoding set on it)`);
    const data = rest.length ? concat(rest, chunk) : chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      yield dec.decode(data.subarray(start, nl));
      start = nl + 1;
    }
    rest = data.slice(start);
  }
  if (rest.length > 0) yield dec.decode(rest);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
