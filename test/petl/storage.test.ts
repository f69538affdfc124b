/**
 * Bit-level storage counted from the methods' states: the paper's figures, agreement with the
 * Appendix B closed forms, the one kept-count rule shared with the masks, multi-task, errors.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import { parseModelConfig } from "../../src/models/registry.js";
import { HostRng, keptCount, randomMaskHost } from "../../src/petl/mask.js";
import { METHOD_NAMES } from "../../src/petl/methods.js";
import { createMethod } from "../../src/petl/registry.js";
import {
  compareStorage,
  computeStorage,
  countBackboneParams,
  countHeadParams,
  formatStorageReport,
  modelDimsFromConfig,
  stateBits,
  StorageOptionError,
  type ModelDims,
  type StorageOptions,
  type StorageReport,
} from "../../src/petl/storage.js";

// Copies of the Hugging Face config.json files (the fields the count reads).
const ROBERTA_BASE_CONFIG = {
  model_type: "roberta",
  hidden_size: 768,
  intermediate_size: 3072,
  max_position_embeddings: 514,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  type_vocab_size: 1,
  vocab_size: 50265,
};
const BERT_BASE_UNCASED_CONFIG = {
  model_type: "bert",
  hidden_size: 768,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  type_vocab_size: 2,
  vocab_size: 30522,
};
const SHARED_CONFIGS = "/work/shared/data/configs";

const ROBERTA_BASE_PARAMS = 124_645_632;
const BERT_BASE_PARAMS = 109_482_240;

const ROBERTA = modelDimsFromConfig(ROBERTA_BASE_CONFIG, 2, "roberta-base");
const POOLER = 768 * 768 + 768;

/** A RoBERTa-shaped backbone config with L layers of width d (what the PETL states depend on). */
function backbone(numLayers: number, hiddenSize: number): EncoderConfig {
  return {
    modelType: "roberta",
    vocabSize: 50265,
    hiddenSize,
    numLayers,
    numHeads: 1,
    intermediateSize: 4 * hiddenSize,
    hiddenAct: "gelu",
    layerNormEps: 1e-5,
    maxPositions: 514,
    typeVocabSize: 1,
    padTokenId: 1,
    numLabels: 2,
  };
}

function run(options: StorageOptions, model: ModelDims = ROBERTA): StorageReport {
  return computeStorage(model, options);
}

function groupCount(r: StorageReport, name: string): number | undefined {
  return r.groups.find((g) => g.name === name)?.count;
}

function checkInvariants(r: StorageReport): void {
  const sum = r.groups.reduce((s, g) => s + g.bits, 0);
  assert.equal(r.totalBits, sum);
  for (const g of r.groups) assert.equal(g.bits, g.count * g.bitsPerParam, g.name);
  assert.equal(r.words32, r.totalBits / 32);
  assert.equal(r.bytes, Math.ceil(r.totalBits / 8));
  assert.equal(r.percentOfBackbone, (r.words32 / r.model.backboneParams) * 100);
  assert.equal(r.perTask.bits, r.totalBits / r.tasks);
  assert.equal(r.head.includedInBLS, false);
}

