// A short ProPETL-adapter fine-tuning on a handful of examples, from a backbone URL to the trained
// task's two files as bytes. The demo's worker runs it in the browser; the demo test runs the same
// function in Node (where "propetl" is the Node entry) to compare.
import { createMethod, encodeExamples, finetune, initHead, checkpointBytes, loadBackboneFromUrl } from "propetl";
import { tree } from "propetl/engine";

/** The fine-tuning settings of the demo (one place). */
export const DEMO_FINETUNE = { maxLength: 64, batchSize: 16, lr: 2e-3, maskLr: 3e-2, seed: 1 };

/**
 * Train `steps` optimiser steps on `examples` ({ text, label }, label an index into `labels`),
 * reporting each step to `onStep({ step, totalSteps, loss })`.
 * Returns the losses and the trained task's files ({ adapterConfig, weights } bytes).
 */
export async function fineTuneSteps({ modelUrl, examples, labels, steps, fetch, onStep = () => {} }) {
  const bb = await loadBackboneFromUrl(modelUrl, fetch ? { fetch } : {});
  try {
    const method = createMethod({ method: "propetl-adapter" });
    const train = encodeExamples(bb.tokenizer, examples.map((e, i) => ({ text: e.text, label: e.label, line: i + 1 })), { maxLength: DEMO_FINETUNE.maxLength });
    const epochs = Math.ceil((steps * DEMO_FINETUNE.batchSize) / train.length);
    const losses = [];
    const r = await finetune({
      backbone: { config: bb.config, encoder: bb.encoder },
      method,
      head: initHead({ ...bb.config, numLabels: labels.length }, DEMO_FINETUNE.seed),
      task: { kind: "classification", numLabels: labels.length, metrics: ["f1", "accuracy"], mainMetric: "f1" },
      train,
      validation: [],
      padTokenId: bb.padTokenId,
      hyper: {
        epochs,
        maxSteps: steps,
        batchSize: DEMO_FINETUNE.batchSize,
        gradAccumSteps: 1,
        lr: DEMO_FINETUNE.lr,
        maskLr: DEMO_FINETUNE.maskLr,
        weightDecay: 0,
        warmupRatio: 0,
        maxGradNorm: 1,
        seed: DEMO_FINETUNE.seed,
        evalBatchSize: 32,
      },
      onEvent: (e) => {
        if (e.type !== "step") return;
        losses.push(e.loss);
        onStep({ step: e.step, totalSteps: e.totalSteps, loss: e.loss });
      },
    });
    const files = await checkpointBytes({ method, params: r.params.method, encoderConfig: bb.config, heads: [r.params.head], labelNames: [labels] });
    tree.dispose(r.params);
    if (r.best) tree.dispose(r.best);
    return { losses, files };
  } finally {
    bb.dispose();
  }
}
