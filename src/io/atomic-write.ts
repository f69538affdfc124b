/**
 * Atomic file writes: data goes to a temporary sibling file, is fsync'ed, and
 * is then renamed over the target. A reader therefore sees either the old file
 * or the complete new one, never a half-written target. On any failure the
 * temporary file is removed and the error is rethrown.
 */
import { promises as fsp } from "node:fs";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/** Temporary file name in the same directory as `target` (same filesystem, so rename is atomic). */
function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `${base}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
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

/** Atomically replace `target` with `data` (strings are written as UTF-8). */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx");
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
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx");
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
