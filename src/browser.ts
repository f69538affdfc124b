/**
 * propetl in a browser (package.json `exports["."]`, condition "browser"): the platform-free
 * part of the API. Nothing in this module's import graph imports `node:*` (test/browser/
 * bundle.test.ts bundles it with esbuild for the browser and fails on any Node import). Node
 * (`index.ts`) exports all of this too, plus the folder loaders, the runs that write folders,
 * the CLI's pieces and serving.
 *
 * A page:
 *
 *   await initEngine();                                   // WebGPU if there is an adapter, else wasm
 *   const bb = await loadBackboneFromUrl("models/propetl-mini/");
 *   const spam = await loadTaskCheckpointFromUrl("tasks/spam/", { encoderConfig: bb.config });
 *   const c = taskClassifier(bb, spam);
 *   const [p] = await c.predict(["WIN a FREE cruise, reply now"]);
 *
 * Also here: tokenizers from tokenizer.json / vocab text, the models' forward passes, the PETL
 * methods, checkpoint parsing and bytes, predictors, `finetune` / `trainLoop` / `AdamW` /
 * schedules / batching, metrics, storage reports and T5 generation.
 */

// Engine
export { initEngine, engineInfo, describeEngine } from "./engine/engine.js";
export type { Backend, EngineInfo, EngineOptions, GpuAdapterInfo } from "./engine/engine.js";

// Loading from bytes and URLs (the folder loaders' validation)
export { loadBackboneFromBytes, loadBackboneFromUrl } from "./train/backbone-bytes.js";
export type { BackboneBytes, BackboneBytesOptions, BackboneUrlOptions } from "./train/backbone-bytes.js";
export { loadTaskCheckpointFromBytes, loadTaskCheckpointFromUrl } from "./petl/checkpoint-bytes.js";
export type { TaskCheckpointBytes, TaskCheckpointLoadOptions } from "./petl/checkpoint-bytes.js";
export type { FetchLike } from "./io/fetch-bytes.js";
export { parseSafetensors, serializeSafetensors, SafetensorsError } from "./io/safetensors-format.js";
export type { SafetensorsFile, TensorEntry, TensorInput, TensorData, SafetensorsDType } from "./io/safetensors-format.js";

// Data: tasks, the paper's splits, tokenizers
export { getTask, glueTasks, defaultEpochs, GLUE_TASK_NAMES, EPOCHS_BY_SIZE } from "./data/tasks.js";
export type { TaskSpec, TaskKind, FileFormat, FileLayout, GlueTaskName } from "./data/tasks.js";
export { parseExamples, schemaOf, DataFormatError } from "./data/parse-examples.js";
export type { Example, ReadOptions, ReadResult, RowSchema } from "./data/parse-examples.js";
export { makeSplits, LARGE_TASK_VALIDATION_SIZE } from "./data/splits.js";
export type { Splits } from "./data/splits.js";
export { tokenizerFromJson, tokenizerFromFiles, tokenizerFromVocabTxt, TokenizerFileError, TokenizerMismatchError } from "./data/tokenizer-core.js";
export type { Tokenizer, Encoding, TokenizerFiles } from "./data/tokenizer-core.js";

// Metrics
export { accuracy, binaryF1, matthewsCorrelation, pearson, spearman, computeTaskMetrics } from "./metrics/index.js";
export type { MetricName, MainMetric, TaskMetricsResult } from "./metrics/index.js";
export { rouge, rougePair, rougeTokenize, porterStem, corpusBleu, sentenceBleu, bleuFromStatistics, tokenize13a } from "./metrics/index.js";
export type { RougeType, RougeScore, RougeOptions, RougeCorpusResult, BleuOptions, BleuResult, BleuStatistics, BleuTokenizer, BleuSmoothMethod } from "./metrics/index.js";

// Models
export { backboneFromFiles, modelFromFiles, modelFilesFromBytes, exportHfTensors, ModelLoadError } from "./models/load-tensors.js";
export type { LoadedBackbone, LoadedModel, LoadOptions, ModelFiles } from "./models/load-tensors.js";
export { ARCHITECTURES, MODEL_TYPES, architectureFor, architectureOf, parseModelConfig, resolveModelType } from "./models/registry.js";
export type { ResolvedConfig } from "./models/registry.js";
export type { Architecture, BackboneParams, ClassifierConfig, ModelConfig, StackShape } from "./models/architecture.js";
export { HOOK_SITES, STACKS, siteName } from "./models/hooks.js";
export type { HookSite, LayerHooks, ModelHooks, Stack, SublayerContext } from "./models/hooks.js";
export { parseEncoderConfig, encoderConfigToJson, ConfigError } from "./models/bert/config.js";
export { makeBatch, disposeBatch, encode, classify, sequenceLoss } from "./models/bert/encoder.js";
export { encodeAsync } from "./models/bert/encode-async.js";
export type { HostBatch, DeviceBatch } from "./models/bert/encoder.js";
export { initHead } from "./models/bert/init.js";
export type { EncoderParams, HeadParams } from "./models/bert/params.js";
export type { EncoderConfig } from "./models/bert/config.js";
export { parseT5Config, t5ConfigToJson } from "./models/t5/config.js";
export type { T5Config } from "./models/t5/config.js";
export { makeT5Batch, disposeT5Batch, shiftRight, makeT5Labels, disposeT5Labels, IGNORE_LABEL } from "./models/t5/batch.js";
export type { T5HostBatch, T5Batch, T5Labels } from "./models/t5/batch.js";
export { t5Encode, t5EncodeAsync, t5Decode, t5Forward, t5LmLogits, t5Loss } from "./models/t5/model.js";
export type { T5Params } from "./models/t5/params.js";