describe("countBackboneParams", () => {
  test("roberta-base and bert-base-uncased", () => {
    assert.equal(countBackboneParams(ROBERTA_BASE_CONFIG), ROBERTA_BASE_PARAMS);
    assert.equal(countBackboneParams(BERT_BASE_UNCASED_CONFIG), BERT_BASE_PARAMS);
  });

  test("shared config.json files give the same numbers", { skip: !existsSync(SHARED_CONFIGS) }, () => {
    const rob: unknown = JSON.parse(readFileSync(`${SHARED_CONFIGS}/roberta-base.json`, "utf8"));
    const bert: unknown = JSON.parse(readFileSync(`${SHARED_CONFIGS}/bert-base-uncased.json`, "utf8"));
    assert.equal(countBackboneParams(rob), ROBERTA_BASE_PARAMS);
    assert.equal(countBackboneParams(bert), BERT_BASE_PARAMS);
  });

  test("modelDimsFromConfig", () => {
    const dims = modelDimsFromConfig(ROBERTA_BASE_CONFIG, 2, "roberta-base");
    assert.equal(dims.config.numLayers, 12);
    assert.equal(dims.config.hiddenSize, 768);
    assert.equal(dims.config.vocabSize, 50265);
    assert.equal(dims.config.numLabels, 2);
    assert.equal(dims.backboneParams, ROBERTA_BASE_PARAMS);
    assert.equal(dims.numLabels, 2);
    assert.equal(dims.head, "roberta");
    assert.equal(dims.name, "roberta-base");
    assert.equal(modelDimsFromConfig(BERT_BASE_UNCASED_CONFIG, 3).head, "bert");
    assert.throws(() => modelDimsFromConfig({ ...ROBERTA_BASE_CONFIG, num_attention_heads: 7 }, 2), (e: unknown) => e instanceof StorageOptionError && /num_attention_heads 7/.test(e.message));
  });

  test("rejects unknown model types and bad fields", () => {
    assert.throws(
      () => countBackboneParams({ ...ROBERTA_BASE_CONFIG, model_type: "t5" }),
      (e: unknown) => e instanceof StorageOptionError && /model_type/.test(e.message) && /bert, roberta/.test(e.message),
    );
    assert.throws(() => countBackboneParams({ ...ROBERTA_BASE_CONFIG, hidden_size: 0 }), /hidden_size/);
    assert.throws(() => countBackboneParams({ ...ROBERTA_BASE_CONFIG, vocab_size: "50265" }), /vocab_size/);
    assert.throws(() => countBackboneParams(null), /config/);
  });
});

describe("paper figures (RoBERTa-base, L=12, d=768)", () => {
  test("ProPETL-adapter bn 64: 136,000 words = 0.109%", () => {
    const r = run({ method: "propetl-adapter", bottleneck: 64 });
    checkInvariants(r);
    assert.equal(groupCount(r, "prototype (32-bit)"), 99_136);
    assert.equal(groupCount(r, "layer masks (1-bit)"), 1_179_648);
    assert.equal(r.totalBits, 32 * 99_136 + 1_179_648);
    assert.equal(r.words32, 136_000);
    assert.equal(r.bytes, 544_000);
    assert.equal(r.percentOfBackbone.toFixed(3), "0.109");
    assert.equal(r.label, "ProPETL-adapter");
  });

  test("adapter bn 64: 1,189,632 words = 0.954%", () => {
    const r = run({ method: "adapter", bottleneck: 64 });
    checkInvariants(r);
    assert.equal(r.words32, 1_189_632);
    assert.equal(groupCount(r, "weights (32-bit)"), 2 * 64 * 768 * 12);
    assert.equal(groupCount(r, "biases (32-bit)"), (64 + 768) * 12);
    assert.equal(r.percentOfBackbone.toFixed(3), "0.954");
  });

  test("ProPETL-LoRA r 32 and ProPETL-prefix l 64: 135,168 words = 0.108%", () => {
    for (const r of [run({ method: "propetl-lora", rank: 32 }), run({ method: "propetl-prefix", prefixLength: 64 })]) {
      checkInvariants(r);
      assert.equal(groupCount(r, "prototype (32-bit)"), 98_304);
      assert.equal(groupCount(r, "layer masks (1-bit)"), 98_304 * 12);
      assert.equal(r.words32, 135_168);
      assert.equal(r.percentOfBackbone.toFixed(3), "0.108");
    }
  });

  test("defaults are the paper's (bn 64, r 32, l 64)", () => {
    assert.equal(run({ method: "propetl-adapter" }).words32, 136_000);
    assert.equal(run({ method: "propetl-lora" }).words32, 135_168);
    assert.equal(run({ method: "propetl-prefix" }).words32, 135_168);
    // k does not change ProPETL storage
    assert.equal(run({ method: "propetl-adapter", k: 0.1 }).totalBits, run({ method: "propetl-adapter", k: 0.9 }).totalBits);
  });

  test("plain LoRA, prefix, Houlsby and full fine-tuning", () => {
    assert.equal(run({ method: "lora", rank: 32 }).words32, 4 * 32 * 768 * 12);
    assert.equal(run({ method: "prefix", prefixLength: 64 }).words32, 2 * 64 * 768 * 12);
    assert.equal(run({ method: "houlsby", bottleneck: 64 }).words32, 2 * 99_136 * 12);
    const ph = run({ method: "propetl-houlsby", bottleneck: 64 });
    checkInvariants(ph);
    assert.equal(groupCount(ph, "prototype (32-bit)"), 99_136);
    assert.equal(groupCount(ph, "layer masks (1-bit)"), 98_304 * 24);
  });

  test("full fine-tuning stores the encoder: the backbone count minus the pooler, which the notes explain", () => {
    const full = run({ method: "full" });
    checkInvariants(full);
    assert.equal(full.words32, ROBERTA_BASE_PARAMS - POOLER);
    assert.equal(groupCount(full, "backbone (32-bit)"), 124_055_040);
    assert.equal(full.percentOfBackbone.toFixed(3), "99.526");
    assert.ok(full.notes.some((n) => /pooler/.test(n) && /590,592/.test(n)), full.notes.join("\n"));
    // BERT: the pooler is trained and stored with the head, so state + head = backbone + classifier.
    const bert = computeStorage(modelDimsFromConfig(BERT_BASE_UNCASED_CONFIG, 3), { method: "full" });
    assert.equal(bert.words32 + bert.head.params, BERT_BASE_PARAMS + 768 * 3 + 3);
  });

  test("head is reported but excluded from BLS", () => {
    const r = run({ method: "propetl-adapter" });
    assert.equal(r.head.params, 768 * 768 + 768 + 768 * 2 + 2);
    assert.equal(r.head.bits, 32 * r.head.params);
    assert.equal(r.words32, 136_000); // unchanged by the head
    // BERT's head includes the pooler, which propetl trains and stores with the classifier.
    assert.equal(countHeadParams("bert", 768, 3), 768 * 768 + 768 + 768 * 3 + 3);
    const noHead = computeStorage({ config: backbone(12, 768), backboneParams: 1000, head: "none" }, { method: "adapter" });
    assert.equal(noHead.head.params, 0);
  });
});

