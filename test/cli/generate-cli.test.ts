/**
 * `propetl generate` end to end through the CLI, on a tiny random T5 (d_model 16, vocab 32,128
 * as t5-small's) made here with initT5 and the HF writer, plus the t5-small tokenizer
 * (test/fixtures/tokenizers/t5-small): the printed ids and texts are the library's
 * (`t5Generate` on the tokenizer's encodings, same batches), greedy and beam search, batching,
 * truncation with its warning, generation_config.json defaults and flags over them, a task
 * checkpoint's hooks and source prefix; and the errors: missing model, non-T5 model, empty
 * input, invalid UTF-8, --num-beams 0, an unknown flag, a tokenizer larger than the model's
 * vocabulary.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import type { Tokenizer } from "../../src/data/tokenizer.js";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import type { ModelHooks } from "../../src/models/hooks.js";
import { saveModelWeights } from "../../src/models/load.js";
import { parseT5Config, t5ConfigToJson } from "../../src/models/t5/config.js";
import type { T5Config } from "../../src/models/t5/config.js";
import { t5Generate } from "../../src/models/t5/generate.js";
import type { T5GenerateOptions } from "../../src/models/t5/generate.js";
import { initT5 } from "../../src/models/t5/init.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { checkpointHooks, loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { createMethod } from "../../src/petl/registry.js";
import { spawn } from "node:child_process";
import { CLI_MAIN, runCli } from "../helpers/cli.js";
import type { CliRun } from "../helpers/cli.js";
import { FIXTURES, modelFixtureDir } from "../helpers/fixtures.js";

const TOKENIZER_DIR = path.join(FIXTURES, "tokenizers", "t5-small");
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"];

let work: string;
let modelDir: string;
let cfg: T5Config;
let params: T5Params;
let tokenizer: Tokenizer;

const file = (name: string, content: string | Buffer): string => {
  const p = path.join(work, name);
  writeFileSync(p, content);
  return p;
};

/** A T5 folder: config.json, model.safetensors and the t5-small tokenizer. */
async function writeModelDir(dir: string, c: T5Config, p: T5Params): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(t5ConfigToJson(c), null, 2));
  await saveModelWeights(path.join(dir, "model.safetensors"), c, p, null);
  for (const f of TOKENIZER_FILES) copyFileSync(path.join(TOKENIZER_DIR, f), path.join(dir, f));
}

before(async () => {
  await initEngine({ threads: 1 });
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-generate-cli-"));
  const base = JSON.parse(readFileSync(path.join(modelFixtureDir("tiny-t5-v1_1"), "config.json"), "utf8")) as Record<string, unknown>;
  cfg = parseT5Config({ ...base, vocab_size: 32128, d_model: 16, d_ff: 32, d_kv: 8, num_heads: 2 }, "test config");
  params = initT5(cfg, 5);
  modelDir = path.join(work, "tiny-t5-32k");
  await writeModelDir(modelDir, cfg, params);
  tokenizer = await loadTokenizer(modelDir);
});
after(() => {
  tree.dispose(params);
  rmSync(work, { recursive: true, force: true });
});

/** The library's generation for texts in batches of `batchSize` (the CLI's batching). */
async function libraryIds(texts: string[], opts: T5GenerateOptions, batchSize = 16, hooks?: ModelHooks, p: T5Params = params, maxLength = 512): Promise<number[][]> {
  const out: number[][] = [];
  for (let s = 0; s < texts.length; s += batchSize) {
    const rows = texts.slice(s, s + batchSize).map((t) => tokenizer.encode(t, undefined, { maxLength }).inputIds);
    const S = Math.max(...rows.map((r) => r.length));
    const inputIds = new Int32Array(rows.length * S).fill(cfg.padTokenId);
    const attentionMask = new Int32Array(rows.length * S);
    rows.forEach((r, i) => {
      inputIds.set(r, i * S);
      attentionMask.fill(1, i * S, i * S + r.length);
    });
    out.push(...(await t5Generate(cfg, p, hooks, { batchSize: rows.length, encoderLength: S, inputIds, attentionMask }, opts)).sequences);
  }
  return out;
}

/** `propetl ARGS` with `input` on its standard input (one engine thread). */
function runWithStdin(args: string[], input: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function jsonLines(stdout: string): { text: string; ids: number[] }[] {
  return stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { text: string; ids: number[] });
}

