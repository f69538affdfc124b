/**
 * The engine as the command line configures it. main.ts takes `--threads N` and
 * `--backend NAME` out of argv and records them here; a command passes `engineOptions()` to
 * `initEngine` when it starts the engine. This module loads nothing of the engine (the import
 * below is a type), so `--help` and `--version` stay fast.
 */
import type { Backend, EngineOptions } from "../engine/engine.js";

/** The values `--backend` takes. */
export const CLI_BACKENDS: readonly (Backend | "auto")[] = ["auto", "wasm", "webgpu", "cpu"];

let options: EngineOptions = {};

/** Record `--threads N` (already checked to be a positive integer). */
export function setEngineThreads(threads: number): void {
  options = { ...options, threads };
}

/** Record `--backend NAME` (already checked to be one of `CLI_BACKENDS`). */
export function setEngineBackend(backend: Backend | "auto"): void {
  options = { ...options, backend };
}

/** The options for `initEngine` from the command line (empty: the engine's defaults). */
export function engineOptions(): EngineOptions {
  return { ...options };
}
