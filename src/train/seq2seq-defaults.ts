/**
 * Defaults of text-to-text training (`propetl train` on a T5 task), in one place for the CLI,
 * its help and library users; in the style of Hugging Face's run_translation /
 * run_summarization scripts. No imports: help.ts quotes them without loading the engine.
 */
export const SEQ2SEQ_DEFAULTS = {
  /** Source tokens incl. the task prefix and EOS. */
  maxSourceLength: 128,
  /** Target tokens incl. EOS; also the default generation limit (max new tokens). */
  maxTargetLength: 128,
  /** Beams when generating for validation and test (1 = greedy). */
  numBeams: 1,
  /** Examples per step: smaller than classification's, since sources and targets are both padded. */
  batchSize: 16,
  /** Epochs when the command line does not say. */
  epochs: 3,
} as const;
