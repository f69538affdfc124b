// Applies patches/ to @jax-js/jax (see DESIGN.md, "The jax-js patch"). In a development
// checkout patch-package is installed and a failure stops the install; where propetl is
// installed as a dependency (no dev tools), it warns instead: propetl still computes the
// same results, only slower and with the reciprocal-gradient leak unfixed, and its worker
// count is fixed when jax-js loads ($PROPETL_THREADS; `initEngine({ threads })` cannot change it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "patch-package.cmd" : "patch-package");
if (!existsSync(bin)) {
  console.warn("propetl: patch-package not installed; @jax-js/jax runs unpatched (slower matmul backward passes; threads only via PROPETL_THREADS)");
  process.exit(0);
}
const r = spawnSync(bin, [], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
