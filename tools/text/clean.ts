/**
 * Cleaning and measuring one line of text: the normal form every corpus and
 * task line is written in, word counts and word-boundary truncation.
 */

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
