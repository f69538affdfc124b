/**
 * Random BERT-shaped parameters, batches and the timing loop shared by the jax-js benchmarks
 * (bench/layer-bench.ts, bench/gpu/bert-base.ts). Parameters are N(0, 0.02²) from a counter seed,
 * LayerNorms identity; token ids are a fixed pseudo-random pattern.
 */
import { np, nn, random } from "../src/engine/jax.js";
import type { JArray } from "../src/engine/jax.js";
import type { EncoderConfig } from "../src/models/bert/config.js";
import { HIDDEN_ACTS, linear } from "../src/models/layers.js";
import type { HiddenAct } from "../src/models/layers.js";
import type { LayerHooks } from "../src/models/hooks.js";
import type { EncoderLayerParams, EncoderParams, Linear } from "../src/models/bert/params.js";

let seed = 1;
/** N(0, scale²) of `shape`, each call with the next seed. */
export const rnd = (shape: number[], scale = 0.02): JArray => random.normal(random.key(seed++), shape).mul(scale);
/** A random linear layer from `i` to `o` features. */
export const lin = (i: number, o: number): Linear => ({ w: rnd([o, i]), b: rnd([o]) });
/** An identity LayerNorm of width `d`. */
export const ln = (d: number): { g: JArray; b: JArray } => ({ g: np.ones([d]), b: np.zeros([d]) });

/** One random encoder layer of width H with FFN width F. */
export function layerParams(H: number, F: number): EncoderLayerParams {
  return { query: lin(H, H), key: lin(H, H), value: lin(H, H), attnOut: lin(H, H), attnLn: ln(H), inter: lin(H, F), out: lin(F, H), outLn: ln(H) };
}

/**
 * A BERT config of these sizes (exact GELU, 2 labels, positions = seq). $BENCH_ACT ("gelu_new"
 * or "relu") swaps the activation, to measure what exact GELU costs; PyTorch's side stays exact.
 */
export function config(H: number, heads: number, F: number, L: number, vocab: number, seq: number): EncoderConfig {
  const act = process.env.BENCH_ACT ?? "gelu";
  if (!(HIDDEN_ACTS as readonly string[]).includes(act)) throw new Error(`BENCH_ACT: one of ${HIDDEN_ACTS.join(", ")}, got "${act}"`);
  return { modelType: "bert", vocabSize: vocab, hiddenSize: H, numLayers: L, numHeads: heads, intermediateSize: F, hiddenAct: act as HiddenAct, layerNormEps: 1e-12, maxPositions: seq, typeVocabSize: 2, padTokenId: 0, numLabels: 2 };
}

/** A random encoder (embeddings and layers) for `cfg`. */
export function encoderParams(cfg: EncoderConfig): EncoderParams {
  const { hiddenSize: H, intermediateSize: F, numLayers: L, vocabSize: V, maxPositions: T } = cfg;
  return {
    embeddings: { word: rnd([V, H]), position: rnd([T, H]), tokenType: rnd([2, H]), ln: ln(H) },
    layers: Array.from({ length: L }, () => layerParams(H, F)),
  };
}

/** A plain bottleneck adapter's weights. */
export type Adapter = { down: Linear; up: Linear };
/** The adapter added to the FFN output: h + up(ReLU(down(h))) (backbone frozen). */
export const adapterHook = (a: Adapter): LayerHooks => ({
  ffnOutput: (h) => h.ref.add(linear(a.up, nn.relu(linear(a.down, h)))),
});

/** A host batch of B × T tokens, all attended, token type 0. */
export function hostBatch(B: number, T: number, vocab: number) {
  const ids = new Int32Array(B * T);
  for (let i = 0; i < ids.length; i++) ids[i] = 1 + ((i * 7919) % (vocab - 1));
  return { batchSize: B, seqLen: T, inputIds: ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) };
}

/**
 * Run `fn` twice untimed (kernel compilation), then `reps` times, and print one JSON line:
 * {engine: "jax-js", case, median_ms, min_ms, cpu_ms, ...extra}; cpu_ms is the median CPU time
 * of the process (all its threads, workers included) per run, which other load on a shared
 * machine inflates less than the wall time. (Node only: `process.cpuUsage`.)
 */
export async function time(label: string, reps: number, fn: () => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  await fn();
  await fn();
  const ts: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  ts.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  console.log(JSON.stringify({ engine: "jax-js", case: label, median_ms: ts[Math.floor(ts.length / 2)], min_ms: ts[0], cpu_ms: cpu[Math.floor(cpu.length / 2)], ...extra }));
}
