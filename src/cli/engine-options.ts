/**
 * The engine as the command line configures it. main.ts takes `--threads N` out of argv and
 * records it here; a command passes `engineOptions()` to `initEngine` when it starts the engine.
 * This module loads nothing of the engine (the import below is a type), so `--help` and
 * `--version` stay fast.
 */
import type { EngineOptions } from "../engine/engine.js";

let options: EngineOptions = {};

/** Record `--threads N` (already checked to be a positive integer). */
export function setEngineThreads(threads: number): void {
  options = { ...options, threads };
}

/** The options for `initEngine` from the command line (empty: the engine's defaults). */
export function engineOptions(): EngineOptions {
  return { ...options };
}
