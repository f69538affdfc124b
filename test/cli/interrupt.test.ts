/**
 * Interrupting `propetl train` keeps the work: Ctrl-C saves the state after the current step,
 * and so does losing the output's reader (`propetl train | tee log`, where Ctrl-C kills tee as
 * well, or `| head`). Each case then resumes to a finished run.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { initEngine } from "../../src/engine/engine.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import path from "node:path";
import { GLUE_WITH_RTE, REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir, tinyModelDir } from "../train/helpers.js";
import { readTrainPosition } from "../../src/train/train-state.js";

const MAIN = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");
const GLUE = GLUE_WITH_RTE;
// 150 steps: long enough that an interrupt after the first step lands well before the end.
const ARGS = ["--task", "rte", "--max-train-examples", "400", "--max-eval-examples", "16", "--epochs", "3", "--batch-size", "8", "--bottleneck", "4", "--seed", "3"];
const TOTAL_STEPS = 150;

type Action = "sigint" | "close-output" | "close-output-and-sigint";

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `propetl train --json`; after the first `after` line (a step by default), do `action` to it. */
function trainAndInterrupt(dir: string, model: string, action: Action, after: "step" | "eval" = "step"): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...ARGS, "--json"], {
      env: { ...process.env, PROPETL_THREADS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let acted = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (acted || !stdout.includes(`"type":"${after}"`)) return;
      acted = true;
      if (action !== "sigint") {
        child.stdout.destroy();
        child.stderr.destroy();
      }
      if (action !== "close-output") child.kill("SIGINT");
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

function resume(dir: string, model: string, onStdout?: (s: string) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...ARGS, "--resume", ...(onStdout ? ["--json"] : ["--quiet"])], {
      env: { ...process.env, PROPETL_THREADS: "1" },
      stdio: ["ignore", onStdout ? "pipe" : "ignore", "ignore"],
    });
    child.stdout?.on("data", (d: Buffer) => onStdout?.(d.toString()));
    child.on("error", reject);
    child.on("exit", resolve);
  });
}

let work: string;
let model: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-interrupt-");
  model = tinyModelDir(path.join(work, "model"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("interrupting propetl train", { skip: GLUE ? false : "no GLUE RTE files found" }, () => {
  for (const action of ["sigint", "close-output-and-sigint", "close-output"] as const) {
    test(`${action}: exit 130 with the state saved mid-run, then --resume finishes`, async () => {
      const dir = path.join(work, action);
      const r = await trainAndInterrupt(dir, model, action);
      assert.equal(r.code, 130, r.stderr);
      if (action === "sigint") assert.match(r.stdout, /"type":"warning","message":"interrupt: saving the training state/);
      const statePath = path.join(dir, "train_state.safetensors");
      assert.ok(existsSync(statePath), "train_state.safetensors written");
      assert.ok(!existsSync(path.join(dir, "metrics.json")), "the run did not finish");
      const pos = await readTrainPosition(statePath);
      assert.ok(pos && pos.globalStep >= 1 && pos.globalStep < TOTAL_STEPS, `saved at step ${pos?.globalStep}`);
      assert.equal(await resume(dir, model), 0);
      assert.ok(existsSync(path.join(dir, "metrics.json")));
    });
  }

  test("--resume rewrites task checkpoint files that were deleted or replaced after the interrupt, from the state's best", async () => {
    const dir = path.join(work, "tampered");
    const r = await trainAndInterrupt(dir, model, "sigint", "eval");
    assert.equal(r.code, 130, r.stderr);
    const files = ["adapter_config.json", "adapter_model.safetensors"].map((f) => path.join(dir, f));
    assert.ok(files.every((f) => existsSync(f)), "the first evaluation saved a checkpoint");
    for (const f of files) rmSync(f);
    let out = "";
    assert.equal(await resume(dir, model, (s) => (out += s)), 0);
    // Either a later evaluation improved (and saved), or the end of the run rewrote the files and said so.
    const improvedLater = out.split("\n").some((l) => l.includes('"type":"eval"') && l.includes('"improved":true'));
    if (!improvedLater) assert.match(out, /the task checkpoint on disk was missing; rewritten from the resume state's best parameters/);
    assert.ok(files.every((f) => existsSync(f)));
    assert.ok(existsSync(path.join(dir, "metrics.json")));
    const ckpt = await loadTaskCheckpoint(dir);
    ckpt.dispose();
  });
});
