/**
 * The GPU benchmark's shape (bench/gpu/torch_bert_base.py mirrors it): BERT-base (12 layers,
 * hidden 768, 12 heads, FFN 3072, vocabulary 30522) with ProPETL-adapter (bottleneck 64, k 0.5)
 * at batch 32 × 128, as issue 15 asks. $GPU_BENCH_SHAPE (JSON, any subset of the fields)
 * overrides it, e.g. a tiny shape to check that the script runs on Mesa's lavapipe.
 */
export interface GpuBenchShape {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  vocab: number;
  batch: number;
  seq: number;
  bottleneck: number;
  k: number;
}

/** BERT-base with ProPETL-adapter at batch 32 × 128. */
export const BERT_BASE_32x128: GpuBenchShape = { layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, batch: 32, seq: 128, bottleneck: 64, k: 0.5 };

/** The shape in force: the default with $GPU_BENCH_SHAPE's fields over it (checked). */
export function gpuBenchShape(env: string | undefined = process.env.GPU_BENCH_SHAPE): GpuBenchShape {
  if (env === undefined || env === "") return { ...BERT_BASE_32x128 };
  const given = JSON.parse(env) as Record<string, unknown>;
  const out: GpuBenchShape = { ...BERT_BASE_32x128 };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in out)) throw new Error(`GPU_BENCH_SHAPE: unknown field "${key}" (fields: ${Object.keys(out).join(", ")})`);
    if (typeof value !== "number" || !(value > 0)) throw new Error(`GPU_BENCH_SHAPE: "${key}" must be a positive number, got ${JSON.stringify(value)}`);
    out[key as keyof GpuBenchShape] = value;
  }
  if (out.hidden % out.heads !== 0) throw new Error(`GPU_BENCH_SHAPE: hidden ${out.hidden} is not a multiple of heads ${out.heads}`);
  return out;
}
