/** Running the built CLI (`node dist/src/cli/main.js ...`) from tests, on one engine thread. */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./fixtures.js";

export const CLI_MAIN = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `propetl ARGS` with PROPETL_THREADS=1 and no standard input; resolves when it exits. */
export function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
