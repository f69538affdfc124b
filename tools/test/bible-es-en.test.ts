import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { deflateSync } from "node:zlib";
import { alignVerses, buildSplits, splitOfBook, SPANISH_SUBSCRIPTION } from "../bible-es-en.js";
import {
  decodeSwordText,
  openMarkupSeams,
  parseSwordConf,
  readSwordConf,
  readSwordVerses,
  SWORD_MODULES,
  type SwordVerse,
  verseText,
} from "../sources/sword.js";
import { KJV_VERSIFICATION, NRSVA_VERSIFICATION, testamentSlots, type Versification, versificationByName } from "../sources/versification.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

let tmp = "";
before(() => {
  tmp = mkdtempSync(join(tmpdir(), "bible-es-en-test-"));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A tiny versification: Ruth with 2 chapters (2 and 1 verses) in the OT, Titus with 1 chapter (2 verses) in the NT. */
const TINY: Versification = {
  name: "Tiny",
  books: [
    { testament: "ot", osis: "Ruth", name: "Ruth", verses: [2, 1] },
    { testament: "nt", osis: "Titus", name: "Titus", verses: [2] },
  ],
};

/** Writes a zText testament (one compressed block) whose slots hold `entries` (as raw bytes). */
function writeTestament(dir: string, testament: "ot" | "nt", entries: readonly Uint8Array[]): void {
  const block = Buffer.concat(entries.map((e) => Buffer.from(e)));
  const z = deflateSync(block);
  const bzs = Buffer.alloc(12);
  bzs.writeUInt32LE(0, 0);
  bzs.writeUInt32LE(z.length, 4);
  bzs.writeUInt32LE(block.length, 8);
  const bzv = Buffer.alloc(10 * entries.length);
  let off = 0;
  entries.forEach((e, i) => {
    bzv.writeUInt32LE(0, i * 10);
    bzv.writeUInt32LE(off, i * 10 + 4);
    bzv.writeUInt16LE(e.length, i * 10 + 8);
    off += e.length;
  });
  writeFileSync(join(dir, `${testament}.bzs`), bzs);
  writeFileSync(join(dir, `${testament}.bzv`), bzv);
  writeFileSync(join(dir, `${testament}.bzz`), z);
}

/** A SWORD library under `root` with one module `name`: its .conf in mods.d and its data files. */
function writeModule(root: string, name: string, conf: string, ot: readonly string[], nt: readonly string[], encoding: BufferEncoding = "utf8"): string {
  const dir = join(root, "modules", "texts", "ztext", name);
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(root, "mods.d"), { recursive: true });
  writeFileSync(join(root, "mods.d", `${name.toLowerCase()}.conf`), `[${name}]\nDataPath=./modules/texts/ztext/${name}/\nModDrv=zText\n${conf}`);
  writeTestament(dir, "ot", ot.map((s) => Buffer.from(s, encoding)));
  writeTestament(dir, "nt", nt.map((s) => Buffer.from(s, encoding)));
  return dir;
}

function verse(ref: string, text: string): SwordVerse {
  const [book, chapter, v] = ref.split(".");
  return { ref, book: book as string, chapter: Number(chapter), verse: Number(v), text };
}

describe("versifications", () => {
  test("the KJV table has the protestant canon's 66 books, 1189 chapters, 31102 verses", () => {
    const v = versificationByName("KJV");
    assert.equal(v.books.length, 66);
    assert.equal(v.books.reduce((s, b) => s + b.verses.length, 0), 1189);
    assert.equal(v.books.reduce((s, b) => s + b.verses.reduce((a, n) => a + n, 0), 0), 31102);
    assert.throws(() => versificationByName("Vulg"), /unknown versification "Vulg" \(known: KJV, NRSVA\)/);
  });

  test("NRSVA differs from KJV in the shared books only at 3John.1 and Rev.12 (one verse more each)", () => {
    const diffs: string[] = [];
    for (const b of KJV_VERSIFICATION.books) {
      const n = NRSVA_VERSIFICATION.books.find((x) => x.osis === b.osis);
      assert.ok(n, b.osis);
      assert.equal(n.verses.length, b.verses.length, b.osis);
      b.verses.forEach((c, i) => {
        if (n.verses[i] !== c) diffs.push(`${b.osis}.${i + 1}:${c}->${n.verses[i]}`);
      });
    }
    assert.deepEqual(diffs, ["3John.1:14->15", "Rev.12:17->18"]);
  });

  test("index layout: two headers, then book heading, chapter heading, verses", () => {
    const ot = testamentSlots(TINY, "ot");
    assert.deepEqual(ot, [
      { kind: "header" },
      { kind: "header" },
      { kind: "book", book: "Ruth" },
      { kind: "chapter", book: "Ruth", chapter: 1 },
      { kind: "verse", book: "Ruth", chapter: 1, verse: 1 },
      { kind: "verse", book: "Ruth", chapter: 1, verse: 2 },
      { kind: "chapter", book: "Ruth", chapter: 2 },
      { kind: "verse", book: "Ruth", chapter: 2, verse: 1 },
    ]);
    assert.equal(testamentSlots(TINY, "nt").length, 6);
  });

  test("the installed modules' index sizes equal their versifications' slot counts", { skip: existsSync(join(SWORD_MODULES.sparv, "ot.bzv")) && existsSync(join(SWORD_MODULES.web, "ot.bzv")) ? false : "sword-text-sparv / sword-text-web not installed" }, () => {
    for (const [dir, v] of [[SWORD_MODULES.sparv, KJV_VERSIFICATION], [SWORD_MODULES.web, NRSVA_VERSIFICATION]] as const) {
      for (const t of ["ot", "nt"] as const) assert.equal(statSync(join(dir, `${t}.bzv`)).size / 10, testamentSlots(v, t).length, `${dir} ${t}`);
    }
  });
});

describe("SWORD .conf and text decoding", () => {
  test("parseSwordConf reads the fields and SWORD's defaults", () => {
    const c = parseSwordConf("# comment\n[spaX]\nDataPath=./modules/texts/ztext/spaX/\nVersification=NRSVA\nEncoding=UTF-8\nVersion=2.60\nGlobalOptionFilter=A\nGlobalOptionFilter=B\n", "/m/spax.conf");
    assert.deepEqual(c, { path: "/m/spax.conf", module: "spaX", versification: "NRSVA", encoding: "UTF-8", version: "2.60", dataPath: "./modules/texts/ztext/spaX/" });
    const d = parseSwordConf("[old]\nDataPath=./x/\n", "/m/old.conf");
    assert.equal(d.encoding, "Latin-1");
    assert.equal(d.versification, "KJV");
    assert.throws(() => parseSwordConf("[a]\nEncoding=UTF-16\n", "/m/a.conf"), /\/m\/a\.conf: Encoding=UTF-16 is not supported \(expected UTF-8 or Latin-1\)/);
    assert.throws(() => parseSwordConf("[a]\nno equals sign\n", "/m/a.conf"), /\/m\/a\.conf:2: expected "Key=Value"/);
    assert.throws(() => parseSwordConf("Key=1\n", "/m/b.conf"), /\/m\/b\.conf: no \[module\] section header/);
    // A value ending in a backslash continues on the next line (which may hold no "=").
    const e = parseSwordConf("[m]\nAbout=First line\\\nsecond line, no equals sign\\\nthird\nVersification=NRSVA\n", "/m/m.conf");
    assert.equal(e.versification, "NRSVA");
    assert.throws(() => parseSwordConf("[m]\nAbout=First line\\\nsecond\nVersification=NRSVA\nbroken line\n", "/m/m.conf"), /\/m\/m\.conf:5: expected "Key=Value", got "broken line"/);
  });

  test("decodeSwordText: strict UTF-8, Latin-1 byte by byte, C1 bytes rejected", () => {
    assert.equal(decodeSwordText(Buffer.from("Génesis", "utf8"), "UTF-8", "w"), "Génesis");
    assert.throws(() => decodeSwordText(Uint8Array.of(0x47, 0xe9, 0x6e), "UTF-8", "mod ot slot 7"), /mod ot slot 7: invalid UTF-8/);
    assert.equal(decodeSwordText(Uint8Array.of(0x47, 0xe9, 0x6e, 0xf1), "Latin-1", "w"), "Génñ");
    assert.throws(() => decodeSwordText(Uint8Array.of(0x41, 0x93), "Latin-1", "mod nt slot 3"), /mod nt slot 3: byte 0x93 at offset 1 is a C1 control/);
  });

  test("verseText keeps canonical titles, drops notes and headings, opens word seams but not clitics", () => {
    assert.equal(
      verseText('<title type="section">Heading</title><title canonical="true" type="psalm">A Psalm.</title> <w lemma="x">Yahweh</w><note placement="foot">A note.</note> <w>is</w> <transChange type="added">my</transChange> shepherd , &amp; more.'),
      "A Psalm. Yahweh is my shepherd, & more.",
    );
    assert.equal(openMarkupSeams('<w a="1">allí</w><transChange type="added">también</transChange><w b="2">bdelio</w>'), '<w a="1">allí</w> <transChange type="added">también</transChange> <w b="2">bdelio</w>');
    assert.equal(verseText('<w>sáca</w><transChange type="added">lo</transChange> <w>de</w> <w>Júrame</w><transChange>lo</transChange>'), "sácalo de Júramelo");
    assert.equal(verseText('<transChange type="added">dá</transChange><w>le</w> pan'), "dále pan");
  });
});

describe("reading verses by reference", () => {
  test("a module's verses come with their references; empty slots give empty verses", () => {
    const root = join(tmp, "lib1");
    const dir = writeModule(
      root,
      "spaTiny",
      "Versification=Tiny\nEncoding=Latin-1\n",
      ["", "", '<div osisID="Ruth" type="book"/>', '<chapter n="1" osisID="Ruth.1" sID="Ruth.1"/>', "Y aconteció <w>en</w> los días.", "", '<chapter osisID="Ruth.2" sID="Ruth.2"/>', "Tenía Noemí un pariente."],
      ["", "", "", "", "Pablo, siervo de Dios.", "Á Tito."],
      "latin1",
    );
    const conf = readSwordConf(dir);
    assert.equal(conf.module, "spaTiny");
    assert.equal(conf.encoding, "Latin-1");
    const verses = readSwordVerses(dir, { versification: TINY });
    assert.deepEqual(
      verses.map((v) => [v.ref, v.text]),
      [
        ["Ruth.1.1", "Y aconteció en los días."],
        ["Ruth.1.2", ""],
        ["Ruth.2.1", "Tenía Noemí un pariente."],
        ["Titus.1.1", "Pablo, siervo de Dios."],
        ["Titus.1.2", "Á Tito."],
      ],
    );
    assert.equal(verses[2]?.chapter, 2);
    assert.throws(() => readSwordVerses(dir), /unknown versification "Tiny"/);
  });

  test("a chapter tag in the wrong slot, or a slot count that does not fit, is an error", () => {
    const root = join(tmp, "lib2");
    const shifted = writeModule(root, "engShift", "Versification=Tiny\nEncoding=UTF-8\n", ["", "", "", "", "In the days", '<chapter osisID="Ruth.1" sID="Ruth.1"/>And', "", ""], ["", "", "", "", "Paul", "Titus"]);
    assert.throws(() => readSwordVerses(shifted, { versification: TINY }), /ot slot 5 \(verse Ruth\.1\.2\) holds the start of chapter Ruth\.1: the index does not follow Tiny/);
    const short = writeModule(root, "engShort", "Versification=Tiny\nEncoding=UTF-8\n", ["", "", "", "", "In the days"], ["", "", "", "", "Paul", "Titus"]);
    assert.throws(() => readSwordVerses(short, { versification: TINY }), /ot\.bzv has 5 slots; versification Tiny has 8/);
    // A book the versification lacks, put in a heading slot, is left out; in a verse slot it is an error.
    const extra = writeModule(root, "engExtra", "Versification=Tiny\nEncoding=UTF-8\n", ["", "", "", "", "One", "Two", '<chapter osisID="DanGr.1" sID="DanGr.1"/>Susanna', "Three"], ["", "", "", "", "Paul", "Titus"]);
    assert.deepEqual(readSwordVerses(extra, { versification: TINY }).map((v) => v.text), ["One", "Two", "Three", "Paul", "Titus"]);
    const bad = writeModule(root, "engBad", "Versification=Tiny\nEncoding=UTF-8\n", ["", "", "", "", "One", '<chapter osisID="DanGr.1" sID="DanGr.1"/>Two', "", "Three"], ["", "", "", "", "Paul", "Titus"]);
    assert.throws(() => readSwordVerses(bad, { versification: TINY }), /verse Ruth\.1\.2\) holds the start of chapter DanGr\.1/);
    const utf = writeModule(root, "engUtf", "Versification=Tiny\nEncoding=UTF-8\n", ["", "", "", "", "Caf\u00e9", "", "", ""], ["", "", "", "", "Paul", "Titus"], "latin1");
    assert.throws(() => readSwordVerses(utf, { versification: TINY }), /engUtf ot slot 4: invalid UTF-8/);
    assert.throws(() => readSwordConf(join(tmp, "nowhere", "modules", "texts", "ztext", "x")), /no SWORD mods\.d directory/);
    // Another module's .conf that this parser would reject does not stop the search.
    writeFileSync(join(root, "mods.d", "zzother.conf"), "[other]\nDataPath=./modules/texts/ztext/other/\nEncoding=UTF-16\nnot a key value line\n");
    assert.equal(readSwordConf(extra).module, "engExtra");
    assert.throws(() => readSwordConf(join(root, "modules", "texts", "ztext", "unknown")), /unknown: no \.conf in .*mods\.d has DataPath= naming this directory/);
  });
});

