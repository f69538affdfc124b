/**
 * The browser build: the browser entry (dist/src/browser.js, and propetl/engine's
 * dist/src/engine/browser.js) bundled by esbuild for the browser has no Node import in its graph,
 * the bundle is produced (its size printed), and package.json's conditions send a browser
 * bundler to the browser entries and Node to the Node entries. The Node entry exports every
 * name of the browser entry, as the same values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { builtinModules } from "node:module";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir } from "../train/helpers.js";

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Whether an import path names a Node builtin (`node:fs`, `fs`, `fs/promises`, `worker_threads`). */
function isNodeBuiltin(p: string): boolean {
  return p.startsWith("node:") || BUILTINS.has(p) || BUILTINS.has(p.split("/")[0]);
}

interface BrowserBundle {
  /** Every Node import in the graph: "importer -> path", from esbuild's errors and its metafile. */
  nodeImports: string[];
  inputs: string[];
  bytes: number;
}

/** Bundle `entry` (contents or a file) for the browser as ESM, listing Node imports instead of failing on the first. */
async function bundleForBrowser(entry: { file: string } | { contents: string; resolveDir: string }): Promise<BrowserBundle> {
  const nodeImports: string[] = [];
  const options: esbuild.BuildOptions = {
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    ...("file" in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: "js" } }),
  };
  try {
    const r = await esbuild.build(options);
    const meta = r.metafile as esbuild.Metafile;
    for (const [file, input] of Object.entries(meta.inputs)) for (const imp of input.imports) if (isNodeBuiltin(imp.path) || imp.external) nodeImports.push(`${file} -> ${imp.path}`);
    return { nodeImports, inputs: Object.keys(meta.inputs), bytes: r.outputFiles?.reduce((s, f) => s + f.contents.length, 0) ?? 0 };
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw e;
    for (const m of errors) nodeImports.push(`${m.location?.file ?? "?"}:${m.location?.line ?? 0} -> ${m.text}`);
    return { nodeImports, inputs: [], bytes: 0 };
  }
}

const rel = (f: string): string => path.relative(REPO_ROOT, path.resolve(REPO_ROOT, f));

test("the browser entry bundles for the browser with no Node import in its graph", async () => {
  for (const entry of ["dist/src/browser.js", "dist/src/engine/browser.js"]) {
    const b = await bundleForBrowser({ file: path.join(REPO_ROOT, entry) });
    assert.deepEqual(b.nodeImports, [], `${entry}: Node imports in the browser graph:\n${b.nodeImports.join("\n")}`);
    assert.ok(b.inputs.some((f) => rel(f) === "dist/src/engine/platform-browser.js"), `${entry}: the engine's browser platform layer is in the graph`);
    assert.ok(!b.inputs.some((f) => /platform-node|node-setup|node-workers/.test(f)), `${entry}: no Node platform module in the graph`);
    assert.ok(b.inputs.some((f) => rel(f).startsWith("dist/vendor/jax-js/")), `${entry}: the vendored engine is bundled`);
    // Sanity bounds, not a measurement: the engine alone is ~0.7 MB of JavaScript.
    assert.ok(b.bytes > 300_000 && b.bytes < 20_000_000, `${entry}: bundle of ${b.bytes} bytes`);
    console.log(`# ${entry}: ${b.inputs.length} modules, bundle ${(b.bytes / 1e6).toFixed(2)} MB (esbuild, platform browser, ESM, unminified)`);
  }
});

test("the check fails on a Node import: a Node-only module in the graph is listed", async () => {
  const b = await bundleForBrowser({ file: path.join(REPO_ROOT, "dist/src/index.js") });
  assert.ok(b.nodeImports.length > 0);
  assert.ok(b.nodeImports.some((m) => /node:fs/.test(m)), b.nodeImports.join("\n"));
});

