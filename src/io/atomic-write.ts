/**
 * Atomic file writes: data goes to a temporary sibling file, is fsync'ed, and
 * is then renamed over the target. A reader therefore sees either the old file
 * or the complete new one, never a half-written target. On any failure the
 * temporary file is removed and the error is rethrown.
 *
 * A process killed mid-write (a second Ctrl-C, kill -9, a power cut) leaves its temporary file
 * behind. Temporary files are named `<target>.propetl-tmp-<pid>-<12 hex digits>`, which a user
 * file is unlikely to match and which names the writer; `cleanStaleTempFiles` removes those
 * whose writer is gone, and the training commands run it on their output folder at start.
 */
import { promises as fsp } from "node:fs";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/** Temporary file name in the same directory as `target` (same filesystem, so rename is atomic). */
function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `${base}${TEMP_MARK}${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** What marks our temporary files: `<target>.propetl-tmp-<pid>-<hex>`. */
export const TEMP_MARK = ".propetl-tmp-";

/** Our temporary file names, and those of versions before TEMP_MARK (`<target>.tmp-<pid>-<12 hex>`). */
const TEMP_NAME = /^(.+)\.(?:propetl-)?tmp-(\d+)-[0-9a-f]{12}$/;

/** The writer's pid and the target's name, if `name` is one of our temporary files' names. */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const m = TEMP_NAME.exec(name);
  if (m) return { target: m[1], pid: Number(m[2]) };
  // The writability probe of output-path.ts (`.propetl-write-test-<pid>`), written and removed at once.
  const probe = /^\.propetl-write-test-(\d+)$/.exec(name);
  return probe ? { target: "", pid: Number(probe[1]) } : null;
}

/** Whether process `pid` is running (EPERM: it is, under another user). */
function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === "EPERM";
  }
}

/** A temporary file this old is stale even when its pid is in use again (pid reuse). */
const STALE_AFTER_MS = 24 * 3600 * 1000;

/**
 * Remove the temporary files atomic writes left in `dir` (and its subfolders, `depth` levels
 * down) when their writer is gone: its pid is not running, or the file is a day old. Files of
 * a live writer (another run writing there now) are left alone, as is everything not named
 * as our temporary files. Returns the removed paths. A missing `dir` removes nothing.
 */
export function cleanStaleTempFiles(dir: string, depth = 1): string[] {
  const removed: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  const now = Date.now();
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth > 0) removed.push(...cleanStaleTempFiles(p, depth - 1));
      continue;
    }
    if (!e.isFile()) continue;
    const t = parseTempName(e.name);
    if (t === null) continue;
    let old = false;
    try {
      old = now - fs.statSync(p).mtimeMs > STALE_AFTER_MS;
    } catch {
      continue;
    }
    if (t.pid === process.pid ? !old : alive(t.pid) && !old) continue;
    try {
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Best-effort fsync of a directory so the rename itself is durable (not supported on every platform). */
function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be opened/fsynced on some platforms (e.g. Windows); ignore.
  } finally {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch {
    // See fsyncDirSync.
  } finally {
    if (handle !== undefined) {
      try { await handle.close(); } catch { /* ignore */ }
    }
  }
}

/**
 * The folder a file was to be written in does not exist (any more): removed during a run, for
 * instance. Names the folder and the file.
 */
export class OutputFolderError extends Error {
  override name = "OutputFolderError";
  constructor(
    readonly folder: string,
    readonly file: string,
  ) {
    super(`${folder}: the folder does not exist (removed while the run was writing to it?), so ${path.basename(file)} could not be written`);
  }
}

export interface AtomicWriteOptions {
  /**
   * Create the target's folder (and missing parents) when it does not exist, instead of
   * failing with `OutputFolderError`: for a run's own state, so that a folder removed during
   * the run costs no work.
   */
  createFolder?: boolean;
}

/** Open the temporary file: a missing folder is an `OutputFolderError`, or created with `createFolder`. */
async function openTemp(tmp: string, target: string, opts: AtomicWriteOptions): Promise<fsp.FileHandle> {
  try {
    return await fsp.open(tmp, "wx");
  } catch (e) {
    const dir = path.dirname(target);
    if ((e as { code?: unknown }).code !== "ENOENT" || fs.existsSync(dir)) throw e;
    if (!opts.createFolder) throw new OutputFolderError(dir, target);
    await fsp.mkdir(dir, { recursive: true });
    return await fsp.open(tmp, "wx");
  }
}

function openTempSync(tmp: string, target: string, opts: AtomicWriteOptions): number {
  try {
    return fs.openSync(tmp, "wx");
  } catch (e) {
    const dir = path.dirname(target);
    if ((e as { code?: unknown }).code !== "ENOENT" || fs.existsSync(dir)) throw e;
    if (!opts.createFolder) throw new OutputFolderError(dir, target);
    fs.mkdirSync(dir, { recursive: true });
    return fs.openSync(tmp, "wx");
  }
}

/** Atomically replace `target` with `data` (strings are written as UTF-8). */
export async function writeFileAtomic(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await openTemp(tmp, target, opts);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    if (handle !== undefined) {
      try { await handle.close(); } catch { /* ignore */ }
    }
    try { await fsp.unlink(tmp); } catch { /* temp may not exist */ }
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Synchronous variant of {@link writeFileAtomic}. */
export function writeFileAtomicSync(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = openTempSync(tmp, target, opts);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* temp may not exist */ }
    throw err;
  }
  fsyncDirSync(path.dirname(target));
}
