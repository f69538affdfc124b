#!/usr/bin/env node
/**
 * `propetl` command dispatcher. Help and version are answered without loading the engine;
 * a command's module is imported only when it runs. `--threads N` becomes the `threads` option
 * the command passes to `initEngine` (engine-options.ts); without it, the engine's default
 * applies (PROPETL_THREADS, else all cores).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setEngineThreads } from "./engine-options.js";
import { COMMANDS, HELP, MAIN_HELP } from "./help.js";
import { watchOutputStreams } from "./interrupt.js";
import type { CommandName } from "./help.js";

function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const j = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (j.name === "propetl" && j.version) return j.version;
    } catch {
      // keep looking
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}

/** Take `--threads N` / `--threads=N` out of argv and record it for the engine. */
function applyThreads(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let value: string | undefined;
    if (a === "--threads") value = argv[++i];
    else if (a.startsWith("--threads=")) value = a.slice("--threads=".length);
    else {
      out.push(a);
      continue;
    }
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) {
      process.stderr.write(`propetl: --threads must be a positive integer, got ${value === undefined ? "nothing" : `"${value}"`}\n`);
      process.exit(2);
    }
    setEngineThreads(Number(value));
  }
  return out;
}

interface CommandModule {
  run(argv: string[]): Promise<number>;
}

async function main(): Promise<number> {
  watchOutputStreams();
  const argv = applyThreads(process.argv.slice(2));
  const cmd = argv[0];
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    const topic = cmd === "help" ? argv[1] : undefined;
    process.stdout.write(topic && topic in COMMANDS ? HELP[topic as CommandName] : MAIN_HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "-v") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (!(cmd in COMMANDS)) {
    process.stderr.write(`propetl: unknown command "${cmd}"; commands: ${Object.keys(COMMANDS).join(", ")} (see: propetl --help)\n`);
    return 2;
  }
  const name = cmd as CommandName;
  const rest = argv.slice(1);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(HELP[name]);
    return 0;
  }
  try {
    const mod = (await import(`./${name}.js`)) as CommandModule;
    return await mod.run(rest);
  } catch (e) {
    const err = e as Error & { exitCode?: number };
    const debug = process.env.PROPETL_DEBUG === "1";
    process.stderr.write(`propetl ${name}: error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return typeof err.exitCode === "number" ? err.exitCode : 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // The engine's worker threads may keep the event loop alive: exit once output is flushed.
    process.stdout.write("", () => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`propetl: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
