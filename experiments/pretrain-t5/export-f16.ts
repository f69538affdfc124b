/**
 * Copy a T5 model folder with its weights in float16 (half the size), for packaging:
 *
 *   node dist/experiments/pretrain-t5/export-f16.js SRC_DIR DST_DIR
 *
 * SRC_DIR is a Hugging Face T5 folder (config.json, model.safetensors, tokenizer files), e.g.
 * the output of `propetl pretrain --arch t5`. DST_DIR gets the same files with
 * model.safetensors in F16 (the safetensors metadata is carried over). It then loads DST_DIR
 * back and prints the largest absolute difference to the F32 weights.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { readSafetensorsFile, toFloat32 } from "../../src/io/safetensors.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import type { T5Params } from "../../src/models/t5/params.js";
import { saveT5ModelDir } from "../../src/train/pretrain-t5.js";

async function main(argv: readonly string[]): Promise<void> {
  const [src, dst] = argv;
  if (src === undefined || dst === undefined) throw new Error("usage: export-f16 SRC_DIR DST_DIR");
  if (!existsSync(path.join(src, "config.json"))) throw new Error(`${src}: no config.json (not a model folder)`);
  if (path.resolve(src) === path.resolve(dst)) throw new Error("SRC_DIR and DST_DIR must differ");
  await initEngine({ threads: 1 });
  const m = await loadBackboneDir(src);
  try {
    if (!isT5Config(m.config)) throw new Error(`${src}/config.json: model_type "${m.config.modelType}", expected "t5"`);
    const tok = await loadTokenizer(src);
    const st = await readSafetensorsFile(path.join(src, "model.safetensors"));
    const metadata = { ...(st.metadata ?? {}) };
    delete metadata["format"];
    await saveT5ModelDir(dst, m.config, m.encoder as T5Params, tok, { dtype: "F16", metadata });
    const half = await readSafetensorsFile(path.join(dst, "model.safetensors"));
    let worst = 0;
    for (const [name, e] of st.tensors) {
      const h = half.tensors.get(name);
      if (!h) throw new Error(`${dst}: tensor ${name} missing`);
      const a = toFloat32(e, name, src);
      const b = toFloat32(h, name, dst);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    console.log(`${dst}: F16 copy of ${src} (${st.tensors.size} tensors; largest |F32 - F16| ${worst.toExponential(2)})`);
  } finally {
    tree.dispose(m.encoder);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`export-f16: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
