/**
 * Hugging Face PEFT interop (petl/peft-lora.ts, `propetl export|import --format peft`): a LoRA
 * and a ProPETL-LoRA checkpoint trained on the bundled propetl-mini are written with PEFT's config keys and
 * tensor names and shapes; read back as plain LoRA checkpoints they predict the same
 * probabilities; PEFT options propetl's LoRA lacks, and non-LoRA checkpoints, are refused.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readSafetensorsFileSync } from "../../src/io/safetensors.js";
import { runCli } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

let work: string;
/** The bundled propetl-mini (a 4-layer BERT with its tokenizer). */
const model = path.join(REPO_ROOT, "models", "propetl-mini");
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-peft-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

const TRAIN = ["--task", "spam", "--model", model, "--rank", "2", "--max-train-examples", "16", "--max-eval-examples", "8", "--max-steps", "2", "--batch-size", "8", "--max-length", "32", "--lr", "0.05", "--json"];
const TEXTS = ["win money now, click here", "meeting moved to thursday"];

async function probs(checkpoint: string): Promise<number[][]> {
  const out: number[][] = [];
  for (const text of TEXTS) {
    const r = await runCli(["predict", "--model", model, "--checkpoint", checkpoint, "--text", text, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    out.push((JSON.parse(r.stdout) as { probs: number[] }).probs);
  }
  return out;
}

describe("PEFT LoRA export and import", () => {
  for (const method of ["lora", "propetl-lora"]) {
    test(`${method}: PEFT's names, shapes and config; imported back it predicts the same`, async () => {
      const ckpt = path.join(work, method);
      const t = await runCli(["train", "--method", method, ...TRAIN, "--output", ckpt]);
      assert.equal(t.code, 0, t.stderr);
      const peft = path.join(work, `${method}-peft`);
      const e = await runCli(["export", "--format", "peft", "--checkpoint", ckpt, "--output", peft, "--base-model", "propetl-mini", "--json"]);
      assert.equal(e.code, 0, e.stderr);
      const cfg = JSON.parse(readFileSync(path.join(peft, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      assert.equal(cfg.peft_type, "LORA");
      assert.equal(cfg.task_type, "SEQ_CLS");
      assert.equal(cfg.r, 2);
      assert.equal(cfg.lora_alpha, method === "lora" ? 32 : 48);
      assert.deepEqual(cfg.target_modules, ["query", "value"]);
      assert.deepEqual(cfg.modules_to_save, ["classifier", "pooler"]);
      assert.equal(cfg.base_model_name_or_path, "propetl-mini");
      const file = readSafetensorsFileSync(path.join(peft, "adapter_model.safetensors"));
      const layers = (JSON.parse(readFileSync(path.join(model, "config.json"), "utf8")) as { num_hidden_layers: number; hidden_size: number }).num_hidden_layers;
      const H = (JSON.parse(readFileSync(path.join(model, "config.json"), "utf8")) as { hidden_size: number }).hidden_size;
      const names = [...file.tensors.keys()].sort();
      const expected: string[] = [];
      for (let i = 0; i < layers; i++) for (const p of ["query", "value"]) for (const ab of ["A", "B"]) expected.push(`base_model.model.bert.encoder.layer.${i}.attention.self.${p}.lora_${ab}.weight`);
      expected.push("base_model.model.bert.pooler.dense.bias", "base_model.model.bert.pooler.dense.weight", "base_model.model.classifier.bias", "base_model.model.classifier.weight");
      assert.deepEqual(names, expected.sort());
      assert.deepEqual(file.tensors.get("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight")?.shape, [2, H]);
      assert.deepEqual(file.tensors.get("base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight")?.shape, [H, 2]);
      assert.deepEqual(file.tensors.get("base_model.model.classifier.weight")?.shape, [2, H]);
      assert.equal(file.metadata.format, "pt");

      const back = path.join(work, `${method}-back`);
      const i = await runCli(["import", "--format", "peft", "--adapter", peft, "--model", model, "--output", back, "--labels", "ham,spam", "--json"]);
      assert.equal(i.code, 0, i.stderr);
      const backCfg = JSON.parse(readFileSync(path.join(back, "adapter_config.json"), "utf8")) as { method: string; label_names: Record<string, string[]> };
      assert.equal(backCfg.method, "lora");
      assert.deepEqual(backCfg.label_names.default, ["ham", "spam"]);
      const a = await probs(ckpt);
      const b = await probs(back);
      a.forEach((row, r) => row.forEach((p, c) => assert.ok(Math.abs(p - b[r][c]) < 1e-6, `${TEXTS[r]}: ${p} vs ${b[r][c]}`)));
    });
  }

  test("refused: options propetl's LoRA lacks, other PEFT types, unknown tensors, non-LoRA checkpoints", async () => {
    const peft = path.join(work, "lora-peft");
    const variant = (name: string, edit: (c: Record<string, unknown>) => void): string => {
      const dir = path.join(work, `v-${name}`);
      cpSync(peft, dir, { recursive: true });
      const file = path.join(dir, "adapter_config.json");
      const c = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      edit(c);
      writeFileSync(file, JSON.stringify(c));
      return dir;
    };
    const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
      ["dora", (c) => (c.use_dora = true), /unsupported PEFT option "use_dora": true/],
      ["prefix", (c) => (c.peft_type = "PREFIX_TUNING"), /"peft_type" must be "LORA"/],
      ["causal", (c) => (c.task_type = "CAUSAL_LM"), /"task_type" must be "SEQ_CLS"/],
      ["key", (c) => (c.target_modules = ["query", "key"]), /"target_modules" must list some of query, value/],
      ["layers", (c) => (c.layers_to_transform = [0]), /unsupported PEFT option "layers_to_transform": \[0\]/],
      ["unknown", (c) => (c.my_option = 1), /unsupported PEFT option "my_option"/],
      ["rank", (c) => (c.r = 3), /tensor "base_model\.model\.bert\.encoder\.layer\.0\.attention\.self\.query\.lora_A\.weight" has shape \[2, \d+\], expected \[3, \d+\]/],
    ];
    for (const [name, edit, re] of cases) {
      const r = await runCli(["import", "--format", "peft", "--adapter", variant(name, edit), "--model", model, "--output", path.join(work, `out-${name}`)]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, re, name);
      assert.match(r.stderr, /adapter_config\.json|adapter_model\.safetensors/, name);
    }
    const labels = await runCli(["import", "--format", "peft", "--adapter", peft, "--model", model, "--output", path.join(work, "out-labels"), "--labels", "a,b,c"]);
    assert.equal(labels.code, 2);
    assert.match(labels.stderr, /--labels names 3 label\(s\), but the adapter's classifier has 2 outputs/);
    const adapterCkpt = path.join(work, "adapter");
    const t = await runCli(["train", "--method", "adapter", "--bottleneck", "4", ...TRAIN.filter((x, k) => !(x === "--rank" || TRAIN[k - 1] === "--rank")), "--output", adapterCkpt]);
    assert.equal(t.code, 0, t.stderr);
    const e = await runCli(["export", "--format", "peft", "--checkpoint", adapterCkpt, "--output", path.join(work, "adapter-peft")]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /PEFT export writes LoRA adapters; adapter has adapter modules/);
    const fmt = await runCli(["export", "--format", "onnx", "--checkpoint", adapterCkpt, "--output", path.join(work, "x")]);
    assert.equal(fmt.code, 2);
    assert.match(fmt.stderr, /--format must be "peft"/);
  });
});
