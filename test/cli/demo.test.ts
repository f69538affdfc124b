/**
 * `propetl demo`: `train` with the presets of src/cli/demo-presets.ts. The help shows exactly
 * those presets, and an option after `demo` overrides a preset (one step on a tiny model).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { DEMO_PRESETS, demoPresetsText } from "../../src/cli/demo-presets.js";
import { runCli } from "../helpers/cli.js";
import { tempDir, tinyModelDir } from "../train/helpers.js";

let work: string;
let model: string;
before(() => {
  work = tempDir("propetl-cli-demo-");
  model = tinyModelDir(path.join(work, "model"));
});
after(() => rmSync(work, { recursive: true, force: true }));

test("demo --help lists every preset as a train option", async () => {
  const r = await runCli(["demo", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  const shown = r.stdout.replace(/\s+/g, " ");
  for (let i = 0; i < DEMO_PRESETS.length; i += 2) assert.ok(shown.includes(`${DEMO_PRESETS[i]} ${DEMO_PRESETS[i + 1]}`), `${DEMO_PRESETS[i]} missing from:\n${r.stdout}`);
  assert.ok(demoPresetsText().split("\n").every((l) => l.length <= 92));
});

test("options after demo override its presets; the rest apply", async () => {
  const out = path.join(work, "run");
  const r = await runCli(["demo", "--model", model, "--epochs", "1", "--max-steps", "1", "--max-train-examples", "16", "--max-eval-examples", "8", "--batch-size", "8", "--bottleneck", "4", "--output", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const metrics = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as { task: string; hyper: { epochs: number; lr: number; maskLr: number; maxLength: number } };
  const preset = (flag: string): string => DEMO_PRESETS[DEMO_PRESETS.indexOf(flag as (typeof DEMO_PRESETS)[number]) + 1];
  assert.equal(metrics.task, preset("--task"));
  assert.equal(metrics.hyper.epochs, 1, "--epochs 1 given after demo wins over the preset");
  assert.equal(metrics.hyper.lr, Number(preset("--lr")));
  assert.equal(metrics.hyper.maskLr, Number(preset("--mask-lr")));
  assert.equal(metrics.hyper.maxLength, Number(preset("--max-length")));
});
