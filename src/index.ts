/**
 * propetl: ProPETL ("One Network, Many Masks", ACL 2023) in TypeScript.
 *
 * The public API, by layer. The common path:
 *
 * ```ts
 * await initEngine();
 * const task = getTask("rte");
 * await trainTask({ modelDir, task, splits: (seed) => ..., method: { method: "propetl-adapter" },
 *                   hyper, seeds: [42], outputDir, maxLength: 128 });
 * const p = await loadPredictor(modelDir, outputDir);
 * ```
 *
 * Lower levels: `finetune` (one run on encoded examples), `trainLoop` (any objective, e.g.
 * MLM pretraining), `AdamW`, schedules and batching.
 *
 * This is the Node entry. Browsers get `browser.ts` (package.json `exports` condition
 * "browser"): the platform-free part of this API, every name of which this entry exports too.
 * The engine's arrays and functions come from the `propetl/engine` entry.
 *
 * @module propetl
 */

// Engine
export { initEngine, engineInfo, describeEngine } from "./engine/engine.js";
export type { Backend, EngineInfo, EngineOptions, GpuAdapterInfo } from "./engine/engine.js";

// Loading from bytes and URLs (as in the browser entry, src/browser.ts; the folder loaders' validation)
export { loadBackboneFromBytes, loadBackboneFromUrl } from "./train/backbone-bytes.js";
export type { BackboneBytes, BackboneBytesOptions, BackboneUrlOptions } from "./train/backbone-bytes.js";
export { loadTaskCheckpointFromBytes, loadTaskCheckpointFromUrl } from "./petl/checkpoint-bytes.js";
export type { TaskCheckpointBytes, TaskCheckpointLoadOptions } from "./petl/checkpoint-bytes.js";
export type { FetchLike } from "./io/fetch-bytes.js";
export { parseSafetensors, serializeSafetensors, SafetensorsError } from "./io/safetensors-format.js";
export type { SafetensorsFile, TensorEntry, TensorInput, TensorData, SafetensorsDType } from "./io/safetensors-format.js";
export { backboneFromFiles, modelFromFiles, modelFilesFromBytes, exportHfTensors } from "./models/load-tensors.js";
export type { ModelFiles } from "./models/load-tensors.js";
export { initHead } from "./models/bert/init.js";
export { checkpointFromParts, checkpointBytes, parseAdapterConfig } from "./petl/checkpoint-format.js";
export type { LoadCheckpointOptions, AdapterConfigFile, SaveCheckpointOptions, CheckpointSources } from "./petl/checkpoint-format.js";
export { taskClassifier, predictionBackboneOf } from "./train/task-predictor.js";
export type { TaskClassifier, TaskClassifierOptions, ClassifierInput } from "./train/task-predictor.js";
export { parseGenerationDefaults } from "./models/generation-defaults.js";
export type { TrainStateStore } from "./train/train-state-store.js";
export { trainStateFile } from "./train/train-state.js";

// Data: tasks, readers, the paper's splits, tokenizers
export { getTask, glueTasks, defaultEpochs, GLUE_TASK_NAMES, EPOCHS_BY_SIZE, SMALL_TASK_THRESHOLD } from "./data/tasks.js";
export type { TaskSpec, TaskKind, FileFormat, FileLayout, GlueTaskName, SizeClass, ColumnRef, TaskFile } from "./data/tasks.js";
export { customTask } from "./data/custom-task.js";
export type { CustomTaskOptions } from "./data/custom-task.js";
export { readTaskFile, readTaskSplit, readExamples, parseExamples, schemaOf, taskSplitPath, DataFormatError } from "./data/read-examples.js";
export type { Example, ReadOptions, ReadResult, RowSchema } from "./data/read-examples.js";
export type { TextEncoding } from "./io/text-lines.js";
export { makeSplits, LARGE_TASK_VALIDATION_SIZE } from "./data/splits.js";
export type { Splits, SplitOptions } from "./data/splits.js";
export { loadTokenizer, tokenizerFromFiles, tokenizerFromVocabTxt, tokenizerFromJson, writeTokenizerFiles, TokenizerFileError, TokenizerMismatchError } from "./data/tokenizer.js";
export type { Tokenizer, Encoding, TokenizerFiles, EncodeOptions, TruncationStrategy } from "./data/tokenizer.js";
export { builtinTaskNames, loadBuiltinSplits, resolveBuiltinTask } from "./data/builtin-tasks.js";
export type { BuiltinTask, BuiltinTaskName, BuiltinSplitProtocol, BuiltinSplits } from "./data/builtin-tasks.js";

