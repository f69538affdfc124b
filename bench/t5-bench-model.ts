/** The random t5-small-shaped model and padded source batch that the T5 generation benchmarks share. */
import { parseT5Config } from "../src/models/t5/config.js";
import type { T5Config } from "../src/models/t5/config.js";
import { initT5 } from "../src/models/t5/init.js";

/** t5-small's shape (v1.0: ReLU FFN, tied embeddings), randomly initialised with seed 1. */
export function t5SmallShaped(): { cfg: T5Config; params: ReturnType<typeof initT5> } {
  const cfg = parseT5Config(
    { model_type: "t5", vocab_size: 32128, d_model: 512, d_kv: 64, d_ff: 2048, num_layers: 6, num_heads: 8, feed_forward_proj: "relu", tie_word_embeddings: true, pad_token_id: 0, eos_token_id: 1, decoder_start_token_id: 0 },
    "bench config",
  );
  return { cfg, params: initT5(cfg, 1) };
}

/** B sources padded to S tokens, row r 4r tokens shorter than S, each ending in EOS (id 1). */
export function paddedSources(B: number, S: number): { batchSize: number; encoderLength: number; inputIds: Int32Array; attentionMask: Int32Array } {
  const inputIds = new Int32Array(B * S);
  const attentionMask = new Int32Array(B * S);
  for (let r = 0; r < B; r++) {
    const len = S - 4 * r; // rows of different lengths
    for (let t = 0; t < len; t++) {
      inputIds[r * S + t] = t === len - 1 ? 1 : 2 + ((r * 131 + t * 17) % 32000);
      attentionMask[r * S + t] = 1;
    }
  }
  return { batchSize: B, encoderLength: S, inputIds, attentionMask };
}
