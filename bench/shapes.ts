/** Benchmark shapes shared by the jax-js and PyTorch sides (bench/torch_bench.py mirrors them). */
export const LAYER_BENCH = { hidden: 768, heads: 12, ffn: 3072, batch: 8, seq: 128, bottleneck: 64 } as const;
export const STEP_BENCH = { hidden: 256, heads: 4, ffn: 1024, layers: 4, batch: 32, seq: 128, bottleneck: 64, vocab: 8192 } as const;
/**
 * BERT-base (12 layers, 768, 12 heads, FFN 3072, BERT's vocabulary) with ProPETL-adapter
 * (bottleneck 64, k 0.5) on a frozen backbone, one training step at batch 8 × 128 (issue 15).
 */
export const BERT_STEP_BENCH = { hidden: 768, heads: 12, ffn: 3072, layers: 12, batch: 8, seq: 128, bottleneck: 64, k: 0.5, vocab: 30522 } as const;
/** The benchmark's case names, in the order both sides run them. */
export const BENCH_CASES = ["layer_forward", "layer_forward_backward_adapter", "train_step_4L_h256", "train_step_bert_base_8x128"] as const;
/** The cases in $BENCH_CASES (comma-separated; all when unset), checked against `BENCH_CASES`. */
export function benchCases(env: string | undefined = process.env.BENCH_CASES): string[] {
  if (env === undefined || env === "") return [...BENCH_CASES];
  const cases = env.split(",");
  for (const c of cases) if (!(BENCH_CASES as readonly string[]).includes(c)) throw new Error(`BENCH_CASES: unknown case "${c}" (cases: ${BENCH_CASES.join(", ")})`);
  return cases;
}
