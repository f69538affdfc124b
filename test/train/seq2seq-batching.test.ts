/**
 * Text pairs to padded T5 batches (src/train/seq2seq-batching.ts), with a tiny Unigram
 * tokenizer in T5's layout (<pad> 0, </s> 1, <unk> 2, EOS appended by the template).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizerFromJson } from "../../src/data/tokenizer.js";
import { IGNORE_LABEL } from "../../src/models/t5/batch.js";
import { encodePairs, padPairs } from "../../src/train/seq2seq-batching.js";

const PIECES = ["▁a", "▁b", "▁c", "▁d", "▁translate", ":", "▁x"];
const TOKENIZER = tokenizerFromJson({
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [
    { id: 0, content: "<pad>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 1, content: "</s>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    { id: 2, content: "<unk>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
  ],
  normalizer: null,
  pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }, { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
  },
  decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  model: { type: "Unigram", unk_id: 2, vocab: [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ...PIECES.map((p) => [p, -1])], byte_fallback: false },
});
const ID = (p: string): number => 3 + PIECES.indexOf(p);
const CFG = { padTokenId: 0, decoderStartTokenId: 0 };

test("encodePairs: prefix, EOS on both sides, truncation counted", () => {
  const r = encodePairs(TOKENIZER, [{ source: "a b", target: "c" }, { source: "a b c d a b", target: "d d d d" }], { maxSourceLength: 5, maxTargetLength: 3, prefix: "translate x: " });
  // "translate x: a b" is 5 pieces + EOS = 6 > 5: cut to 4 pieces + EOS.
  assert.deepEqual([...r.pairs[0].inputIds], [ID("▁translate"), ID("▁x"), ID(":"), ID("▁a"), 1]);
  assert.deepEqual([...r.pairs[0].labels], [ID("▁c"), 1]);
  assert.equal(r.pairs[1].inputIds.length, 5);
  assert.equal(r.pairs[1].inputIds.at(-1), 1, "truncation keeps EOS");
  assert.deepEqual([...r.pairs[1].labels], [ID("▁d"), ID("▁d"), 1]);
  assert.equal(r.truncatedSources, 2, "both prefixed sources exceed 5 tokens");
  assert.equal(r.truncatedTargets, 1);
  assert.deepEqual(r.pairs.map((p) => p.index), [0, 1]);
});

test("encodePairs: no prefix keeps the text as is; an empty target is an error naming the example", () => {
  const r = encodePairs(TOKENIZER, [{ source: "a", target: "b" }], { maxSourceLength: 8, maxTargetLength: 8 });
  assert.deepEqual([...r.pairs[0].inputIds], [ID("▁a"), 1]);
  assert.equal(r.truncatedSources + r.truncatedTargets, 0);
  assert.throws(() => encodePairs(TOKENIZER, [{ source: "a", target: "b" }, { source: "a", target: "  " }], { maxSourceLength: 8, maxTargetLength: 8, what: "dev.jsonl" }), /dev\.jsonl: example 2 has an empty target/);
  assert.throws(() => encodePairs(TOKENIZER, [], { maxSourceLength: 1, maxTargetLength: 8 }), /maxSourceLength must be an integer >= 2/);
});

test("padPairs: pad sources with <pad>, labels with -100, decoder input = labels shifted right", () => {
  const { pairs } = encodePairs(TOKENIZER, [{ source: "a b c", target: "d" }, { source: "a", target: "b c" }], { maxSourceLength: 16, maxTargetLength: 16 });
  const b = padPairs(CFG, pairs);
  const { host } = b;
  assert.equal(host.batchSize, 2);
  assert.equal(host.encoderLength, 4);
  assert.equal(host.decoderLength, 3);
  assert.deepEqual([...host.inputIds], [ID("▁a"), ID("▁b"), ID("▁c"), 1, ID("▁a"), 1, 0, 0]);
  assert.deepEqual([...host.attentionMask], [1, 1, 1, 1, 1, 1, 0, 0]);
  assert.deepEqual([...b.labels], [ID("▁d"), 1, IGNORE_LABEL, ID("▁b"), ID("▁c"), 1]);
  assert.deepEqual([...host.decoderInputIds], [0, ID("▁d"), 1, 0, ID("▁b"), ID("▁c")]);
  assert.deepEqual(b.indices, [0, 1]);
  assert.throws(() => padPairs(CFG, []), /empty batch/);
});
