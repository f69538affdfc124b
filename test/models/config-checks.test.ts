/**
 * Meaning checks at load: a pad_token_id outside the vocabulary (BERT and T5 configs) and
 * duplicate label names (config.json id2label, adapter_config.json label_names) are refused
 * with the file and key named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseModelConfig } from "../../src/models/registry.js";
import { loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { FIXTURES, modelFixtureDir } from "../helpers/fixtures.js";

const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(modelFixtureDir(name), "config.json"), "utf8")) as Record<string, unknown>;

test("pad_token_id must be inside the vocabulary", () => {
  const bert = json("tiny-bert");
  assert.throws(() => parseModelConfig({ ...bert, pad_token_id: bert.vocab_size }, "bert/config.json"), /bert\/config\.json: "pad_token_id" \d+ is outside the vocabulary \(vocab_size \d+\)/);
  const t5 = json("tiny-t5");
  assert.throws(() => parseModelConfig({ ...t5, pad_token_id: 64 }, "t5/config.json"), /t5\/config\.json: "pad_token_id" 64 is outside the vocabulary \(vocab_size 64\)/);
});

test("duplicate label names: config.json id2label and adapter_config.json label_names", async () => {
  const bert = json("tiny-bert");
  assert.throws(() => parseModelConfig({ ...bert, num_labels: 2, id2label: { "0": "spam", "1": "spam" } }, "c.json"), /c\.json: "id2label" names the label "spam" twice/);
  const dir = mkdtempSync(path.join(os.tmpdir(), "propetl-labels-"));
  try {
    cpSync(path.join(FIXTURES, "checkpoints", "v1-prefix"), dir, { recursive: true });
    const file = path.join(dir, "adapter_config.json");
    const cfg = JSON.parse(readFileSync(file, "utf8")) as { label_names: Record<string, string[]> };
    const task = Object.keys(cfg.label_names)[0];
    cfg.label_names[task] = cfg.label_names[task].map(() => "same");
    writeFileSync(file, JSON.stringify(cfg));
    await assert.rejects(loadTaskCheckpoint(dir), new RegExp(`"label_names.${task}" names "same" twice; label names must be unique`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
