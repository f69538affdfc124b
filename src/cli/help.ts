/**
 * Help texts of every command (kept free of heavy imports, so `--help` is instant). The method
 * list, the method options' defaults and the learning-rate defaults come from the method
 * table (petl/methods.ts, which loads nothing).
 */
import {
  DEFAULT_METHOD,
  FAMILY_NAMES,
  METHODS,
  METHOD_DEFAULTS,
  METHOD_NAMES,
  MODULE_FAMILIES,
  MODULE_OPTIONS,
  MODULE_OPTION_NAMES,
  isAblation,
  methodDefaults,
} from "../petl/methods.js";
import type { ModuleOptionName } from "../petl/methods.js";
import { COMBINE_RULES, COMBINE_RULE_HELP } from "../petl/combine-rule.js";
import { demoPresetsText } from "./demo-presets.js";
import { SEQ2SEQ_DEFAULTS } from "../train/seq2seq-defaults.js";
import { GENERATE_DEFAULTS } from "../models/generation-defaults.js";
import { REMAT_AUTO_BYTES } from "../train/remat-choice.js";

const HELP_WIDTH = 96;

/** Words of `text` in lines of at most HELP_WIDTH, the first after `first`, the others indented to its width. */
function wrap(first: string, text: string): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(" ")) {
    if (line.length > first.length && line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = " ".repeat(first.length) + word;
    } else {
      line += (line.length > first.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines;
}

/** An option line: the flag in a 24-column field (or followed by three spaces when longer). */
function option(flag: string, text: string): string[] {
  const head = `  ${flag}`;
  return wrap(head.length < 26 ? head.padEnd(26) : `${head}   `, text);
}

const fmtLr = (x: number): string => x.toExponential();

const OPTION_FLAG = (key: ModuleOptionName | "k" | "base" | "seed"): string => (key === "k" || key === "base" || key === "seed" ? key : MODULE_OPTIONS[key].flag);

function methodHelp(): string {
  const lines = ["Method:", ...option("--method NAME", `one of the methods below (default ${DEFAULT_METHOD})`)];
  for (const key of MODULE_OPTION_NAMES) {
    const o = MODULE_OPTIONS[key];
    const masked = o.maskedDefault !== undefined ? `; ${o.maskedDefault} with masks` : "";
    lines.push(...option(`--${o.flag} ${o.type === "int" ? "N" : "X"}`, `${o.help} (default ${METHOD_DEFAULTS[key]}${masked})`));
  }
  lines.push(...option("--k X", `kept fraction of each mask, in (0, 1] (default ${METHOD_DEFAULTS.k})`));
  const families = `${FAMILY_NAMES.slice(0, -1).join(", ")} or ${FAMILY_NAMES[FAMILY_NAMES.length - 1]}`;
  lines.push(...option("--base NAME", `module of ${METHOD_NAMES.filter(isAblation).join(" / ")}: ${families} (default ${METHOD_DEFAULTS.base})`));
  lines.push("Methods:");
  for (const name of METHOD_NAMES) {
    lines.push(...wrap(`  ${name.padEnd(16)} `, METHODS[name].description));
    const defaults = Object.entries(methodDefaults({ method: name })).map(([k, v]) => `${OPTION_FLAG(k as ModuleOptionName | "k" | "base" | "seed")} ${v}`);
    if (defaults.length) lines.push(...wrap(" ".repeat(19), `defaults: ${defaults.join(", ")}`));
  }
  return lines.join("\n");
}

/** "--lr" and "--mask-lr" defaults, from the method table. */
function learningRateHelp(): string {
  const lr = METHODS[DEFAULT_METHOD].moduleLr;
  const otherLr = METHOD_NAMES.filter((n) => METHODS[n].moduleLr !== lr).map((n) => `; ${METHODS[n].label} ${fmtLr(METHODS[n].moduleLr)}`);
  const scores = MODULE_FAMILIES[METHOD_DEFAULTS.base].scoresLr;
  const otherScores = FAMILY_NAMES.filter((f) => MODULE_FAMILIES[f].scoresLr !== scores).map((f) => `; ${METHODS[f].label}-based ${fmtLr(MODULE_FAMILIES[f].scoresLr)}`);
  return [
    ...option("--lr X", `module learning rate (default ${fmtLr(lr)}${otherLr.join("")})`),
    ...option("--mask-lr X", `mask-score learning rate of methods with learned masks (default ${fmtLr(scores)}${otherScores.join("")})`),
  ].join("\n");
}

export const TASK_HELP = `Task:
  --task NAME             GLUE: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli (files from
                          --data-dir); built in: spam, sotu-party (and rte, cola, sst2 when
                          --data-dir is not given, in a repository checkout: the npm package
                          has no GLUE text); text-to-text, built in: bible-es-en
                          (Spanish -> English Bible verses; see "Text-to-text tasks")
  --data-dir DIR          folder with the GLUE task folders (RTE/train.tsv, RTE/dev.tsv, ...)
  --train-file FILE       train file to use instead of <data-dir>/<TASK>/train.tsv
  --dev-file FILE         dev file to use instead of <data-dir>/<TASK>/dev.tsv
  --skip-bad-rows         skip malformed rows (counted and reported) instead of stopping
Custom task (CSV, TSV or JSONL; classification, or regression with --regression):
  --task-dir DIR          folder with train.<format> and dev.<format> (or give --train-file
                          and --dev-file)
  --format tsv|csv|jsonl  default: from the train file's extension
  --text-column COL       column name (or 0-based index for files without header)
  --text-pair-column COL  second text column, for sentence pairs
  --label-column COL      label column
  --labels A,B,...        label values in id order (classification)
  --regression            the label is a number (metrics: Pearson, Spearman)
  --task-name NAME        name recorded in the checkpoint (default: the folder name)
  --no-header             the TSV/CSV files have no header line
  --encoding utf-8|latin1 how the task files are encoded (default utf-8, strict: an invalid
                          byte is an error naming the line; latin1 = ISO-8859-1)`;

/** `train` on a text-to-text task (cli/train-seq2seq.ts holds the defaults quoted here). */
const TEXT_TO_TEXT_HELP = `Text-to-text tasks (an encoder–decoder model, T5; e.g. --task bible-es-en):
  Teacher-forced training; validation generates from the sources and keeps the checkpoint with
  the best task metric (BLEU as sacreBLEU, or ROUGE-2 F as rouge-score); the task prefix is
  stored in adapter_config.json. The test split's generations go to test_predictions.txt.
  Default model: the bundled models/propetl-mini-t5 when installed. --head-lr, --max-length,
  --jit and the custom-classification flags do not apply. --remat / --no-remat work as for
  classification, block by block over the encoder and the decoder (the LM head and loss in
  chunks of target positions); "auto" estimates from the batch size and the longest source
  and target.
  --max-source-length N   source tokens incl. the task prefix and EOS (default ${SEQ2SEQ_DEFAULTS.maxSourceLength});
                          longer sources are cut, and the count is reported
  --max-target-length N   target tokens incl. EOS (default ${SEQ2SEQ_DEFAULTS.maxTargetLength})
  --max-new-tokens N      generation limit at evaluation (default: --max-target-length)
  --num-beams N           beam search at evaluation (default ${SEQ2SEQ_DEFAULTS.numBeams}: greedy)
  --length-penalty X      beam search's length penalty (default 1.0, as Hugging Face)
  --eval-steps N          also evaluate every N optimizer steps (default: every epoch)
  Custom text-to-text task (JSONL or TSV with a header; files train, validation or dev, and
  optionally test, in --task-dir, or --train-file and --dev-file):
  --source-column NAME    JSONL field / TSV column of the source text
  --target-column NAME    JSONL field / TSV column of the target text
  --prefix TEXT           put before every source, T5 style (e.g. "summarize: "; default none)
  --metric bleu|rouge2    the validation and test metric (default bleu)
  (--batch-size defaults to ${SEQ2SEQ_DEFAULTS.batchSize} and --epochs to ${SEQ2SEQ_DEFAULTS.epochs} for these tasks)`;

export const METHOD_HELP = methodHelp();

export const COMMANDS = {
  demo: "fine-tune ProPETL-adapter on the built-in spam task with the bundled backbone (a few minutes)",
  train: "fine-tune a PETL method (ProPETL by default) on a task; writes a task checkpoint and metrics",
  eval: "score a task checkpoint on a task split",
  predict: "predict labels for texts (command line or JSONL in, JSONL out)",
  storage: "bit-level storage of a method or a checkpoint (paper App. B)",
  inspect: "describe a task checkpoint: method, tensors, masks, sizes, metrics",
  pretrain: "pretrain a small BERT backbone (masked language model) on text files; writes a HF model folder (--arch t5: a T5, span corruption)",
  score: "ROUGE (rouge-score) or BLEU (sacreBLEU) of generated text against references, from text files",
  generate: "generate text with a T5 model (greedy or beam search), optionally with a task checkpoint",
  "export-task": "write one task of a multi-task checkpoint as a single-task checkpoint",
  export: "write a LoRA task checkpoint as a Hugging Face PEFT adapter (--format peft)",
  import: "read a Hugging Face PEFT LoRA adapter (sequence classification) as a task checkpoint",
  serve: "serve every task checkpoint of a folder over HTTP from one backbone (micro-batched, LRU task cache)",
} as const;

export type CommandName = keyof typeof COMMANDS;

export const MAIN_HELP = `propetl: ProPETL ("One Network, Many Masks", ACL 2023) fine-tuning in Node.js

Usage: propetl <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([k, v]) => `  ${k.padEnd(11)} ${v}`)
  .join("\n")}

Run "propetl <command> --help" for a command's options.
Global: --version, --help. Engine: --threads N (or PROPETL_THREADS), --backend auto|wasm|webgpu|cpu
(webgpu in Node needs the optional package: npm install webgpu).

Example:
  propetl train --model ./roberta-base --task rte --data-dir ./glue --output runs/rte
  propetl eval --model ./roberta-base --checkpoint runs/rte --task rte --data-dir ./glue
  propetl predict --model ./roberta-base --checkpoint runs/rte --text "A man sleeps." --text-pair "Someone rests."
  propetl score --metric rouge1,rouge2,rougeL --predictions summaries.txt --references gold.txt
`;

const BACKEND_HELP = `  --backend NAME          engine backend: auto (default: wasm; on Node webgpu only when the program
                          installed a navigator.gpu with a hardware adapter), wasm, cpu, or webgpu
                          (a GPU through Dawn: npm install webgpu; Vulkan/Metal/D3D12 driver needed)`;

const COMMON_OUT = `Output:
  --json                  JSON lines on stdout (also the default when stdout is not a terminal)
  --quiet                 fewer progress messages
  --threads N             engine worker threads (default: all cores; or PROPETL_THREADS)
${BACKEND_HELP}`;

const MULTI_TASK_HELP = `Multi-task (paper Sec. 3.4): one method, one checkpoint, several tasks
  --tasks A,B,...         train on these tasks together instead of --task: built-in (spam,
                          sotu-party, rte, cola, sst2) and GLUE tasks (with --data-dir); one
                          head per task, a layer mask per position and a task mask per task
                          (or either alone: --combine). A custom task is listed by its folder,
                          which holds its files and a propetl-task.json: {"name", "text_column",
                          "label_column", "labels" [...] | "regression": true,
                          "text_pair_column", "format", "no_header", "encoding"}, or for T5
                          {"name", "source_column", "target_column", "prefix", "metric", "format"}
  --temperature T         each batch comes from one task, task i drawn with probability
                          ∝ n_i^(1/T) (n_i its training examples; default 10; > 0)
  --task-k X              kept fraction of each task mask (default ${METHOD_DEFAULTS.taskK}; --k defaults to
                          ${METHOD_DEFAULTS.multiTaskK} with several tasks)
  --combine RULE          each task's mask (default ${METHOD_DEFAULTS.combine}):
${COMBINE_RULES.map((r) => `                            ${r.padEnd(6)} ${COMBINE_RULE_HELP[r]}`).join("\n")}
                          the checkpoint holds only the masks the rule uses
  An epoch is ⌈Σ n_i / batch size⌉ batches. Every task is validated after each epoch; the best
  checkpoint has the highest mean of the tasks' main metrics and is tested on every task.
  --jit and the custom-task flags are single-task only. Pick a task of the checkpoint with
  "predict --task NAME" / "eval --task NAME", or split it off with "propetl export-task".
  With a T5 model (the bundled propetl-mini-t5 when a listed task is text-to-text, e.g.
  --tasks bible-es-en,rte,spam) every task is text-to-text: classification tasks are cast to
  text ("rte sentence1: ... sentence2: ..." -> the label's name; a generation naming no label
  counts as wrong) and keep their metrics; there are no heads, each task's prefix is stored,
  and the text-to-text flags apply (lengths, --max-new-tokens, --num-beams, --eval-steps).
  Run one task of the checkpoint with "propetl generate --task NAME".`;

export const TRAIN_HELP = `Usage: propetl train (--task NAME | --tasks A,B,...) [--model DIR] [--data-dir DIR] [--output DIR] [options]

Fine-tune a method with a classification/regression head, evaluating on the validation split
after every epoch and keeping the best checkpoint by the task's main metric. The paper's split
protocol: tasks under 10k training examples split the dev set in halves (validation, test);
larger tasks hold out 1000 seeded training examples for validation and test on dev.

Model:
  --model DIR             Hugging Face model folder: config.json, model.safetensors and
                          tokenizer files (tokenizer.json, vocab.txt or vocab.json+merges.txt);
                          default: the bundled backbone (models/propetl-mini) when installed

${TASK_HELP}

${METHOD_HELP}

Training (defaults follow the paper and the authors' scripts):
${learningRateHelp()}
  --head-lr X             head learning rate (default: --lr)
  --weight-decay X        AdamW weight decay, also on the scores (default 0.1)
  --warmup-ratio X        linear warmup fraction, then linear decay (default 0.1)
  --max-grad-norm X       gradient clipping, 0 disables (default 1.0)
  --batch-size N          examples per step (default 32; the paper uses 128: on 2 CPU cores
                          32 keeps steps short, add --grad-accum 4 for an effective 128)
  --grad-accum N          micro-batches per optimizer step (default 1)
  --epochs N              default: the task's (20 small, 10 large)
  --max-length N          tokens per example incl. special tokens (default 128)
  --eval-batch-size N     default 64
  --early-stop N          stop after N evaluations without improvement (default: off)
  --seed N                default 42
  --seeds A,B,C           run each seed (into <output>/seed-<seed>/) and report mean and std
  --max-train-examples N  use the first N training examples (quick runs)
  --max-eval-examples N   use the first N validation and test examples
  --max-steps N           stop after N optimizer steps
  --jit                   compile the training step and evaluation with jit (default: eager,
                          which measured 2.2-2.3x faster per step on propetl-mini and on a
                          BERT-base-sized model; jit compiles once per padded shape)
  --no-jit                eager (the default; accepted for older commands)
  --remat                 take an eager step's gradient layer by layer, recomputing each
                          layer's forward pass and holding one layer's activations instead of
                          every layer's: a BERT-base-sized model at batch 32 x 128 peaks at
                          1.7 GiB, where the whole-network gradient overflowed the 4 GiB heap at
                          8 x 128 (bench/RESULTS.md); 1.4-1.5x the time per step
  --no-remat              take the gradient over the whole network at once. Default (neither):
                          that where the whole-network gradient's activations fit in ${REMAT_AUTO_BYTES / 1024 ** 3} GiB
                          (estimated from the batch size, the longest input and the model's
                          widths), else layer by layer keeping as many top layers' activations
                          as fit there and recomputing only the others (a BERT-base-sized
                          model keeps all 12 at 8 x 128, 2 at 32 x 128). Not with --jit or
                          full fine-tuning.

Checkpoints:
  --output DIR            task checkpoint folder (adapter_config.json, adapter_model.safetensors
                          with bit-packed masks), metrics.json, and the resume state
                          (default: runs/<task>-<method>-<date>-<time>)
  --resume                continue an interrupted run in --output (same settings)
  --save-steps N          also save the resume state every N steps (always at each epoch end)
  --keep-train-state      keep train_state.safetensors after the run
  --f16                   store the module's float tensors as float16

${TEXT_TO_TEXT_HELP}

${MULTI_TASK_HELP}

${COMMON_OUT}
  --skip-bad-rows         (see Task)

Exit status: 0 done, 1 error, 2 bad usage, 130 interrupted by Ctrl-C, SIGTERM or the output's
reader closing (state saved after the current step: rerun with --resume).
`;

const JIT_FORWARD_HELP = `  --jit                   compile the forward pass with jit (default: eager, 2.9x faster
                          scoring spam's test split on propetl-mini)`;

export const EVAL_HELP = `Usage: propetl eval --model DIR --checkpoint DIR --task NAME [--data-dir DIR] [options]

Score a task checkpoint on a split of a task with the task's metrics.

  --model DIR             the backbone the checkpoint was trained on
  --checkpoint DIR        task checkpoint folder (adapter_config.json, adapter_model.safetensors)
  --split NAME            test (default), validation, dev (the whole official dev file) or train
  --seed N                seed of the split protocol (large tasks' validation holdout; default 42)
  --max-examples N        score the first N examples
  --batch-size N          default 64
  --max-length N          default 128
${JIT_FORWARD_HELP}
  --output FILE           also write the metrics JSON to FILE
  (a multi-task checkpoint is scored on its task named by --task)

${TASK_HELP}

${COMMON_OUT}
`;

export const PREDICT_HELP = `Usage: propetl predict --model DIR --checkpoint DIR (--text TEXT [--text-pair TEXT] | --input FILE.jsonl) [options]

Predict with a task checkpoint. One text on the command line, or a JSONL file with one object
per line ({"text": ..., "text_pair": ...}); results are JSON lines
({"label": ..., "label_id": ..., "probs": [...]} or {"score": ...} for regression), with the
input's other fields kept.

  --model DIR             the backbone the checkpoint was trained on
  --checkpoint DIR        task checkpoint folder
  --text TEXT             a text to classify
  --text-pair TEXT        its second sentence (pair tasks)
  --input FILE            JSONL input ("-" for stdin)
  --encoding utf-8|latin1 how --input is encoded (default utf-8, strict)
  --output FILE           JSONL output (default stdout)
  --text-key KEY          input key of the text (default "text")
  --text-pair-key KEY     input key of the second text (default "text_pair")
  --task NAME             the task of a multi-task checkpoint to predict (required for one)
  --batch-size N          default 64
  --max-length N          default 128
${JIT_FORWARD_HELP}
  --threads N             engine worker threads
${BACKEND_HELP}
`;

export const STORAGE_HELP = `Usage: propetl storage [CHECKPOINT] [--method NAME] [--model DIR | --config FILE] [options]

Bit-level storage (BLS) of a method (paper eq. 2, Appendix B), counted from what its task
checkpoint stores: 32 bits per float entry, 1 bit per mask entry; the head is reported apart.
With a checkpoint folder, its method and backbone are used (and its file size is shown).

  CHECKPOINT              a task checkpoint folder
  --model DIR             backbone folder (its config.json); default: roberta-base's dimensions
  --config FILE           a config.json instead of --model (alias: --model-config FILE)
  --num-labels N          head outputs (default 2)
  --tasks N               number of tasks (multi-task; default 1): methods with masks keep one
                          state with a task mask per task, the others one copy per task
  --combine RULE          with --tasks: the masks of that state (default ${METHOD_DEFAULTS.combine}): ${COMBINE_RULES.join(", ")}
                          (see propetl train --help; "layer": no task masks, "task": no layer masks)
  --compare NAME          also report this method (same module sizes) and the ratio
  --json                  the report as JSON

${METHOD_HELP}
`;

export const INSPECT_HELP = `Usage: propetl inspect CHECKPOINT [--json]

Describe a task checkpoint folder: the method and its settings, the backbone it expects, every
tensor (dtype, shape, bytes), each mask's kept fraction, the head, the file sizes against the
bit-level storage, and the metrics of the run when metrics.json is there.

  --json                  as JSON
`;

export const DEMO_HELP = `Usage: propetl demo [train options]

Fine-tunes ProPETL-adapter on the built-in spam task (SpamAssassin ham vs spam) with the
bundled propetl-mini backbone, then prints the test metrics and the bit-level storage of the
task file next to a plain adapter's. About 4.5 minutes on 2 cores.

It is "propetl train" with these presets (any train option after "demo" overrides them):
${demoPresetsText()}
Output goes to runs/spam-propetl-adapter-<date>-<time> unless --output is given.
See "propetl train --help" for every option.
`;

export const PRETRAIN_HELP = `Usage: propetl pretrain --text FILE [--text FILE ...] --output DIR [options]
       propetl pretrain FILE... --output DIR [options]

Masked-language-model pretraining of a BERT backbone from plain text: a fresh model (or one
given with --init) learns to predict 15% of the tokens, of which 80% are replaced by [MASK],
10% by a random token and 10% left unchanged. Every non-empty line of the text files is a
document; documents are joined with [SEP] and cut into windows of --seq-len tokens. After
every --eval-every steps the held-out masked-token loss and accuracy are measured, and when
the loss improves the output folder gets the model: config.json (BertForMaskedLM),
model.safetensors (bert.* and the MLM head cls.predictions.*) and the tokenizer files, ready
for "propetl train --model DIR". Also written: pretrain_log.jsonl (loss and learning rate per
step, held-out loss and accuracy per evaluation) and, at the end, pretrain_metrics.json.

Text:
  --text FILE             UTF-8 text, one document per line (repeatable; files may also be
                          given as arguments)
  --held-out FILE         held-out documents for the evaluation (default: every 100th
                          non-empty line of the text, which is then not trained on)
  --held-out-every N      hold out every Nth line instead of every 100th

Model (a fresh BERT unless --init):
  --init DIR              continue pretraining this Hugging Face BERT folder (its tokenizer,
                          and its MLM head when it has one)
  --config FILE           a BERT config.json giving the architecture (its vocab_size is
                          replaced by the tokenizer's)
  --layers N              transformer layers (default 4)
  --hidden N              hidden size (default 256)
  --heads N               attention heads; must divide --hidden (default 4)
  --intermediate N        feed-forward size (default 4 x hidden)
  --max-positions N       position embeddings (default 512)

Tokenizer (a fresh model; default: train an uncased WordPiece vocabulary on the text):
  --vocab FILE            an uncased WordPiece vocab.txt with [PAD] [UNK] [CLS] [SEP] [MASK]
  --tokenizer DIR         the tokenizer files of a model folder
  --vocab-size N          size of the trained vocabulary (default 8000)

Training:
  --steps N               optimizer steps (default 1000)
  --batch-size N          windows per step (default 32)
  --seq-len N             tokens per window incl. [CLS] and [SEP] (default 128)
  --lr X                  peak learning rate (default 5e-4)
  --warmup-steps N        linear warmup, then linear decay to 0 (default 6% of --steps)
  --weight-decay X        AdamW weight decay, not on biases and LayerNorm (default 0.01)
  --max-grad-norm X       gradient clipping, 0 disables (default 1.0)
  --grad-accum N          micro-batches per step (default 1)
  --mask-prob X           fraction of tokens predicted (default 0.15)
  --eval-every N          steps between held-out evaluations and model saves (default 100)
  --eval-batches N        held-out batches per evaluation (default: every held-out document
                          once, at most 8 batches)
  --eval-batch-size N     default 16
  --seed N                shuffling, masking and initialisation (default 42)
  --no-jit                run the step eagerly (default: compiled with jit, 1.3-2x faster
                          per step; the same losses)

Checkpoints:
  --output DIR            the model folder, log, metrics and resume state
                          (default: runs/pretrain-mlm-<date>-<time>)
  --resume                continue an interrupted run in --output (same settings): the result
                          is exactly the uninterrupted run's
  --save-steps N          also save the resume state every N steps (always at each evaluation)
  --keep-train-state      keep train_state.safetensors after the run

${COMMON_OUT}

T5 (--arch t5): span corruption as Hugging Face's run_t5_mlm_flax.py. The documents are
tokenized (each ending with </s>), concatenated and cut into chunks of the raw length whose
corrupted input is exactly --seq-len ids (128 -> 141 raw tokens, 29 targets at the defaults);
--mask-prob of each chunk's tokens (the noise density) in spans of --mean-noise-span tokens on
average are replaced in the input by one sentinel each (<extra_id_0> first: the highest id),
and the decoder learns to write each sentinel followed by the span it hid. The held-out
teacher-forced loss and token accuracy are measured every --eval-every steps; the output
folder gets a T5ForConditionalGeneration (config.json, model.safetensors with HF names,
generation_config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json) when
the loss improves, and the latest parameters when the run is interrupted.
  --arch bert|t5          the model to pretrain (default bert)
  --tokenizer FILE|DIR    required with t5: a T5 SentencePiece tokenizer.json (or a folder
                          holding one) with <pad> 0, </s>, <unk> and the 100 sentinels at the
                          top ids (tools/trim-unigram-vocab.ts makes a small one from t5-small's)
  --d-model N             hidden size (default 256)
  --d-ff N                feed-forward size (default 1024)
  --layers N              encoder blocks (default 4)
  --decoder-layers N      decoder blocks (default: --layers)
  --heads N               attention heads (default 4)
  --d-kv N                size of each head's queries, keys and values (default 64)
  --ffn relu|gated-gelu   relu: T5 v1.0 with tied embeddings (default); gated-gelu: v1.1 with
                          an untied LM head
  --mean-noise-span X     mean corrupted span length (default 3)
  --dtype F32|F16         model.safetensors weights (default F32)
  With t5, --seq-len is the encoder input length (default 128), --mask-prob the noise density
  (default 0.15), --batch-size defaults to 16, --lr to 1e-3 and --weight-decay to 0; --init,
  --config, --hidden, --intermediate, --max-positions, --vocab and --vocab-size do not apply.

Exit status: 0 done, 1 error, 2 bad usage, 130 interrupted by Ctrl-C, SIGTERM or the output's
reader closing (state saved after the current step: rerun with --resume).
`;

export const SCORE_HELP = `Usage: propetl score --metric NAME[,NAME...] --predictions FILE --references FILE [options]

Score generated text (summaries, translations) against references. The files hold one text
per line, UTF-8; line i of every file belongs together. No model is loaded.

Metrics:
  rouge1, rouge2, rougeL  ROUGE-1, ROUGE-2, ROUGE-L (longest common subsequence) as Google's
                          rouge-score computes them: precision, recall and F-measure of each
                          line, averaged over the lines; fractions in [0, 1]. Tokens: lowercase
                          runs of a-z and 0-9, Porter-stemmed (NLTK's stemmer) when longer than
                          3 characters. Not rougeLsum.
  bleu                    corpus BLEU with sacreBLEU's defaults: 13a tokenizer, mixed case,
                          n-grams up to 4, exp smoothing, brevity penalty against the closest
                          reference length; 0-100. Each --references file is one reference
                          stream (sacreBLEU's multi-reference BLEU).

  --metric NAMES          one or more of rouge1, rouge2, rougeL, bleu, comma-separated
  --predictions FILE      the system outputs, one per line
  --references FILE       the references, one per line; repeat the option for several
                          references per line (BLEU only)
  --no-stemmer            ROUGE without the stemmer. The default here is rouge-score's
                          use_stemmer=True, as summarization papers and Hugging Face's
                          run_summarization use it; rouge-score's own default is False
  --json                  the scores as JSON (every BLEU statistic; ROUGE P, R, F)

Empty lines are texts too (an empty prediction scores 0). Files with different line counts and
invalid UTF-8 are errors naming the file and line. A final newline ends the last line; a "\\r"
before a newline and a UTF-8 byte-order mark at the start of a file are ignored.

Example:
  propetl score --metric rouge1,rouge2,rougeL --predictions xsum.pred --references xsum.gold
  propetl score --metric bleu --predictions ro-en.hyp --references ro-en.ref
`;


export const GENERATE_HELP = `Usage: propetl generate --model DIR [--checkpoint DIR] (--text TEXT | --input FILE) [options]

Generate text with a T5 model folder (config.json, model.safetensors, tokenizer.json), as
Hugging Face's generate: greedy search, or beam search with --num-beams > 1. Prints one
generated text per input line (special tokens removed; a newline in a generated text becomes a
space), or with --json one {"text": ..., "ids": [...]} per line (ids: the generated token ids
after the decoder start token, up to and including EOS).

  --model DIR             a T5 model folder (T5 v1.0, v1.1, FLAN-T5); other model types are an error
  --checkpoint DIR        a task checkpoint trained on that model: its PETL modules are applied,
                          and its task's prefix (adapter_config.json task_prefixes), if any, starts
                          every input
  --task NAME             the checkpoint's task (multi-task checkpoints; default the first)
  --text TEXT             one input text
  --input FILE            a UTF-8 text file, one input per line (an empty line is an input too;
                          "-" for standard input)
  --output FILE           write the results there (default stdout)
  --prefix TEXT           put TEXT before every input (e.g. "summarize: "); overrides the checkpoint's
  --max-new-tokens N      the most tokens to generate per input, EOS included
  --num-beams N           1: greedy search; more: beam search
  --length-penalty X      beam search: hypotheses score sum(log p) / length ** X
  --early-stopping V      beam search: true, false or never (HF's early_stopping)
  --batch-size N          inputs per batch (default ${GENERATE_DEFAULTS.batchSize}); each is num-beams decoder rows
  --max-source-length N   longest input in tokens, EOS included (default ${GENERATE_DEFAULTS.maxSourceLength}); longer inputs are
                          truncated (their EOS kept) with a warning that counts them
  --json                  JSON lines {"text", "ids"}
  --threads N             engine worker threads
${BACKEND_HELP}

Defaults come from the model folder's generation_config.json when it has one (else from the
generation keys of its config.json), as Hugging Face reads them: max_new_tokens (or max_length,
which counts the decoder start token: max_length − 1 new tokens), num_beams, length_penalty,
early_stopping, eos_token_id (one id or a list), pad_token_id, decoder_start_token_id. Without
them: HF's defaults (max_length 20, i.e. 19 new tokens; 1 beam; length penalty 1.0; early
stopping false) and the ids of config.json. Settings that would change HF's output and are not
implemented (sampling, no_repeat_ngram_size, repetition_penalty, min_length, forced tokens, ...)
are reported on stderr and ignored.

Example:
  propetl generate --model t5-small --text "translate English to German: The house is wonderful."
  propetl generate --model t5-small --checkpoint runs/xsum --input docs.txt --num-beams 4 --output sum.txt
`;

export const EXPORT_TASK_HELP = `Usage: propetl export-task --checkpoint DIR --task NAME --output DIR [--json]

Write one task of a multi-task checkpoint as a single-task checkpoint: the prototype with the
task's masks under the file's combine rule (layer mask OR / AND task mask, or the task mask
alone for "task") stored as plain ProPETL layer masks (for only-mask: the masked module
weights), and the task's head; under "layer" (no task masks) the state as it is, for that one
task. It loads like any single-task checkpoint and predicts as the multi-task file does with
--task NAME. Where its masks are OR / AND hybrids, adapter_config.json records hybrid_masks
{task_k, combine}: the loader checks each mask's count against the range the layer and task
masks allow (other files: exactly what top-k keeps for k).

  --checkpoint DIR        a multi-task checkpoint folder (propetl train --tasks)
  --task NAME             the task to export
  --output DIR            the new checkpoint folder (must not hold a checkpoint)
  --json                  the result as JSON
`;

export const EXPORT_HELP = `Usage: propetl export --format peft --checkpoint DIR --output DIR [--task NAME] [--base-model NAME] [--json]

Write a task checkpoint of a LoRA method (lora, propetl-lora, the LoRA ablations) on BERT or
RoBERTa as a Hugging Face PEFT LoRA adapter for sequence classification: adapter_config.json
(peft_type LORA, task_type SEQ_CLS, r, lora_alpha, target_modules query/value, modules_to_save:
the classifier, and BERT's pooler, which propetl trains) and adapter_model.safetensors with
PEFT's tensor names. ProPETL-LoRA is written as a plain LoRA: each layer's prototype under its
mask (the 1-bit storage does not survive the format). Load it in Python with
PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(BASE,
num_labels=N), DIR); PEFT does not store label names, so they are printed.

  --format peft           the output format
  --checkpoint DIR        a task checkpoint folder
  --task NAME             the task of a multi-task checkpoint (default: its first)
  --output DIR            the adapter folder to write (must not hold an adapter)
  --base-model NAME       base_model_name_or_path to record (default: none)
  --json                  the result as JSON
`;

export const IMPORT_HELP = `Usage: propetl import --format peft --adapter DIR --model DIR --output DIR [--labels A,B,...] [--json]

Read a Hugging Face PEFT LoRA adapter for sequence classification (task_type SEQ_CLS, LoRA on
query and/or value, the classifier in modules_to_save) trained on the BERT/RoBERTa in --model,
and write it as a propetl "lora" task checkpoint (predict, eval, serve). PEFT options propetl's
LoRA does not have (DoRA, rsLoRA, rank or alpha patterns, bias training, other target modules,
a subset of layers) are refused, naming the option.

  --format peft           the input format
  --adapter DIR           the PEFT folder (adapter_config.json, adapter_model.safetensors)
  --model DIR             the base model folder (its config.json gives the shapes)
  --output DIR            the task checkpoint folder to write
  --labels A,B,...        label names in id order (default LABEL_0, LABEL_1, ...)
  --json                  the result as JSON
`;

export const SERVE_HELP = `Usage: propetl serve --model DIR --tasks DIR [--host 127.0.0.1] [--port 8080] [options]

Serve every task checkpoint under --tasks from one backbone in memory, over HTTP. A folder with
an adapter_config.json is a task, named by its path under --tasks ("spam", "team/spam"); each
task of a multi-task checkpoint is "<folder>/<task>". Tasks load on first use into an LRU cache.
Requests that arrive within --batch-window-ms are batched: a task's requests share forward
passes, tasks of one multi-task checkpoint share one encoder pass. A request alone gets exactly
what propetl predict prints for its inputs; batched with others, the same to float32 rounding
(--no-fuse: exactly, one pass per request).

Routes: POST /v1/classify {"task": NAME, "inputs": [TEXT | [TEXT, PAIR], ...]};
POST /v1/completions {"model": NAME, "prompt": TEXT | [TEXT, ...], "max_tokens": N} (a T5
backbone's text-to-text tasks, OpenAI-style); GET /v1/tasks; POST /v1/tasks/reload;
GET /health; GET /metrics (Prometheus); GET /openapi.json. The first line on stdout is
{"listening": URL} once the server is up; SIGTERM or Ctrl-C answers the requests in flight,
then exits.

  --model DIR             the backbone the task checkpoints were trained on
  --tasks DIR             the folder of task checkpoints (scanned at start and on reload)
  --host HOST             address to bind (default 127.0.0.1: this machine only)
  --port N                port (default 8080; 0 picks a free one)
  --cache-mb N            memory budget of the loaded-task cache in MiB (default 256)
  --batch-window-ms N     how long a request waits for others to batch with (default 2)
  --max-batch-tokens N    token budget of a micro-batch (default 4096)
  --max-queue N           requests waiting at most; more get 429 (default 1024)
  --timeout-ms N          per-request time limit; over it, 503 (default 30000)
  --max-inputs N          inputs per request at most (default 256)
  --max-input-chars N     characters per text at most (default 10000)
  --body-limit-kb N       largest request body (default 1024)
  --max-length N          longest tokenized input, as predict's (default 128)
  --batch-size N          forward-pass batch size, as predict's (default 64)
  --max-new-tokens N      text-to-text: the most tokens a completion may ask for (default 256)
  --no-fuse               one forward pass per request (exactly predict's numbers) instead of
                          fusing a task's requests (may differ in the last float32 bits)
  --rescan-on-miss-ms N   rescan the tasks folder when a request names an unknown task, at most
                          every N ms (default 0: never; POST /v1/tasks/reload rescans)
  --log                   log every request (JSON lines on stderr)
  --threads N             engine worker threads
${BACKEND_HELP}
`;

export const HELP: Record<CommandName, string> = {
  demo: DEMO_HELP,
  train: TRAIN_HELP,
  eval: EVAL_HELP,
  predict: PREDICT_HELP,
  storage: STORAGE_HELP,
  inspect: INSPECT_HELP,
  pretrain: PRETRAIN_HELP,
  score: SCORE_HELP,
  generate: GENERATE_HELP,
  "export-task": EXPORT_TASK_HELP,
  export: EXPORT_HELP,
  import: IMPORT_HELP,
  serve: SERVE_HELP,
};
