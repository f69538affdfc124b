import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tokenizerFromVocabTxt, vocabTxtLines } from "../../src/data/tokenizer.js";
import { bertNormalize } from "../../src/data/tokenizer-normalizer.js";
import { mulberry32 } from "../../src/data/splits.js";
import {
  DEFAULT_SPECIAL_TOKENS,
  PRINTABLE_ASCII,
  UNCASED_NORMALIZER,
  WordCounter,
  bertPreTokenize,
  trainWordPiece,
  trainWordPieceFromCounts,
  trainWordPieceFromFiles,
  vocabTxt,
} from "../../src/data/wordpiece-trainer.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const SMALL_CORPUS = [
  "The quick brown fox jumps over the lazy dog.",
  "A lazy dog sleeps; the quick fox doesn't!",
  "Lower, lowest, newer, newest: the newest is the lowest.",
  "Café déjà vu — naïve résumé “quoted” text, 42% of $100.",
  "Ωμέγα and ΣΟΦΙΑ are Greek; 東京 is Tokyo.",
  "low low low lower lower newest newest newest widest widest",
];

/** Column `col` of every row after the header of a TSV file. */
function tsvColumn(file: string, col: number, header = true): string[] {
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
  return (header ? rows.slice(1) : rows).map((r) => r[col] ?? "");
}

describe("bertPreTokenize", () => {
  test("splits on whitespace and isolates every punctuation character", () => {
    assert.deepEqual(bertPreTokenize("hello, world!! it's 3.5$"), ["hello", ",", "world", "!", "!", "it", "'", "s", "3", ".", "5", "$"]);
    assert.deepEqual(bertPreTokenize("  a\u3000b  "), ["a", "b"]);
    assert.deepEqual(bertPreTokenize("“quoted”—dash"), ["“", "quoted", "”", "—", "dash"]);
    assert.deepEqual(bertPreTokenize(""), []);
  });

  test("the trained tokenizer splits text into the same words", () => {
    const { vocab } = trainWordPiece(SMALL_CORPUS, { vocabSize: 300 });
    const tok = tokenizerFromVocabTxt(vocab);
    for (const line of SMALL_CORPUS) {
      const words = bertPreTokenize(bertNormalize(line, UNCASED_NORMALIZER));
      // Re-join the word pieces: a piece without "##" starts a new word.
      const rejoined: string[] = [];
      for (const t of tok.tokenize(line)) {
        if (t.startsWith("##")) rejoined[rejoined.length - 1] += t.slice(2);
        else rejoined.push(t);
      }
      assert.deepEqual(rejoined, words, line);
    }
  });
});