describe("the state count agrees with the paper's Appendix B closed forms", () => {
  // (L, d) backbones, module sizes and kept fractions k for which k·(tensor size) is exact.
  const shapes: [number, number][] = [
    [12, 768],
    [24, 1024],
    [6, 256],
  ];
  for (const [L, d] of shapes) {
    const model: ModelDims = { config: backbone(L, d), numLabels: 2 };
    const bits = (o: StorageOptions): number => computeStorage(model, o).totalBits;
    test(`L=${L}, d=${d}`, () => {
      for (const bn of [64, 8]) {
        const p = 2 * bn * d + bn + d;
        assert.equal(bits({ method: "propetl-adapter", bottleneck: bn }), 32 * p + 2 * bn * d * L, "eq. 14");
        assert.equal(bits({ method: "propetl-houlsby", bottleneck: bn }), 32 * p + 2 * bn * d * 2 * L, "eq. 14, two positions per layer");
        assert.equal(bits({ method: "adapter", bottleneck: bn }), 32 * p * L);
        assert.equal(bits({ method: "houlsby", bottleneck: bn }), 32 * p * 2 * L);
        assert.equal(bits({ method: "only-share", bottleneck: bn }), 32 * p);
        assert.equal(bits({ method: "random-mask", bottleneck: bn }), 32 * p + 2 * bn * d * L);
        for (const k of [0.5, 0.25]) {
          const eq15 = 32 * (2 * k * bn * d + bn + d) * L;
          const r = computeStorage(model, { method: "only-mask", bottleneck: bn, k });
          // The state: eq. 15's kept entries and biases, plus the masks that place them.
          assert.equal(r.totalBits, eq15 + 2 * bn * d * L, `eq. 15 + masks, bn ${bn}, k ${k}`);
          assert.ok(r.notes.some((n) => n.includes(`eq. 15 (Appendix B) omits the masks: it counts ${eq15.toLocaleString("en-US")} bits`)), r.notes.join("\n"));
        }
      }
      for (const rank of [32, 4]) {
        assert.equal(bits({ method: "propetl-lora", rank }), 32 * 4 * rank * d + 4 * rank * d * L, "eq. 16");
        assert.equal(bits({ method: "lora", rank }), 32 * 4 * rank * d * L);
        for (const k of [0.5, 0.25]) {
          assert.equal(bits({ method: "only-mask", base: "lora", rank, k }), 32 * 4 * k * rank * d * L + 4 * rank * d * L, "eq. 17 + masks");
        }
      }
      for (const l of [64, 12]) {
        assert.equal(bits({ method: "propetl-prefix", prefixLength: l }), 32 * 2 * l * d + 2 * l * d * L, "eq. 18");
        assert.equal(bits({ method: "prefix", prefixLength: l }), 32 * 2 * l * d * L);
        for (const k of [0.5, 0.25]) {
          // eq. 19 with the factor 32 the paper's print lacks (see the notes).
          assert.equal(bits({ method: "only-mask", base: "prefix", prefixLength: l, k }), 32 * 2 * k * l * d * L + 2 * l * d * L, "eq. 19 + masks");
        }
      }
    });
  }
});

