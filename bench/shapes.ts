/** Benchmark shapes shared by the jax-js and PyTorch sides (bench/torch_bench.py mirrors them). */
export const LAYER_BENCH = { hidden: 768, heads: 12, ffn: 3072, batch: 8, seq: 128, bottleneck: 64 } as const;
export const STEP_BENCH = { hidden: 256, heads: 4, ffn: 1024, layers: 4, batch: 32, seq: 128, bottleneck: 64, vocab: 8192 } as const;
