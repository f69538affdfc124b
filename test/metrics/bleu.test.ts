/**
 * BLEU against sacreBLEU's own tests (mjpost/sacrebleu, test/test_bleu.py and
 * test/test_sentence_bleu.py): their inputs and expected figures, each case citing its test
 * and tolerance. sacreBLEU's `raw_corpus_bleu(hyps, refs, v)` is `corpus_bleu` with
 * tokenize="none", smooth_method="floor", smooth_value=v and effective order; its static
 * `BLEU.compute_bleu` defaults to smooth_method="none". Cases with the "intl" tokenizer are
 * left out (not implemented).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bleuFromStatistics, bleuTokenize, corpusBleu, sentenceBleu, tokenize13a } from "../../src/metrics/index.js";
import type { BleuOptions, BleuSmoothMethod, BleuTokenizer } from "../../src/metrics/index.js";

const EPSILON = 1e-8; // test_bleu.py

/** raw_corpus_bleu(hyps, refs, smoothValue) of test_bleu.py, as a fraction (".score / 100"). */
function rawCorpusBleu(hyps: string[], refs: string[][], smoothValue?: number): number {
  return corpusBleu(hyps, refs, { tokenize: "none", smoothMethod: "floor", effectiveOrder: true, ...(smoothValue !== undefined ? { smoothValue } : {}) }).score / 100;
}

function near(actual: number, expected: number, eps: number, what = ""): void {
  assert.ok(Math.abs(actual - expected) < eps, `${what} ${actual} vs ${expected} (tolerance ${eps})`);
}

// test_bleu.py: the README example (three segments, two reference streams).
const REFS = [
  ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
  ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
];
const HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];

