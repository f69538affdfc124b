/**
 * ROUGE against rouge-score's own tests (google-research/google-research, rouge/): the
 * figures of rouge_scorer_test.py and tokenize_test.py, each case citing its test. The
 * "AgainstRouge155" figures are ROUGE-1.5.5 runs on rouge/testdata/target.txt and
 * prediction.txt, whose two lines (synthetic text, Apache-2.0) are copied below as test data.
 * rouge-score's tests build `RougeScorer(types)` with use_stemmer=False unless they say
 * otherwise, so these cases pass `useStemmer: false` (propetl's default is true).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { lcsLength, rouge, rougePair, rougeTokenize } from "../../src/metrics/index.js";
import type { RougeScore, RougeType } from "../../src/metrics/index.js";

const PLAIN = { useStemmer: false };
const STEM = { useStemmer: true };

// rouge/testdata/target.txt and prediction.txt, lines 1 and 2 (readlines() keeps the "\n").
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];

/** assertAlmostEqual(expected, actual, places) as absltest: round(|diff|, places) == 0. */
function almost(actual: number, expected: number, places: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 0.5 * 10 ** -places, `${what}: ${actual} vs ${expected}`);
}

function check(s: RougeScore | undefined, p: number, r: number, f: number, places = 7, what = ""): void {
  assert.ok(s, `${what}: no score`);
  almost(s.precision, p, places, `${what} precision`);
  almost(s.recall, r, places, `${what} recall`);
  almost(s.fmeasure, f, places, `${what} fmeasure`);
}

describe("rouge-score's rouge_scorer_test.py", () => {
  test("testRouge1", () => {
    check(rougePair("testing", "testing one two", ["rouge1"], PLAIN).rouge1, 1, 1 / 3, 1 / 2);
  });

  test("testRougeEmpty (rouge1, rouge2, rougeL): an empty prediction scores 0", () => {
    for (const t of ["rouge1", "rouge2", "rougeL"] as const) check(rougePair("", "testing one two", [t], PLAIN)[t], 0, 0, 0, 7, t);
  });

  test("testRouge2", () => {
    check(rougePair("testing one", "testing one two", ["rouge2"], PLAIN).rouge2, 1, 1 / 2, 2 / 3);
  });

  test("testRougeLConsecutive and testRougeLNonConsecutive", () => {
    check(rougePair("testing one", "testing one two", ["rougeL"], PLAIN).rougeL, 1, 2 / 3, 4 / 5);
    check(rougePair("testing two", "testing one two", ["rougeL"], PLAIN).rougeL, 1, 2 / 3, 4 / 5);
  });

  test("testMultipleRougeTypes", () => {
    const r = rougePair("testing one", "testing one two", ["rouge1", "rougeL"], PLAIN);
    assert.deepEqual(Object.keys(r).sort(), ["rouge1", "rougeL"]);
    check(r.rouge1, 1, 2 / 3, 4 / 5);
    check(r.rougeL, 1, 2 / 3, 4 / 5);
  });

  // testRouge1AgainstRouge155, testRouge2AgainstRouge155, testRougeLAgainstRouge155 and the
  // two WithStemming tests: [precision, recall, fmeasure] per line, 5 places.
  const AGAINST_155: { name: string; type: RougeType; stem: boolean; lines: [number, number, number][] }[] = [
    { name: "testRouge1AgainstRouge155", type: "rouge1", stem: false, lines: [[0.6875, 0.40741, 0.51163], [0.65385, 0.40476, 0.5]] },
    { name: "testRouge1AgainstRouge155WithStemming", type: "rouge1", stem: true, lines: [[0.6875, 0.40741, 0.51163], [0.69231, 0.42857, 0.52941]] },
    { name: "testRouge2AgainstRouge155", type: "rouge2", stem: false, lines: [[0.53333, 0.30769, 0.39024], [0.48, 0.29268, 0.36364]] },
    { name: "testRouge2AgainstRouge155WithStemming", type: "rouge2", stem: true, lines: [[0.53333, 0.30769, 0.39024], [0.48, 0.29268, 0.36364]] },
    { name: "testRougeLAgainstRouge155", type: "rougeL", stem: false, lines: [[0.6875, 0.40741, 0.51163], [0.65385, 0.40476, 0.5]] },
  ];
  for (const c of AGAINST_155) {
    test(c.name, () => {
      c.lines.forEach(([p, r, f], i) => check(rougePair(PREDICTIONS[i], TARGETS[i], [c.type], { useStemmer: c.stem })[c.type], p, r, f, 5, `${c.name} line ${i + 1}`));
    });
  }

  test("the corpus score is the mean over pairs (the AgainstRouge155 lines)", () => {
    const r = rouge(PREDICTIONS, TARGETS, ["rouge1", "rouge2"], STEM);
    check(r.scores.rouge1, (0.6875 + 0.69231) / 2, (0.40741 + 0.42857) / 2, (0.51163 + 0.52941) / 2, 5, "rouge1");
    check(r.scores.rouge2, (0.53333 + 0.48) / 2, (0.30769 + 0.29268) / 2, (0.39024 + 0.36364) / 2, 5, "rouge2");
    assert.equal(r.pairs.rouge1?.length, 2);
    assert.deepEqual(r.pairs.rouge1?.[1], rougePair(PREDICTIONS[1], TARGETS[1], ["rouge1"], STEM).rouge1);
  });

  test("testLcsTable: LCS lengths", () => {
    assert.equal(lcsLength([1, 2, 3, 4, 5], [2, 5, 3, 4]), 3);
    assert.equal(lcsLength([1, 2, 3, 4, 5], [8, 9]), 0);
  });

  test("testValidRougeTypes (rouge1, rouge9, rougeL) and testInvalidRougeTypes (rougen, rouge0, rouge10)", () => {
    for (const t of ["rouge1", "rouge9", "rougeL"] as const) assert.deepEqual(Object.keys(rougePair("testing", "testing one two", [t], PLAIN)), [t]);
    for (const t of ["rougen", "rouge0", "rouge10"]) {
      assert.throws(() => rougePair("testing", "testing one two", [t as RougeType]), new RegExp(`unknown ROUGE type "${t}"`));
    }
    // rouge-score's rougeLsum (summary-level LCS) is not implemented: an error, not a silent rougeL.
    assert.throws(() => rouge(["a"], ["a"], ["rougeLsum" as RougeType]), /unknown ROUGE type "rougeLsum".*rougeLsum is not implemented/);
  });
});

