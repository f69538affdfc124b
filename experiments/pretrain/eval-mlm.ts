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
import { evaluateMaskedLm } from "../../src/train/mlm-eval.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { readTaskSplit } from "../../src/data/read-examples.js";
import { resolveBuiltinTask } from "../../src/data/builtin-tasks.js";
import { readSafetensorsFile, toFloat32 } from "../../src/io/safetensors.js";
import { loadModelDir } from "../../src/models/load.js";
import { MLM_HF_NAMES } from "../../src/models/bert/mlm.js";

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
const r = await evaluateMaskedLm(cfg, model.encoder, head, tok, dev.examples.map((e) => e.text), { batches: Number(a.batches), seqLen: Number(a.seq) });
console.log(JSON.stringify({ model: dir, heldOut: "sotu-party dev", ...r }));
tree.dispose([head, model.encoder, model.head]);