// Metrics
export { accuracy, binaryF1, matthewsCorrelation, pearson, spearman, computeTaskMetrics } from "./metrics/index.js";
export type { MetricName, MainMetric, TaskMetricsResult } from "./metrics/index.js";
export type { NumArray } from "./metrics/validate.js";
export { rouge, rougePair, rougeTokenize, porterStem, corpusBleu, sentenceBleu, bleuFromStatistics, tokenize13a } from "./metrics/index.js";
export type { RougeType, RougeScore, RougeOptions, RougeCorpusResult, BleuOptions, BleuResult, BleuStatistics, BleuTokenizer, BleuSmoothMethod } from "./metrics/index.js";

// Models
export { loadBackboneDir, loadModelDir, saveModelWeights, ModelLoadError } from "./models/load.js";
export type { LoadedBackbone, LoadedModel, LoadOptions } from "./models/load.js";
export { loadMlmModelDir } from "./models/bert/mlm.js";
export type { LoadedMlmModel, MlmHeadParams } from "./models/bert/mlm.js";
export { ARCHITECTURES, MODEL_TYPES, architectureFor, architectureOf, parseModelConfig, resolveModelType } from "./models/registry.js";
export { readModelConfig, readEncoderConfig } from "./models/config-file.js";
export type { ResolvedConfig } from "./models/registry.js";
export type { Architecture, BackboneParams, ClassifierConfig, ModelConfig, StackShape, ModelType, ClassificationHead, ModelBatch, ModuleWidths } from "./models/architecture.js";
export { HOOK_SITES, STACKS, siteName } from "./models/hooks.js";
export type { HookSite, LayerHooks, ModelHooks, Stack, SublayerContext, SublayerHook, ProjectionHook, PrefixHook, LayerAddress } from "./models/hooks.js";
export { parseEncoderConfig, encoderConfigToJson, ConfigError, BERT_MODEL_TYPES } from "./models/bert/config.js";
export type { BertModelType } from "./models/bert/config.js";
export { makeBatch, disposeBatch, encode, classify, sequenceLoss } from "./models/bert/encoder.js";
export { encodeAsync } from "./models/bert/encode-async.js";
export type { HostBatch, DeviceBatch } from "./models/bert/encoder.js";
export type { EncoderParams, HeadParams, EmbeddingParams, EncoderLayerParams } from "./models/bert/params.js";
export type { Linear, Projection, LayerNormParams } from "./models/layers.js";
export type { ParamSlot } from "./models/slots.js";
export type { EncoderConfig } from "./models/bert/config.js";
export { parseT5Config, t5ConfigToJson, T5_MODEL_TYPES } from "./models/t5/config.js";
export type { T5Config, T5ModelType } from "./models/t5/config.js";
export { makeT5Batch, disposeT5Batch, shiftRight, makeT5Labels, disposeT5Labels, IGNORE_LABEL } from "./models/t5/batch.js";
export type { T5HostBatch, T5Batch, T5Labels } from "./models/t5/batch.js";
export { t5Encode, t5EncodeAsync, t5Decode, t5Forward, t5LmLogits, t5Loss } from "./models/t5/model.js";
export type { KeyValues } from "./models/t5/attention.js";
export type { T5Params, T5StackParams, T5EncoderLayerParams, T5DecoderLayerParams, T5AttentionParams, T5FfnParams, T5ReluFfnParams, T5GatedFfnParams } from "./models/t5/params.js";