// PETL methods, task checkpoints, bit-level storage
export { createMethod, resolveMethodConfig } from "./petl/registry.js";
export { METHODS, METHOD_NAMES, METHOD_DEFAULTS, MethodConfigError, defaultLearningRates } from "./petl/methods.js";
export type { MethodRow } from "./petl/methods.js";
export type { Method, PetlMethod, MethodConfig, MethodName, ParamGroup, HookContext } from "./petl/method.js";
export { checkpointFromParts, checkpointBytes, checkpointHooks, parseAdapterConfig, CheckpointError } from "./petl/checkpoint-format.js";
export type { CheckpointModel, LoadedCheckpoint, LoadCheckpointOptions, AdapterConfigFile, SaveCheckpointOptions, CheckpointSources } from "./petl/checkpoint-format.js";
export { computeStorage, formatStorageReport, compareStorage, modelDimsFromConfig, countBackboneParams } from "./petl/storage.js";
export type { StorageReport, StorageOptions, ModelDims } from "./petl/storage.js";
export { sharedAndTaskParts, formatSharedAndTaskParts } from "./petl/storage.js";
export type { SharedAndTaskParts } from "./petl/storage.js";

// Training
export { resolveRemat, rematPlan, t5RematPlan, plainActivationBytes, REMAT_AUTO_BYTES, PLAIN_UNITS_PER_TOKEN_LAYER, KEPT_UNITS_PER_TOKEN_LAYER, REMAT_WORK_UNITS_PER_TOKEN, resolveT5Remat, t5PlainActivationBytes, t5EncoderUnit, t5DecoderUnit, T5_PLAIN_UNITS } from "./train/remat-choice.js";
export type { RematChoice, RematPlan, T5Widths } from "./train/remat-choice.js";
export { finetune, evaluateTask, predictLogits, scoreLogits, classificationObjective } from "./train/finetune.js";
export type { FinetuneOptions, FinetuneHyper, TaskInfo, Trainable, Backbone } from "./train/finetune.js";
export { trainLoop, trainStep, NonFiniteLossError, TrainingInterrupted, ResumeMismatchError } from "./train/trainer.js";
export type { Objective, EvalResult, TrainEvent, TrainLoopOptions, TrainLoopResult } from "./train/trainer.js";
export type { EvalRecord, TrainStateStore } from "./train/train-state-store.js";
export { AdamW, globalNorm, clipCoefficient } from "./train/optimizer.js";
export type { AdamWOptions, AdamWState, GroupHyper } from "./train/optimizer.js";
export { linearWarmupDecay, warmupStepsFor, constantSchedule } from "./train/schedule.js";
export type { Schedule } from "./train/schedule.js";
export { encodeExamples, padBatch, planBatches, evalBatches } from "./train/batching.js";
export type { EncodedExample, PaddedBatch } from "./train/batching.js";
export { planMultiTaskBatches, temperatureProbabilities, DEFAULT_TEMPERATURE } from "./train/multitask.js";
export type { TaskBatch } from "./train/multitask.js";
export { TRAIN_DEFAULTS, resolveMaxLength } from "./train/hyper-defaults.js";

// Prediction
export { taskPredictor, taskClassifier, predictionBackboneOf, predictionOf, encodeForPrediction } from "./train/task-predictor.js";
export type { PredictionBackbone, TaskPredictor, TaskClassifier, TaskClassifierOptions, ClassifierInput, Prediction } from "./train/task-predictor.js";

// Text-to-text generation (T5)
export { encodeSources, generateForSources, resolveGenerateOptions } from "./models/t5/generate-texts.js";
export type { GenerateSettings, EncodedSources } from "./models/t5/generate-texts.js";
export { makeT5EncoderBatch, disposeT5EncoderBatch } from "./models/t5/batch.js";
export type { T5EncoderBatch } from "./models/t5/batch.js";
export { startT5Decoding, t5DecodeStep, reorderT5DecoderCache, disposeT5DecoderCache } from "./models/t5/decode-cache.js";
export type { T5DecoderCache } from "./models/t5/decode-cache.js";
export { t5Generate } from "./models/t5/generate.js";
export type { T5GenerateSource, T5GenerateOptions, T5GenerateResult } from "./models/t5/generate.js";
export { parseGenerationDefaults, GenerationConfigError, GENERATION_CONFIG_FILE, HF_DEFAULT_MAX_LENGTH } from "./models/generation-defaults.js";
export type { GenerationDefaults } from "./models/generation-defaults.js";
