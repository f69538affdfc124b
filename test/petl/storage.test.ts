import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import {
  compareStorage,
  computeStorage,
  countBackboneParams,
  countHeadParams,
  formatStorageReport,
  modelDimsFromConfig,
  STORAGE_METHODS,
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

const ROBERTA: ModelDims = {
  name: "roberta-base",
  numLayers: 12,
  hiddenSize: 768,
  backboneParams: ROBERTA_BASE_PARAMS,
  numLabels: 2,
};

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
    assert.deepEqual(modelDimsFromConfig(ROBERTA_BASE_CONFIG, 2, "roberta-base"), {
      numLayers: 12,
      hiddenSize: 768,
      backboneParams: ROBERTA_BASE_PARAMS,
      numLabels: 2,
      head: "roberta",
      name: "roberta-base",
    });
    assert.equal(modelDimsFromConfig(BERT_BASE_UNCASED_CONFIG, 3).head, "bert");
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
    const full = run({ method: "full" });
    checkInvariants(full);
    assert.equal(full.words32, ROBERTA_BASE_PARAMS);
    assert.equal(full.percentOfBackbone, 100);
    const ph = run({ method: "propetl-houlsby", bottleneck: 64 });
    checkInvariants(ph);
    assert.equal(groupCount(ph, "prototype (32-bit)"), 99_136);
    assert.equal(groupCount(ph, "layer masks (1-bit)"), 98_304 * 24);
  });

  test("head is reported but excluded from BLS", () => {
    const r = run({ method: "propetl-adapter" });
    assert.equal(r.head.params, 768 * 768 + 768 + 768 * 2 + 2);
    assert.equal(r.head.bits, 32 * r.head.params);
    assert.equal(r.words32, 136_000); // unchanged by the head
    // BERT's head includes the pooler, which propetl trains and stores with the classifier.
    assert.equal(countHeadParams("bert", 768, 3), 768 * 768 + 768 + 768 * 3 + 3);
    const noHead = computeStorage({ numLayers: 12, hiddenSize: 768, backboneParams: 1000, head: "none" }, { method: "adapter" });
    assert.equal(noHead.head.params, 0);
  });
});

describe("ablations (Sec. 6, Appendix B)", () => {
  test("only-mask adapter, eq. 15 with k=0.5: 32·(2·k·bn·d + bn + d)·L", () => {
    const r = run({ method: "only-mask", base: "adapter", bottleneck: 64, k: 0.5 });
    checkInvariants(r);
    // 2·0.5·64·768 = 49,152 kept weights + 832 unpruned biases, × 12 layers
    assert.equal(groupCount(r, "kept weights (32-bit)"), 49_152 * 12);
    assert.equal(groupCount(r, "biases (32-bit)"), 832 * 12);
    assert.equal(r.totalBits, 19_193_856);
    assert.equal(r.words32, 599_808);
  });

  test("only-mask LoRA, eq. 17 with k=0.5: 32·4·k·r·d·L", () => {
    const r = run({ method: "only-mask", base: "lora", rank: 32, k: 0.5 });
    checkInvariants(r);
    assert.equal(r.totalBits, 18_874_368);
    assert.equal(r.words32, 589_824);
    assert.equal(r.groups.length, 1); // no biases in LoRA
  });

  test("only-mask prefix, eq. 19 with k=0.5 (32-bit kept entries; paper typo noted)", () => {
    const r = run({ method: "only-mask", base: "prefix", prefixLength: 64, k: 0.5 });
    checkInvariants(r);
    assert.equal(r.totalBits, 32 * 2 * 0.5 * 64 * 768 * 12);
    assert.equal(r.words32, 589_824);
    assert.ok(r.notes.some((n) => /eq\. 19/.test(n) && /typo/.test(n)));
  });

  test("only-mask with non-integer k·size rounds per matrix", () => {
    const tiny: ModelDims = { numLayers: 1, hiddenSize: 3, backboneParams: 100, numLabels: 2 };
    const r = computeStorage(tiny, { method: "only-mask", base: "lora", rank: 1, k: 0.5 });
    assert.equal(r.totalBits, 32 * 4 * 2); // four 3-entry matrices, round(1.5) = 2 each
    assert.ok(r.notes.some((n) => /rounded/.test(n)));
  });

  test("only-share: 32·p", () => {
    assert.equal(run({ method: "only-share", bottleneck: 64 }).totalBits, 32 * 99_136);
    assert.equal(run({ method: "only-share", base: "lora", rank: 32 }).totalBits, 32 * 98_304);
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
  });

  test("T5-base-like GLUE setting gives the paper's 0.011% per task", () => {
    // 8 GLUE tasks; adapters in 12 encoder + 12 decoder layers; T5-base 222,903,552 params
    const t5: ModelDims = { name: "t5-base", numLayers: 24, hiddenSize: 768, backboneParams: 222_903_552, head: "none" };
    const r = computeStorage(t5, { method: "propetl-adapter", bottleneck: 64, tasks: 8 });
    assert.equal(r.totalBits, 6_318_080);
    assert.equal(r.perTask.bits, 789_760);
    assert.equal(r.perTask.words32, 24_680);
    assert.equal(r.perTask.percentOfBackbone.toFixed(3), "0.011");
  });

  test("non-ProPETL methods store one copy per task", () => {
    const r = run({ method: "adapter", bottleneck: 64, tasks: 4 });
    checkInvariants(r);
    assert.equal(r.words32, 4 * 1_189_632);
    assert.equal(r.perTask.words32, 1_189_632);
  });
});

describe("validation", () => {
  const cases: [string, () => unknown, RegExp[]][] = [
    ["unknown method", () => run({ method: "bitfit" as StorageOptions["method"] }), [/method/, /"bitfit"/, /propetl-adapter/, /random-mask/]],
    ["k > 1", () => run({ method: "only-mask", k: 1.5 }), [/\bk\b/, /\(0, 1\]/]],
    ["k = 0", () => run({ method: "only-mask", k: 0 }), [/\bk\b/, /\(0, 1\]/]],
    ["k NaN", () => run({ method: "propetl-adapter", k: Number.NaN }), [/\bk\b/]],
    ["hiddenSize 0", () => run({ method: "adapter" }, { ...ROBERTA, hiddenSize: 0 }), [/hiddenSize/, /positive integer/]],
    ["numLayers -1", () => run({ method: "adapter" }, { ...ROBERTA, numLayers: -1 }), [/numLayers/, /positive integer/]],
    ["backboneParams 1.5", () => run({ method: "adapter" }, { ...ROBERTA, backboneParams: 1.5 }), [/backboneParams/]],
    ["numLabels missing", () => run({ method: "adapter" }, { numLayers: 12, hiddenSize: 768, backboneParams: 10 }), [/numLabels/]],
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

  test("every listed method computes on roberta-base", () => {
    for (const method of STORAGE_METHODS) {
      const r = run({ method });
      checkInvariants(r);
      assert.ok(r.totalBits > 0, method);
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
    assert.match(tiny, /^ProPETL-adapter takes 0\.00109× the storage of full fine-tuning/);
    const mt = compareStorage(run({ method: "propetl-adapter", tasks: 8 }), run({ method: "adapter", tasks: 8 }));
    assert.match(mt, /per-task storage/);
  });
});
