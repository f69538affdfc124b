/**
 * Multi-task training under every combine rule (paper Sec. 3.4 and the Table 11 ablations,
 * combine-rule.ts) on a tiny BERT with the built-in spam and sotu-party data, a few steps
 * each: the checkpoint holds exactly the masks the rule uses (adapter_config.json's k / task_k
 * follow), metrics.json's storage is the library's count of that state, and every task
 * predicts the same from the multi-task file (`--task`) as from `export-task`'s single-task file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { loadBuiltinSplits, resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import { initEngine } from "../../src/engine/engine.js";
import { readSafetensorsFile } from "../../src/io/safetensors.js";
import { parseEncoderConfig } from "../../src/models/bert/config.js";
import { COMBINE_RULES, ruleMasks } from "../../src/petl/combine-rule.js";
import { exportTaskCheckpoint } from "../../src/petl/export-task.js";
import { computeStorage, sharedAndTaskParts } from "../../src/petl/storage.js";
import { trainMultiTask } from "../../src/train/multitask-run.js";
import type { MultiTaskSource } from "../../src/train/multitask-run.js";
import { loadPredictor } from "../../src/train/predictor.js";
import { tempDir, tinyModelDir } from "./helpers.js";

const NAMES = ["spam", "sotu-party"] as const;

let work: string;
let modelDir: string;
let tasks: MultiTaskSource[];
before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-mtrules-");
  modelDir = tinyModelDir(path.join(work, "model"));
  tasks = NAMES.map((name) => ({ task: resolveBuiltinTask(name).task, splits: async (seed: number) => ({ ...(await loadBuiltinSplits(name, seed)), protocol: "fixed" }) }));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("trainMultiTask under each combine rule", () => {
  for (const rule of COMBINE_RULES) {
    test(rule, async () => {
      const dir = path.join(work, rule);
      const res = await trainMultiTask({
        modelDir,
        tasks,
        method: { method: "propetl-adapter", bottleneck: 4, combine: rule },
        hyper: { epochs: 1, maxSteps: 3, batchSize: 4, gradAccumSteps: 1, lr: 1e-2, maskLr: 1e-1, weightDecay: 0, warmupRatio: 0, maxGradNorm: 1, evalBatchSize: 16 },
        temperature: 2,
        seeds: [1],
        outputDir: dir,
        maxTrainExamples: 8,
        maxEvalExamples: 6,
        maxLength: 24,
      });
      const has = ruleMasks(rule);

      // adapter_config.json and the tensors: only the masks the rule uses.
      const cfg = JSON.parse(readFileSync(path.join(dir, "adapter_config.json"), "utf8")) as { combine: string; k: number | null; task_k: number | null; tasks: string[] };
      assert.deepEqual([cfg.combine, cfg.k, cfg.task_k], [rule, has.layer ? 0.3 : null, has.task ? 0.3 : null]);
      assert.deepEqual(cfg.tasks, [...NAMES]);
      const st = await readSafetensorsFile(path.join(dir, "adapter_model.safetensors"));
      const names = [...st.tensors.keys()];
      assert.equal(names.some((n) => n.startsWith("mask.encoder.layer.")), has.layer, "layer masks");
      assert.deepEqual(names.filter((n) => n.startsWith("mask.task.")).sort(), has.task ? NAMES.flatMap((t) => [`mask.task.${t}.down_weight`, `mask.task.${t}.up_weight`]).sort() : []);
      assert.ok(names.every((n) => !n.includes("score")), "no scores stored");

      // metrics.json: the storage of exactly that state.
      const m = JSON.parse(readFileSync(res.metricsFile, "utf8")) as { storage: { bits: number; shared: { bits: number }; perTask: { bits: number } }; method: { combine: string } };
      assert.equal(m.method.combine, rule);
      const config = parseEncoderConfig(JSON.parse(readFileSync(path.join(modelDir, "config.json"), "utf8")));
      const r = computeStorage({ config, numLabels: 2 }, { method: "propetl-adapter", bottleneck: 4, tasks: [...NAMES], combine: rule });
      assert.equal(m.storage.bits, r.totalBits);
      assert.deepEqual([m.storage.shared.bits, m.storage.perTask.bits], [sharedAndTaskParts(r).shared.bits, sharedAndTaskParts(r).perTask.bits]);
      assert.equal(m.storage.perTask.bits, has.task ? 2 * 4 * config.hiddenSize : 0);

      // Each task: the multi-task file with --task predicts as export-task's single-task file.
      const texts = ["win a free prize now", "we must cut taxes for working families", "meeting moved to monday"].map((text) => ({ text }));
      const outputs: number[][] = [];
      for (const task of NAMES) {
        const multi = await loadPredictor(modelDir, dir, { task });
        const a = await multi.logits(multi.encode(texts, 24), { batchSize: 8 });
        multi.dispose();
        const out = path.join(work, `${rule}-${task}`);
        await exportTaskCheckpoint(dir, task, out);
        const single = await loadPredictor(modelDir, out);
        const b = await single.logits(single.encode(texts, 24), { batchSize: 8 });
        single.dispose();
        assert.deepEqual(Array.from(b), Array.from(a), `${rule} ${task}: exported = multi-task with --task`);
        outputs.push(Array.from(a));
      }
      assert.equal(outputs[0].length, outputs[1].length);
    });
  }
});