describe("verse alignment", () => {
  test("matched by reference; each drop reason counted", () => {
    const es = [
      verse("Ruth.1.1", "Y aconteció en los días que gobernaban los jueces."),
      verse("Ruth.1.2", ""),
      verse("Ruth.1.3", "Y murió Elimelech."),
      verse("Ruth.1.4", "Los cuales tomaron para sí mujeres de Moab."),
      verse("Ruth.1.5", "Sí."),
      verse("Titus.3.15", "Todos los que están conmigo te saludan. Amén. A Tito, escrita de Nicópolis."),
    ];
    const en = [
      verse("Tob.1.1", "The book of the words of Tobit."),
      verse("Ruth.1.1", "In the days when the judges judged."),
      verse("Ruth.1.2", "The name of the man was Elimelech."),
      verse("Ruth.1.3", ""),
      verse("Ruth.1.4", "They took for themselves wives of the women of Moab."),
      verse("Ruth.1.5", "Mahlon and Chilion both died, and the woman was bereaved of her two children and of her husband."),
      verse("Ruth.1.6", "Then she arose."),
      verse("Titus.3.15", "All who are with me greet you. Amen."),
    ];
    const a = alignVerses(es, en);
    assert.deepEqual(
      a.verses.map((v) => [v.id, v.source, v.target]),
      [["Ruth.1.4", "Los cuales tomaron para sí mujeres de Moab.", "They took for themselves wives of the women of Moab."]],
    );
    assert.deepEqual(a.drops, {
      bookOnlyInSource: 0,
      bookOnlyInTarget: 1,
      verseOnlyInSource: 0,
      verseOnlyInTarget: 1,
      emptyInSource: 1,
      emptyInTarget: 1,
      emptyInBoth: 0,
      beforeEmpty: 1,
      sourceExtra: 1,
      shiftedChapter: 0,
      lengthRatio: 1,
      misfitChapter: 0,
    });
    assert.deepEqual(a.booksOnlyInTarget, ["Tob"]);
    // Ruth.1.1 precedes Ruth.1.2, empty in the source only: the source may hold both verses in Ruth.1.1.
    assert.deepEqual(a.beforeEmptyRefs, ["Ruth.1.1"]);
    assert.deepEqual(a.sourceExtraRefs, ["Titus.3.15"]);
    assert.deepEqual(a.lengthRatioRefs, ["Ruth.1.5"]);
    assert.throws(() => alignVerses([verse("Ruth.1.1", "a"), verse("Ruth.1.1", "b")], []), /source: reference Ruth\.1\.1 appears twice/);
  });

  test("a chapter numbered one verse off is found by its length correlation and dropped whole", () => {
    // Verse lengths vary a lot; the target is the same texts one verse later (the source's verse i is the target's i+1).
    const lengths = [12, 80, 25, 140, 33, 60, 18, 110, 45, 90, 22, 70, 130, 15];
    const text = (n: number, c: string): string => c.repeat(n);
    const es: SwordVerse[] = [];
    const en: SwordVerse[] = [];
    lengths.forEach((n, i) => {
      es.push(verse(`Jonah.2.${i + 1}`, text(n, "e")));
      en.push(verse(`Jonah.2.${i + 1}`, text(i === 0 ? 50 : (lengths[i - 1] as number), "n")));
      // An aligned chapter with the same lengths is kept.
      es.push(verse(`Jonah.3.${i + 1}`, text(n, "e")));
      en.push(verse(`Jonah.3.${i + 1}`, text(n, "n")));
    });
    const order = (v: SwordVerse): number => v.chapter * 100 + v.verse;
    es.sort((x, y) => order(x) - order(y));
    en.sort((x, y) => order(x) - order(y));
    const a = alignVerses(es, en, { minLengthRatio: 0, maxLengthRatio: Infinity });
    assert.deepEqual(a.shiftedChapters.map((c) => [c.chapter, c.shift]), [["Jonah.2", 1]]);
    assert.equal(a.drops.shiftedChapter, lengths.length);
    assert.deepEqual(a.verses.map((v) => v.id), lengths.map((_, i) => `Jonah.3.${i + 1}`));
  });

  test("a chapter with two length misfits is dropped whole; one misfit drops only that verse", () => {
    const es = [verse("Gal.1.1", "x".repeat(100)), verse("Gal.1.2", "x".repeat(300)), verse("Gal.1.3", "x".repeat(10)), verse("Gal.2.1", "x".repeat(100)), verse("Gal.2.2", "x".repeat(300))];
    const en = [verse("Gal.1.1", "y".repeat(100)), verse("Gal.1.2", "y".repeat(100)), verse("Gal.1.3", "y".repeat(100)), verse("Gal.2.1", "y".repeat(90)), verse("Gal.2.2", "y".repeat(100))];
    const a = alignVerses(es, en);
    assert.deepEqual(a.misfitChapters, [{ chapter: "Gal.1", misfits: ["Gal.1.2", "Gal.1.3"] }]);
    assert.equal(a.drops.misfitChapter, 3);
    assert.deepEqual(a.lengthRatioRefs, ["Gal.2.2"]);
    assert.deepEqual(a.verses.map((v) => v.id), ["Gal.2.1"]);
  });

  test("the subscription pattern matches the Reina-Valera's colophons only", () => {
    assert.ok(SPANISH_SUBSCRIPTION.test("La gracia sea con todos vosotros. Amén. Fué escrita á los Hebreos desde Italia con Timoteo."));
    assert.ok(SPANISH_SUBSCRIPTION.test("Amén. Enviada de Roma á los Gálatas."));
    assert.ok(!SPANISH_SUBSCRIPTION.test("Y dijo todo el pueblo: Amén. Y alabó á Jehová."));
    assert.ok(!SPANISH_SUBSCRIPTION.test("la carta escrita por Pablo"));
  });

  test("splits by book into JSONL lines", () => {
    assert.equal(splitOfBook("Ruth"), "validation");
    assert.equal(splitOfBook("Phlm"), "validation");
    assert.equal(splitOfBook("Jas"), "test");
    assert.equal(splitOfBook("Gen"), "train");
    const a = alignVerses(
      [verse("Gen.1.1", "En el principio."), verse("Ruth.1.1", "Y aconteció \"así\"."), verse("Esth.1.1", "Y aconteció en los días.")],
      [verse("Gen.1.1", "In the beginning."), verse("Ruth.1.1", "It happened \"so\"."), verse("Esth.1.1", "Now it happened in the days.")],
    );
    const b = buildSplits(a);
    assert.deepEqual(b.counts, { train: 1, validation: 1, test: 1 });
    assert.equal(b.files.train, '{"id":"Gen.1.1","source":"En el principio.","target":"In the beginning."}\n');
    assert.equal(b.files.validation, '{"id":"Ruth.1.1","source":"Y aconteció \\"así\\".","target":"It happened \\"so\\"."}\n');
    assert.deepEqual(JSON.parse(b.files.test), { id: "Esth.1.1", source: "Y aconteció en los días.", target: "Now it happened in the days." });
  });
});

