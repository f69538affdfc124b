// Writes test/fixtures/checkpoints/v1-*: task checkpoints in format version 1 (layers named
// without their stack), made by propetl at commit 764da18, the last version that wrote them,
// with the expected logits on the tiny-bert fixture batch as that version computed them.
//
//   git worktree add /tmp/propetl-v1 764da18 && (cd /tmp/propetl-v1 && npm ci)
//   node scripts/make_v1_checkpoints.mjs /tmp/propetl-v1
//
// Not part of the test suite (the tests read the committed files). LoRA's and the prefix's
// forward pass did not change after 764da18, so their logits must still match; the adapter
// placement did change (AdapterHub's Pfeiffer), so only-mask is checked for loading only.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const oldRoot = path.resolve(process.argv[2] ?? "");
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const lib = await import(pathToFileURL(path.join(oldRoot, "dist/src/index.js")).href);
const { np, tree } = await import(pathToFileURL(path.join(oldRoot, "dist/src/engine/jax.js")).href);
const { materializedHooks } = await import(pathToFileURL(path.join(oldRoot, "dist/src/petl/propetl.js")).href);
const { readSafetensorsFileSync, toFloat32, toInt32 } = await import(pathToFileURL(path.join(oldRoot, "dist/src/io/safetensors.js")).href);

await lib.initEngine();
const modelDir = path.join(repo, "test/fixtures/models/tiny-bert");
const model = await lib.loadModelDir(modelDir);
const exp = readSafetensorsFileSync(path.join(modelDir, "expected.safetensors"));
const ids = (n) => toInt32(exp.tensors.get(n), n, "expected");
const [B, T] = exp.tensors.get("input_ids").shape;
const batch = lib.makeBatch(model.config, { batchSize: B, seqLen: T, inputIds: ids("input_ids"), attentionMask: ids("attention_mask"), tokenTypeIds: ids("token_type_ids") });

// Deterministic, non-trivial values for every trainable leaf (a fresh LoRA B is zero).
let state = 12345;
const next = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const perturb = (t) => {
  if (t && typeof t.dispose === "function" && Array.isArray(t.shape)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const out = np.array(Float32Array.from({ length: n }, () => 0.3 * next())).reshape(t.shape);
    t.dispose();
    return out;
  }
  if (Array.isArray(t)) return t.map(perturb);
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, perturb(v)]));
};

for (const config of [
  { method: "propetl-lora", rank: 4, alpha: 8, k: 0.5 },
  { method: "prefix", prefixLength: 4, prefixHidden: 16 },
  { method: "only-mask", bottleneck: 8, k: 0.5 },
]) {
  const method = lib.createMethod(config);
  const params = perturb(method.init(model.config, model.encoder, 0));
  const dir = path.join(repo, "test/fixtures/checkpoints", `v1-${config.method}`);
  mkdirSync(dir, { recursive: true });
  await lib.saveTaskCheckpoint(dir, { method, params, encoderConfig: model.config, heads: [model.head] });
  const ckpt = await lib.loadTaskCheckpoint(dir, { encoderConfig: model.config });
  const m = ckpt.materialize();
  const logits = await lib.classify(model.head, lib.encode(model.config, model.encoder, batch, materializedHooks(m))).data();
  writeFileSync(path.join(dir, "expected_logits.json"), JSON.stringify({ commit: "764da18", batch: "test/fixtures/models/tiny-bert/expected.safetensors", logits: Array.from(logits) }) + "\n");
  console.log(`${dir}: ${logits.length} logits`);
  ckpt.dispose();
  tree.dispose(params);
}
process.exit(0);
