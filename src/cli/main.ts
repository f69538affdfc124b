#!/usr/bin/env node
/**
 * `propetl` command dispatcher. Help and version are answered without loading the engine;
 * a command's module is imported only when it runs. `--threads N` and `--backend NAME` become
 * the `threads` and `backend` options the command passes to `initEngine` (engine-options.ts);
 * without them, the engine's defaults apply (PROPETL_THREADS, else all cores; backend "auto").
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_BACKENDS, setEngineBackend, setEngineThreads } from "./engine-options.js";
import type { Backend } from "../engine/engine.js";
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

/**
 * Take the engine flags out of argv and record them: `--threads N` / `--threads=N` and
 * `--backend NAME` / `--backend=NAME`. A bad value ends the process with status 2.
 */
function applyEngineFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let flag: "threads" | "backend";
    let value: string | undefined;
    if (a === "--threads" || a === "--backend") {
      flag = a === "--threads" ? "threads" : "backend";
      value = argv[++i];
    } else if (a.startsWith("--threads=") || a.startsWith("--backend=")) {
      flag = a.startsWith("--threads=") ? "threads" : "backend";
      value = a.slice(a.indexOf("=") + 1);
    } else {
      out.push(a);
      continue;
    }
    const got = value === undefined ? "nothing" : `"${value}"`;
    if (flag === "threads") {
      if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) {
        process.stderr.write(`propetl: --threads must be a positive integer, got ${got}\n`);
        process.exit(2);
      }
      setEngineThreads(Number(value));
    } else {
      if (value === undefined || !(CLI_BACKENDS as readonly string[]).includes(value)) {
        process.stderr.write(`propetl: --backend must be one of ${CLI_BACKENDS.join(", ")}, got ${got}\n`);
        process.exit(2);
      }
      setEngineBackend(value as Backend | "auto");
    }
  }
  return out;
}

interface CommandModule {
  run(argv: string[]): Promise<number>;
}

async function main(): Promise<number> {
  watchOutputStreams();
  const argv = applyEngineFlags(process.argv.slice(2));
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