// PETL methods, task checkpoints, bit-level storage
export { createMethod, resolveMethodConfig } from "./petl/registry.js";
export { METHODS, METHOD_NAMES, METHOD_DEFAULTS, MethodConfigError, defaultLearningRates } from "./petl/methods.js";
export type { MethodRow, AppendixBCount, MaskMode } from "./petl/methods.js";
export type { Method, PetlMethod, MethodConfig, MethodName, ParamGroup, HookContext, MethodState, Materialized, StateSpec, ModuleOptions, Unit } from "./petl/method.js";
export { saveTaskCheckpoint, loadTaskCheckpoint, checkpointHooks, CheckpointError } from "./petl/checkpoint.js";
export type { CheckpointModel, LoadedCheckpoint, BackboneSummary } from "./petl/checkpoint.js";
export { computeStorage, formatStorageReport, compareStorage, modelDimsFromConfig, countBackboneParams } from "./petl/storage.js";
export type { StorageReport, StorageOptions, ModelDims, StorageGroup, StorageAmount, HeadStorage } from "./petl/storage.js";

// Training
export { trainTask, checkWritableDir, summarize, METRICS_FILE, TRAIN_STATE_FILE, TrainTaskError } from "./train/task-run.js";
export type { TrainTaskOptions, TrainTaskResult, TaskSplits, SeedResult } from "./train/task-run.js";
export { resolveRemat, rematPlan, t5RematPlan, plainActivationBytes, REMAT_AUTO_BYTES, PLAIN_UNITS_PER_TOKEN_LAYER, KEPT_UNITS_PER_TOKEN_LAYER, REMAT_WORK_UNITS_PER_TOKEN, resolveT5Remat, t5PlainActivationBytes, t5EncoderUnit, t5DecoderUnit, T5_PLAIN_UNITS } from "./train/remat-choice.js";
export type { RematChoice, RematPlan, T5Widths } from "./train/remat-choice.js";
export { finetune, evaluateTask, predictLogits, scoreLogits, classificationObjective } from "./train/finetune.js";
export type { FinetuneOptions, FinetuneHyper, TaskInfo, Trainable, Backbone, DeviceInputs, PadSettings, LogitsFn } from "./train/finetune.js";
export { trainLoop, trainStep, NonFiniteLossError, TrainingInterrupted, ResumeMismatchError } from "./train/trainer.js";
export type { Objective, EvalResult, TrainEvent, TrainLoopOptions, TrainLoopResult, StepOutput, StepState, LossAndGrad } from "./train/trainer.js";
export type { EvalRecord } from "./train/train-state.js";
export { AdamW, globalNorm, clipCoefficient, ADAMW_DEFAULTS } from "./train/optimizer.js";
export type { AdamWOptions, AdamWState, GroupHyper, LeafPlan } from "./train/optimizer.js";
export { linearWarmupDecay, warmupStepsFor, constantSchedule } from "./train/schedule.js";
export type { Schedule, LinearScheduleOptions } from "./train/schedule.js";
export { encodeExamples, padBatch, planBatches, evalBatches } from "./train/batching.js";
export type { EncodedExample, PaddedBatch, PadOptions, BatchPlanOptions } from "./train/batching.js";
export { planMultiTaskBatches, temperatureProbabilities, DEFAULT_TEMPERATURE } from "./train/multitask.js";
export type { TaskBatch, MultiTaskPlanOptions } from "./train/multitask.js";
export { trainMultiTask, methodForTask, multiTaskObjective, checkTaskNames, MultiTaskError } from "./train/multitask-run.js";
export type { TrainMultiTaskOptions, MultiTaskSource, MultiTrainable, MultiTaskInputs } from "./train/multitask-run.js";
export { sharedAndTaskParts, formatSharedAndTaskParts } from "./petl/storage.js";
export type { SharedAndTaskParts } from "./petl/storage.js";
export { loadMultiTaskPredictor, mixedTaskLogits, taskModules } from "./train/mixed-task.js";
export type { MultiTaskPredictor, TaskModules } from "./train/mixed-task.js";
export { exportTaskCheckpoint, singleTaskState } from "./petl/export-task.js";
export { TRAIN_DEFAULTS, resolveMaxLength, bundledModelDir, BUNDLED_MODELS } from "./train/defaults.js";
export type { BundledModelName } from "./train/defaults.js";
export { pretrainMlm, readPretrainText, bertConfig, saveMlmModelDir, PretrainError, PRETRAIN_DEFAULTS, PRETRAIN_LOG_FILE, PRETRAIN_METRICS_FILE } from "./train/pretrain.js";
export type { PretrainOptions, PretrainHyper, PretrainResult, BertArchitecture, MlmParams, CorpusInfo, PretrainText } from "./train/pretrain.js";
export { pretrainT5, saveT5ModelDir, t5ArchitectureConfig, checkT5Tokenizer, evaluateSpanCorruption, SpanBatcher, T5_PRETRAIN_DEFAULTS } from "./train/pretrain-t5.js";
export type { T5PretrainOptions, T5PretrainHyper, T5PretrainResult, T5Architecture, T5SaveDtype, SpanEvalResult, T5CorpusInfo, SpanBatcherOptions, T5TokenIds, SpanHostBatch } from "./train/pretrain-t5.js";
export { computeInputAndTargetLengths, randomSpansNoiseMask, filterWithSentinels, spanCorrupt, SpanCorruptionError } from "./train/span-corruption.js";
export type { SpanCorrupted, SentinelOptions } from "./train/span-corruption.js";
export { evaluateMaskedLm } from "./train/mlm-eval.js";
export type { MlmEvalOptions, MlmEvalResult } from "./train/mlm-eval.js";
export { loadPredictor, loadPredictionBackbone, taskPredictor, predictionOf, encodeForPrediction } from "./train/predictor.js";
export type { Predictor, PredictorOptions, PredictionBackbone, TaskPredictor, Prediction } from "./train/predictor.js";

