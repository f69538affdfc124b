/**
 * Output targets checked before any work: a folder created one level at a time, at most
 * `MAX_NEW_LEVELS` new levels (Node's recursive mkdir can loop forever under /proc), a file
 * target that is not a folder, and a probe write proving the place is writable — so that a
 * long run never fails at its very end because of where its output goes.
 */
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Most folder levels `makeDirBounded` creates. */
export const MAX_NEW_LEVELS = 32;

export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputPathError";
  }
}

function reason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ? `${err.code}: ${(err.message ?? "").replace(/^[A-Z]+: /, "")}` : String(err.message ?? e);
}

/** Create `dir` and its missing parents, one level at a time (at most MAX_NEW_LEVELS new levels). */
export function makeDirBounded(dir: string, what = "output folder"): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  while (!existsSync(cur)) {
    missing.push(cur);
    if (missing.length > MAX_NEW_LEVELS) throw new OutputPathError(`${dir}: cannot create the ${what}: more than ${MAX_NEW_LEVELS} missing folder levels`);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  if (existsSync(cur) && !statSync(cur).isDirectory()) throw new OutputPathError(`${dir}: cannot create the ${what}: ${cur} is a file, not a folder`);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw new OutputPathError(`${dir}: cannot create the ${what} (${reason(e)})`);
    }
  }
}

/** Fail now unless a file can be written in `dir` (created if missing): a probe file is written and removed. */
export function checkWritableFolder(dir: string, what = "output folder"): void {
  makeDirBounded(dir, what);
  if (!statSync(dir).isDirectory()) throw new OutputPathError(`${dir}: is a file, expected the ${what}`);
  const probe = path.join(dir, `.propetl-write-test-${process.pid}`);
  try {
    writeFileSync(probe, "ok");
  } catch (e) {
    throw new OutputPathError(`cannot write to the ${what} ${dir} (${reason(e)})`);
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Fail now unless `file` can be written: not a folder, its folder writable (created if missing). */
export function checkOutputFile(file: string, what = "output file"): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new OutputPathError(`${file}: is a folder, expected the ${what}`);
  checkWritableFolder(path.dirname(path.resolve(file)), `folder of the ${what}`);
}