test("package.json conditions: a browser bundler gets the browser entries, Node the Node entries", async () => {
  const project = tempDir("propetl-browser-consumer-");
  mkdirSync(path.join(project, "node_modules"), { recursive: true });
  symlinkSync(REPO_ROOT, path.join(project, "node_modules", "propetl"), "dir");
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  const contents = `import * as propetl from "propetl"; import * as engine from "propetl/engine"; export { propetl, engine };`;
  const b = await bundleForBrowser({ contents, resolveDir: project });
  assert.deepEqual(b.nodeImports, []);
  const inputs = b.inputs.map(rel);
  assert.ok(inputs.includes("dist/src/browser.js"), "propetl resolves to the browser entry");
  assert.ok(inputs.includes("dist/src/engine/browser.js"), "propetl/engine resolves to its browser entry");
  assert.ok(!inputs.includes("dist/src/index.js") && !inputs.includes("dist/src/engine/index.js"), "no Node entry in the browser bundle");

  // Node, from the same project: the Node entries.
  const script = path.join(project, "resolve.mjs");
  writeFileSync(script, `console.log(JSON.stringify([import.meta.resolve("propetl"), import.meta.resolve("propetl/engine")]));`);
  const { execFileSync } = await import("node:child_process");
  const [main, engine] = JSON.parse(execFileSync(process.execPath, [script], { cwd: project, encoding: "utf8" })) as string[];
  assert.equal(main, pathToFileURL(path.join(REPO_ROOT, "dist/src/index.js")).href);
  assert.equal(engine, pathToFileURL(path.join(REPO_ROOT, "dist/src/engine/index.js")).href);
});

test("TypeScript with the browser condition gets the browser entry's types: strict, no skipLibCheck, no @types/node", async () => {
  const project = tempDir("propetl-browser-types-");
  mkdirSync(path.join(project, "node_modules"), { recursive: true });
  symlinkSync(REPO_ROOT, path.join(project, "node_modules", "propetl"), "dir");
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  const compilerOptions = { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", customConditions: ["browser"], lib: ["ES2022", "DOM"], strict: true, skipLibCheck: false, noEmit: true, types: [] };
  const page = `import { initEngine, engineInfo, loadBackboneFromUrl, loadTaskCheckpointFromUrl, taskClassifier } from "propetl";
import { np } from "propetl/engine";
await initEngine();
const bb = await loadBackboneFromUrl("models/propetl-mini/");
const c = taskClassifier(bb, await loadTaskCheckpointFromUrl("tasks/spam/", { encoderConfig: bb.config }));
const [p] = await c.predict(["hi"]);
console.log(p.kind, engineInfo().backend, np.zeros([1]).shape);
`;
  writeFileSync(path.join(project, "page.ts"), page);
  writeFileSync(path.join(project, "node-only.ts"), `import { loadTokenizer } from "propetl";\nconsole.log(loadTokenizer);\n`);
  const { spawnSync } = await import("node:child_process");
  const tsc = (file: string): { status: number | null; out: string } => {
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: [file] }));
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], { encoding: "utf8" });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const ok = tsc("page.ts");
  assert.equal(ok.status, 0, ok.out);
  const nodeOnly = tsc("node-only.ts");
  assert.notEqual(nodeOnly.status, 0);
  assert.match(nodeOnly.out, /has no exported member named 'loadTokenizer'/);
});

test("the Node entry exports every name of the browser entry, as the same values", async () => {
  const browser = (await import(pathToFileURL(path.join(REPO_ROOT, "dist/src/browser.js")).href)) as Record<string, unknown>;
  const node = (await import(pathToFileURL(path.join(REPO_ROOT, "dist/src/index.js")).href)) as Record<string, unknown>;
  const missing = Object.keys(browser).filter((k) => !(k in node));
  assert.deepEqual(missing, [], "names only the browser entry exports");
  for (const k of Object.keys(browser)) assert.equal(node[k], browser[k], k);
  const engineBrowser = (await import(pathToFileURL(path.join(REPO_ROOT, "dist/src/engine/browser.js")).href)) as Record<string, unknown>;
  const engineNode = (await import(pathToFileURL(path.join(REPO_ROOT, "dist/src/engine/index.js")).href)) as Record<string, unknown>;
  for (const k of Object.keys(engineBrowser)) assert.equal(engineNode[k], engineBrowser[k], `propetl/engine ${k}`);
});
