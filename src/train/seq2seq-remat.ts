/**
 * T5's teacher-forced loss as an encoder–decoder for per-block rematerialisation
 * (train/remat.ts, `rematEncoderDecoderValueAndGrad`): the same blocks, biases and head as
 * `seq2seqLoss` (models/t5/model.ts), with each block's hooks built alone
 * (`HookContext.onlyLayers`: encoder block i is layer i, decoder block j is layer
 * numLayers + j, the order of `layerAddresses`). The LM head and loss run over chunks of target
 * positions (`headChunkRows`): with T5's 32k vocabulary the whole batch's logits, their
 * log-softmax and cotangents were the largest term of a rematerialised step.
 */
import type { JArray } from "../engine/jax.js";
import type { T5Batch } from "../models/t5/batch.js";
import type { T5Config } from "../models/t5/config.js";
import { embed, t5DecoderBias, t5DecoderBlock, t5DecoderOutput, t5EncoderBias, t5EncoderBlock, t5EncoderOutput, t5LmLogits, t5Loss } from "../models/t5/model.js";
import type { T5Params } from "../models/t5/params.js";
import type { Method } from "../petl/method.js";
import type { RematEncoderDecoder } from "./remat.js";

/** The frozen T5 and a padded batch, as `seq2seq.ts` has them. */
export interface Seq2seqRematInputs {
  /** The frozen backbone (borrowed). */
  backbone: { config: T5Config; params: T5Params };
  /** The batch (borrowed). */
  batch: T5Batch;
  /** int32 [B*T] label ids and float32 [B*T] weights (borrowed). */
  labels: { targets: JArray; weights: JArray };
  /** Target positions per chunk of the LM head and loss (default `headChunkRows`). */
  headRows?: number;
}

/** Bytes of logits one chunk of the LM head may hold: 16 MiB (its loss and cotangent hold a small multiple). */
export const HEAD_CHUNK_BYTES = 16 * 2 ** 20;

/** Target positions per chunk of the LM head: `HEAD_CHUNK_BYTES` of float32 logits, at least one. */
export function headChunkRows(vocabSize: number): number {
  return Math.max(1, Math.floor(HEAD_CHUNK_BYTES / (4 * vocabSize)));
}

/**
 * The T5 loss of `inputs` as a `RematEncoderDecoder` over the method's trainable tree. Call
 * `dispose` after the gradient (it frees the stacks' attention biases). Not for full
 * fine-tuning (its backbone is the trainable tree: `method.encoderOverride`).
 */
export function seq2seqRematStack<T>(method: Method<T>, inputs: Seq2seqRematInputs): RematEncoderDecoder<T> & { dispose(): void } {
  if (method.encoderOverride) throw new Error("seq2seqRematStack: full fine-tuning trains the backbone itself; it takes the whole-network gradient");
  const { config: cfg, params: p } = inputs.backbone;
  const { batch, labels } = inputs;
  const E = cfg.numLayers;
  const hooksFor = (m: T, layer: number) => method.hooks(m, { batchSize: batch.batchSize, training: true, onlyLayers: [layer] });
  const encBias = t5EncoderBias(cfg, p, batch);
  const decBias = t5DecoderBias(cfg, p, batch);
  return {
    encoderLayers: E,
    decoderLayers: cfg.numDecoderLayers,
    encoderInput: () => embed(cfg, p, batch.inputIds, batch.batchSize, batch.encoderLength),
    encoderLayer: (i, x, m) => t5EncoderBlock(cfg, p, i, x, encBias, hooksFor(m, i)),
    encoderOutput: (h) => t5EncoderOutput(cfg, p, h),
    decoderInput: () => embed(cfg, p, batch.decoderInputIds, batch.batchSize, batch.decoderLength),
    decoderLayer: (j, y, enc, m) => t5DecoderBlock(cfg, p, j, y, enc, decBias, hooksFor(m, E + j)),
    loss: (h) => t5Loss(cfg, t5LmLogits(cfg, p, t5DecoderOutput(cfg, p, h)), labels),
    lossRows: {
      rows: batch.batchSize * batch.decoderLength,
      size: inputs.headRows ?? headChunkRows(cfg.vocabSize),
      loss: (x, start) => {
        const n = x.shape[0];
        const part = { targets: labels.targets.ref.slice([start, start + n]), weights: labels.weights.ref.slice([start, start + n]) };
        try {
          return t5Loss(cfg, t5LmLogits(cfg, p, t5DecoderOutput(cfg, p, x)), part);
        } finally {
          part.targets.dispose();
          part.weights.dispose();
        }
      },
    },
    dispose: () => {
      encBias.dispose();
      decBias.dispose();
    },
  };
}
