/**
 * Peak wasm heap per token of one training step (forward + backward + AdamW) of a randomly
 * initialised BERT-base-shaped model (12 layers, hidden 768, 12 heads, FFN 3072; propetl-mini's
 * 8,000-token vocabulary) with a PETL method (default ProPETL-adapter), at batch × length given
 * on the command line. The model is built in memory; nothing is read but propetl-mini's
 * config.json.
 *
 *   node dist/bench/train-memory.js [BATCH=8] [LENGTH=128] [--steps 2] [--threads 2]
 *        [--method propetl-adapter] [--remat | --no-remat | --keep M] [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
 *
 * Neither `--remat` (every layer rematerialised) nor `--no-remat` (the whole-network gradient)
 * nor `--keep M` (rematerialised, the top M layers or blocks keeping their residuals) takes
 * what "auto" (`rematPlan`, `t5RematPlan`) chooses, and prints it.
 *
 * With `--t5`, the model is a random T5-base-shaped encoder–decoder instead (12 + 12 blocks,
 * d_model 768, 12 heads of 64, d_ff 3072, ReLU, tied head, t5-base's 32,128-token vocabulary;
 * `--layers`, `--hidden`, `--heads`, `--intermediate`, `--vocab` change them) trained on the
 * text-to-text objective with pairs of LENGTH source and `--target-length` (default LENGTH)
 * target tokens; "per token" is then per source + target token.
 *
 * For every step it prints the peak of live wasm bytes during the step (the allocator's figure,
 * `wasmHeapStatsReader`), that peak per token (B·T), the live bytes before the step (weights,
 * trainable tree, optimizer moments), the step's wall time and the process's CPU time (main
 * thread and workers: on a shared machine it varies less than the wall time). The first step includes AdamW's
 * moment allocation; later steps show the steady state.
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { initEngine } from "../src/engine/engine.js";
import { blockUntilReady, tree } from "../src/engine/jax.js";
import { wasmHeapStatsReader } from "../src/engine/live-buffers.js";
import { readEncoderConfig } from "../src/models/config-file.js";
import { parseT5Config } from "../src/models/t5/config.js";
import { initT5 } from "../src/models/t5/init.js";
import { plainActivationBytes, rematPlan, t5PlainActivationBytes, t5RematPlan } from "../src/train/remat-choice.js";
import type { RematChoice, RematPlan } from "../src/train/remat-choice.js";
import type { EncodedPair } from "../src/train/seq2seq-batching.js";
import { seq2seqObjective } from "../src/train/seq2seq.js";
import type { Seq2seqTrainable } from "../src/train/seq2seq.js";
import { initEncoder, initHead } from "../src/models/bert/init.js";
import type { EncoderConfig } from "../src/models/bert/config.js";
import type { MethodName, PetlMethod } from "../src/petl/method.js";
import { createMethod } from "../src/petl/registry.js";
import type { EncodedExample } from "../src/train/batching.js";
import { classificationObjective, groupLabels } from "../src/train/finetune.js";
import type { Trainable } from "../src/train/finetune.js";
import { AdamW } from "../src/train/optimizer.js";
import { objectiveLossAndGrad, trainStep } from "../src/train/trainer.js";
import type { LossAndGrad, Objective, StepState } from "../src/train/trainer.js";
import { NonFiniteLossError } from "../src/train/trainer.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const MiB = 2 ** 20;

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    method: { type: "string", default: "propetl-adapter" },
    "no-remat": { type: "boolean", default: false },
    remat: { type: "boolean", default: false },
    keep: { type: "string" },
    t5: { type: "boolean", default: false },
    "target-length": { type: "string" },
    vocab: { type: "string", default: "32128" },
    layers: { type: "string", default: "12" },
    hidden: { type: "string", default: "768" },
    heads: { type: "string", default: "12" },
    intermediate: { type: "string", default: "3072" },
  },
});
const batch = Number(positionals[0] ?? 8);
const length = Number(positionals[1] ?? 128);
const steps = Number(a.steps);
const choice: RematChoice = a.remat ? true : a["no-remat"] ? false : "auto";

/** The plan: `--keep M`, else the choice resolved by `resolve` ("auto" or forced). */
function planOf(resolve: (c: RematChoice) => RematPlan): RematPlan {
  return a.keep !== undefined ? { remat: true, keepLayers: Number(a.keep) } : resolve(choice);
}

