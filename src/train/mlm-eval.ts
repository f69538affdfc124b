/**
 * Held-out masked-language-model evaluation: masked-token cross-entropy and top-1 accuracy on
 * a fixed, seeded masking of given texts, so that evaluations of different checkpoints are
 * comparable (same texts, same masked positions).
 */
import { np } from "../engine/jax.js";
import type { EncoderConfig } from "../models/bert/config.js";
import { disposeBatch, makeBatch } from "../models/bert/encoder.js";
import { encodeAsync } from "../models/bert/encode-async.js";
import { maskTokens, mlmLogits } from "../models/bert/mlm.js";
import type { MlmHeadParams } from "../models/bert/mlm.js";
import type { EncoderParams } from "../models/bert/params.js";
import type { Tokenizer } from "../data/tokenizer.js";
import { mulberry32 } from "../data/splits.js";

/** Options of `evaluateMaskedLm`. */
export interface MlmEvalOptions {
  /** Number of batches to evaluate (texts are reused cyclically). Default 8. */
  batches?: number;
  /** Sequences per batch. Default 16. */
  batchSize?: number;
  /** Tokens per sequence. Default 128. */
  seqLen?: number;
  /** Seed of the masking; keep it fixed to compare checkpoints. Default 123. */
  seed?: number;
}

/** What `evaluateMaskedLm` returns. */
export interface MlmEvalResult {
  /** Tokens masked (and scored) over all batches. */
  maskedTokens: number;
  /** Mean cross-entropy (nats) over the masked tokens. */
  loss: number;
  /** Fraction of masked tokens whose top-1 prediction is the original token. */
  accuracy: number;
}

/** The special ids that masking never selects. */
export function specialTokenIds(tok: Tokenizer): Set<number> {
  return new Set([tok.padTokenId, tok.clsTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId]);
}

/** Evaluates the MLM head on `texts`; parameters are borrowed. */
export async function evaluateMaskedLm(
  cfg: EncoderConfig, encoder: EncoderParams, head: MlmHeadParams, tok: Tokenizer, texts: readonly string[], opts: MlmEvalOptions = {},
): Promise<MlmEvalResult> {
  if (texts.length === 0) throw new Error("evaluateMaskedLm: no texts to evaluate on");
  const batches = opts.batches ?? 8, B = opts.batchSize ?? 16, T = opts.seqLen ?? 128;
  const rng = mulberry32(opts.seed ?? 123);
  const special = specialTokenIds(tok);
  const V = cfg.vocabSize;
  let correct = 0, total = 0, nll = 0;
  for (let bi = 0; bi < batches; bi++) {
    const ids = new Int32Array(B * T).fill(tok.padTokenId), mask = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const e = tok.encode(texts[(bi * B + b) % texts.length], undefined, { maxLength: T });
      e.inputIds.forEach((id, i) => { ids[b * T + i] = id; mask[b * T + i] = 1; });
    }
    const m = maskTokens(ids, mask, { maskTokenId: tok.maskTokenId, vocabSize: V, specialIds: special, random: () => rng() / 2 ** 32 });
    const batch = makeBatch(cfg, { batchSize: B, seqLen: T, inputIds: m.inputIds, attentionMask: mask, tokenTypeIds: new Int32Array(B * T) });
    const pos = np.array(m.positions, { dtype: np.int32 });
    try {
      const logits = (await mlmLogits(cfg, encoder, head, await encodeAsync(cfg, encoder, batch), pos).data()) as Float32Array;
      m.targets.forEach((t, j) => {
        const row = j * V;
        let best = 0, mx = -Infinity;
        for (let v = 0; v < V; v++) if (logits[row + v] > mx) { mx = logits[row + v]; best = v; }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(logits[row + v] - mx);
        nll += Math.log(z) + mx - logits[row + t];
        if (best === t) correct++;
        total++;
      });
    } finally {
      pos.dispose();
      disposeBatch(batch);
    }
  }
  return { maskedTokens: total, loss: nll / total, accuracy: correct / total };
}
