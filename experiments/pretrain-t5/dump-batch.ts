/**
 * Cross-check a pretrained T5 folder against the plain-PyTorch reference of Hugging Face's
 * T5ForConditionalGeneration (scripts/t5_reference.py), step 1: corrupt held-out lines as
 * pretraining does, score them with our model code, and write the batch and our loss as JSON.
 *
 *   node dist/experiments/pretrain-t5/dump-batch.js MODEL_DIR TEXT_FILE OUT.json
 *   /usr/bin/python3 experiments/pretrain-t5/check_torch.py MODEL_DIR OUT.json
 *
 * The batch: 16 chunks (inputs 64) of the first 60 lines among every 100th line of TEXT_FILE
 * (the lines pretraining holds out), corrupted with seed 42 as the held-out evaluation does.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { checkT5Tokenizer, evaluateSpanCorruption, SpanBatcher, T5_SENTINELS, t5TokenStream } from "../../src/train/pretrain-t5.js";

async function main(argv: readonly string[]): Promise<void> {
  const [dir, textFile, outFile] = argv;
  if (dir === undefined || textFile === undefined || outFile === undefined) throw new Error("usage: dump-batch MODEL_DIR TEXT_FILE OUT.json");
  await initEngine({ threads: 1 });
  const tok = await loadTokenizer(dir);
  const ids = checkT5Tokenizer(tok, dir);
  const lines = readFileSync(textFile, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "").filter((_, i) => (i + 1) % 100 === 0).slice(0, 60);
  const b = new SpanBatcher(t5TokenStream(tok, lines), { batchSize: 16, inputLength: 64, noiseDensity: 0.15, meanNoiseSpanLength: 3, seed: 42, sentinels: { sentinelTop: ids.sentinelTop, numSentinels: T5_SENTINELS, eosTokenId: ids.eos } });
  const rows = Math.min(16, b.numChunks);
  const h = b.corrupt(Array.from({ length: rows }, (_, r) => r), 5, 0);
  const m = await loadBackboneDir(dir);
  try {
    if (!isT5Config(m.config)) throw new Error(`${dir}: not a T5 model`);
    const r = await evaluateSpanCorruption(m.config, m.encoder as T5Params, [h]);
    writeFileSync(outFile, JSON.stringify({ batchSize: rows, inputIds: [...h.inputIds], labels: [...h.targets], loss: r.loss, accuracy: r.accuracy }) + "\n");
    console.log(`${outFile}: ${rows} rows; our loss ${r.loss}, accuracy ${r.accuracy}`);
  } finally {
    tree.dispose(m.encoder);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`dump-batch: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
