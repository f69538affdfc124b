/**
 * Test helpers for the trainer: a small Method of our own (a Pfeiffer adapter per layer with a
 * per-layer gate score in the "scores" group), synthetic tasks, and tiny model dirs.
 */
import { mkdtempSync, copyFileSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { nn, np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import type { EncoderConfig } from "../../src/models/bert/config.js";
import type { ModelHooks } from "../../src/models/hooks.js";
import type { EncoderParams } from "../../src/models/bert/params.js";
import type { HookContext, Method, MethodConfig } from "../../src/petl/method.js";
import type { EncodedExample } from "../../src/train/batching.js";
import { mulberry32 } from "../../src/data/splits.js";
import { FIXTURES, modelFixtureDir } from "../helpers/fixtures.js";

export type GatedAdapter = { layers: { down: JArray; up: JArray; gate: JArray }[] };

function normal(next: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    out[i] = std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

/** h <- h + sigmoid(gate) * relu(h @ down) @ up, per layer on the FFN output. */
export function gatedAdapter(bottleneck = 4): Method<GatedAdapter> {
  const config: MethodConfig = { method: "adapter", bottleneck };
  return {
    config,
    init(cfg: EncoderConfig, _encoder: EncoderParams, seed: number): GatedAdapter {
      const next = mulberry32(seed);
      const H = cfg.hiddenSize;
      return {
        layers: Array.from({ length: cfg.numLayers }, () => ({
          down: np.array(normal(next, H * bottleneck, 0.05)).reshape([H, bottleneck]),
          up: np.array(normal(next, bottleneck * H, 0.05)).reshape([bottleneck, H]),
          gate: np.zeros([1]),
        })),
      };
    },
    hooks(params: GatedAdapter, _ctx: HookContext): ModelHooks {
      return { encoder: params.layers.map((l) => ({
        ffnOutput: (h: JArray) => {
          const z = nn.relu(np.matmul(h.ref, l.down.ref));
          return h.add(np.matmul(z, l.up.ref).mul(nn.sigmoid(l.gate.ref)));
        },
      })) };
    },
    groups(params: GatedAdapter): unknown {
      return { layers: params.layers.map(() => ({ down: "module", up: "module", gate: "scores" })) };
    },
  };
}

/** A head-only method (no module): trains only the classification head. */
export function headOnly(): Method<Record<string, never>> {
  return {
    config: { method: "adapter" },
    init: () => ({}),
    hooks: () => ({}),
    groups: () => ({}),
  };
}

/**
 * A learnable synthetic task: sequences of random ids; label 1 when token 7 occurs.
 */
export function syntheticData(n: number, seed: number, vocab = 100, maxLen = 12): EncodedExample[] {
  const next = mulberry32(seed);
  return Array.from({ length: n }, (_, index) => {
    const len = 4 + (next() % (maxLen - 4));
    const ids = new Int32Array(len);
    ids[0] = 2;
    for (let t = 1; t < len; t++) ids[t] = 10 + (next() % (vocab - 10));
    const label = next() % 2;
    if (label === 1) ids[1 + (next() % (len - 1))] = 7;
    return { inputIds: ids, tokenTypeIds: new Int32Array(len), label, index };
  });
}

/** A temp dir. */
export function tempDir(prefix = "propetl-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A tiny BERT model dir with a WordPiece vocab: tiny-bert's config and weights plus a
 * vocab.txt of 120 entries (special tokens, letters, word pieces, frequent RTE words).
 */
export function tinyModelDir(dir = tempDir("propetl-model-")): string {
  mkdirSync(dir, { recursive: true });
  const src = modelFixtureDir("tiny-bert");
  copyFileSync(path.join(src, "config.json"), path.join(dir, "config.json"));
  copyFileSync(path.join(src, "model.safetensors"), path.join(dir, "model.safetensors"));
  const cfg = JSON.parse(readFileSync(path.join(src, "config.json"), "utf8")) as { vocab_size: number };
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  const letters = "abcdefghijklmnopqrstuvwxyz".split("");
  const pieces = letters.map((l) => `##${l}`);
  const words = ["the", "of", "and", "a", "in", "to", "is", "was", "for", "by", "on", "that", "with", "as", "not", "are", "from", "it", "has", "his", "be", "he", "at", "an", "have", "said", "no", "were", "which", "who", ".", ",", "'", "-", "(", ")", "\"", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "s", "##s", "##ed", "##ing", "##ly", "##er", "##es", "##ion", "##al", "##en"];
  const vocab = [...special, ...letters, ...pieces, ...words];
  const seen = new Set<string>();
  const unique = vocab.filter((t) => (seen.has(t) ? false : (seen.add(t), true))).slice(0, cfg.vocab_size);
  writeFileSync(path.join(dir, "vocab.txt"), unique.join("\n") + "\n");
  writeFileSync(path.join(dir, "tokenizer_config.json"), JSON.stringify({ do_lower_case: true, model_max_length: 64 }) + "\n");
  return dir;
}

export const GLUE_DIR = path.resolve(FIXTURES, "../../../shared/data/glue");

/**
 * Synthetic English-like text for pretraining tests: `n` lines of 1-3 sentences from a tiny
 * grammar (subject, verb, object, ending), seeded. A masked-LM learns it fast.
 */
export function syntheticText(n: number, seed = 1): string[] {
  const next = mulberry32(seed);
  const pick = (xs: readonly string[]): string => xs[next() % xs.length];
  const subjects = ["the cat", "a dog", "the old man", "my sister", "the farmer", "a small bird", "the teacher", "our neighbour"];
  const verbs = ["sat on", "looked at", "walked to", "ran past", "found", "liked", "painted", "cleaned"];
  const objects = ["the mat", "a red house", "the river", "the green field", "an apple", "the big tree", "the old car", "a blue door"];
  const endings = [".", " today.", " again.", " in the morning.", " after dinner."];
  return Array.from({ length: n }, () => {
    const k = 1 + (next() % 3);
    const sentences = Array.from({ length: k }, () => {
      const s = `${pick(subjects)} ${pick(verbs)} ${pick(objects)}${pick(endings)}`;
      return s[0].toUpperCase() + s.slice(1);
    });
    return sentences.join(" ");
  });
}
