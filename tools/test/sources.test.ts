import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import { countWords } from "../text/clean.js";
import { glueTrainSentences } from "../sources/glue-sentences.js";
import { mobyDickParagraphs } from "../sources/moby-dick.js";
import { cleanSpeech, readSotuSpeeches, sotuParagraphs } from "../sources/sotu.js";
import { readSpamAssassin } from "../sources/spam-assassin.js";
import { findStdlibDataset } from "../sources/stdlib.js";
import { SWORD_MODULES, osisToText, readZTextEntries, swordParagraphs } from "../sources/sword.js";
import { WORDNET_DIR, wordnetGlossLines } from "../sources/wordnet.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

let tmp = "";
before(() => {
  tmp = mkdtempSync(join(tmpdir(), "sources-test-"));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("State of the Union text", () => {
  test("cleanSpeech drops stage directions and sotuParagraphs chunks", () => {
    assert.equal(cleanSpeech("Thank you. [Laughter] We won. [Applause]"), "Thank you. We won.");
    const speech = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} has exactly seven words.`).join(" ");
    const paras = sotuParagraphs(speech);
    assert.ok(paras.length >= 4);
    for (const p of paras) assert.ok(countWords(p) >= 20 && countWords(p) <= 80);
  });
});

describe("fake package and Debian sources", () => {
  test("Moby-Dick chapters in numeric order, headings dropped, long paragraphs split", () => {
    const pkg = join(tmp, "moby");
    mkdirSync(join(pkg, "data"), { recursive: true });
    writeFileSync(join(pkg, "data", "chapter_2.txt"), "CHAPTER 2. Two.\n\nSecond chapter text here.\n");
    writeFileSync(join(pkg, "data", "chapter_10.txt"), "CHAPTER 10. Ten.\n\nTenth chapter.\n\n\nAnother paragraph.\n");
    writeFileSync(join(pkg, "data", "chapter_1.txt"), `CHAPTER 1. One.\n\n${"A long sentence of six words. ".repeat(10)}\n`);
    writeFileSync(join(pkg, "data", "epilogue.txt"), "Epilogue\n\nThe end of it.\n");
    const paras = mobyDickParagraphs(pkg, 20);
    // chapter 1's 60-word paragraph is split at sentence boundaries into pieces of at most 20 words
    assert.deepEqual(paras.slice(0, 4).map(countWords), [18, 18, 18, 6]);
    assert.deepEqual(paras.slice(4), ["Second chapter text here.", "Tenth chapter.", "Another paragraph.", "The end of it."]);
  });

  test("State of the Union speeches from the package's JSON files", () => {
    const pkg = join(tmp, "sotu");
    mkdirSync(join(pkg, "data"), { recursive: true });
    writeFileSync(join(pkg, "data", "1862_abraham_lincoln_r.json"), JSON.stringify({ year: 1862, name: "Abraham Lincoln", party: "Republican", text: "B." }));
    writeFileSync(join(pkg, "data", "1790_george_washington_n.json"), JSON.stringify({ year: 1790, name: "George Washington", party: "none", text: "A." }));
    writeFileSync(join(pkg, "data", "1790_george_washington_n.txt"), "A.");
    const s = readSotuSpeeches(pkg);
    assert.deepEqual(
      s.map((x) => [x.id, x.year, x.party]),
      [
        ["1790_george_washington_n", 1790, "none"],
        ["1862_abraham_lincoln_r", 1862, "Republican"],
      ],
    );
    writeFileSync(join(pkg, "data", "1863_bad_r.json"), JSON.stringify({ year: "1863", name: "x", party: "y", text: "z" }));
    assert.throws(() => readSotuSpeeches(pkg), /1863_bad_r\.json: field "year" must be a number/);
  });

  test("SpamAssassin file list", () => {
    const pkg = join(tmp, "spam");
    mkdirSync(join(pkg, "data", "spam-1"), { recursive: true });
    mkdirSync(join(pkg, "data", "easy-ham-1"), { recursive: true });
    writeFileSync(join(pkg, "data", "spam-1", "00001.abc.txt"), "Subject: buy\n\nnow");
    writeFileSync(join(pkg, "data", "easy-ham-1", "00002.def.txt"), "Subject: hi\n\nthere");
    writeFileSync(join(pkg, "data", "file_list.json"), JSON.stringify(["easy-ham-1/00002.def.txt", "spam-1/00001.abc.txt"]));
    const m = readSpamAssassin(pkg);
    assert.deepEqual(
      m.map((x) => [x.id, x.group, x.isSpam]),
      [
        ["easy-ham-1/00002", "easy-ham-1", false],
        ["spam-1/00001", "spam-1", true],
      ],
    );
  });

  test("findStdlibDataset looks in the given node_modules folders and explains how to install", () => {
    const nm = join(tmp, "nm", "node_modules", "@stdlib", "datasets-sotu");
    mkdirSync(join(nm, "data"), { recursive: true });
    writeFileSync(join(nm, "package.json"), "{}");
    assert.equal(findStdlibDataset("sotu", [join(tmp, "nm")]), nm);
    assert.equal(findStdlibDataset("sotu", [join(tmp, "nm", "node_modules")]), nm);
  });

  test("WordNet data files: lemmas and gloss, licence header skipped", () => {
    const dir = join(tmp, "wordnet");
    mkdirSync(dir, { recursive: true });
    const header = "  1 This software and database is being provided to you, the LICENSEE, by  \n";
    writeFileSync(
      join(dir, "data.noun"),
      `${header}00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known  \n00006484 08 n 02 cell 0 cellular_telephone 0 000 | a small room; "the cell was dark"  \n`,
    );
    writeFileSync(join(dir, "data.verb"), `${header}00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 000 | draw air into, and expel out of, the lungs  \n`);
    writeFileSync(join(dir, "data.adj"), `${header}00001740 00 a 01 able(a) 0 000 | having the necessary means  \n`);
    writeFileSync(join(dir, "data.adv"), header);
    assert.deepEqual(wordnetGlossLines(dir), [
      "entity: that which is perceived or known",
      'cell, cellular telephone: a small room; "the cell was dark"',
      "breathe, take a breath, respire, suspire: draw air into, and expel out of, the lungs",
      "able: having the necessary means",
    ]);
  });

  test("SWORD zText modules are read without external tools", () => {
    const dir = join(tmp, "sword");
    mkdirSync(dir, { recursive: true });
    // Two blocks; verses point into them (block, offset, size); a size-0 entry is skipped.
    const blocks = [
      '<title type="main">Genesis</title><chapter n="1"/><div sID="p1" type="x-p"/>In the <w lemma="strong:H7225">beginning</w> God<note placement="foot">A note.</note> created. ',
      '¶ And it was good &amp; fine. <div eID="p1" type="x-p"/><div sID="p2" type="x-p"/>Next paragraph here.',
    ];
    const bzz: Buffer[] = [];
    const bzs = Buffer.alloc(12 * blocks.length);
    let off = 0;
    blocks.forEach((b, i) => {
      const z = deflateSync(Buffer.from(b, "utf8"));
      bzs.writeUInt32LE(off, i * 12);
      bzs.writeUInt32LE(z.length, i * 12 + 4);
      bzs.writeUInt32LE(Buffer.byteLength(b), i * 12 + 8);
      bzz.push(z);
      off += z.length;
    });
    const b0 = Buffer.from(blocks[0] as string, "utf8");
    const split = b0.indexOf("In the");
    const verses: [number, number, number][] = [
      [0, 0, 0],
      [0, 0, split],
      [0, split, b0.length - split],
      [1, 0, Buffer.byteLength(blocks[1] as string)],
    ];
    const bzv = Buffer.alloc(10 * verses.length);
    verses.forEach(([b, o, s], i) => {
      bzv.writeUInt32LE(b, i * 10);
      bzv.writeUInt32LE(o, i * 10 + 4);
      bzv.writeUInt16LE(s, i * 10 + 8);
    });
    writeFileSync(join(dir, "ot.bzs"), bzs);
    writeFileSync(join(dir, "ot.bzv"), bzv);
    writeFileSync(join(dir, "ot.bzz"), Buffer.concat(bzz));
    assert.equal(readZTextEntries(dir).length, 3);
    assert.deepEqual(swordParagraphs(dir), ["In the beginning God created. And it was good & fine.", "Next paragraph here."]);
    assert.equal(osisToText('a<note type="x">n</note>b<note/>c'), "a b c");
    assert.throws(() => readZTextEntries(join(tmp, "none")), /no zText entries/);
  });
});

describe("real offline sources (when installed)", () => {
  test("WordNet 3.0 (Debian wordnet-base)", { skip: existsSync(join(WORDNET_DIR, "data.noun")) ? false : "wordnet-base not installed" }, () => {
    const lines = wordnetGlossLines();
    assert.equal(lines.length, 117659);
    assert.equal(lines[0], "entity: that which is perceived or known or inferred to have its own distinct existence (living or nonliving)");
  });

  test("KJV and WEB (Debian sword-text-kjv / sword-text-web)", { skip: existsSync(join(SWORD_MODULES.kjv, "ot.bzz")) && existsSync(join(SWORD_MODULES.web, "ot.bzz")) ? false : "sword texts not installed" }, () => {
    const kjv = swordParagraphs(SWORD_MODULES.kjv);
    assert.ok(kjv[0]?.startsWith("In the beginning God created the heaven and the earth."));
    assert.ok(kjv.length > 9000);
    for (const l of kjv.slice(0, 500)) assert.ok(!/[<>¶]/.test(l), l);
    const web = swordParagraphs(SWORD_MODULES.web);
    assert.ok(web.some((l) => l.startsWith("In the beginning, God created the heavens and the earth.")));
    for (const l of web.slice(0, 2000)) assert.ok(!/[<>]/.test(l), l);
  });

  test("GLUE training sentences from the shipped copies", () => {
    const g = glueTrainSentences(join(ROOT, "data", "glue"));
    assert.deepEqual(
      g.map((x) => x.task),
      ["CoLA", "SST-2", "RTE"],
    );
    assert.equal(g[0]?.lines.length, 8551);
    assert.equal(g[2]?.lines.length, 2 * 2490);
    // SST-2: no kept phrase is a piece of another kept phrase
    const sst = g[1]?.lines ?? [];
    assert.ok(sst.length > 500 && sst.length < 10000);
    const joined = new Set(sst);
    assert.equal(joined.size, sst.length);
    for (const p of sst.slice(0, 50)) assert.ok(countWords(p) >= 6);
  });
});
