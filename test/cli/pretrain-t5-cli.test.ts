/**
 * `propetl pretrain --arch t5` end to end through the CLI: a tiny T5 pretrained for 2 steps on
 * a generated text whose folder loads back as a T5; the usage and input errors; --help.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { computeInputAndTargetLengths } from "../../src/train/span-corruption.js";
import { runCli } from "../helpers/cli.js";
import { TINY_T5_TOKENIZER_CONFIG, tinyT5TokenizerJson } from "../helpers/t5-tokenizer.js";
import { syntheticText, tempDir } from "../train/helpers.js";

let work: string;
let text: string;
let tokDir: string;
const TINY = ["--arch", "t5", "--d-model", "16", "--d-ff", "32", "--layers", "2", "--heads", "2", "--d-kv", "8", "--seq-len", "24", "--batch-size", "4", "--eval-batch-size", "4", "--eval-batches", "1"];

before(async () => {
  await initEngine({ threads: 1 });
  work = tempDir("propetl-pretrain-t5-cli-");
  text = path.join(work, "text.txt");
  writeFileSync(text, syntheticText(300, 4).join("\n") + "\n");
  tokDir = path.join(work, "tok");
  mkdirSync(tokDir);
  writeFileSync(path.join(tokDir, "tokenizer.json"), JSON.stringify(tinyT5TokenizerJson()));
  writeFileSync(path.join(tokDir, "tokenizer_config.json"), JSON.stringify(TINY_T5_TOKENIZER_CONFIG));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("propetl pretrain --arch t5", () => {
  test("pretrains a tiny T5 for 2 steps; the folder loads back as a T5", async () => {
    const out = path.join(work, "mini-t5");
    const r = await runCli(["pretrain", text, "--output", out, ...TINY, "--tokenizer", path.join(tokDir, "tokenizer.json"), "--steps", "2", "--eval-every", "2", "--dtype", "F16", "--mean-noise-span", "2", "--decoder-layers", "1"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l.type === "step").length, 2);
    const result = lines.find((l) => l.type === "result") as { steps: number; corpus: { tokensLength: number; targetsLength: number } };
    assert.equal(result.steps, 2);
    const want = computeInputAndTargetLengths(24, 0.15, 2);
    assert.deepEqual([result.corpus.tokensLength, result.corpus.targetsLength], [want.tokensLength, want.targetsLength]);
    for (const f of ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "special_tokens_map.json", "pretrain_metrics.json"]) assert.ok(existsSync(path.join(out, f)), f);
    const m = await loadBackboneDir(out);
    try {
      assert.equal(m.config.modelType, "t5");
      const cfg = JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
      assert.deepEqual([cfg.d_model, cfg.num_layers, cfg.num_decoder_layers, cfg.d_kv, cfg.d_ff], [16, 2, 1, 8, 32]);
    } finally {
      tree.dispose(m.encoder);
    }
    const metrics = JSON.parse(readFileSync(path.join(out, "pretrain_metrics.json"), "utf8")) as { dtype: string; hyper: { meanNoiseSpanLength: number; inputLength: number } };
    assert.deepEqual([metrics.dtype, metrics.hyper.meanNoiseSpanLength, metrics.hyper.inputLength], ["F16", 2, 24]);
  });

  test("usage and input errors name the flag or file", async () => {
    const tokFile = path.join(tokDir, "tokenizer.json");
    const notT5 = path.join(work, "not-t5.json");
    const j = tinyT5TokenizerJson() as { model: { vocab: [string, number][] } };
    j.model.vocab = j.model.vocab.filter(([p]) => p !== "<extra_id_5>");
    writeFileSync(notT5, JSON.stringify({ ...j, added_tokens: [] }));
    const cases: [string[], number, RegExp][] = [
      [[text, "--output", path.join(work, "x1"), "--arch", "t5"], 2, /--arch t5 needs --tokenizer FILE/],
      [[text, "--output", path.join(work, "x2"), "--arch", "gpt"], 2, /--arch must be bert or t5, got "gpt"/],
      [[text, "--output", path.join(work, "x3"), "--arch", "t5", "--tokenizer", tokFile, "--hidden", "32"], 2, /--hidden does not apply to --arch t5/],
      [[text, "--output", path.join(work, "x4"), "--arch", "t5", "--tokenizer", tokFile, "--vocab-size", "100", "--init", work], 2, /--init, --vocab-size do not apply to --arch t5/],
      [[text, "--output", path.join(work, "x5"), "--d-model", "16"], 2, /--d-model applies only to --arch t5/],
      [[text, "--output", path.join(work, "x6"), "--arch", "t5", "--tokenizer", tokFile, "--ffn", "swish"], 2, /--ffn must be relu or gated-gelu, got "swish"/],
      [[text, "--output", path.join(work, "x7"), "--arch", "t5", "--tokenizer", tokFile, "--dtype", "BF16"], 2, /--dtype must be F32 or F16, got "BF16"/],
      [[text, "--output", path.join(work, "x8"), "--arch", "t5", "--tokenizer", path.join(work, "nope.json")], 1, /--tokenizer .*nope\.json: not found/],
      [[text, "--output", path.join(work, "x9"), "--arch", "t5", "--tokenizer", work], 1, /the folder has no tokenizer\.json/],
      [[text, "--output", path.join(work, "x10"), ...TINY, "--tokenizer", notT5], 1, /<extra_id_5> is missing, expected id \d+: span corruption needs the 100 sentinels/],
      [[text, "--output", path.join(work, "x11"), ...TINY, "--tokenizer", tokFile, "--mean-noise-span", "0.5"], 2, /--mean-noise-span/],
    ];
    for (const [args, code, re] of cases) {
      const r = await runCli(["pretrain", ...args]);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
    }
  });

  test("--help documents --arch t5 and its flags", async () => {
    const r = await runCli(["pretrain", "--help"]);
    assert.equal(r.code, 0);
    for (const f of ["--arch bert|t5", "--d-model N", "--d-ff N", "--decoder-layers N", "--d-kv N", "--ffn relu|gated-gelu", "--mean-noise-span X", "--dtype F32|F16"]) assert.ok(r.stdout.includes(f), f);
    assert.match(r.stdout, /<extra_id_0> first: the highest id/);
  });
});
