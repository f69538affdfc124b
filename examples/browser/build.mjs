// Builds the browser demo into examples/browser/dist/ (git-ignored):
// - app.js and finetune-worker.js: the page's and the worker's scripts, bundled by esbuild for the
//   browser, so "propetl" resolves to the package's browser entry (its "browser" export condition);
// - finetune-examples.json: the examples the worker fine-tunes on, the first ones of each label in
//   the built-in spam task's training split, read here with the Node library's task reader.
// Usage: node examples/browser/build.mjs [--examples-per-label N]   (after `npm run build`)
import { mkdirSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { loadBuiltinSplits, resolveBuiltinTask } from "propetl";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, "dist");

/** Build the demo; returns the files written and their sizes in bytes. */
export async function buildDemo({ examplesPerLabel = 16, quiet = false } = {}) {
  mkdirSync(OUT, { recursive: true });
  await esbuild.build({
    entryPoints: { app: path.join(HERE, "app.mjs"), "finetune-worker": path.join(HERE, "finetune-worker.mjs") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    outdir: OUT,
    logLevel: quiet ? "silent" : "warning",
  });
  const task = resolveBuiltinTask("spam").task;
  const { train } = await loadBuiltinSplits("spam");
  const examples = [];
  for (let label = 0; label < task.labels.length; label++) {
    const of = train.filter((e) => e.label === label).slice(0, examplesPerLabel);
    if (of.length < examplesPerLabel) throw new Error(`spam has ${of.length} training examples labelled ${task.labels[label]}, fewer than ${examplesPerLabel}`);
    examples.push(...of.map((e) => ({ text: e.text, label })));
  }
  // Interleave the labels, so that every batch of the short run sees both.
  const half = examples.length / 2;
  const mixed = examples.slice(0, half).flatMap((e, i) => [e, examples[half + i]]);
  writeFileSync(path.join(OUT, "finetune-examples.json"), JSON.stringify({ task: "spam", labels: task.labels, examples: mixed }));
  const files = ["app.js", "finetune-worker.js", "finetune-examples.json"].map((f) => ({ file: path.join(OUT, f), bytes: statSync(path.join(OUT, f)).size }));
  if (!quiet) for (const f of files) console.log(`${path.relative(process.cwd(), f.file)}  ${(f.bytes / 1024).toFixed(0)} KiB`);
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--examples-per-label");
  const n = i > 0 ? Number(process.argv[i + 1]) : 16;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--examples-per-label: expected a positive integer, got ${process.argv[i + 1]}`);
  await buildDemo({ examplesPerLabel: n });
}