describe("trainWordPiece", () => {
  test("special tokens come first with the compact layout [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4", () => {
    const { vocab } = trainWordPiece(SMALL_CORPUS, { vocabSize: 200 });
    assert.deepEqual(vocab.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    assert.deepEqual([...DEFAULT_SPECIAL_TOKENS], vocab.slice(0, 5));
    const tok = tokenizerFromVocabTxt(vocab);
    assert.equal(tok.padTokenId, 0);
    assert.equal(tok.unkTokenId, 1);
    assert.equal(tok.clsTokenId, 2);
    assert.equal(tok.sepTokenId, 3);
    assert.equal(tok.maskTokenId, 4);
    assert.equal(tok.vocabSize, vocab.length);
    // custom special tokens keep their order
    const custom = trainWordPiece(SMALL_CORPUS, { vocabSize: 200, specialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[EXTRA]"] });
    assert.equal(custom.vocab[5], "[EXTRA]");
  });

  test("vocabulary has no duplicates, reaches the requested size, and round-trips through vocab.txt", () => {
    const { vocab, stats } = trainWordPiece(SMALL_CORPUS, { vocabSize: 150, minFrequency: 1, initialAlphabet: "" });
    assert.equal(new Set(vocab).size, vocab.length);
    assert.equal(vocab.length, 150);
    assert.equal(stats.vocabSize, 150);
    assert.equal(stats.stoppedBy, "vocabSize");
    // asking for more than the corpus can give stops when no pair is left
    const all = trainWordPiece(SMALL_CORPUS, { vocabSize: 5000, minFrequency: 1 });
    assert.equal(all.stats.stoppedBy, "noPairs");
    assert.ok(all.vocab.length < 5000);
    assert.equal(new Set(all.vocab).size, all.vocab.length);
    assert.deepEqual(vocabTxtLines(vocabTxt(vocab)), vocab);
    assert.throws(() => vocabTxt(["a", "b\nc"]), /cannot be written/);
  });

  test("frequent words become single tokens; merges carry the ## prefix", () => {
    const lines = Array.from({ length: 50 }, () => "unbelievable unbelievable transformation");
    const { vocab } = trainWordPiece(lines, { vocabSize: 400, initialAlphabet: "" });
    assert.ok(vocab.includes("unbelievable"));
    assert.ok(vocab.includes("transformation"));
    const tok = tokenizerFromVocabTxt(vocab);
    assert.deepEqual(tok.tokenize("Unbelievable TRANSFORMATION"), ["unbelievable", "transformation"]);
    // every merged non-initial piece is prefixed
    for (const t of vocab.slice(5)) assert.ok(!t.includes("#") || /^##[^#]/.test(t) || t === "#", t);
  });

  test("stops at minFrequency when pairs get rare", () => {
    const { vocab, stats } = trainWordPiece(["abc abd"], { vocabSize: 1000, minFrequency: 3, initialAlphabet: "" });
    assert.equal(stats.stoppedBy, "minFrequency");
    assert.equal(stats.merges, 0);
    assert.equal(vocab.length, 5 + 2 * 4); // a b c d, each as c and ##c
  });

  test("is deterministic, also when the corpus lines come in another order", () => {
    const a = trainWordPiece(SMALL_CORPUS, { vocabSize: 250 });
    const b = trainWordPiece(SMALL_CORPUS, { vocabSize: 250 });
    const c = trainWordPiece([...SMALL_CORPUS].reverse(), { vocabSize: 250 });
    assert.deepEqual(a.vocab, b.vocab);
    assert.deepEqual(a.vocab, c.vocab);
    // the same from counts built directly
    const counter = new WordCounter();
    for (const l of SMALL_CORPUS) counter.add(l);
    assert.deepEqual(trainWordPieceFromCounts(counter.counts, { vocabSize: 250 }).vocab, a.vocab);
  });

  test("covers every character of the corpus: no [UNK] on the training text", () => {
    const { vocab } = trainWordPiece(SMALL_CORPUS, { vocabSize: 220 });
    const tok = tokenizerFromVocabTxt(vocab);
    for (const line of SMALL_CORPUS) assert.ok(!tok.tokenize(line).includes("[UNK]"), line);
    // accents stripped, lowercased, CJK isolated
    assert.ok(tok.tokenize("CAFÉ").every((t) => t !== "[UNK]"));
    assert.deepEqual(tok.tokenize("東京"), ["東", "京"]);
    // printable ASCII is always covered, even when the corpus lacks it
    assert.ok(!tok.tokenize(PRINTABLE_ASCII).includes("[UNK]"));
    assert.ok(!tok.tokenize("x|y ~z^").includes("[UNK]"));
    // a character never seen is [UNK]
    assert.ok(tok.tokenize("☃").includes("[UNK]"));
  });

  test("round-trips typical text through encode/decode", () => {
    const { vocab } = trainWordPiece(SMALL_CORPUS, { vocabSize: 300 });
    const tok = tokenizerFromVocabTxt(vocab);
    const enc = tok.encode("The lazy dog jumps over the newest fox.");
    assert.equal(enc.inputIds[0], 2);
    assert.equal(enc.inputIds[enc.inputIds.length - 1], 3);
    assert.equal(tok.decode(enc.inputIds, { skipSpecialTokens: true }), "the lazy dog jumps over the newest fox.");
  });

  test("words longer than maxInputCharsPerWord are skipped", () => {
    const long = "x".repeat(150);
    const { stats, vocab } = trainWordPiece([`${long} ok ok`], { vocabSize: 100, initialAlphabet: "" });
    assert.equal(stats.skippedLongWords, 1);
    assert.ok(!vocab.includes("x"));
  });

  test("trainWordPieceFromFiles streams files and gives the same vocabulary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wp-"));
    try {
      writeFileSync(join(dir, "a.txt"), SMALL_CORPUS.slice(0, 3).join("\n"));
      writeFileSync(join(dir, "b.txt"), `${SMALL_CORPUS.slice(3).join("\r\n")}\r\n`);
      const fromFiles = await trainWordPieceFromFiles([join(dir, "a.txt"), join(dir, "b.txt")], { vocabSize: 250 });
      assert.deepEqual(fromFiles.vocab, trainWordPiece(SMALL_CORPUS, { vocabSize: 250 }).vocab);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rejects bad options", () => {
    assert.throws(() => trainWordPiece(SMALL_CORPUS, { vocabSize: 3 }), /vocabSize/);
    assert.throws(() => trainWordPiece(SMALL_CORPUS, { specialTokens: ["[PAD]", "[PAD]"] }), /duplicate/);
  });
});

/** About 5 MB of real English shipped with the package (task texts). */
function shippedText(): string[] {
  const data = join(ROOT, "data");
  return [
    ...tsvColumn(join(data, "sotu-party", "train.tsv"), 2),
    ...tsvColumn(join(data, "sotu-party", "dev.tsv"), 2),
    ...tsvColumn(join(data, "sotu-party", "test.tsv"), 2),
    ...tsvColumn(join(data, "spam", "train.tsv"), 2),
    ...tsvColumn(join(data, "spam", "dev.tsv"), 2),
    ...tsvColumn(join(data, "glue", "RTE", "train.tsv"), 1),
    ...tsvColumn(join(data, "glue", "RTE", "train.tsv"), 2),
    ...tsvColumn(join(data, "glue", "CoLA", "train.tsv"), 3, false),
  ];
}

const noData = existsSync(join(ROOT, "data", "sotu-party", "train.tsv")) ? false : "shipped data/ not found";

describe("on ~5 MB of real text", { skip: noData }, () => {
  test("8000-token vocabulary in well under 60 s; no [UNK] on the training text; few on GLUE dev", () => {
    const lines = shippedText();
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    assert.ok(bytes > 4.5e6, `corpus is ${bytes} bytes`);
    const t0 = performance.now();
    const { vocab, stats } = trainWordPiece(lines, { vocabSize: 8000 });
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds < 60, `training took ${seconds.toFixed(1)} s`);
    assert.equal(vocab.length, 8000);
    assert.equal(stats.stoppedBy, "vocabSize");
    const tok = tokenizerFromVocabTxt(vocab);
    // No [UNK] on the training text (a sample of every 7th line: tokenizing is the slow part).
    for (let i = 0; i < lines.length; i += 7) {
      const line = lines[i] as string;
      assert.ok(!tok.tokenize(line).includes("[UNK]"), `line ${i}: ${line.slice(0, 80)}`);
    }
    // GLUE dev text (not trained on): [UNK] under 0.5% of tokens.
    let total = 0;
    let unk = 0;
    for (const s of [...tsvColumn(join(ROOT, "data", "glue", "SST-2", "dev.tsv"), 0), ...tsvColumn(join(ROOT, "data", "glue", "RTE", "dev.tsv"), 1)]) {
      for (const t of tok.tokenize(s)) {
        total++;
        if (t === "[UNK]") unk++;
      }
    }
    assert.ok(unk / total < 0.005, `[UNK] rate ${unk}/${total}`);
  });
});

describe("synthetic Zipf corpus", () => {
  test("deterministic across runs with random-looking words", () => {
    const next = mulberry32(7);
    const letters = "abcdefghijklmnopqrstuvwxyz";
    const words = Array.from({ length: 2000 }, () => Array.from({ length: 2 + (next() % 9) }, () => letters[next() % 26]).join(""));
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const n = 5 + (next() % 15);
      lines.push(Array.from({ length: n }, () => words[Math.floor(words.length * (next() / 2 ** 32) ** 3)]).join(" "));
    }
    const a = trainWordPiece(lines, { vocabSize: 1500 });
    const b = trainWordPiece(lines, { vocabSize: 1500 });
    assert.deepEqual(a.vocab, b.vocab);
    const tok = tokenizerFromVocabTxt(a.vocab);
    for (const l of lines.slice(0, 200)) assert.ok(!tok.tokenize(l).includes("[UNK]"));
  });
});