describe("ablations (Sec. 6, Appendix B)", () => {
  test("only-mask adapter with k=0.5: kept entries, biases and masks; eq. 15's figure in the notes", () => {
    const r = run({ method: "only-mask", base: "adapter", bottleneck: 64, k: 0.5 });
    checkInvariants(r);
    // 2·0.5·64·768 = 49,152 kept weights + 832 unpruned biases, × 12 layers, and the masks
    assert.equal(groupCount(r, "kept weights (32-bit)"), 49_152 * 12);
    assert.equal(groupCount(r, "biases (32-bit)"), 832 * 12);
    assert.equal(groupCount(r, "layer masks (1-bit)"), 98_304 * 12);
    assert.equal(r.totalBits, 19_193_856 + 1_179_648);
    assert.equal(r.words32, 636_672);
    assert.deepEqual(r.hyperparams, { bn: 64, k: 0.5 });
    assert.equal(r.label, "only-mask (adapter)");
    assert.ok(r.notes.some((n) => /eq\. 15/.test(n) && /omits the masks/.test(n) && /19,193,856 bits = 599,808 32-bit words \(0\.481% of backbone\)/.test(n)), r.notes.join("\n"));
  });

  test("only-mask LoRA, eq. 17 with k=0.5: 32·4·k·r·d·L plus the masks", () => {
    const r = run({ method: "only-mask", base: "lora", rank: 32, k: 0.5 });
    checkInvariants(r);
    assert.equal(r.totalBits, 18_874_368 + 1_179_648);
    assert.deepEqual(r.groups.map((g) => g.name), ["kept weights (32-bit)", "layer masks (1-bit)"]); // no biases in LoRA
    assert.ok(r.notes.some((n) => /eq\. 17/.test(n) && /589,824 32-bit words/.test(n)));
  });

  test("only-mask prefix, eq. 19 with k=0.5 (32-bit kept entries; paper typo noted)", () => {
    const r = run({ method: "only-mask", base: "prefix", prefixLength: 64, k: 0.5 });
    checkInvariants(r);
    assert.equal(r.totalBits, 32 * 2 * 0.5 * 64 * 768 * 12 + 2 * 64 * 768 * 12);
    assert.ok(r.notes.some((n) => /eq\. 19/.test(n) && /typo/.test(n)));
  });

  test("the kept count is the mask's: n − ⌊(1−k)·n⌋ (k=0.3 on 16,384 entries keeps 4,916)", () => {
    // d = 256, bn = 64: each adapter weight has 16,384 entries.
    const model: ModelDims = { config: backbone(2, 256), numLabels: 2 };
    const r = computeStorage(model, { method: "only-mask", bottleneck: 64, k: 0.3 });
    const n = 64 * 256;
    const kept = keptCount(n, 0.3);
    assert.equal(kept, 4_916);
    assert.notEqual(Math.round(0.3 * n), kept, "rounding k·n would give 4,915");
    // The count a mask really keeps, on the device rule's host twin (topKMaskHost).
    assert.equal(randomMaskHost(new HostRng(3), n, 0.3).reduce((a, b) => a + b, 0), kept);
    assert.equal(groupCount(r, "kept weights (32-bit)"), 2 * kept * 2);
    // ... and the checkpoint's state stores exactly that many values per weight.
    const spec = createMethod({ method: "only-mask", bottleneck: 64, k: 0.3 }).stateSpec(backbone(2, 256));
    assert.deepEqual(spec.tensors.get("encoder.layer.0.ffn_output.down_weight"), [kept]);
    assert.equal(r.totalBits, stateBits(spec));
  });

  test("only-mask with k·size not an integer keeps n − ⌊(1−k)·n⌋ per tensor", () => {
    const r = computeStorage({ config: backbone(1, 3), backboneParams: 100 }, { method: "only-mask", base: "lora", rank: 1, k: 0.5 });
    // four 3-entry matrices keep 3 − ⌊1.5⌋ = 2 each, plus 12 mask bits
    assert.equal(r.totalBits, 32 * 4 * 2 + 12);
  });

  test("only-share: 32·p", () => {
    assert.equal(run({ method: "only-share", bottleneck: 64 }).totalBits, 32 * 99_136);
    assert.equal(run({ method: "only-share", base: "lora", rank: 32 }).totalBits, 32 * 98_304);
    assert.equal(run({ method: "only-share", base: "lora" }).label, "only-share (LoRA)");
  });

  test("random-mask counts like ProPETL, with a seed note", () => {
    const r = run({ method: "random-mask", bottleneck: 64 });
    checkInvariants(r);
    assert.equal(r.totalBits, run({ method: "propetl-adapter", bottleneck: 64 }).totalBits);
    assert.ok(r.notes.some((n) => /seed/.test(n) && /3,172,416 bits/.test(n)));
  });
});

