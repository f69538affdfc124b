/**
 * Exact port of the Hugging Face `tokenizers` (Rust) `BertNormalizer`.
 *
 * `@huggingface/tokenizers` ships a BertNormalizer too, but it differs from the
 * Rust one in a few corners (CJK ideographs outside the BMP are not isolated,
 * a slightly different CJK range table, context-sensitive final-sigma
 * lowercasing, lowercasing before accent stripping). Fast `transformers`
 * tokenizers run the Rust code, so we reproduce it here:
 *
 *   1. clean_text: drop NUL, U+FFFD and control characters (Cc, Cf, Co; tab,
 *      LF and CR excepted), map every whitespace character to a plain space;
 *   2. handle_chinese_chars: surround CJK ideographs with spaces;
 *   3. strip_accents: NFD, then remove non-spacing marks (Mn);
 *   4. lowercase: Unicode lowercase mapping applied code point by code point.
 */

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** Rust semantics: `strip_accents: null` in tokenizer.json means "same as lowercase". */
  stripAccents: boolean;
  lowercase: boolean;
}

const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const WHITESPACE = /^\p{White_Space}$/u;
const NON_SPACING_MARKS = /\p{Mn}/gu;
const CAPITAL_SIGMA = "\u03a3";

/** The CJK ranges of `tokenizers/src/normalizers/bert.rs::is_chinese_char`. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isBertWhitespace(ch: string): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || WHITESPACE.test(ch);
}

function isBertControl(ch: string): boolean {
  if (ch === "\t" || ch === "\n" || ch === "\r") return false;
  return CONTROL.test(ch);
}

/** Lowercase each code point on its own (Rust `char::to_lowercase`), i.e. without JS's final-sigma rule. */
export function lowercasePerCodePoint(text: string): string {
  if (!text.includes(CAPITAL_SIGMA)) return text.toLowerCase();
  let out = "";
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

export function bertNormalize(text: string, opts: BertNormalizerOptions): string {
  let out = text;
  if (opts.cleanText || opts.handleChineseChars) {
    const parts: string[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0;
      if (opts.cleanText) {
        if (cp === 0 || cp === 0xfffd || isBertControl(ch)) continue;
        if (isBertWhitespace(ch)) {
          parts.push(" ");
          continue;
        }
      }
      if (opts.handleChineseChars && isChineseChar(cp)) parts.push(" ", ch, " ");
      else parts.push(ch);
    }
    out = parts.join("");
  }
  if (opts.stripAccents) out = out.normalize("NFD").replace(NON_SPACING_MARKS, "");
  if (opts.lowercase) out = lowercasePerCodePoint(out);
  return out;
}
