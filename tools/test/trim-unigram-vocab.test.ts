/**
 * tools/trim-unigram-vocab.ts on a tiny T5-layout Unigram tokenizer: the new layout (specials
 * 0-2, pieces in original order, 100 sentinels at the top with <extra_id_0> highest), the
 * single-character pieces kept for coverage, the most used pieces kept, no new <unk>, the
 * --add-unk-chars pieces, the report, the command line, and the errors.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tokenizerFromFiles } from "../../src/data/tokenizer.js";
import { TINY_T5_TOKENIZER_CONFIG, tinyT5TokenizerJson } from "../../test/helpers/t5-tokenizer.js";
import { trimUnigramVocab } from "../trim-unigram-vocab.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
type Vocab = [string, number][];

/** A corpus: many "the cat ..." lines, one zebra, and a few ñ (a character the tiny vocabulary lacks). */
const CORPUS = [
  ...Array.from({ length: 40 }, (_, i) => `the cat sat on the mat ${i % 10}.`),
  ...Array.from({ length: 20 }, () => "a dog ran past the river!"),
  "zebra quiz",
  "niño niña",
];
const EXTRA = ["\u2581zebra", "\u2581quiz", "\u2581unused", "\u2581rare"];

function vocabOf(json: Record<string, unknown>): Vocab {
  return (json["model"] as { vocab: Vocab }).vocab;
}

function load(json: Record<string, unknown>): ReturnType<typeof tokenizerFromFiles> {
  return tokenizerFromFiles({ "tokenizer.json": JSON.stringify(json), "tokenizer_config.json": JSON.stringify(TINY_T5_TOKENIZER_CONFIG) });
}

describe("trimUnigramVocab", () => {
  const original = tinyT5TokenizerJson(EXTRA);
  const origVocab = vocabOf(original);

  test("T5 layout: specials 0-2, pieces in original order, 100 sentinels on top", () => {
    const r = trimUnigramVocab(original, TINY_T5_TOKENIZER_CONFIG, CORPUS, { size: 180 });
    const v = vocabOf(r.tokenizerJson);
    assert.equal(v.length, 180);
    assert.deepEqual(v.slice(0, 3).map(([p]) => p), ["<pad>", "</s>", "<unk>"]);
    for (let k = 0; k < 100; k++) assert.equal(v[179 - k][0], `<extra_id_${k}>`);
    const order = v.slice(3, 80).map(([p]) => origVocab.findIndex(([q]) => q === p));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), "kept pieces stay in the original order");
    for (const [p, s] of v.slice(3, 80)) assert.equal(s, origVocab.find(([q]) => q === p)?.[1], `score of ${p}`);
    const added = r.tokenizerJson["added_tokens"] as { content: string; id: number }[];
    assert.equal(added.find((t) => t.content === "<extra_id_0>")?.id, 179);
    assert.equal(added.find((t) => t.content === "</s>")?.id, 1);
    const tok = load(r.tokenizerJson);
    assert.equal(tok.vocabSize, 180);
    assert.equal(tok.tokenToId("<extra_id_0>"), 179);
    assert.deepEqual(tok.encode("the cat").inputIds.slice(-1), [1]);
  });

  test("keeps every used character's piece and the most used pieces; nothing new becomes <unk>", () => {
    // 103 fixed ids + 42 pieces: the 32 character pieces and the 10 words used 20+ times, not the rare ones.
    const r = trimUnigramVocab(original, TINY_T5_TOKENIZER_CONFIG, CORPUS, { size: 145 });
    const kept = new Set(vocabOf(r.tokenizerJson).map(([p]) => p));
    for (const ch of new Set(CORPUS.join("").replace(/[\sñ]/g, ""))) assert.ok(kept.has(ch), `single-character piece ${ch}`);
    assert.ok(kept.has("\u2581the") && kept.has("\u2581cat"), "the most used words stay");
    assert.ok(!kept.has("\u2581zebra") && !kept.has("\u2581unused"), "rare and unused pieces go first");
    assert.deepEqual(r.report.unkCharactersNew, {});
    assert.equal(r.report.unkTokensTrimmed, r.report.unkTokensOriginal);
    assert.deepEqual(r.report.unkCharactersOriginal, { "ñ": 2 });
    assert.ok(r.report.tokensTrimmed > r.report.tokensOriginal, "fewer pieces: longer encodings");
    const tok = load(r.tokenizerJson);
    assert.equal(tok.decode(tok.encode("zebra quiz").inputIds, { skipSpecialTokens: true }), "zebra quiz");
  });

  test("--add-unk-chars gives a character the original maps to <unk> its own piece", () => {
    const r = trimUnigramVocab(original, TINY_T5_TOKENIZER_CONFIG, CORPUS, { size: 145, addUnkChars: 2 });
    assert.deepEqual(r.report.addedPieces, { "ñ": 2 });
    assert.deepEqual(r.report.unkCharactersTrimmed, {});
    assert.equal(r.report.unkTokensTrimmed, 0);
    const tok = load(r.tokenizerJson);
    assert.ok(!tok.encode("niño").inputIds.includes(2));
    assert.equal(tok.vocabSize, 145);
    assert.deepEqual(trimUnigramVocab(original, TINY_T5_TOKENIZER_CONFIG, CORPUS, { size: 145, addUnkChars: 3 }).report.addedPieces, {});
  });

  test("errors: size too small, not a T5 layout, not Unigram", () => {
    assert.throws(() => trimUnigramVocab(original, {}, CORPUS, { size: 103 }), /--size must be an integer above 103/);
    assert.throws(() => trimUnigramVocab(original, {}, CORPUS, { size: 105 }), /distinct characters with their own piece; --size 105 leaves only 2 piece slots/);
    assert.throws(() => trimUnigramVocab(original, {}, CORPUS, { size: 100000 }), /exceeds the original vocabulary/);
    const noSentinels = { ...original, model: { type: "Unigram", unk_id: 2, vocab: origVocab.slice(0, -1) } };
    assert.throws(() => trimUnigramVocab(noSentinels, {}, CORPUS, { size: 150 }, "x.json"), /x\.json: id \d+ is "<extra_id_1>", expected <extra_id_0>/);
    assert.throws(() => trimUnigramVocab({ model: { type: "BPE", vocab: {} } }, {}, CORPUS, { size: 150 }, "bpe.json"), /bpe\.json: "model.vocab" is not a list/);
  });
});

