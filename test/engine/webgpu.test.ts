/**
 * The webgpu backend against wasm, in Node through Dawn (the optional package `webgpu`): the
 * workload of webgpu-case.ts (tiny-bert with ProPETL-adapter's hooks: the forward pass and one
 * training step with its gradients and a jit-compiled SGD update) runs once per backend, each in
 * its own process, and the results must agree. Skipped when no WebGPU adapter is found (package
 * missing, or no WebGPU-capable driver), unless PROPETL_REQUIRE_WEBGPU=1 (CI: .ci/run installs
 * Mesa's software Vulkan driver, lavapipe, and sets it). On lavapipe the webgpu run takes about
 * 20–30 s on 2 cores with an empty shader cache, mostly compiling shaders (4 s with it warm).
 *
 * Tolerances: both backends compute in float32 but not the same way (WGSL kernels with their own
 * tiling, reduction order and exp/tanh/erf, against wasm's), so results differ in the last bits,
 * and more where a difference passes through the backward pass. The bounds are those the PyTorch
 * fixture test (test/petl/gradients.test.ts) allows another float32 implementation: 1e-4 of the
 * largest |value| for logits and the loss, 2e-3 for gradients; the updated parameters (p − lr·g)
 * get 1e-4 of the largest |parameter|. Measured on lavapipe: bench/RESULTS.md.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isHardwareAdapter } from "../../src/engine/gpu-adapter.js";
import { installDawn } from "../../src/engine/node-webgpu.js";
import { runCli } from "../helpers/cli.js";
import type { WebGpuCaseResult } from "./webgpu-case.js";
import { relErr } from "../petl/petl-helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const REQUIRE = process.env.PROPETL_REQUIRE_WEBGPU === "1";

/** Loads Dawn in this process only to ask for an adapter; the engine does not start here. */
const probe = await installDawn(true);
if (probe.adapter === null && REQUIRE) {
  throw new Error(`PROPETL_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${probe.reason} (on Debian bookworm: mesa-vulkan-drivers from bookworm-backports, see .ci/run)`);
}
const skip = probe.adapter === null ? `no WebGPU adapter (${probe.reason}); CI requires one` : false;

/** Run webgpu-case.ts on `backend` in a fresh process and parse its one JSON line. */
function runCase(backend: "wasm" | "webgpu"): WebGpuCaseResult {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "propetl-webgpu-")), "case.mjs");
  const module = JSON.stringify(pathToFileURL(path.join(here, "webgpu-case.js")).href);
  writeFileSync(file, `import { runWebGpuCase } from ${module};\nconsole.log(JSON.stringify(await runWebGpuCase(${JSON.stringify(backend)})));\nprocess.exit(0);\n`);
  const r = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${backend} case failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as WebGpuCaseResult;
}

test("auto never chooses a fallback or software adapter; hardware adapters qualify", () => {
  const lavapipe = { vendor: "mesa", architecture: "software", device: "llvmpipe-llvm-15-0-6-256-bits-", description: "llvmpipe: Mesa 25.0.7", fallback: true };
  assert.equal(isHardwareAdapter(lavapipe), false);
  assert.equal(isHardwareAdapter({ ...lavapipe, fallback: false }), false, "architecture software");
  assert.equal(isHardwareAdapter({ ...lavapipe, fallback: false, architecture: "" }), false, "llvmpipe device");
  assert.equal(isHardwareAdapter({ vendor: "google", architecture: "", device: "", description: "SwiftShader Device (Subzero)", fallback: false }), false);
  assert.equal(isHardwareAdapter({ vendor: "nvidia", architecture: "hopper", device: "NVIDIA H200", description: "NVIDIA: 580.159.03", fallback: false }), true);
});

/**
 * Run `body` (ESM, with `initEngine` imported) in a process where the package "webgpu" cannot be
 * resolved, as in an install without the optional peer dependency; returns its last stdout line.
 */
