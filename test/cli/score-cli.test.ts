/**
 * `propetl score` end to end through the CLI: ROUGE and BLEU of text files agree with the
 * library functions and with the reference figures (rouge-score's testRouge1/testRouge2,
 * sacreBLEU's README example of test_bleu.py: 48.530827 with two reference files); the file
 * errors name the file and line; --help.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { corpusBleu, rouge } from "../../src/metrics/index.js";
import { runCli } from "../helpers/cli.js";

const cli = runCli;

let work: string;
const file = (name: string, content: string | Buffer): string => {
  const p = path.join(work, name);
  writeFileSync(p, content);
  return p;
};

// sacreBLEU test_bleu.py's README example.
const HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."];
const REFS = [
  ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
  ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
];

before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "propetl-score-cli-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

interface ScoreJson {
  lines: number;
  references: string[];
  scores: Record<string, { precision?: number; recall?: number; fmeasure?: number; score?: number; counts?: number[] }>;
  settings: { rouge?: { useStemmer: boolean } };
}

describe("propetl score", () => {
  test("bleu with two reference files: sacreBLEU's 48.530827 (text and JSON)", async () => {
    const hyp = file("hyp.txt", HYPS.join("\n") + "\n");
    const ref0 = file("ref0.txt", REFS[0].join("\n") + "\n");
    const ref1 = file("ref1.txt", REFS[1].join("\r\n")); // CRLF, no final newline
    const text = await cli(["score", "--metric", "bleu", "--predictions", hyp, "--references", ref0, "--references", ref1]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^BLEU = 48\.53 82\.4\/50\.0\/45\.5\/37\.5 \(BP = 0\.943 ratio = 0\.944 hyp_len = 17 ref_len = 18\)$/m);
    assert.match(text.stdout, /3 lines; BLEU: sacreBLEU defaults \(13a, exp smoothing\), 2 references per line/);
    const json = await cli(["score", "--metric", "bleu", "--predictions", hyp, "--references", ref0, "--references", ref1, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as ScoreJson;
    assert.equal(doc.lines, 3);
    assert.ok(Math.abs((doc.scores.bleu.score as number) - 48.530827) < 1e-8);
    assert.deepEqual(doc.scores.bleu, JSON.parse(JSON.stringify(corpusBleu(HYPS, REFS))));
  });

  test("rouge1,rouge2,rougeL: the library's means; --no-stemmer gives rouge-score's testRouge1/testRouge2 figures", async () => {
    const pred = file("pred.txt", "testing\ntesting one\nthe cats were running\n");
    const gold = file("gold.txt", "testing one two\ntesting one two\nThe cat runs.\n");
    const r = await cli(["score", "--metric", "rouge1,rouge2,rougeL", "--predictions", pred, "--references", gold, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as ScoreJson;
    assert.equal(doc.settings.rouge?.useStemmer, true);
    const lib = rouge(["testing", "testing one", "the cats were running"], ["testing one two", "testing one two", "The cat runs."], ["rouge1", "rouge2", "rougeL"], { useStemmer: true });
    assert.deepEqual(doc.scores, JSON.parse(JSON.stringify(lib.scores)));

    const p1 = file("p1.txt", "testing\n");
    const g1 = file("g1.txt", "testing one two\n");
    const plain = JSON.parse((await cli(["score", "--metric", "rouge1", "--predictions", p1, "--references", g1, "--no-stemmer", "--json"])).stdout) as ScoreJson;
    assert.equal(plain.settings.rouge?.useStemmer, false);
    assert.deepEqual([plain.scores.rouge1.precision, plain.scores.rouge1.recall, plain.scores.rouge1.fmeasure], [1, 1 / 3, 1 / 2]);
    const p2 = file("p2.txt", "testing one\n");
    const text = await cli(["score", "--metric", "rouge2", "--predictions", p2, "--references", g1, "--no-stemmer"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ROUGE-2 {2}P 1\.00000 {2}R 0\.50000 {2}F 0\.66667$/m);
    assert.match(text.stdout, /no stemmer, mean over lines/);
  });

  test("empty lines are texts; a file without lines is an error", async () => {
    const pred = file("e-pred.txt", "\na b\n");
    const gold = file("e-gold.txt", "x\na b\n");
    const r = JSON.parse((await cli(["score", "--metric", "rouge1", "--predictions", pred, "--references", gold, "--json"])).stdout) as ScoreJson;
    assert.equal(r.lines, 2);
    assert.equal(r.scores.rouge1.fmeasure, 0.5);
    const empty = await cli(["score", "--metric", "bleu", "--predictions", file("none.txt", ""), "--references", gold]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /none\.txt: no lines \(predictions\)/);
  });

  test("file errors name the file and line; usage errors exit 2", async () => {
    const pred = file("x-pred.txt", "a\nb\nc\n");
    const short = file("x-short.txt", "a\nb\n");
    const mismatch = await cli(["score", "--metric", "bleu", "--predictions", pred, "--references", short]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /x-short\.txt has 2 lines but .*x-pred\.txt has 3: line 3 of .*x-pred\.txt has no counterpart in .*x-short\.txt/);

    const bad = file("x-bad.txt", Buffer.concat([Buffer.from("fine\n"), Buffer.from([0x61, 0xff, 0x62, 0x0a]), Buffer.from("c\n")]));
    const utf8 = await cli(["score", "--metric", "rouge1", "--predictions", bad, "--references", pred]);
    assert.equal(utf8.code, 1);
    assert.match(utf8.stderr, /x-bad\.txt:2: invalid UTF-8 \(predictions\)/);

    const missing = await cli(["score", "--metric", "rouge1", "--predictions", pred, "--references", path.join(work, "nope.txt")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.txt: not found \(references\)/);

    const usage: [string[], RegExp][] = [
      [["--predictions", pred, "--references", pred], /missing --metric/],
      [["--metric", "rouge3", "--predictions", pred, "--references", pred], /--metric: unknown metric "rouge3" \(known: rouge1, rouge2, rougeL, bleu/],
      [["--metric", "bleu", "--references", pred], /missing --predictions/],
      [["--metric", "bleu", "--predictions", pred], /missing --references/],
      [["--metric", "rouge1", "--predictions", pred, "--references", pred, "--references", pred], /ROUGE takes one --references file \(got 2\)/],
      [["--metric", "bleu", "--predictions", pred, "--references", pred, "--no-stemmer"], /--no-stemmer applies to ROUGE only/],
    ];
    for (const [args, re] of usage) {
      const r = await cli(["score", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });

  test("propetl score --help", async () => {
    const r = await cli(["score", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: propetl score --metric/);
    assert.match(r.stdout, /default here is rouge-score's\s+use_stemmer=True/);
    assert.match((await cli(["--help"])).stdout, /score +ROUGE \(rouge-score\) or BLEU \(sacreBLEU\)/);
  });
});
