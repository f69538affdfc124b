import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assembleCorpus, corpusFile, corpusStats, type CorpusManifest } from "../corpus.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("assembling a corpus", () => {
  test("dedupe, short lines, over-long tokens, line ranges and stats", () => {
    const a = assembleCorpus(
      [
        { info: { id: "a", title: "A", licence: "PD", origin: "here" }, lines: ["one two three", "x y", "one  two three", `long ${"z".repeat(120)} word here`] },
        { info: { id: "b", title: "B", licence: "PD", origin: "there" }, lines: ["one two three", "four five six seven"] },
        { info: { id: "c", title: "C", licence: "PD", origin: "nowhere" }, lines: [] },
      ],
      { minWords: 3 },
    );
    assert.deepEqual(a.lines, ["one two three", "long word here", "four five six seven"]);
    const [sa, sb, sc] = a.manifest.sources;
    assert.deepEqual([sa?.lines, sa?.duplicates, sa?.tooShort, sa?.firstLine, sa?.lastLine], [2, 1, 1, 1, 2]);
    assert.deepEqual([sb?.lines, sb?.duplicates, sb?.firstLine, sb?.lastLine], [1, 1, 3, 3]);
    assert.deepEqual([sc?.lines, sc?.firstLine, sc?.lastLine], [0, 0, 0]);
    assert.deepEqual(a.manifest.total, corpusStats(a.lines));
    assert.equal(a.manifest.total.tokens, 3 + 3 + 4);
    assert.equal(a.manifest.total.bytes, Buffer.byteLength(a.lines.join("\n")) + 1);
    const f = corpusFile(a, "/x/corpus.txt", "test");
    assert.equal(f.manifest.file, "corpus.txt");
    assert.equal(f.text, "one two three\nlong word here\nfour five six seven\n");
    assert.equal(f.manifest.sha256, createHash("sha256").update(f.text).digest("hex"));
  });

  test("the committed pretraining manifest is consistent (and matches corpus.txt when present)", () => {
    const dir = join(ROOT, "experiments", "pretrain", "corpus");
    const file = join(dir, "manifest.json");
    if (!existsSync(file)) return;
    const m = JSON.parse(readFileSync(file, "utf8")) as CorpusManifest & { vocab?: { size: number; specialTokens: string[] } };
    assert.equal(m.format, "propetl-corpus");
    const sum = (k: "lines" | "tokens" | "bytes"): number => m.sources.reduce((n, s) => n + s[k], 0);
    assert.equal(sum("lines"), m.total.lines);
    assert.equal(sum("tokens"), m.total.tokens);
    assert.equal(sum("bytes"), m.total.bytes);
    for (const s of m.sources) assert.ok(s.licence.length > 0 && s.origin.length > 0, s.id);
    if (m.vocab) assert.deepEqual(m.vocab.specialTokens, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    const corpus = join(dir, m.file);
    if (existsSync(corpus)) assert.equal(createHash("sha256").update(readFileSync(corpus)).digest("hex"), m.sha256);
  });
});
