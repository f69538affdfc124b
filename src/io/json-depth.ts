/**
 * A nesting limit for JSON read from files: `JSON.parse` recurses per level, so a document
 * nested a few thousand levels deep (a hostile safetensors header, config.json or JSONL line)
 * overflows the stack with "Maximum call stack size exceeded" instead of a named error. Every
 * reader of user-supplied JSON calls `checkJsonDepth` first; real files nest under 10 levels.
 */

/** The deepest nesting accepted (objects and arrays). */
export const MAX_JSON_DEPTH = 256;

export class JsonDepthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonDepthError";
  }
}

/**
 * Throw `JsonDepthError` (`<what>: JSON nested deeper than 256 levels at character N`) when
 * `text` opens more than `max` nested arrays/objects; strings (with escapes) are skipped. The
 * text need not be valid JSON: syntax is left to `JSON.parse`.
 */
export function checkJsonDepth(text: string, what: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) throw new JsonDepthError(`${what}: JSON nested deeper than ${max} levels at character ${i + 1}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