/** The plan in words. */
function describePlan(plan: RematPlan): string {
  const how = plan.remat ? `remat on, keeping ${plan.keepLayers} layers' residuals` : "remat off (whole-network gradient)";
  return `${how} (${a.keep !== undefined ? "--keep" : choice === "auto" ? "auto" : "forced"})`;
}
const targetLength = Number(a["target-length"] ?? length);

/** Random token ids (no padding: every row is `length` tokens), alternating labels. */
function randomExamples(n: number, len: number, vocab: number, seed: number): EncodedExample[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: n }, (_, index) => {
    const ids = new Int32Array(len);
    ids[0] = 2;
    for (let t = 1; t < len; t++) ids[t] = 5 + (next() % (vocab - 5));
    return { inputIds: ids, tokenTypeIds: new Int32Array(len), label: index % 2, index };
  });
}

/** Random pairs of `len` source and `tlen` target tokens (no padding; both end with EOS = 1). */
function randomPairs(n: number, len: number, tlen: number, vocab: number, seed: number): EncodedPair[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const ids = (k: number): Int32Array => Int32Array.from({ length: k }, (_, t) => (t === k - 1 ? 1 : 2 + (next() % (vocab - 2))));
  return Array.from({ length: n }, (_, index) => ({ inputIds: ids(len), labels: ids(tlen), index }));
}

/**
 * Run `steps` training steps of `batch` examples of `data` each, printing per step the loss,
 * wall and CPU seconds, the load, and the peak live wasm bytes, in all and above what was held
 * before the step, per token (`tokens` per step). Returns the final state.
 */
async function measureSteps<P, D>(
  state0: StepState<P>,
  data: readonly { index: number }[],
  tokens: number,
  ctx: { objective: Objective<P, number[], D>; lossAndGrad: LossAndGrad<P, D>; optimizer: AdamW<P> },
  heap: Awaited<ReturnType<typeof wasmHeapStatsReader>>,
): Promise<StepState<P>> {
  let state = state0;
  for (let s = 0; s < steps; s++) {
    const before = heap({ resetPeak: true });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const out = await trainStep(state, [data.slice(s * batch, (s + 1) * batch).map((e) => e.index)], {
      ...ctx,
      lrScale: 1,
      maxGradNorm: 1,
      where: (what) => new NonFiniteLossError(`step ${s + 1}: ${what}`, s + 1, 1),
    });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    state = out.state;
    const after = heap();
    const peakStep = after.peakLiveBytes - before.liveBytes;
    console.log(
      `step ${s + 1}: loss ${out.loss.toFixed(4)}  ${(ms / 1000).toFixed(1)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, load ${os.loadavg()[0].toFixed(1)})  peak live ${(after.peakLiveBytes / MiB).toFixed(0)} MiB` +
        ` (${(after.peakLiveBytes / tokens / 1e6).toFixed(3)} MB/token; above the ${(before.liveBytes / MiB).toFixed(0)} MiB held before the step: ${(peakStep / MiB).toFixed(0)} MiB, ${(peakStep / tokens / 1e6).toFixed(3)} MB/token)` +
        `  heap ${(after.heapBytes / MiB).toFixed(0)} MiB`,
    );
  }
  return state;
}