describe("trim-unigram-vocab command", () => {
  test("writes tokenizer.json, tokenizer_config.json and trim-report.json", () => {
    const dir = mkdtempSync(join(os.tmpdir(), "propetl-trim-"));
    try {
      writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tinyT5TokenizerJson(EXTRA)));
      writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(TINY_T5_TOKENIZER_CONFIG));
      writeFileSync(join(dir, "corpus.txt"), CORPUS.join("\n") + "\n");
      const out = join(dir, "out");
      const r = spawnSync(process.execPath, [join(ROOT, "dist", "tools", "trim-unigram-vocab.js"), "--tokenizer", join(dir, "tokenizer.json"), "--size", "140", "--add-unk-chars", "1", "--out", out, join(dir, "corpus.txt")], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /140 ids/);
      const report = JSON.parse(readFileSync(join(out, "trim-report.json"), "utf8")) as { size: number; corpus: { lines: number; sha256: string }[]; addedPieces: Record<string, number> };
      assert.equal(report.size, 140);
      assert.equal(report.corpus[0]?.lines, CORPUS.length);
      assert.match(report.corpus[0]?.sha256 ?? "", /^[0-9a-f]{64}$/);
      assert.deepEqual(report.addedPieces, { "ñ": 2 });
      assert.equal(vocabOf(JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8")) as Record<string, unknown>).length, 140);
      assert.deepEqual(JSON.parse(readFileSync(join(out, "tokenizer_config.json"), "utf8")), TINY_T5_TOKENIZER_CONFIG);
      const bad = spawnSync(process.execPath, [join(ROOT, "dist", "tools", "trim-unigram-vocab.js"), "--tokenizer", join(dir, "tokenizer.json"), "--out", out, join(dir, "missing.txt")], { encoding: "utf8" });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /missing\.txt: corpus file not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
