// Copies the patched jax-js engine into dist/vendor/jax-js/, the copy propetl runs and ships
// (DESIGN.md, "The engine and its jax-js patch"). Build step, run by `npm run build` before tsc:
//
//   node_modules/@jax-js/jax (patched by patch-package in `npm ci`'s prepare step)
//     -> dist/vendor/jax-js/: index.js and the chunks it imports, index.d.ts, LICENSE,
//        package.json (name, version, licence), propetl.patch (the changes), README.md
//
// The library imports the engine as "#jax-js" (package.json "imports"), which resolves to this
// copy in the repository and in an installed tarball alike, so a consumer gets the patched engine
// without install scripts and wherever a package manager puts things. The copy is refused when the
// installed jax-js is not the patch's version or lacks a line the patch adds.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "dist", "vendor", "jax-js");
const NAME = "@jax-js/jax";

function fail(message) {
  console.error(`vendor-engine: ${message}`);
  process.exit(1);
}

const patchFiles = readdirSync(path.join(root, "patches")).filter((f) => f.startsWith("@jax-js+jax+") && f.endsWith(".patch"));
if (patchFiles.length !== 1) fail(`expected one patches/@jax-js+jax+<version>.patch, found ${patchFiles.length}`);
const patchFile = path.join(root, "patches", patchFiles[0]);
const patchVersion = patchFiles[0].slice("@jax-js+jax+".length, -".patch".length);

// The installed package: its ESM entry's folder (resolve gives dist/index.cjs or dist/index.js).
const distDir = path.dirname(createRequire(path.join(root, "package.json")).resolve(NAME));
const pkgDir = path.dirname(distDir);
const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
if (pkg.name !== NAME) fail(`${pkgDir} is not ${NAME}`);
if (pkg.version !== patchVersion) fail(`installed ${NAME} is ${pkg.version}, the patch is for ${patchVersion}: run npm ci`);

/** Lines each file gains from the patch (file path relative to the package). */
function addedLines(patchText) {
  const byFile = new Map();
  let current = null;
  for (const line of patchText.split("\n")) {
    const m = /^\+\+\+ b\/node_modules\/@jax-js\/jax\/(.+)$/.exec(line);
    if (m) {
      current = m[1];
      byFile.set(current, []);
    } else if (current !== null && line.startsWith("+") && !line.startsWith("+++") && line.trim() !== "+") {
      byFile.get(current).push(line.slice(1));
    }
  }
  return byFile;
}

const patchText = readFileSync(patchFile, "utf8");
for (const [file, lines] of addedLines(patchText)) {
  const text = readFileSync(path.join(pkgDir, file), "utf8");
  const missing = lines.filter((l) => !text.includes(l));
  if (missing.length > 0) {
    fail(`${NAME}/${file} lacks ${missing.length} line(s) of ${path.relative(root, patchFile)} (first: ${JSON.stringify(missing[0].trim())}); apply it with: npx patch-package`);
  }
}

/** index.js and every module it reaches through relative static or dynamic imports. */
function moduleGraph(entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(path.join(distDir, file), "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"(\.\/[^"]+)"/g)) {
      const dep = path.posix.normalize(m[1]);
      if (!existsSync(path.join(distDir, dep))) fail(`${file} imports ${m[1]}, which is not in ${distDir}`);
      todo.push(dep);
    }
  }
  return [...seen].sort();
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const modules = moduleGraph("index.js");
for (const f of [...modules, "index.d.ts"]) copyFileSync(path.join(distDir, f), path.join(outDir, f));
copyFileSync(path.join(pkgDir, "LICENSE"), path.join(outDir, "LICENSE"));
copyFileSync(patchFile, path.join(outDir, "propetl.patch"));
const vendoredPkg = {
  name: NAME,
  version: pkg.version,
  description: `${pkg.description}; the ESM build of ${NAME} ${pkg.version} with propetl's patch (propetl.patch), vendored by propetl`,
  license: pkg.license,
  author: pkg.author,
  repository: pkg.repository,
  type: "module",
  main: "index.js",
  types: "index.d.ts",
  private: true,
};
writeFileSync(path.join(outDir, "package.json"), `${JSON.stringify(vendoredPkg, null, 2)}\n`);
writeFileSync(
  path.join(outDir, "README.md"),
  `# ${NAME} ${pkg.version}, patched

The numeric engine propetl runs: the ESM files of [${NAME}](https://www.npmjs.com/package/@jax-js/jax)
${pkg.version} (${pkg.license} licence, see LICENSE) with \`propetl.patch\` applied. propetl imports it as
\`#jax-js\` (its package.json \`imports\`). Why the patch exists and what each change fixes: propetl's
DESIGN.md, "The engine and its jax-js patch". Made by propetl's \`scripts/vendor-engine.mjs\`.
`,
);
console.log(`vendor-engine: ${NAME} ${pkg.version} + ${path.basename(patchFile)} -> ${path.relative(root, outDir)} (${modules.length} modules)`);
