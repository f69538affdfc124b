/**
 * porterStem against NLTK's PorterStemmer() (default mode NLTK_EXTENSIONS): every word of
 * test/fixtures/porter-stemmer.json (written by scripts/make_stemmer_fixtures.py with Debian's
 * NLTK 3.8: a sample of /usr/share/dict/words, hand-picked rule cases and seeded synthetic
 * words) must stem to NLTK's answer.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { porterStem } from "../../src/metrics/index.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

interface StemmerFixture {
  source: string;
  nltk_version: string;
  cases: [string, string][];
}

const fixture = JSON.parse(readFileSync(path.join(REPO_ROOT, "test", "fixtures", "porter-stemmer.json"), "utf8")) as StemmerFixture;

describe("porterStem (NLTK PorterStemmer, NLTK_EXTENSIONS)", () => {
  test(`all ${fixture.cases.length} fixture words stem as NLTK ${fixture.nltk_version} does`, () => {
    assert.ok(fixture.cases.length > 5000, "the fixture holds a few thousand words");
    const wrong: string[] = [];
    for (const [word, expected] of fixture.cases) {
      const got = porterStem(word);
      if (got !== expected) wrong.push(`${JSON.stringify(word)}: got ${JSON.stringify(got)}, NLTK ${JSON.stringify(expected)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("the rules NLTK_EXTENSIONS changes (values from the fixture's NLTK run)", () => {
    const table = new Map(fixture.cases);
    for (const word of ["dies", "flies", "died", "spied", "enjoy", "spy", "skies", "dying", "news", "archaeology", "radically", "hopefully", "a", "at", "syzygy"]) {
      const expected = table.get(word);
      assert.ok(expected !== undefined, `${word} is in the fixture`);
      assert.equal(porterStem(word), expected, word);
    }
  });

  test("to_lowercase=false keeps the case, as NLTK's stem(word, to_lowercase=False)", () => {
    assert.equal(porterStem("Caresses", false), "Caress");
    assert.equal(porterStem("caresses", false), "caress");
  });

  test("a non-string word is a TypeError naming the argument", () => {
    assert.throws(() => porterStem(3 as unknown as string), /porterStem: word is not a string \(number\)/);
  });
});
