import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { cleanLine, countWords, truncateWords } from "../text/clean.js";
import { chunkSentences, splitSentences } from "../text/sentences.js";

describe("text utilities", () => {
  test("cleanLine: NFC, control characters dropped, whitespace collapsed", () => {
    assert.equal(cleanLine("  a\tb\r\n c\u00a0\u2003d\u0007e\u200bf "), "a b c def");
    assert.equal(cleanLine("Cafe\u0301"), "Café");
    assert.equal(cleanLine("x\uFFFDy"), "xy");
  });

  test("countWords and truncateWords", () => {
    assert.equal(countWords(""), 0);
    assert.equal(countWords(" one two  three "), 3);
    assert.equal(truncateWords("a b c d e", 3), "a b c");
    assert.equal(truncateWords("alpha beta gamma", 10, 11), "alpha beta");
    assert.equal(truncateWords("abcdefghij", 10, 4), "abcd");
  });

  test("splitSentences keeps abbreviations, initials and acronyms together", () => {
    const text =
      "Mr. Smith went to Washington, D.C. on Jan. 5. He met Gen. U. S. Grant there! Did the U.S. Senate agree? \"Yes,\" said H. R. Jones. It cost $3.5 million. The end.";
    assert.deepEqual(splitSentences(text), [
      "Mr. Smith went to Washington, D.C. on Jan. 5.",
      "He met Gen. U. S. Grant there!",
      "Did the U.S. Senate agree?",
      "\"Yes,\" said H. R. Jones.",
      "It cost $3.5 million.",
      "The end.",
    ]);
    assert.deepEqual(splitSentences("no end"), ["no end"]);
    assert.deepEqual(splitSentences("It ended. and went on."), ["It ended. and went on."]);
  });

  test("chunkSentences respects target, max and min", () => {
    const s = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(" ") + ".";
    const chunks = chunkSentences([s(10), s(10), s(25), s(30), s(100), s(5)], { targetWords: 40, maxWords: 60, minWords: 8 });
    assert.deepEqual(chunks.map(countWords), [45, 30, 60]);
    // a single over-long sentence is cut to maxWords; the 5-word tail is dropped (< minWords)
    assert.equal(countWords(chunks[2] as string), 60);
  });

});