function withoutDawn(body: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "propetl-nodawn-"));
  writeFileSync(
    path.join(dir, "hooks.mjs"),
    `export async function resolve(specifier, context, next) {
  if (specifier === "webgpu") throw Object.assign(new Error("Cannot find package 'webgpu'"), { code: "ERR_MODULE_NOT_FOUND" });
  return next(specifier, context);
}\n`,
  );
  writeFileSync(path.join(dir, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
  const engine = JSON.stringify(pathToFileURL(path.resolve(here, "../../src/engine/engine.js")).href);
  writeFileSync(path.join(dir, "main.mjs"), `import { initEngine } from ${engine};\n${body}\nprocess.exit(0);\n`);
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(path.join(dir, "register.mjs")).href, path.join(dir, "main.mjs")], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").pop() ?? "";
}

test("without the package webgpu: backend webgpu is an error saying what to install; auto is wasm and never loads it", () => {
  const err = withoutDawn(`try { await initEngine({ backend: "webgpu", threads: 1 }); console.log("started"); } catch (e) { console.log(e.message); }`);
  assert.match(err, /^initEngine: backend "webgpu" is not available: the package "webgpu" is not installed; install Dawn's Node binding: npm install webgpu/);
  const auto = withoutDawn(`console.log(JSON.stringify(await initEngine({ threads: 1 })));`);
  assert.deepEqual(JSON.parse(auto), { backend: "wasm", threads: 1 });
});

test("--backend takes auto, wasm, webgpu or cpu; another value is a usage error", async () => {
  const r = await runCli(["inspect", "--backend", "cuda"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--backend must be one of auto, wasm, webgpu, cpu, got "cuda"/);
});

test("webgpu agrees with wasm: ProPETL-adapter forward, loss, gradients and one SGD step on tiny-bert", { skip, timeout: 600_000 }, () => {
  const wasm = runCase("wasm");
  const gpu = runCase("webgpu");
  assert.equal(wasm.engine.backend, "wasm");
  assert.equal(gpu.engine.backend, "webgpu");
  assert.ok(gpu.engine.adapter !== undefined, "engineInfo() reports the adapter");
  assert.deepEqual(gpu.engine.adapter, probe.adapter, "the adapter the engine reports is the one Dawn offers");

  assert.ok(relErr(gpu.logits, wasm.logits) < 1e-4, `logits: relative difference ${relErr(gpu.logits, wasm.logits)}`);
  assert.ok(Math.abs(gpu.loss - wasm.loss) < 1e-4 * Math.max(1, Math.abs(wasm.loss)), `loss ${gpu.loss} vs wasm ${wasm.loss}`);
  assert.deepEqual(Object.keys(gpu.grads).sort(), Object.keys(wasm.grads).sort(), "the same trainable leaves");
  for (const [leaf, g] of Object.entries(wasm.grads)) {
    assert.ok(g.some((v) => v !== 0), `wasm gradient of ${leaf} is not all zero`);
    const e = relErr(gpu.grads[leaf], g);
    assert.ok(e < 2e-3, `gradient ${leaf}: relative difference ${e}`);
  }
  for (const [leaf, p] of Object.entries(wasm.updated)) {
    const e = relErr(gpu.updated[leaf], p);
    assert.ok(e < 1e-4, `updated ${leaf}: relative difference ${e}`);
  }
  // The step was applied on both: the loss of the updated parameters is lower, and equal.
  assert.ok(wasm.lossAfter < wasm.loss && gpu.lossAfter < gpu.loss, `losses ${wasm.loss} → ${wasm.lossAfter} (wasm), ${gpu.loss} → ${gpu.lossAfter} (webgpu)`);
  assert.ok(Math.abs(gpu.lossAfter - wasm.lossAfter) < 1e-4 * Math.max(1, Math.abs(wasm.lossAfter)), `loss after the step ${gpu.lossAfter} vs wasm ${wasm.lossAfter}`);
});