describe("propetl generate", () => {
  test("--text, greedy: the library's ids, decoded without special tokens; plain output is the text", async () => {
    const text = "translate English to German: The house is wonderful.";
    const r = await runCli(["generate", "--model", modelDir, "--text", text, "--max-new-tokens", "6", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const [line] = jsonLines(r.stdout);
    const [want] = await libraryIds([text], { maxNewTokens: 6 });
    assert.deepEqual(line.ids, want);
    assert.equal(line.text, tokenizer.decode(want, { skipSpecialTokens: true }));
    const plain = await runCli(["generate", "--model", modelDir, "--text", text, "--max-new-tokens", "6"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, line.text.replace(/\n/g, " ") + "\n");
  });

  test("--input FILE, beam search, --batch-size 2, --max-source-length: one line per input (empty lines too), truncation warned", async () => {
    const texts = ["summarize: a short input", "", "a much longer input that certainly has more than eight tokens in it", "another one"];
    const input = file("inputs.txt", texts.join("\n") + "\n");
    const out = path.join(work, "out.jsonl");
    const r = await runCli(["generate", "--model", modelDir, "--input", input, "--num-beams", "3", "--length-penalty", "0.6", "--max-new-tokens", "5", "--batch-size", "2", "--max-source-length", "8", "--json", "--output", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`warning: 1 of 4 input\\(s\\) longer than --max-source-length 8 tokens were truncated \\(first: ${input.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3\\)`));
    const lines = jsonLines(readFileSync(out, "utf8"));
    assert.equal(lines.length, 4);
    const want = await libraryIds(texts, { maxNewTokens: 5, numBeams: 3, lengthPenalty: 0.6 }, 2, undefined, params, 8);
    assert.deepEqual(lines.map((l) => l.ids), want);
  });

  test("--input - reads standard input", async () => {
    const texts = ["first input", "second input"];
    const r = await runWithStdin(["generate", "--model", modelDir, "--input", "-", "--max-new-tokens", "4", "--json"], texts.join("\r\n") + "\r\n");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r.stdout).map((l) => l.ids), await libraryIds(texts, { maxNewTokens: 4 }));
    const empty = await runWithStdin(["generate", "--model", modelDir, "--input", "-"], "");
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /<stdin>: empty \(expected one text per line\)/);
  });

  test("generation_config.json gives the defaults (HF semantics), flags override them, unimplemented settings are warned about", async () => {
    const dir = path.join(work, "with-gen-config");
    await writeModelDir(dir, cfg, params);
    writeFileSync(path.join(dir, "generation_config.json"), JSON.stringify({ decoder_start_token_id: 0, eos_token_id: 1, pad_token_id: 0, num_beams: 2, max_length: 4, no_repeat_ngram_size: 3 }));
    const text = "translate English to French: good morning";
    const r = await runCli(["generate", "--model", dir, "--text", text, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /generation_config\.json: no_repeat_ngram_size 3 is not implemented by propetl generate; ignored/);
    assert.deepEqual(jsonLines(r.stdout)[0].ids, (await libraryIds([text], { maxNewTokens: 3, numBeams: 2 }))[0]);
    const f = await runCli(["generate", "--model", dir, "--text", text, "--json", "--num-beams", "1", "--max-new-tokens", "7"]);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(jsonLines(f.stdout)[0].ids, (await libraryIds([text], { maxNewTokens: 7 }))[0]);
    writeFileSync(path.join(dir, "generation_config.json"), JSON.stringify({ num_beams: "four" }));
    const bad = await runCli(["generate", "--model", dir, "--text", text]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /generation_config\.json: "num_beams" must be an integer >= 1 or null, got "four"/);
  });

  test("--checkpoint: the checkpoint's hooks and its task prefix; --prefix overrides it", async () => {
    const ckptDir = path.join(work, "ckpt");
    const m = createMethod({ method: "propetl-prefix", prefixLength: 3, prefixHidden: 16 }, cfg);
    const p = m.init(cfg, params, 3);
    await saveTaskCheckpoint(ckptDir, { method: m, params: p, encoderConfig: cfg, taskPrefixes: ["summarize: "] });
    tree.dispose(p as JArray);
    m.dispose();
    const text = "the cat sat on the mat";
    const r = await runCli(["generate", "--model", modelDir, "--checkpoint", ckptDir, "--text", text, "--max-new-tokens", "6", "--num-beams", "2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const loaded = await loadTaskCheckpoint(ckptDir, { encoderConfig: cfg });
    assert.equal(loaded.tasks[0].prefix, "summarize: ");
    const run = checkpointHooks(loaded, params);
    try {
      const want = await libraryIds(["summarize: " + text], { maxNewTokens: 6, numBeams: 2 }, 16, run.hooks, run.params as T5Params);
      assert.deepEqual(jsonLines(r.stdout)[0].ids, want[0]);
      // The modules matter: without the checkpoint the output differs.
      const plain = await libraryIds(["summarize: " + text], { maxNewTokens: 6, numBeams: 2 });
      assert.notDeepEqual(plain[0], want[0]);
    } finally {
      run.dispose();
      loaded.dispose();
    }
    // --prefix replaces the checkpoint's.
    const other = await runCli(["generate", "--model", modelDir, "--checkpoint", ckptDir, "--prefix", "translate: ", "--text", text, "--max-new-tokens", "6", "--num-beams", "2", "--json"]);
    assert.equal(other.code, 0, other.stderr);
    const again = await loadTaskCheckpoint(ckptDir, { encoderConfig: cfg });
    const run2 = checkpointHooks(again, params);
    try {
      const want = await libraryIds(["translate: " + text], { maxNewTokens: 6, numBeams: 2 }, 16, run2.hooks, run2.params as T5Params);
      assert.deepEqual(jsonLines(other.stdout)[0].ids, want[0]);
    } finally {
      run2.dispose();
      again.dispose();
    }
    const configFile = path.join(ckptDir, "adapter_config.json");
    writeFileSync(configFile, JSON.stringify({ ...(JSON.parse(readFileSync(configFile, "utf8")) as object), task_prefixes: { default: 5 } }));
    const bad = await runCli(["generate", "--model", modelDir, "--checkpoint", ckptDir, "--text", text]);
    assert.equal(bad.code, 1);
    assert.ok(bad.stderr.includes(`${configFile}: "task_prefixes.default" must be a string, got 5`), bad.stderr);
  });

  test("errors: missing model, non-T5 model, empty input, invalid UTF-8, --num-beams 0, unknown flag, tokenizer larger than the vocabulary", async () => {
    const missing = await runCli(["generate", "--model", path.join(work, "nope"), "--text", "x"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--model .*nope: folder not found/);
    const bert = modelFixtureDir("tiny-bert");
    const notT5 = await runCli(["generate", "--model", bert, "--text", "x"]);
    assert.equal(notT5.code, 1);
    assert.ok(notT5.stderr.includes(`generate needs an encoder–decoder (T5) model; ${bert} is bert`), notT5.stderr);
    const empty = file("empty.txt", "");
    const e = await runCli(["generate", "--model", modelDir, "--input", empty]);
    assert.equal(e.code, 1);
    assert.ok(e.stderr.includes(`${empty}: empty (expected one text per line)`), e.stderr);
    const badUtf8 = file("bad.txt", Buffer.concat([Buffer.from("fine\nalso fine\n"), Buffer.from([0x61, 0xff, 0xfe, 0x0a])]));
    const u = await runCli(["generate", "--model", modelDir, "--input", badUtf8]);
    assert.equal(u.code, 1);
    assert.ok(u.stderr.includes(`${badUtf8}:3: invalid UTF-8 (input)`), u.stderr);
    const beams = await runCli(["generate", "--model", modelDir, "--text", "x", "--num-beams", "0"]);
    assert.equal(beams.code, 2);
    assert.match(beams.stderr, /--num-beams must be an integer >= 1, got "0"/);
    const unknown = await runCli(["generate", "--model", modelDir, "--text", "x", "--beams", "2"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--beams'.*\(see: propetl generate --help\)/);
    const noDir = await runCli(["generate", "--model", modelDir, "--text", "x", "--output", path.join(work, "no-such-folder", "out.txt")]);
    assert.equal(noDir.code, 1);
    assert.match(noDir.stderr, /--output .*no-such-folder.*out\.txt: its folder does not exist/);
    const neither = await runCli(["generate", "--model", modelDir]);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give either --text TEXT or --input FILE/);
    // tiny-t5 (vocab 64) with the t5-small tokenizer (32,100 ids).
    const small = path.join(work, "tiny-t5-with-big-tokenizer");
    mkdirSync(small);
    for (const f of ["config.json", "model.safetensors"]) copyFileSync(path.join(modelFixtureDir("tiny-t5"), f), path.join(small, f));
    for (const f of TOKENIZER_FILES) copyFileSync(path.join(TOKENIZER_DIR, f), path.join(small, f));
    const big = await runCli(["generate", "--model", small, "--text", "x"]);
    assert.equal(big.code, 1);
    assert.ok(big.stderr.includes(`${small}: the tokenizer has 32100 ids but the model's vocab_size is 64 (config.json)`), big.stderr);
  });

  test("--help", async () => {
    const r = await runCli(["generate", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: propetl generate --model DIR/);
    assert.match(r.stdout, /--num-beams N/);
  });
});
