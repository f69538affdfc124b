/**
 * A model folder's generation defaults (src/models/generation-config.ts): generation_config.json
 * first, else config.json's generation keys, as Hugging Face; typed values, lists of EOS ids,
 * null as unset, unimplemented settings reported only when they are not neutral, errors naming
 * the file and key.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGenerationDefaults } from "../../src/models/generation-config.js";

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "propetl-gen-config-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, json: unknown): void => writeFileSync(path.join(dir, name), JSON.stringify(json));

describe("readGenerationDefaults", () => {
  test("no file: nothing set", () => {
    assert.deepEqual(readGenerationDefaults(dir), { file: null, unsupported: [] });
  });

  test("config.json's generation keys when there is no generation_config.json; neutral values are not reported", () => {
    write("config.json", { model_type: "t5", eos_token_id: 1, pad_token_id: 0, decoder_start_token_id: 0, max_length: 200, num_beams: 4, min_length: 0, no_repeat_ngram_size: 0, repetition_penalty: 1.0 });
    const g = readGenerationDefaults(dir);
    assert.equal(g.file, path.join(dir, "config.json"));
    assert.equal(g.maxLength, 200);
    assert.equal(g.numBeams, 4);
    assert.equal(g.eosTokenId, 1);
    assert.equal(g.padTokenId, 0);
    assert.deepEqual(g.unsupported, []);
  });

  test("generation_config.json wins: lists of EOS ids, early_stopping \"never\", nulls, unimplemented settings", () => {
    write("generation_config.json", { eos_token_id: [1, 7], early_stopping: "never", length_penalty: 0.6, max_new_tokens: null, do_sample: true, top_k: 5, min_length: 3, forced_bos_token_id: null });
    const g = readGenerationDefaults(dir);
    assert.equal(g.file, path.join(dir, "generation_config.json"));
    assert.deepEqual(g.eosTokenId, [1, 7]);
    assert.equal(g.earlyStopping, "never");
    assert.equal(g.lengthPenalty, 0.6);
    assert.equal(g.maxNewTokens, undefined);
    assert.equal(g.numBeams, undefined, "config.json is not read when generation_config.json exists");
    assert.deepEqual(g.unsupported, ["do_sample true", "min_length 3"]);
  });

  test("bad values name the file and key", () => {
    const file = path.join(dir, "generation_config.json");
    for (const [json, msg] of [
      [{ num_beams: 0 }, `"num_beams" must be an integer >= 1 or null, got 0`],
      [{ max_length: 1.5 }, `"max_length" must be an integer >= 2 or null, got 1.5`],
      [{ early_stopping: "sometimes" }, `"early_stopping" must be true, false or "never", got "sometimes"`],
      [{ eos_token_id: [] }, `"eos_token_id" must be a token id, a list of token ids or null, got []`],
      [{ length_penalty: "1" }, `"length_penalty" must be a number, got "1"`],
    ] as const) {
      write("generation_config.json", json);
      assert.throws(() => readGenerationDefaults(dir), (e: Error) => e.message === `${file}: ${msg}`, JSON.stringify(json));
    }
    writeFileSync(file, "{ not json");
    assert.throws(() => readGenerationDefaults(dir), (e: Error) => e.message.startsWith(`${file}: invalid JSON (`));
  });
});
