/**
 * A tiny T5-layout SentencePiece Unigram tokenizer.json for tests (t5-small's layout, no
 * download): <pad> 0, </s> 1, <unk> 2, then "▁", the letters, digits and punctuation, whole
 * words, and the 100 sentinels at the top ids (<extra_id_0> the highest). Metaspace
 * pre-tokenizer and decoder, "</s>" appended by the post-processor, as t5-small's.
 */
import { tokenizerFromFiles } from "../../src/data/tokenizer.js";
import type { Tokenizer } from "../../src/data/tokenizer.js";

const WORDS = ["the", "cat", "dog", "old", "man", "sister", "farmer", "small", "bird", "teacher", "neighbour", "sat", "on", "looked", "at", "walked", "to", "ran", "past", "found", "liked", "painted", "cleaned", "mat", "red", "house", "river", "green", "field", "an", "apple", "big", "tree", "car", "blue", "door", "today", "again", "in", "morning", "after", "dinner", "my", "our", "a"];

/** The tokenizer.json object; `extraPieces` go before the sentinels (scores -12). */
export function tinyT5TokenizerJson(extraPieces: readonly string[] = []): Record<string, unknown> {
  const vocab: [string, number][] = [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["\u2581", -2]];
  const seen = new Set(vocab.map(([p]) => p));
  const add = (p: string, score: number): void => {
    if (seen.has(p)) return;
    seen.add(p);
    vocab.push([p, score]);
  };
  for (const w of WORDS) add(`\u2581${w}`, -4 - w.length / 10);
  for (const w of WORDS) add(`\u2581${w[0].toUpperCase()}${w.slice(1)}`, -6 - w.length / 10);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()") add(c, -9);
  for (const p of extraPieces) add(p, -12);
  const first = vocab.length;
  for (let k = 99; k >= 0; k--) vocab.push([`<extra_id_${k}>`, 0]);
  const special = (id: number, content: string): Record<string, unknown> => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<pad>"), special(1, "</s>"), special(2, "<unk>"), ...Array.from({ length: 100 }, (_, j) => special(first + j, `<extra_id_${99 - j}>`))],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Metaspace", replacement: "\u2581", add_prefix_space: true }] },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }, { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
    },
    decoder: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true },
    model: { type: "Unigram", unk_id: 2, vocab },
  };
}

/** tokenizer_config.json as t5-small's (the parts our loader reads). */
export const TINY_T5_TOKENIZER_CONFIG = { model_max_length: 512, eos_token: "</s>", pad_token: "<pad>", unk_token: "<unk>", extra_ids: 100, tokenizer_class: "T5Tokenizer" };

export function tinyT5Tokenizer(extraPieces: readonly string[] = []): Tokenizer {
  return tokenizerFromFiles({ "tokenizer.json": JSON.stringify(tinyT5TokenizerJson(extraPieces)), "tokenizer_config.json": JSON.stringify(TINY_T5_TOKENIZER_CONFIG) });
}
