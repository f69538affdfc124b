/** `propetl serve`: see help.ts (SERVE_HELP) and src/serve/. */
import path from "node:path";
import { existsSync, statSync } from "node:fs";
import { buildServer } from "../serve/http.js";
import { createServeMetrics } from "../serve/metrics.js";
import { createTaskRouter } from "../serve/router.js";
import { CliError, flag, int, parseCommand, required, str } from "./args.js";
import type { OptionSpec } from "./args.js";
import { engineOptions } from "./engine-options.js";

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: "string" },
  tasks: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "cache-mb": { type: "string" },
  "batch-window-ms": { type: "string" },
  "max-batch-tokens": { type: "string" },
  "max-queue": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-inputs": { type: "string" },
  "max-input-chars": { type: "string" },
  "body-limit-kb": { type: "string" },
  "max-length": { type: "string" },
  "batch-size": { type: "string" },
  "no-fuse": { type: "boolean" },
  "rescan-on-miss-ms": { type: "string" },
  "max-new-tokens": { type: "string" },
  log: { type: "boolean" },
};

function folder(flagName: string, dir: string): string {
  if (!existsSync(dir)) throw new CliError(`--${flagName} ${dir}: folder not found`, 2);
  if (!statSync(dir).isDirectory()) throw new CliError(`--${flagName} ${dir}: not a folder`, 2);
  return dir;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parseCommand("serve", argv, OPTIONS);
  const modelDir = folder("model", required(v, "model", "serve", "the backbone's model folder"));
  const tasksDir = folder("tasks", required(v, "tasks", "serve", "a folder of task checkpoints"));
  const host = str(v, "host") ?? "127.0.0.1";
  const port = int(v, "port", { min: 0 }) ?? 8080;
  if (port > 65535) throw new CliError(`--port must be an integer in [0, 65535], got ${port}`, 2);
  const maxInputs = int(v, "max-inputs") ?? 256;
  const maxInputChars = int(v, "max-input-chars") ?? 10000;
  const maxLength = int(v, "max-length", { min: 2 });
  const maxNewTokens = int(v, "max-new-tokens") ?? 256;
  const metrics = createServeMetrics();
  const router = await createTaskRouter({
    modelDir,
    tasksDir,
    cacheMb: int(v, "cache-mb", { min: 0 }) ?? 256,
    batchWindowMs: int(v, "batch-window-ms", { min: 0 }) ?? 2,
    maxBatchTokens: int(v, "max-batch-tokens") ?? 4096,
    maxQueue: int(v, "max-queue") ?? 1024,
    timeoutMs: int(v, "timeout-ms", { min: 0 }) ?? 30000,
    maxInputs,
    maxInputChars,
    ...(maxLength !== undefined ? { maxLength } : {}),
    batchSize: int(v, "batch-size") ?? 64,
    fuseRequests: !flag(v, "no-fuse"),
    rescanOnMissMs: int(v, "rescan-on-miss-ms", { min: 0 }) ?? 0,
    maxNewTokens,
    engine: engineOptions(),
    observer: metrics.observer,
  });
  for (const p of router.problems()) process.stderr.write(`warning: skipped ${p.dir}: ${p.error}\n`);
  const app = await buildServer(router, { bodyLimit: (int(v, "body-limit-kb") ?? 1024) * 1024, maxInputs, maxInputChars, maxNewTokens, metrics, logger: flag(v, "log") });
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (e) {
    await app.close();
    await router.close();
    throw new CliError(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
  }
  const stats = router.stats();
  process.stderr.write(`propetl serve: ${stats.tasks} task(s) from ${path.resolve(tasksDir)} on ${path.resolve(modelDir)}; listening on ${url}\n`);
  process.stdout.write(JSON.stringify({ listening: url, tasks: stats.tasks }) + "\n");
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`propetl serve: ${signal}: answering the requests in flight, then exiting\n`);
      // fastify stops accepting connections and waits for in-flight requests; then the router drains its queue and frees the device.
      app
        .close()
        .then(() => router.close())
        .then(
          () => resolve(0),
          (e: unknown) => {
            process.stderr.write(`propetl serve: error while stopping: ${(e as Error).message}\n`);
            resolve(1);
          },
        );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
