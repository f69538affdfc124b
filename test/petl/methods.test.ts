/**
 * The method table (src/petl/methods.ts): every method in it is accepted by the CLI help,
 * validation, storage and checkpoints; its defaults, plain counterparts, labels and
 * learning-rate groups are what the code uses; bad names and k values give one message each.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { STORAGE_HELP, TRAIN_HELP, METHOD_HELP } from "../../src/cli/help.js";
import { methodConfigFromArgs } from "../../src/cli/common.js";
import { CliError } from "../../src/cli/args.js";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadModelDir } from "../../src/models/load.js";
import type { LoadedModel } from "../../src/models/load.js";
import { adapterConfigFields, backboneSummary, methodConfigOfFile, parseAdapterConfig } from "../../src/petl/checkpoint.js";
import { keptCount } from "../../src/petl/mask.js";
import type { MethodConfig } from "../../src/petl/method.js";
import {
  ABLATIONS,
  FAMILY_NAMES,
  METHODS,
  METHOD_NAMES,
  MethodConfigError,
  checkMethodName,
  defaultLearningRates,
  methodDefaults,
  methodLabel,
  methodLayout,
  plainMethodName,
} from "../../src/petl/methods.js";
import { createMethod, plainCounterpart, resolveMethodConfig } from "../../src/petl/registry.js";
import { computeStorage, modelDimsFromConfig } from "../../src/petl/storage.js";
import { groupLabels } from "../../src/train/finetune.js";
import { modelFixtureDir } from "../helpers/fixtures.js";

const ROBERTA_BASE = modelDimsFromConfig(
  { model_type: "roberta", vocab_size: 50265, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 514, type_vocab_size: 1 },
  2,
);

const K_MESSAGE = "k must be a number in (0, 1] (the kept fraction of a mask), got 1.5";
const NAMES_MESSAGE = `unknown method "adaptor"; accepted: ${METHOD_NAMES.join(", ")}`;

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

describe("the method table", () => {
  test("lists the paper's methods and ablations in order", () => {
    assert.deepEqual(METHOD_NAMES, [
      "adapter",
      "houlsby",
      "lora",
      "prefix",
      "full",
      "propetl-adapter",
      "propetl-houlsby",
      "propetl-lora",
      "propetl-prefix",
      "only-share",
      "only-mask",
      "random-mask",
    ]);
    assert.deepEqual(Object.keys(ABLATIONS), ["only-share", "only-mask", "random-mask"]);
    assert.deepEqual(ABLATIONS["random-mask"], { share: true, masks: "random" });
  });

  test("every method is accepted by help, validation, storage and adapter_config.json", () => {
    for (const name of METHOD_NAMES) {
      // help: the method list with its description, in train's and storage's help
      assert.ok(METHOD_HELP.includes(`  ${name} `), `${name} in the method list`);
      assert.ok(METHOD_HELP.replace(/\s+/g, " ").includes(METHODS[name].description), `${name}'s description`);
      assert.ok(TRAIN_HELP.includes(METHOD_HELP) && STORAGE_HELP.includes(METHOD_HELP));
      // validation: the CLI flags, then the registry
      const resolved = resolveMethodConfig(methodConfigFromArgs({ method: name }));
      assert.equal(resolved.method, name);
      // storage
      const report = computeStorage(ROBERTA_BASE, resolved);
      assert.equal(report.label, methodLabel(resolved));
      assert.ok(report.totalBits > 0);
      // adapter_config.json: written fields are read back to the same config
      const file = {
        format: "propetl-task",
        format_version: 1,
        ...adapterConfigFields(resolved),
        hook_points: [],
        tasks: ["default"],
        label_names: { default: ["a", "b"] },
        dtype: "F32",
        backbone: backboneSummary(ROBERTA_BASE.config),
      };
      const back = resolveMethodConfig(methodConfigOfFile(parseAdapterConfig("adapter_config.json", JSON.parse(JSON.stringify(file)))));
      assert.deepEqual(back, resolved, name);
    }
  });

  test("the defaults each method resolves to are the table's", () => {
    for (const name of METHOD_NAMES) {
      assert.deepEqual(resolveMethodConfig({ method: name }), { method: name, ...methodDefaults({ method: name }) }, name);
    }
    assert.deepEqual(methodDefaults({ method: "propetl-lora" }), { rank: 32, alpha: 48, k: 0.5 });
    assert.deepEqual(methodDefaults({ method: "only-mask", base: "lora" }), { base: "lora", rank: 32, alpha: 48, k: 0.5 });
    assert.deepEqual(methodDefaults({ method: "random-mask" }), { base: "adapter", bottleneck: 64, k: 0.5, seed: 0 });
    assert.deepEqual(methodDefaults({ method: "full" }), {});
    // The help shows them.
    assert.match(METHOD_HELP, /\n  propetl-lora +one LoRA prototype[^\n]*\n +defaults: rank 32, alpha 48, k 0\.5\n/);
    assert.match(METHOD_HELP, /\n  full +every backbone parameter trains and is stored\n  propetl-adapter /);
    assert.match(METHOD_HELP, /--alpha X\s+LoRA alpha \(default 32; 48 with masks\)/);
  });

  test("layouts, labels and plain counterparts", () => {
    assert.deepEqual(methodLayout({ method: "propetl-houlsby" }), { kind: "houlsby", share: true, masks: "learned" });
    assert.deepEqual(methodLayout({ method: "only-mask", base: "prefix" }), { kind: "prefix", share: false, masks: "learned" });
    assert.deepEqual(methodLayout({ method: "full" }), { kind: null, share: false, masks: "none" });
    assert.equal(methodLabel({ method: "propetl-lora" }), "ProPETL-LoRA");
    assert.equal(methodLabel({ method: "only-mask", base: "lora" }), "only-mask (LoRA)");
    assert.equal(methodLabel({ method: "full" }), "full fine-tuning");
    for (const name of METHOD_NAMES) {
      const plain = plainMethodName({ method: name });
      if (plain === null) continue;
      // A plain counterpart is a method of the same family without sharing or masks.
      assert.deepEqual(methodLayout({ method: plain }), { kind: methodLayout({ method: name }).kind, share: false, masks: "none" }, name);
    }
    assert.equal(plainMethodName({ method: "adapter" }), null);
    assert.equal(plainMethodName({ method: "only-share", base: "lora" }), "lora");
    // Same module sizes; the plain method's own alpha default.
    assert.deepEqual(plainCounterpart({ method: "propetl-lora", rank: 8 }), { method: "lora", rank: 8, alpha: 32 });
    assert.deepEqual(plainCounterpart({ method: "propetl-prefix", prefixLength: 16 }), { method: "prefix", prefixLength: 16, prefixHidden: 512 });
    assert.equal(plainCounterpart({ method: "full" }), null);
  });

  test("learning-rate defaults, and the help that states them", () => {
    assert.deepEqual(defaultLearningRates({ method: "propetl-adapter" }), { lr: 1e-4, maskLr: 3e-3 });
    assert.deepEqual(defaultLearningRates({ method: "propetl-lora" }), { lr: 1e-4, maskLr: 3e-2 });
    assert.deepEqual(defaultLearningRates({ method: "only-mask", base: "lora" }), { lr: 1e-4, maskLr: 3e-2 });
    assert.equal(defaultLearningRates({ method: "full" }).lr, 2e-5);
    assert.match(TRAIN_HELP, /--lr X\s+module learning rate \(default 1e-4; full fine-tuning 2e-5\)/);
    assert.match(TRAIN_HELP, /--mask-lr X\s+mask-score learning rate of methods with learned masks \(default 3e-3;\s+LoRA-based 3e-2\)/);
    assert.deepEqual(METHOD_NAMES.filter((n) => METHODS[n].groups.includes("scores")), METHOD_NAMES.filter((n) => METHODS[n].masks === "learned"));
    assert.deepEqual(FAMILY_NAMES, ["adapter", "houlsby", "lora", "prefix"]);
  });

  test("bad method names and k values: one message each, wherever they are checked", () => {
    assert.equal(messageOf(() => checkMethodName("adaptor")), NAMES_MESSAGE);
    assert.equal(messageOf(() => resolveMethodConfig({ method: "adaptor" as MethodConfig["method"] })), NAMES_MESSAGE);
    assert.equal(messageOf(() => computeStorage(ROBERTA_BASE, { method: "adaptor" as MethodConfig["method"] })), NAMES_MESSAGE);
    assert.equal(messageOf(() => methodConfigFromArgs({ method: "adaptor" })), `--method: ${NAMES_MESSAGE}`);
    assert.throws(() => methodConfigFromArgs({ method: "adaptor" }), CliError);
    assert.ok(messageOf(() => parseAdapterConfig("f.json", { format: "propetl-task", format_version: 1, method: "adaptor" })).endsWith(NAMES_MESSAGE));
    assert.throws(() => checkMethodName("adaptor"), MethodConfigError);

    assert.equal(messageOf(() => keptCount(10, 1.5)), K_MESSAGE);
    assert.equal(messageOf(() => resolveMethodConfig({ method: "propetl-adapter", k: 1.5 })), `propetl-adapter: ${K_MESSAGE}`);
    assert.equal(messageOf(() => computeStorage(ROBERTA_BASE, { method: "only-mask", k: 1.5 })), `only-mask: ${K_MESSAGE}`);
    assert.equal(messageOf(() => resolveMethodConfig(methodConfigFromArgs({ method: "propetl-lora", k: "1.5" }))), `propetl-lora: ${K_MESSAGE}`);
  });
});

describe("learning-rate groups", () => {
  let model: LoadedModel;
  before(async () => {
    await initEngine();
    model = await loadModelDir(modelFixtureDir("tiny-bert"));
  });
  after(() => tree.dispose([model.encoder, model.head]));

  test("each method's trainable tree has exactly the table's optimizer groups", () => {
    const small = { bottleneck: 4, rank: 2, prefixLength: 2, prefixHidden: 8 };
    for (const name of METHOD_NAMES) {
      const method = createMethod({ method: name, ...small });
      const params = method.init(model.config, model.encoder, 0);
      const labels = new Set<string>();
      const walk = (node: unknown): void => {
        if (typeof node === "string") labels.add(node);
        else if (node !== null && typeof node === "object") for (const v of Object.values(node)) walk(v);
      };
      walk(groupLabels(method, { method: params, head: model.head }));
      assert.deepEqual([...labels].sort(), [...METHODS[name].groups].sort(), name);
      tree.dispose(params as never);
      method.dispose();
    }
  });
});