describe("the shipped data/bible-es-en files", () => {
  test("rebuilding from the Debian modules gives the committed files byte for byte", { skip: existsSync(join(SWORD_MODULES.sparv, "ot.bzz")) && existsSync(join(SWORD_MODULES.web, "ot.bzz")) ? false : "sword-text-sparv / sword-text-web not installed (apt-get install sword-text-sparv sword-text-web)" }, () => {
    const out = join(tmp, "rebuilt");
    execFileSync(process.execPath, [join(ROOT, "dist", "tools", "bible-es-en.js"), "--out", out], { stdio: "pipe" });
    for (const s of ["train", "validation", "test"]) {
      const built = readFileSync(join(out, `${s}.jsonl`));
      const shipped = readFileSync(join(ROOT, "data", "bible-es-en", `${s}.jsonl`));
      assert.ok(built.equals(shipped), `${s}.jsonl differs from the rebuilt file`);
    }
  });

  test("the CLI rejects unknown arguments", () => {
    assert.throws(
      () => execFileSync(process.execPath, [join(ROOT, "dist", "tools", "bible-es-en.js"), "--bogus"], { stdio: "pipe" }),
      (e: unknown) => e instanceof Error && /unknown argument "--bogus"; usage: node dist\/tools\/bible-es-en\.js --out <dir>/.test(String((e as { stderr?: Buffer }).stderr)),
    );
  });
});
