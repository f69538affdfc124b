/**
 * The API reference builds without a warning: typedoc with the repository's typedoc.json
 * (entries src/index.ts and src/engine/index.ts; validation of undocumented exports, types a
 * public signature shows but no entry exports, and broken links; warnings are errors), written
 * to a temporary folder. A failure prints typedoc's warnings. Also: every module the package
 * exports (package.json "exports") is an entry point of the reference.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../helpers/fixtures.js";

const TYPEDOC = path.join(REPO_ROOT, "node_modules", "typedoc", "bin", "typedoc");

let out: string;
before(() => {
  out = mkdtempSync(path.join(os.tmpdir(), "propetl-typedoc-"));
});
after(() => rmSync(out, { recursive: true, force: true }));

/** Run typedoc; resolves with its exit code and its output without colour codes. */
function typedoc(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TYPEDOC, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, "") });
    });
  });
}

test("typedoc builds the API reference with no warning or error", async () => {
  assert.ok(existsSync(TYPEDOC), `${TYPEDOC} is missing: run npm ci (typedoc is a devDependency)`);
  const { code, output } = await typedoc(["--options", path.join(REPO_ROOT, "typedoc.json"), "--out", out]);
  const problems = output.split("\n").filter((l) => /^\[(warning|error)\]/.test(l.trim()));
  assert.deepEqual(problems, [], `typedoc reported ${problems.length} problem(s):\n${output}`);
  assert.equal(code, 0, `typedoc exited with ${code}:\n${output}`);
  // Both package entries are documented.
  for (const page of ["index.html", "modules/propetl.html", "modules/propetl_engine.html"]) {
    assert.ok(existsSync(path.join(out, page)), `${page} missing from the output (${output})`);
  }
});

/** The source files behind the package's "exports" (dist/src/X.js → src/X.ts), every condition. */
function exportedSources(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { exports: unknown };
  const files = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      const m = /^\.\/dist\/(src\/.+)\.js$/.exec(v);
      if (m) files.add(`${m[1]}.ts`);
    } else if (v !== null && typeof v === "object") {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(pkg.exports);
  return [...files].sort();
}

test("typedoc.json documents every module package.json exports", () => {
  // typedoc.json has whole-line // comments, which JSON.parse does not take.
  const text = readFileSync(path.join(REPO_ROOT, "typedoc.json"), "utf8").split("\n").filter((l) => !/^\s*\/\//.test(l)).join("\n");
  const config = JSON.parse(text) as { entryPoints: string[] };
  const sources = exportedSources();
  assert.ok(sources.includes("src/index.ts"), `package.json exports no dist/src/index.js? found ${sources.join(", ")}`);
  const missing = sources.filter((s) => !config.entryPoints.includes(s));
  assert.deepEqual(missing, [], `typedoc.json "entryPoints" lacks ${missing.join(", ")}, which package.json exports: add one line each`);
});