describe("multi-task (Sec. 3.4)", () => {
  test("one prototype + L layer masks + T task masks", () => {
    const r = run({ method: "propetl-adapter", bottleneck: 64, tasks: 3 });
    checkInvariants(r);
    assert.equal(groupCount(r, "prototype (32-bit)"), 99_136);
    assert.equal(groupCount(r, "layer masks (1-bit)"), 12 * 98_304);
    assert.equal(groupCount(r, "task masks (1-bit)"), 3 * 98_304);
    assert.equal(r.totalBits, 32 * 99_136 + 15 * 98_304);
    // per task = (prototype + layer masks)/T + one task mask
    assert.equal(r.perTask.bits, (32 * 99_136 + 12 * 98_304) / 3 + 98_304);
    // the same as the multi-task checkpoint's state
    const spec = createMethod({ method: "propetl-adapter", tasks: ["a", "b", "c"] }).stateSpec(ROBERTA.config);
    assert.equal(r.totalBits, stateBits(spec));
  });

  test("T5-base-like GLUE setting gives the paper's 0.011% per task", () => {
    // 8 GLUE tasks; adapters in 12 encoder + 12 decoder layers; T5-base 222,903,552 params
    const t5: ModelDims = { name: "t5-base", config: backbone(24, 768), backboneParams: 222_903_552, head: "none" };
    const r = computeStorage(t5, { method: "propetl-adapter", bottleneck: 64, tasks: 8 });
    assert.equal(r.totalBits, 6_318_080);
    assert.equal(r.perTask.bits, 789_760);
    assert.equal(r.perTask.words32, 24_680);
    assert.equal(r.perTask.percentOfBackbone.toFixed(3), "0.011");
  });

  test("methods without masks store one copy per task", () => {
    const r = run({ method: "adapter", bottleneck: 64, tasks: 4 });
    checkInvariants(r);
    assert.equal(r.words32, 4 * 1_189_632);
    assert.equal(r.perTask.words32, 1_189_632);
  });

  test("only-mask with several tasks stores whole modules with layer and task masks (its state)", () => {
    const r = run({ method: "only-mask", bottleneck: 64, tasks: 2 });
    checkInvariants(r);
    assert.equal(r.totalBits, 32 * 99_136 * 12 + 98_304 * 12 + 98_304 * 2);
    assert.equal(groupCount(r, "kept weights (32-bit)"), undefined);
    assert.ok(r.notes.some((n) => /hybrid mask/.test(n) && /whole/.test(n)));
  });
});

