/**
 * Mixed-task inference from one multi-task checkpoint: a batch mixing three tasks (2, 3 and 1
 * outputs) gives each example the logits its task gives alone (`loadPredictor` with that
 * task), for ProPETL-adapter, ProPETL-LoRA, ProPETL-prefix and only-mask, and under the
 * Table 11 combine rules ("layer": layer masks only, "task": task masks only) for
 * ProPETL-adapter, only-mask and random-mask; and `export-task`'s single-task file predicts
 * exactly as the multi-task file does with that task.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { trackLiveBuffers } from "../../src/engine/live-buffers.js";
import { np, tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { HostRng } from "../../src/petl/mask.js";
import { initHead } from "../../src/models/bert/init.js";
import { loadModelDir } from "../../src/models/load.js";
import { loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { exportTaskCheckpoint } from "../../src/petl/export-task.js";
import type { CombineRule } from "../../src/petl/combine-rule.js";
import type { MethodName } from "../../src/petl/method.js";
import { disposeMaterialized } from "../../src/petl/propetl.js";
import { createMethod } from "../../src/petl/registry.js";
import { loadMultiTaskPredictor } from "../../src/train/mixed-task.js";
import { loadPredictor } from "../../src/train/predictor.js";
import { tempDir, tinyModelDir } from "./helpers.js";

const TASKS = ["alpha", "beta", "gamma"];
const LABELS = [["no", "yes"], ["a", "b", "c"], ["score"]];
const TEXTS = ["the cat was on the mat", "he said it is not", "a", "that is the one with a hat", "no", "who has been there", "it was as it is", "the end of the day and the night"];

let work: string;
let modelDir: string;
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-mixed-");
  modelDir = tinyModelDir(path.join(work, "model"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A multi-task checkpoint of `name` with freshly initialised (random-score) masks and three heads. */
async function makeCheckpoint(name: MethodName, dir: string, seed: number, combine?: CombineRule): Promise<void> {
  const model = await loadModelDir(modelDir);
  const method = createMethod({ method: name, bottleneck: 8, rank: 4, alpha: 8, prefixLength: 4, prefixHidden: 16, tasks: TASKS, ...(combine ? { combine } : {}) });
  const init = method.init(model.config, model.encoder, seed) as { source: unknown };
  // Nudge every module tensor away from its init (LoRA's B starts at zero: no effect to compare).
  const rng = new HostRng(seed);
  const params = { ...init, source: tree.map((x: JArray) => x.add(np.array(rng.normalArray(x.size, 0.05)).reshape(x.shape)), init.source as never) };
  const heads = LABELS.map((l, t) => initHead({ ...model.config, numLabels: l.length }, seed + t));
  await saveTaskCheckpoint(dir, { method, params, encoderConfig: model.config, heads, labelNames: LABELS });
  tree.dispose([params as never, heads, model.encoder, model.head]);
  method.dispose();
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-5, `${what}[${i}]: ${x} vs ${b[i]}`));
}

const CASES: [MethodName, CombineRule | undefined][] = [
  ["propetl-adapter", undefined],
  ["propetl-lora", undefined],
  ["propetl-prefix", undefined],
  ["only-mask", undefined],
  ["propetl-adapter", "layer"],
  ["propetl-adapter", "task"],
  ["only-mask", "layer"],
  ["only-mask", "task"],
  ["random-mask", "task"],
];

describe("mixed-task inference", () => {
  for (const [i, [method, combine]] of CASES.entries()) {
    const name = combine ? `${method}-${combine}` : method;
    test(`${name}: a batch mixing three tasks equals each task alone; export-task predicts identically`, async () => {
      const dir = path.join(work, name);
      await makeCheckpoint(method, dir, 11 + i, combine);
      // The tasks' modules really differ (else the comparison below could not fail); under
      // "layer" every task runs the same modules.
      const ck = await loadTaskCheckpoint(dir);
      const [m0, m1] = [ck.materialize(0), ck.materialize(1)];
      const first = Object.keys(m0.units[0][0])[0];
      const [d0, d1] = [(await m0.units[0][0][first].ref.data()) as Float32Array, (await m1.units[0][0][first].ref.data()) as Float32Array];
      assert.equal(d0.some((x, j) => x !== d1[j]), combine !== "layer", `task 0 and task 1 materialise ${combine === "layer" ? "the same" : "different"} modules`);
      disposeMaterialized(m0);
      disposeMaterialized(m1);
      ck.dispose();

      const mixed = await loadMultiTaskPredictor(modelDir, dir);
      assert.deepEqual(mixed.tasks.map((t) => [t.name, t.numLabels]), [["alpha", 2], ["beta", 3], ["gamma", 1]]);
      // Example k belongs to task k mod 3; batches of 4 mix tasks.
      const items = TEXTS.map((text, k) => ({ text, task: TASKS[k % 3] }));
      const enc = mixed.encode(items, 32);
      const got = await mixed.logits(enc, { batchSize: 4 });
      // Mixed batches free every array they make: a second pass leaves the live count unchanged.
      const live = await trackLiveBuffers();
      const before = live();
      const again = await mixed.logits(enc, { batchSize: 4 });
      assert.equal(live(), before, "live device buffers after a mixed pass");
      again.forEach((r, k) => assert.deepEqual(Array.from(r), Array.from(got[k]), `repeatable, example ${k}`));
      assert.throws(() => mixed.encode([{ text: "x", task: "delta" }], 32), /unknown task "delta"; this checkpoint has: alpha, beta, gamma/);
      mixed.dispose();

      for (const [t, task] of TASKS.entries()) {
        const rows = items.map((_, k) => k).filter((k) => k % 3 === t);
        const alone = await loadPredictor(modelDir, dir, { task });
        const logits = await alone.logits(alone.encode(rows.map((k) => items[k]), 32), { batchSize: 64 });
        alone.dispose();
        const C = LABELS[t].length;
        rows.forEach((k, r) => close(got[k], logits.subarray(r * C, (r + 1) * C), `${name} ${task} example ${k}`));

        const out = path.join(work, `${name}-${task}`);
        const exported = await exportTaskCheckpoint(dir, task, out);
        assert.equal(exported.taskName, task);
        // "layer": the state is already single-task (the same method); otherwise the task's masks become layer masks (shared methods) or zeros in the weights (only-mask).
        const expected = combine === "layer" ? method : method === "only-mask" ? "adapter" : "propetl-adapter";
        if (combine !== undefined) assert.equal(exported.method.method, expected, `${name}: exported method`);
        if (combine === "task" && method !== "only-mask") assert.equal(exported.method.k, 0.3, "the task masks' kept fraction");
        const single = await loadPredictor(modelDir, out);
        assert.equal(single.checkpoint.tasks.length, 1);
        assert.deepEqual(single.labelNames, LABELS[t]);
        const fromExport = await single.logits(single.encode(rows.map((k) => items[k]), 32), { batchSize: 64 });
        single.dispose();
        assert.deepEqual(Array.from(fromExport), Array.from(logits), `${name} ${task}: exported file = multi-task file with --task`);
      }
    });
  }
});
