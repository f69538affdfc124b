/**
 * The files of a folder served over HTTP(S), fetched as bytes: what the URL loaders
 * (`loadBackboneFromUrl`, `loadTaskCheckpointFromUrl`) read before the byte loaders validate
 * them. A missing file (HTTP 404) and any other non-OK status are errors naming the URL and the
 * status; a network failure names the URL and the cause. Platform-free: `fetch` is the
 * platform's (browsers, Node 18+) or the caller's.
 */
import type { MakeError } from "./json-bytes.js";

/** The `fetch` the loaders call: the platform's, or one the caller passes (tests, auth headers, caching). */
export type FetchLike = (url: string) => Promise<{
  /** Whether the status is a success (200–299); any other status is an error naming the URL (a 404 is null for an optional file). */
  ok: boolean;
  /** The HTTP status code (404 tells a missing file from other failures). */
  status: number;
  /** The HTTP reason phrase ("Not Found"), shown after the code in errors; may be "" (HTTP/2 has none). */
  statusText: string;
  /** The whole response body; called once, only when `ok`. A rejection is an error naming the URL ("reading the response failed"). */
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** A folder URL with a trailing slash, resolved against the page's address when relative. */
export function folderUrl(base: string | URL, error: MakeError): URL {
  const text = String(base);
  const withSlash = text.endsWith("/") ? text : `${text}/`;
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return page !== undefined ? new URL(withSlash, page) : new URL(withSlash);
  } catch {
    throw error(`${text}: not a URL (give an absolute URL, or a relative one on a page)`);
  }
}

/** The fetch to use: the caller's, else the platform's (an error when there is none). */
export function fetchOf(given: FetchLike | undefined, error: MakeError): FetchLike {
  if (given !== undefined) return given;
  const g = globalThis as { fetch?: FetchLike };
  if (g.fetch === undefined) throw error("no fetch: this platform has no global fetch; pass one as the `fetch` option");
  return (url) => (g.fetch as FetchLike)(url);
}

/**
 * The bytes of `url`, or null when `optional` and the server answers 404. Any other failure is
 * `error` with a message naming the URL: "HTTP 404 Not Found" (and `missing` when given, what
 * the folder should hold), "HTTP 500 ...", or "fetch failed (cause)".
 */
export async function fetchBytes(fetchFn: FetchLike, url: URL, error: MakeError, opts: { optional?: boolean; missing?: string } = {}): Promise<Uint8Array | null> {
  const href = url.href;
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchFn(href);
  } catch (e) {
    throw error(`${href}: fetch failed (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.status === 404 && opts.optional) return null;
  if (!res.ok) {
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
    throw error(`${href}: ${res.status === 404 ? `not found (${status})${opts.missing ? `; ${opts.missing}` : ""}` : status}`);
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw error(`${href}: reading the response failed (${e instanceof Error ? e.message : String(e)})`);
  }
}