/** The `--t5` run: the text-to-text objective on a random T5. */
async function mainT5(): Promise<void> {
  await initEngine({ threads: Number(a.threads) });
  const cfg = parseT5Config(
    { model_type: "t5", vocab_size: Number(a.vocab), d_model: Number(a.hidden), d_kv: Number(a.hidden) / Number(a.heads), d_ff: Number(a.intermediate), num_layers: Number(a.layers), num_decoder_layers: Number(a.layers), num_heads: Number(a.heads), feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 },
    "bench T5",
  );
  const params = initT5(cfg, 1);
  const method = createMethod({ method: a.method as MethodName }, cfg) as PetlMethod<unknown>;
  const trainable: Seq2seqTrainable<unknown> = { method: method.init(cfg, params, 1) };
  const data = randomPairs(batch * steps, length, targetLength, cfg.vocabSize, 7);
  const plan = planOf((c) => t5RematPlan(c, cfg, batch, length, targetLength));
  const objective = seq2seqObjective({ config: cfg, params }, method, data, plan);
  const optimizer = new AdamW<Seq2seqTrainable<unknown>>(trainable, { method: method.groups(trainable.method) }, {
    groups: { module: { lr: 1e-3, weightDecay: 0.1 }, scores: { lr: 1e-2, weightDecay: 0.1 } },
  });
  const lossAndGrad = objectiveLossAndGrad(objective, false);
  const heap = await wasmHeapStatsReader();
  const tokens = batch * (length + targetLength);
  console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; engine threads ${a.threads}; node ${process.version}`);
  console.log(
    `model: random T5, ${cfg.numLayers} + ${cfg.numDecoderLayers} blocks, d_model ${cfg.dModel}, ${cfg.numHeads} heads, d_ff ${cfg.dFf}, vocab ${cfg.vocabSize}; ${a.method}; batch ${batch} x (${length} + ${targetLength}) = ${tokens} tokens; ` +
      `${describePlan(plan)}; whole-network estimate ${(t5PlainActivationBytes(cfg, batch, length, targetLength) / MiB).toFixed(0)} MiB`,
  );
  let state: StepState<Seq2seqTrainable<unknown>> = { params: trainable, opt: optimizer.init(trainable) };
  await blockUntilReady([params, state.params, state.opt.mu, state.opt.nu] as never);
  state = await measureSteps(state, data, tokens, { objective, lossAndGrad, optimizer }, heap);
  tree.dispose(state.params);
  tree.dispose(state.opt.mu);
  tree.dispose(state.opt.nu);
  tree.dispose(params);
  method.dispose();
}

async function main(): Promise<void> {
  await initEngine({ threads: Number(a.threads) });
  const base = readEncoderConfig(path.join(ROOT, "models", "propetl-mini", "config.json")) as EncoderConfig;
  const cfg: EncoderConfig = {
    ...base,
    numLayers: Number(a.layers),
    hiddenSize: Number(a.hidden),
    numHeads: Number(a.heads),
    intermediateSize: Number(a.intermediate),
  };
  const encoder = initEncoder(cfg, 1);
  const method = createMethod({ method: a.method as MethodName }, cfg) as PetlMethod<unknown>;
  const params: Trainable<unknown> = { method: method.init(cfg, encoder, 1), head: initHead(cfg, 2) };
  const data = randomExamples(batch * steps, length, cfg.vocabSize, 7);
  const plan = planOf((c) => rematPlan(c, cfg, batch, length));
  const objective = classificationObjective({ config: cfg, encoder }, method, data, { kind: "classification", numLabels: cfg.numLabels }, { padTokenId: cfg.padTokenId }, plan);
  const optimizer = new AdamW<Trainable<unknown>>(params, groupLabels(method, params), {
    groups: { module: { lr: 1e-3, weightDecay: 0.1 }, scores: { lr: 1e-2, weightDecay: 0.1 }, head: { lr: 1e-3, weightDecay: 0.1 } },
  });
  const lossAndGrad = objectiveLossAndGrad(objective, false);
  const heap = await wasmHeapStatsReader();
  console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; engine threads ${a.threads}; node ${process.version}`);
  console.log(`model: random init, ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numHeads} heads, FFN ${cfg.intermediateSize}, vocab ${cfg.vocabSize}; ${a.method}; batch ${batch} x ${length} = ${batch * length} tokens; ${describePlan(plan)}; whole-network estimate ${(plainActivationBytes(cfg, batch, length) / MiB).toFixed(0)} MiB`);
  let state: StepState<Trainable<unknown>> = { params, opt: optimizer.init(params) };
  // Run the initialisation's pending work, so that "held before the step" is the weights alone.
  await blockUntilReady([encoder, state.params, state.opt.mu, state.opt.nu] as never);
  state = await measureSteps(state, data, batch * length, { objective, lossAndGrad, optimizer }, heap);
  tree.dispose(state.params);
  tree.dispose(state.opt.mu);
  tree.dispose(state.opt.nu);
  tree.dispose(encoder);
  method.dispose();
}

await (a.t5 ? mainT5() : main());