describe("rouge-score's tokenize_test.py and tokenizer rules", () => {
  test("test_give_me_a_name", () => {
    assert.deepEqual(rougeTokenize("one Two three", PLAIN), ["one", "two", "three"]);
    assert.deepEqual(rougeTokenize("one\n Two \nthree", PLAIN), ["one", "two", "three"]);
  });

  test("non-ASCII characters separate words; punctuation splits; digits stay", () => {
    // rouge-score's three steps (lower, [^a-z0-9]+ -> " ", split) as Python 3.11 evaluates them.
    assert.deepEqual(rougeTokenize("café naïve İstanbul", PLAIN), ["caf", "na", "ve", "i", "stanbul"]);
    assert.deepEqual(rougeTokenize("The \u212Aelvin scale", PLAIN), ["the", "kelvin", "scale"]); // KELVIN SIGN lowercases to k
    assert.deepEqual(rougeTokenize("e-mail U.S. 1,000.5 don't", PLAIN), ["e", "mail", "u", "s", "1", "000", "5", "don", "t"]);
    assert.deepEqual(rougeTokenize("", PLAIN), []);
    assert.deepEqual(rougeTokenize(" ...\n\t ", PLAIN), []);
  });

  test("the stemmer applies to tokens longer than 3 characters only", () => {
    // NLTK stems "was" -> "wa" and "uses" -> "use"; rouge-score leaves 3-character tokens alone.
    assert.deepEqual(rougeTokenize("was uses running", STEM), ["was", "use", "run"]);
    assert.deepEqual(rougeTokenize("was uses running"), ["was", "use", "run"], "useStemmer defaults to true");
    assert.deepEqual(rougeTokenize("was uses running", PLAIN), ["was", "uses", "running"]);
  });
});

describe("ROUGE input checks", () => {
  test("empty strings are valid and score 0; an empty reference too", () => {
    check(rougePair("testing", "", ["rouge1"], PLAIN).rouge1, 0, 0, 0);
    check(rougePair("", "", ["rougeL"], PLAIN).rougeL, 0, 0, 0);
    const r = rouge(["", "a b"], ["", "a b"], ["rouge1", "rouge2", "rougeL"]);
    check(r.scores.rouge1, 0.5, 0.5, 0.5);
    check(r.scores.rouge2, 0.5, 0.5, 0.5);
    check(r.scores.rougeL, 0.5, 0.5, 0.5);
  });

  test("empty lists, length mismatch, non-string entries and non-arrays are errors naming them", () => {
    assert.throws(() => rouge([], []), /rouge: predictions is empty/);
    assert.throws(() => rouge(["a"], []), /rouge: references is empty/);
    assert.throws(() => rouge(["a", "b"], ["a"]), /rouge: predictions has 2 entries but references has 1/);
    assert.throws(() => rouge(["a", 3 as unknown as string], ["a", "b"]), /rouge: predictions\[1\] is not a string \(number\)/);
    assert.throws(() => rouge(["a"], [null as unknown as string]), /rouge: references\[0\] is not a string \(null\)/);
    assert.throws(() => rouge("a b" as unknown as string[], ["a"]), /rouge: predictions is not an array of strings \(string\)/);
    assert.throws(() => rougePair(undefined as unknown as string, "a"), /rougePair: prediction is not a string \(undefined\)/);
    assert.throws(() => rouge(["a"], ["a"], []), /rouge: no ROUGE types given/);
  });
});
