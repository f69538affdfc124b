/**
 * Copies a pretraining run's model dir into models/propetl-mini with float16 weights (the
 * loader upcasts F16 to F32; the file is half the size), plus the tokenizer files.
 *
 *   node dist/experiments/pretrain/bundle.js experiments/pretrain/runs/mini/model models/propetl-mini
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { readSafetensorsFile, toFloat32, writeSafetensorsFile } from "../../src/io/safetensors.js";
import type { TensorInput } from "../../src/io/safetensors.js";

const [src, dst] = process.argv.slice(2);
if (!src || !dst) {
  console.error("usage: bundle.js <model dir> <bundle dir>");
  process.exit(2);
}
mkdirSync(dst, { recursive: true });
const file = await readSafetensorsFile(path.join(src, "model.safetensors"));
const out: Record<string, TensorInput> = {};
for (const [name, e] of file.tensors) {
  out[name] = e.dtype === "F32" ? { dtype: "F16", shape: e.shape, data: toFloat32(e, name, "model.safetensors") } : { dtype: e.dtype, shape: e.shape, data: e.data };
}
await writeSafetensorsFile(path.join(dst, "model.safetensors"), out, file.metadata);
for (const f of ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json"]) {
  if (existsSync(path.join(src, f))) copyFileSync(path.join(src, f), path.join(dst, f));
}
console.log(`bundled ${file.tensors.size} tensors from ${src} into ${dst} as F16 (metadata: ${JSON.stringify(file.metadata)})`);
