/** Versions recorded in metrics files: propetl, Node, jax-js and the tokenizers package. */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

function readVersion(file: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version;
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** package.json of the nearest folder above this module named "propetl". */
function ownVersion(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const j = JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown; version?: unknown };
        if (j.name === "propetl" && typeof j.version === "string") return j.version;
      } catch {
        // keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * A dependency's version, found from its resolved entry point: `specifier` resolves to the
 * package `name` ("#jax-js" is the vendored @jax-js/jax).
 */
function depVersion(name: string, specifier: string = name): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve(specifier));
    for (let i = 0; i < 5; i++) {
      const v = readVersion(path.join(dir, "package.json"));
      const n = (() => {
        try {
          return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown }).name;
        } catch {
          return undefined;
        }
      })();
      if (v !== undefined && n === name) return v;
      dir = path.dirname(dir);
    }
  } catch {
    // not resolvable
  }
  return undefined;
}

let cached: Record<string, string> | undefined;

export function versions(): Record<string, string> {
  cached ??= {
    propetl: ownVersion() ?? "unknown",
    node: process.versions.node,
    "@jax-js/jax": depVersion("@jax-js/jax", "#jax-js") ?? "unknown",
    "@huggingface/tokenizers": depVersion("@huggingface/tokenizers") ?? "unknown",
  };
  return cached;
}