describe("validation", () => {
  const K = /k must be a number in \(0, 1\] \(the kept fraction of a mask\), got/;
  const cases: [string, () => unknown, RegExp[]][] = [
    ["unknown method", () => run({ method: "bitfit" as StorageOptions["method"] }), [/unknown method "bitfit"; accepted: adapter, houlsby, lora, prefix, full, propetl-adapter/, /random-mask/]],
    ["k > 1", () => run({ method: "only-mask", k: 1.5 }), [K, /1\.5/]],
    ["k = 0", () => run({ method: "only-mask", k: 0 }), [K]],
    ["k NaN", () => run({ method: "propetl-adapter", k: Number.NaN }), [K]],
    ["k of a method without masks", () => run({ method: "adapter", k: 2 }), [K]],
    ["hiddenSize 0", () => run({ method: "adapter" }, { ...ROBERTA, config: { ...ROBERTA.config, hiddenSize: 0 } }), [/config\.hiddenSize/, /positive integer/]],
    ["numLayers -1", () => run({ method: "adapter" }, { ...ROBERTA, config: { ...ROBERTA.config, numLayers: -1 } }), [/config\.numLayers/, /positive integer/]],
    ["backboneParams 1.5", () => run({ method: "adapter" }, { ...ROBERTA, backboneParams: 1.5 }), [/backboneParams/]],
    ["numLabels 0", () => run({ method: "adapter" }, { ...ROBERTA, numLabels: 0 }), [/numLabels/]],
    ["bottleneck 0", () => run({ method: "adapter", bottleneck: 0 }), [/bottleneck/, /positive integer/]],
    ["rank 2.5", () => run({ method: "lora", rank: 2.5 }), [/rank/]],
    ["prefixLength -4", () => run({ method: "prefix", prefixLength: -4 }), [/prefixLength/]],
    ["tasks 0", () => run({ method: "propetl-adapter", tasks: 0 }), [/tasks/]],
    ["bad base", () => run({ method: "only-mask", base: "bitfit" as StorageOptions["base"] }), [/base/, /adapter, houlsby, lora, prefix/]],
    ["bad head", () => run({ method: "adapter" }, { ...ROBERTA, head: "gpt" as ModelDims["head"] }), [/head/, /roberta, bert, none/]],
  ];
  for (const [name, fn, patterns] of cases) {
    test(name, () => {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof StorageOptionError, `expected StorageOptionError, got ${String(e)}`);
        for (const p of patterns) assert.match(e.message, p);
        return true;
      });
    });
  }

  test("every method of the table computes on roberta-base, as its checkpoint state", () => {
    for (const method of METHOD_NAMES) {
      const r = run({ method });
      checkInvariants(r);
      assert.ok(r.totalBits > 0, method);
      const m = createMethod({ method });
      assert.equal(r.totalBits, stateBits(m.stateSpec(ROBERTA.config)), method);
      m.dispose();
    }
  });
});

