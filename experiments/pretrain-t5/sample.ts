/**
 * What a span-corruption T5 fills in: each line of a text file is tokenized (with its EOS),
 * corrupted as in pretraining (noise density 0.15, mean span 3, seeded), and the model
 * generates the target greedily; printed: the corrupted input, the true target, the model's.
 *
 *   node dist/experiments/pretrain-t5/sample.js MODEL_DIR TEXT_FILE [--lines N] [--every K] [--seed S]
 *
 * --every K takes every K-th non-empty line (1-based K, 2K, ...: with K 100 these are the
 * lines pretraining held out); --lines N stops after N of them (default 5).
 */
import { readFileSync } from "node:fs";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { mulberry32 } from "../../src/data/splits.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import { t5Generate } from "../../src/models/t5/generate.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { mixSeed } from "../../src/train/batching.js";
import { checkT5Tokenizer, T5_SENTINELS } from "../../src/train/pretrain-t5.js";
import { spanCorrupt } from "../../src/train/span-corruption.js";

function flagValue(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer, got ${argv[i + 1]}`);
  return v;
}

async function main(argv: readonly string[]): Promise<void> {
  const [modelDir, textFile] = argv;
  if (modelDir === undefined || textFile === undefined || modelDir.startsWith("--") || textFile.startsWith("--")) throw new Error("usage: sample MODEL_DIR TEXT_FILE [--lines N] [--every K] [--seed S]");
  const lines = flagValue(argv, "--lines", 5);
  const every = flagValue(argv, "--every", 1);
  const seed = flagValue(argv, "--seed", 1);
  await initEngine({ threads: 1 });
  const tok = await loadTokenizer(modelDir);
  const ids = checkT5Tokenizer(tok, modelDir);
  const m = await loadBackboneDir(modelDir);
  try {
    if (!isT5Config(m.config)) throw new Error(`${modelDir}: not a T5 model`);
    const texts = readFileSync(textFile, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "").filter((_, i) => (i + 1) % every === 0).slice(0, lines);
    let right = 0;
    let total = 0;
    for (const [n, text] of texts.entries()) {
      const tokens = Int32Array.from(tok.encode(text, undefined, { maxLength: Infinity }).inputIds);
      if (tokens.length < 4) continue;
      const c = spanCorrupt(tokens, 0.15, 3, mulberry32(mixSeed(seed, n)), { sentinelTop: ids.sentinelTop, numSentinels: T5_SENTINELS, eosTokenId: ids.eos });
      const g = await t5Generate(m.config, m.encoder as T5Params, undefined, { batchSize: 1, encoderLength: c.inputs.length, inputIds: c.inputs, attentionMask: new Int32Array(c.inputs.length).fill(1) }, { maxNewTokens: c.targets.length + 8 });
      const out = g.sequences[0] ?? [];
      c.targets.forEach((t, i) => {
        total++;
        if (out[i] === t) right++;
      });
      console.log(`input:  ${tok.decode([...c.inputs])}\ntarget: ${tok.decode([...c.targets])}\nmodel:  ${tok.decode(out)}\n`);
    }
    console.log(`greedy target tokens right in place: ${right}/${total}`);
  } finally {
    tree.dispose(m.encoder);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`sample: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
