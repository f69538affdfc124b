/**
 * Masked-token loss and accuracy of a pretrained model dir on held-out text (default: the
 * sotu-party dev paragraphs, whose speeches are not in the pretraining corpus).
 *
 *   node dist/experiments/pretrain/eval-mlm.js models/propetl-mini [--batches 8]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { initEngine } from "../../src/engine/engine.js";
import { np, tree } from "../../src/engine/jax.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { mulberry32 } from "../../src/data/splits.js";
import { readTaskSplit } from "../../src/data/read-examples.js";
import { resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import { readSafetensorsFile, toFloat32 } from "../../src/io/safetensors.js";
import { disposeBatch, encode, makeBatch } from "../../src/models/encoder.js";
import { loadModelDir } from "../../src/models/load.js";
import { MLM_HF_NAMES, maskTokens, mlmLogits } from "../../src/models/mlm.js";

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { batches: { type: "string", default: "8" }, seq: { type: "string", default: "128" } } });
const dir = positionals[0] ?? "models/propetl-mini";
await initEngine();
const model = await loadModelDir(dir);
const cfg = model.config;
const tok = await loadTokenizer(dir);
const st = await readSafetensorsFile(path.join(dir, "model.safetensors"));
const get = (n: string) => {
  const e = st.tensors.get(n);
  if (!e) throw new Error(`${dir}/model.safetensors has no ${n} (not an MLM checkpoint)`);
  return np.array(toFloat32(e, n, "model.safetensors")).reshape(e.shape);
};
const head = {
  dense: { w: get(MLM_HF_NAMES.denseWeight), b: get(MLM_HF_NAMES.denseBias) },
  ln: { g: get(MLM_HF_NAMES.lnWeight), b: get(MLM_HF_NAMES.lnBias) },
  bias: get(MLM_HF_NAMES.bias),
};
const task = resolveBuiltinTask("sotu-party");
const dev = await readTaskSplit(task.task, task.dataDir, "dev");
const T = Number(a.seq), B = 16;
const rng = mulberry32(123);
let correct = 0, total = 0, nll = 0;
const special = new Set([tok.padTokenId, tok.clsTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId]);
for (let bi = 0; bi < Number(a.batches); bi++) {
  const ids = new Int32Array(B * T).fill(tok.padTokenId), mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const e = tok.encode(dev.examples[(bi * B + b) % dev.examples.length].text, undefined, { maxLength: T });
    e.inputIds.forEach((id, i) => { ids[b * T + i] = id; mask[b * T + i] = 1; });
  }
  const m = maskTokens(ids, mask, { maskTokenId: tok.maskTokenId, vocabSize: cfg.vocabSize, specialIds: special, random: () => rng() / 2 ** 32 });
  const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: m.inputIds, attentionMask: mask, tokenTypeIds: new Int32Array(B * T) });
  const pos = np.array(m.positions, { dtype: np.int32 });
  const logits = await mlmLogits(cfg, model.encoder, head, encode(cfg, model.encoder, batch), pos).data();
  const V = cfg.vocabSize;
  m.targets.forEach((t, j) => {
    let best = 0, mx = -Infinity;
    for (let v = 0; v < V; v++) if (logits[j * V + v] > mx) { mx = logits[j * V + v]; best = v; }
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[j * V + v] - mx);
    nll += Math.log(z) + mx - logits[j * V + t];
    if (best === t) correct++;
    total++;
  });
  pos.dispose();
  disposeBatch(batch);
}
console.log(JSON.stringify({ model: dir, heldOut: "sotu-party dev", maskedTokens: total, loss: nll / total, accuracy: correct / total }));
tree.dispose([head, model.encoder, model.head]);
