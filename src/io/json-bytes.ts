/**
 * JSON file bytes to a value, platform-free (the browser build's loaders and `json-file.ts`'s
 * readers share it): strict UTF-8 (invalid bytes are an error naming the file and the byte
 * offset, never a silent U+FFFD), the nesting limit of json-depth.ts, then JSON.parse. `error`
 * makes the caller's named error from a message that already names the file.
 */
import { checkJsonDepth } from "./json-depth.js";

/** Makes a loader's named error from a message naming the file. */
export type MakeError = (message: string) => Error;

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/** The text of JSON file bytes, decoded strictly, or `error` naming the first bad byte. */
function decode(bytes: Uint8Array, file: string, error: MakeError): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const lo = firstInvalidUtf8(bytes);
    throw error(`${file}: invalid UTF-8 at byte ${lo} (a JSON file must be UTF-8)`);
  }
}

/** Parse JSON file bytes (see the module comment). */
export function parseJsonBytes(bytes: Uint8Array, file: string, error: MakeError): unknown {
  const text = decode(bytes, file, error);
  try {
    checkJsonDepth(text, file);
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw error(`${file}: invalid JSON (${(e as Error).message})`);
  }
}