describe("text output", () => {
  test("formatStorageReport", () => {
    const text = formatStorageReport(run({ method: "propetl-adapter", bottleneck: 64 }));
    assert.match(text, /ProPETL-adapter \(bn=64\) on roberta-base, L=12, d=768, backbone 124,645,632 params/);
    assert.match(text, /prototype \(32-bit\)\s+99,136\s+32\s+3,172,352/);
    assert.match(text, /layer masks \(1-bit\)\s+1,179,648\s+1\s+1,179,648/);
    assert.match(text, /total \(BLS\)\s+4,352,000 bits/);
    assert.match(text, /bytes\s+544,000/);
    assert.match(text, /32-bit words\s+136,000/);
    assert.match(text, /% of backbone\s+0\.109%/);
    assert.match(text, /head\s+592,130 params .*not in BLS/);
    // group columns are aligned: the "bits" column ends at the same offset
    const rows = text.split("\n").filter((l) => /^(prototype|layer masks|group)/.test(l));
    const ends = rows.map((l) => {
      const m = /^(.*?\S)\s{2,}\S+\s{2,}\S+\s{2,}(\S+)/.exec(l);
      return m === null ? -1 : (m.index + m[0].length);
    });
    assert.equal(new Set(ends).size, 1, text);
  });

  test("multi-task lines", () => {
    const text = formatStorageReport(run({ method: "propetl-adapter", tasks: 3 }));
    assert.match(text, /task masks \(1-bit\)\s+294,912/);
    assert.match(text, /per task \(T=3\)/);
    assert.match(text, /head \(per task\)/);
  });

  test("compareStorage", () => {
    const line = compareStorage(run({ method: "propetl-adapter" }), run({ method: "adapter" }));
    assert.equal(line, "ProPETL-adapter takes 0.114× the storage of adapter (136,000 vs 1,189,632 32-bit words)");
    const tiny = compareStorage(run({ method: "propetl-adapter" }), run({ method: "full" }));
    assert.match(tiny, /^ProPETL-adapter takes 0\.00110× the storage of full fine-tuning/);
    const mt = compareStorage(run({ method: "propetl-adapter", tasks: 8 }), run({ method: "adapter", tasks: 8 }));
    assert.match(mt, /per-task storage/);
  });
});

describe("T5-base (encoder + decoder): the state count agrees with Appendix B with L = 12 + 12 blocks", () => {
  // t5-base's config.json (the keys that shape the states and the backbone).
  const T5_BASE = parseModelConfig(
    { model_type: "t5", d_model: 768, d_kv: 64, d_ff: 3072, num_layers: 12, num_decoder_layers: 12, num_heads: 12, vocab_size: 32128, feed_forward_proj: "relu", relative_attention_num_buckets: 32 },
    "t5-base config",
  ).config;
  const model: ModelDims = { config: T5_BASE, name: "t5-base" };
  const d = 768;
  const L = 12 + 12;
  const bits = (o: StorageOptions): number => computeStorage(model, o).totalBits;

  test("the report counts every block of both stacks, d_model, t5-base's 222,903,552 parameters and no head", () => {
    const r = computeStorage(model, { method: "propetl-adapter" });
    assert.equal(r.model.numLayers, L);
    assert.equal(r.model.hiddenSize, d);
    // Shared embeddings 32128·768, 12+12 blocks, 3 RMSNorm scales, two relative-bias tables (tied LM head).
    assert.equal(r.model.backboneParams, 222_903_552);
    assert.equal(r.head.style, "none");
    assert.equal(r.head.params, 0);
  });

  test("adapter: plain 32·(2·bn·d + bn + d)·L; ProPETL eq. 14 32·(2·bn·d + bn + d) + 2·bn·d·L; only-mask eq. 15 plus the masks", () => {
    const bn = 64;
    assert.equal(bits({ method: "adapter", bottleneck: bn }), 32 * (2 * bn * d + bn + d) * L);
    assert.equal(bits({ method: "propetl-adapter", bottleneck: bn }), 32 * (2 * bn * d + bn + d) + 2 * bn * d * L, "eq. 14");
    const k = 0.5;
    assert.equal(bits({ method: "only-mask", bottleneck: bn, k }), 32 * (2 * k * bn * d + bn + d) * L + 2 * bn * d * L, "eq. 15 + masks");
  });

  test("LoRA: eq. 16 32·4·r·d + 4·r·d·L', with L' = 12 + 2·12 q,v pairs (the decoder's cross-attention too)", () => {
    const r = 32;
    const pairs = 12 + 2 * 12;
    assert.equal(bits({ method: "lora", rank: r }), 32 * 4 * r * d * pairs);
    assert.equal(bits({ method: "propetl-lora", rank: r }), 32 * 4 * r * d + 4 * r * d * pairs, "eq. 16");
  });

  test("prefix: eq. 18 32·2·l·d + 2·l·d·L (self-attention of both stacks)", () => {
    const l = 64;
    assert.equal(bits({ method: "prefix", prefixLength: l }), 32 * 2 * l * d * L);
    assert.equal(bits({ method: "propetl-prefix", prefixLength: l }), 32 * 2 * l * d + 2 * l * d * L, "eq. 18");
  });
});
