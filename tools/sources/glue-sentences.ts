/** GLUE training sentences (CoLA, SST-2, RTE) for pretraining text; each task keeps its source dataset's terms. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanLine, countWords } from "../text/clean.js";

function tsvRows(file: string): string[][] {
  return readFileSync(file, "utf8")
    .replace(/^\uFEFF/, "")
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}

/** Find a task's training file: train.tsv, else CoLA's reassembled copy in ../shared/data/glue. */
function glueTrainFile(glueDir: string, task: string): string {
  for (const f of ["train.tsv", "train.REASSEMBLED-order-differs.tsv"]) {
    const p = join(glueDir, task, f);
    if (existsSync(p)) return p;
  }
  throw new Error(`${join(glueDir, task)}: no train.tsv`);
}

/**
 * The training-set sentences of the GLUE tasks we ship (CoLA, SST-2, RTE;
 * never the dev files), cleaned. SST-2's training file is made of phrases
 * cut from the same sentences: phrases are taken longest first, and a
 * phrase is kept only if it has at least `minSst2Words` words (default 6)
 * and is not a word-aligned piece of a phrase already kept; kept phrases
 * are then written in file order.
 */
export function glueTrainSentences(glueDir: string, minSst2Words = 6): { task: string; lines: string[] }[] {
  const out: { task: string; lines: string[] }[] = [];
  // CoLA: no header; sentence is column 3.
  out.push({ task: "CoLA", lines: tsvRows(glueTrainFile(glueDir, "CoLA")).map((r) => cleanLine(r[3] ?? "")) });
  const sst = tsvRows(glueTrainFile(glueDir, "SST-2"));
  const si = (sst[0] ?? []).indexOf("sentence");
  const phrases = sst.slice(1).map((r) => cleanLine(r[si] ?? ""));
  const order = phrases
    .map((p, i) => ({ i, n: countWords(p) }))
    .filter((x) => x.n >= minSst2Words)
    .sort((x, y) => y.n - x.n || x.i - y.i);
  const pieces = new Set<string>();
  const keep = new Uint8Array(phrases.length);
  for (const { i } of order) {
    const p = phrases[i] as string;
    if (pieces.has(p)) continue;
    keep[i] = 1;
    const w = p.split(" ");
    for (let a = 0; a < w.length; a++) {
      for (let b = a + minSst2Words; b <= w.length; b++) pieces.add(w.slice(a, b).join(" "));
    }
  }
  const sstLines = phrases.filter((_, i) => keep[i] === 1);
  out.push({ task: "SST-2", lines: sstLines });
  const rte = tsvRows(glueTrainFile(glueDir, "RTE"));
  const h = rte[0] ?? [];
  const a = h.indexOf("sentence1");
  const b = h.indexOf("sentence2");
  const rteLines: string[] = [];
  for (const r of rte.slice(1)) rteLines.push(cleanLine(r[a] ?? ""), cleanLine(r[b] ?? ""));
  out.push({ task: "RTE", lines: rteLines });
  for (const t of out) t.lines = t.lines.filter((l) => l !== "");
  return out;
}
