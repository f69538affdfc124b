/**
 * Where jax-js's wasm backend lives on disk. jax-js bundles it into a hashed chunk
 * (`backend-<hash>.js`) that its `index.js` imports; the live-buffer counter needs that file.
 * jax-js is propetl's vendored, patched copy ("#jax-js", dist/vendor/jax-js). Node.js only;
 * reads files, imports nothing.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** Absolute path of the backend chunk that jax-js's ESM entry (`dist/index.js`) imports. */
export function jaxjsBackendFile(): string {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve("#jax-js"));
  const indexJs = readFileSync(path.join(dist, "index.js"), "utf8");
  const m = /from "\.\/(backend-[A-Za-z0-9_-]+\.js)"/.exec(indexJs);
  if (!m) throw new Error("propetl engine: cannot find jax-js's backend module in its index.js");
  return path.join(dist, m[1]);
}
