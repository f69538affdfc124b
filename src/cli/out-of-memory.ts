import type { RematChoice } from "../train/remat-choice.js";

/**
 * What to tell the user when a training step does not fit the wasm engine's 4 GiB heap: the
 * step's size, and the flags that shrink it while keeping the effective batch.
 */
export interface StepSize {
  batchSize: number;
  gradAccumSteps: number;
  maxLength: number;
  numLayers: number;
  hiddenSize: number;
  /** The flag that sets the length (default "--max-length"; pretraining's is "--seq-len"). */
  lengthFlag?: string;
  /** Trainable parameters of the PETL module and the backbone's, when known: a module as large as the backbone is the likelier cause. */
  moduleParams?: number;
  backboneParams?: number;
  /** The run's rematerialisation choice, for commands that have `--remat` (absent for those that do not); unless it is `true`, the advice names `--remat`. */
  remat?: RematChoice;
}

/** The advice to rematerialise, for a run that did not force it on. */
const REMAT_HINT =
  "--remat (recompute each layer's activations in the backward pass instead of keeping them: the least memory, for about 1.5× the step time; \"auto\" recomputes only the layers whose activations would not fit in an estimated 2 GiB)";

export function outOfMemoryMessage(s: StepSize): string {
  const tokens = s.batchSize * s.maxLength;
  if (s.moduleParams !== undefined && s.backboneParams !== undefined && s.moduleParams > s.backboneParams / 2) {
    const n = (x: number): string => Math.round(x).toLocaleString("en-US");
    return (
      `out of memory: the wasm engine's heap is capped at 4 GiB, and the method's module has ${n(s.moduleParams)} parameters, ` +
      `${(s.moduleParams / s.backboneParams).toFixed(1)}× the backbone's ${n(s.backboneParams)}: check its size flags (--bottleneck, --rank, --prefix-length, --prefix-hidden); ` +
      "PETL modules are normally well under 1% of the backbone"
    );
  }
  const step = `a micro-batch of ${s.batchSize} × ${s.maxLength} tokens on a ${s.numLayers}-layer, hidden-${s.hiddenSize} model`;
  const hints: string[] = [];
  if (s.batchSize > 1) {
    const f = [4, 2].find((d) => s.batchSize % d === 0 && s.batchSize > d) ?? 2;
    const smaller = Math.floor(s.batchSize / f);
    const effective = smaller * f * s.gradAccumSteps;
    const same = effective === s.batchSize * s.gradAccumSteps;
    hints.push(`--batch-size ${smaller} --grad-accum ${s.gradAccumSteps * f} (${same ? "the same" : "an"} effective batch of ${effective})`);
  }
  if (s.maxLength > 64) hints.push(`a smaller ${s.lengthFlag ?? "--max-length"} (now ${s.maxLength})`);
  if (s.remat !== undefined && s.remat !== true) hints.push(REMAT_HINT);
  return (
    `out of memory: the wasm engine's heap is capped at 4 GiB and ${step} (${tokens.toLocaleString("en-US")} tokens) needs more. ` +
    (hints.length ? `Try ${hints.join(", or ")}.` : "")
  ).trimEnd();
}

/** The same for a text-to-text (T5) step, whose size is a batch of sources and targets. */
export function seq2seqOutOfMemoryMessage(s: { tasks: readonly string[]; batchSize: number; maxSourceLength: number; maxTargetLength: number; remat: RematChoice }): string {
  return (
    `out of memory (the 4 GiB wasm heap) training ${s.tasks.join(", ")} with batch ${s.batchSize}, sources up to ${s.maxSourceLength} ` +
    `and targets up to ${s.maxTargetLength} tokens: lower --batch-size (with --grad-accum to keep the effective batch) or the lengths` +
    (s.remat === true ? "" : `, or use ${REMAT_HINT}`)
  );
}