// Serving many tasks from one backbone (propetl serve)
export { createTaskRouter, RouterInputError, UnknownTaskError } from "./serve/router.js";
export type { TaskRouter, TaskRouterOptions, ClassifyRequest, ClassifyResponse, ClassifyInput, CompleteRequest, CompleteResponse, ServedTask, RouterStats, RouterObserver } from "./serve/router.js";
export { MicroBatcher, QueueFullError, RequestTimeoutError, ShuttingDownError } from "./serve/batcher.js";
export type { BatcherOptions, BatchOutcome, BatchInfo } from "./serve/batcher.js";
export { TaskCache } from "./serve/task-cache.js";
export type { Cacheable, TaskCacheStats } from "./serve/task-cache.js";
export { scanTasks, taskStorage } from "./serve/catalog.js";
export type { Catalog, CatalogTask, CatalogProblem } from "./serve/catalog.js";
export { buildServer, predictionJson } from "./serve/http.js";
export type { HttpOptions, PredictionJson } from "./serve/http.js";
export { createServeMetrics } from "./serve/metrics.js";
export type { ServeMetrics } from "./serve/metrics.js";
export { openApiDocument, classifyBodySchema, completionsBodySchema } from "./serve/openapi.js";
export { loadT5Backbone, loadT5Task, completeTexts, isT5ModelDir } from "./serve/completions.js";
export type { T5Backbone, T5Task, Completion } from "./serve/completions.js";
export { encodeSources, generateForSources, resolveGenerateOptions } from "./models/t5/generate-texts.js";
export type { GenerateSettings, EncodedSources } from "./models/t5/generate-texts.js";

// Text-to-text (seq2seq) tasks: translation / summarization pairs for T5
export { loadSeq2SeqTask, readSeq2SeqFile, summarizationTask, seq2seqInput, seq2seqBuiltinNames, isSeq2SeqBuiltinName, SEQ2SEQ_BUILTINS } from "./data/seq2seq.js";
export type { Seq2SeqExample, Seq2SeqTask, Seq2SeqTaskData, Seq2SeqFormat, Seq2SeqMetric, Seq2SeqSplit, Seq2SeqBuiltinName, LoadSeq2SeqOptions, SummarizationTaskOptions } from "./data/seq2seq.js";
export { makeT5EncoderBatch, disposeT5EncoderBatch } from "./models/t5/batch.js";
export type { T5EncoderBatch } from "./models/t5/batch.js";
export { startT5Decoding, t5DecodeStep, reorderT5DecoderCache, disposeT5DecoderCache } from "./models/t5/decode-cache.js";
export type { T5DecoderCache, SelfCache } from "./models/t5/decode-cache.js";
export { t5Generate } from "./models/t5/generate.js";
export type { T5GenerateSource, T5GenerateOptions, T5GenerateResult } from "./models/t5/generate.js";
export { readGenerationDefaults, GenerationConfigError, GENERATION_CONFIG_FILE, HF_DEFAULT_MAX_LENGTH } from "./models/generation-config.js";
export type { GenerationDefaults } from "./models/generation-config.js";