describe("sacreBLEU test_bleu.py", () => {
  test("test_corpus_bleu (5 of 6 cases; the intl one is left out)", () => {
    const cases: [string[], BleuOptions, number][] = [
      [HYPS, {}, 48.530827], // default settings
      [["", "", ""], {}, 0.0], // empty hypotheses are not removed
      [HYPS, { tokenize: "none" }, 49.1919566],
      [HYPS, { tokenize: "13a" }, 48.530827],
      [HYPS, { smoothMethod: "none" }, 48.530827],
    ];
    for (const [hyps, opts, expected] of cases) near(corpusBleu(hyps, REFS, opts).score, expected, EPSILON, JSON.stringify(opts));
  });

  test("test_raw_bleu", () => {
    near(rawCorpusBleu(["this is a test", "another test"], [["ref1", "ref2"]], 0.01), 0.0, EPSILON);
    near(rawCorpusBleu(["this is a test"], [["this is a test"]], 0.01), 1.0, EPSILON);
    near(rawCorpusBleu(["this is a fest"], [["this is a test"]], 0.01), 0.223606797749979, EPSILON);
  });

  test("test_effective_order", () => {
    near(rawCorpusBleu(["test"], [["a test"]], 0.01), 0.3678794411714425, EPSILON);
    near(rawCorpusBleu(["a test"], [["a test"]], 0.01), 1.0, EPSILON);
    near(rawCorpusBleu(["a little test"], [["a test"]], 0.01), 0.03218297948685433, EPSILON);
  });

  test("test_statistics", () => {
    const r = corpusBleu(["am I am a character sequence"], [["I am a symbol string sequence a a"]], { tokenize: "none", smoothMethod: "floor", smoothValue: 0.01, effectiveOrder: true });
    assert.deepEqual(r.counts, [4, 2, 1, 0]);
    assert.deepEqual(r.totals, [6, 5, 4, 3]);
  });

  test("test_scoring (compute_bleu, its default smoothing 'none')", () => {
    near(bleuFromStatistics({ correct: [9, 7, 5, 3], total: [10, 8, 6, 4], sysLen: 11, refLen: 11 }, { smoothMethod: "none" }).score / 100, 0.8375922397, EPSILON);
  });

  test("test_offset: floor smoothing with 0, with the default (None), and with no value", () => {
    const hyps = ["am I am a character sequence"];
    const refs = [["I am a symbol string sequence a a"]];
    near(rawCorpusBleu(hyps, refs, 0.0), 0, EPSILON);
    near(rawCorpusBleu(hyps, refs), 0.1555722182, EPSILON); // smooth_value None -> floor's default 0.1
    near(corpusBleu(hyps, refs, { tokenize: "none", smoothMethod: "floor", smoothValue: 0.1, effectiveOrder: true }).score / 100, 0.1555722182, EPSILON);
  });

  test("test_degenerate_statistics: exactly 0", () => {
    const cases: [number[], number[], number, number, number][] = [
      [[0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0],
      [[0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0],
      [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0],
      [[6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0],
      [[0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1],
      [[0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01],
    ];
    for (const [correct, total, sysLen, refLen, offset] of cases) {
      assert.equal(bleuFromStatistics({ correct, total, sysLen, refLen }, { smoothMethod: "floor", smoothValue: offset }).score / 100, 0.0, JSON.stringify([correct, total, sysLen, refLen, offset]));
    }
  });

  test("test_max_ngram_order (orders 1-6, two decimals)", () => {
    const expected = ["77.65", "60.50", "53.93", "48.53", "46.14", "43.28"];
    expected.forEach((e, i) => assert.equal(corpusBleu(HYPS, REFS, { maxNgramOrder: i + 1 }).score.toFixed(2), e, `order ${i + 1}`));
  });
});

describe("sacreBLEU test_sentence_bleu.py", () => {
  // Example from sacreBLEU issue #98 (t-cedilla in the reference, t-comma in the system output).
  const REF = "produc\u0163ia de zah\u0103r brut se exprim\u0103 \u00een zah\u0103r alb;";
  const SYS = "Produc\u021Bia de zah\u0103r prim\u0103 va fi exprimat\u0103 \u00een ceea ce prive\u0219te zah\u0103rul alb;";
  const EPS = 1e-3;

  test("test_api_sentence_bleu / test_compat_sentence_bleu (11 of 12 cases; intl left out)", () => {
    const cases: [BleuSmoothMethod, number | undefined, boolean, BleuTokenizer, number][] = [
      ["exp", undefined, false, "13a", 8.493],
      ["none", undefined, false, "13a", 0.0],
      ["floor", undefined, false, "13a", 4.51688],
      ["floor", 0.1, false, "13a", 4.51688],
      ["floor", 0.5, false, "13a", 10.1],
      ["add-k", undefined, false, "13a", 14.882],
      ["add-k", 1, false, "13a", 14.882],
      ["add-k", 2, false, "13a", 21.389],
      ["exp", undefined, false, "none", 7.347],
      ["exp", undefined, false, "char", 40.8759],
      ["exp", undefined, true, "char", 42.0267],
    ];
    for (const [smoothMethod, smoothValue, lowercase, tokenize, expected] of cases) {
      const opts: BleuOptions = { smoothMethod, lowercase, tokenize, effectiveOrder: true, ...(smoothValue !== undefined ? { smoothValue } : {}) };
      near(sentenceBleu(SYS, [REF], opts).score, expected, EPS, JSON.stringify(opts));
    }
  });

  test("sentenceBleu's defaults are sentence_bleu's (exp, 13a, effective order)", () => {
    near(sentenceBleu(SYS, [REF]).score, 8.493, EPS);
  });

  test("test_api_sentence_bleu_zero: no match scores 0 with every smoothing", () => {
    const cases: [BleuSmoothMethod, number | undefined][] = [["exp", undefined], ["none", undefined], ["floor", undefined], ["floor", 0.1], ["add-k", undefined], ["add-k", 1]];
    for (const [smoothMethod, smoothValue] of cases) {
      near(sentenceBleu("this is a cat", ["okay thanks"], { smoothMethod, ...(smoothValue !== undefined ? { smoothValue } : {}) }).score, 0.0, EPS, smoothMethod);
    }
  });
});

describe("13a tokenization", () => {
  test("what sacreBLEU 2.6's Tokenizer13a outputs (run locally on these lines)", () => {
    const cases: [string, string][] = [
      ["Hello, world! It's 3.14 & 1,000-2 &amp;lt; <skipped>x", "Hello , world ! It's 3.14 & 1,000 - 2 < x"],
      ["The dog bit the man.", "The dog bit the man ."],
      ['e.g., U.S.A. (1990-2000) "quoted" $5.00 50% a/b c--d', 'e . g . , U . S . A . ( 1990 - 2000 ) " quoted " $ 5.00 50 % a / b c--d'],
      ["Wait...what?!", "Wait . . . what ? !"],
      ["line one-\nline two\nthree", "line oneline two three"],
      ["&quot;Hi&quot; &amp; &lt;b&gt; &AMP;", '" Hi " & < b > & AMP ;'],
    ];
    for (const [line, expected] of cases) assert.equal(tokenize13a(line), expected, JSON.stringify(line));
  });

  test("preprocessing right-strips Python whitespace (not U+FEFF) and splits on it", () => {
    assert.equal(bleuTokenize("a b.\u3000\u0085 "), "a b .");
    assert.equal(bleuTokenize("a\u001Cb"), "a b"); // U+001C is whitespace to Python's str.split
    assert.equal(bleuTokenize("a\uFEFFb\uFEFF"), "a\uFEFFb\uFEFF"); // U+FEFF is not
    assert.equal(bleuTokenize("It's OK.", { lowercase: true }), "it's ok .");
    assert.equal(bleuTokenize("ab c", { tokenize: "char" }), "a b   c");
  });
});

describe("BLEU details", () => {
  test("the brevity penalty uses the closest reference length, the shorter on a tie", () => {
    // Hypothesis of 3 tokens, references of 2 and 4 tokens: both 1 away, so 2 is taken (no penalty).
    const tie = corpusBleu(["a b c"], [["a b"], ["a b c d"]], { tokenize: "none" });
    assert.equal(tie.refLen, 2);
    assert.equal(tie.bp, 1);
    // References of 5 and 6 tokens: 5 is closer; BP = exp(1 - 5/3).
    const short = corpusBleu(["a b c"], [["a b c d e"], ["a b c d e f"]], { tokenize: "none" });
    assert.equal(short.refLen, 5);
    assert.equal(short.bp, Math.exp(1 - 5 / 3));
  });

  test("multiple references clip each n-gram by its largest count in one reference", () => {
    // "the" x3 in the hypothesis; one reference has it twice, the other once: 2 unigram matches.
    const r = corpusBleu(["the the the"], [["the cat the"], ["the dog"]], { tokenize: "none" });
    assert.equal(r.counts[0], 2);
    assert.equal(r.totals[0], 3);
  });

  test("exp smoothing: the k-th unmatched order counts 1 / (2^k total)", () => {
    const r = bleuFromStatistics({ correct: [3, 1, 0, 0], total: [4, 3, 2, 1], sysLen: 4, refLen: 4 });
    assert.deepEqual(r.precisions, [75, 100 / 3, 100 / (2 * 2), 100 / (4 * 1)]);
    assert.equal(r.score, Math.exp((Math.log(75) + Math.log(100 / 3) + Math.log(25) + Math.log(25)) / 4));
  });

  test("an empty hypothesis has length 0 and gives BP 0; empty references are valid", () => {
    const r = corpusBleu([""], [["a b"]]);
    assert.equal(r.sysLen, 0);
    assert.equal(r.bp, 0);
    assert.equal(r.score, 0);
    const e = corpusBleu(["a"], [[""]]);
    assert.equal(e.refLen, 0);
    assert.equal(e.score, 0);
    assert.equal(e.ratio, 0);
  });
});

describe("BLEU input checks", () => {
  test("empty lists, length mismatches, non-strings and bad options are errors naming them", () => {
    assert.throws(() => corpusBleu([], [[]]), /corpusBleu: hypotheses is empty/);
    assert.throws(() => corpusBleu(["a"], []), /corpusBleu: references is empty \(give at least one reference stream\)/);
    assert.throws(() => corpusBleu(["a", "b"], [["a", "b"], ["a"]]), /corpusBleu: references\[1\] has 1 entries but hypotheses has 2/);
    assert.throws(() => corpusBleu(["a", undefined as unknown as string], [["a", "b"]]), /corpusBleu: hypotheses\[1\] is not a string \(undefined\)/);
    assert.throws(() => corpusBleu(["a"], [[7 as unknown as string]]), /corpusBleu: references\[0\]\[0\] is not a string \(number\)/);
    assert.throws(() => corpusBleu(["a"], ["a" as unknown as string[]]), /corpusBleu: references\[0\] is not an array of strings \(string\)/);
    assert.throws(() => corpusBleu(["a"], [["a"]], { tokenize: "intl" as BleuTokenizer }), /unknown tokenizer "intl" \(known: 13a, none, char\)/);
    assert.throws(() => corpusBleu(["a"], [["a"]], { smoothMethod: "add-one" as BleuSmoothMethod }), /unknown smoothing method "add-one"/);
    assert.throws(() => corpusBleu(["a"], [["a"]], { maxNgramOrder: 0 }), /maxNgramOrder must be an integer >= 1, got 0/);
    assert.throws(() => corpusBleu(["a"], [["a"]], { smoothValue: Number.NaN }), /smoothValue must be a finite number >= 0, got NaN/);
    assert.throws(() => sentenceBleu("a", []), /sentenceBleu: references is empty/);
    assert.throws(() => sentenceBleu(null as unknown as string, ["a"]), /sentenceBleu: hypothesis is not a string \(null\)/);
    assert.throws(() => bleuFromStatistics({ correct: [1, 0, 0], total: [1, 1, 1, 1], sysLen: 1, refLen: 1 }), /stats\.correct must be an array of 4 counts/);
  });
});
