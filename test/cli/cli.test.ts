/**
 * End to end through the CLI (`node dist/src/cli/main.js ...`) on a tiny BERT and a slice of
 * RTE: train, eval, predict, inspect, storage; resume after a kill gives the uninterrupted
 * run's metrics; the bad inputs give the stated errors; every command has --help.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import path from "node:path";
import { METHOD_NAMES } from "../../src/petl/methods.js";
import { GLUE_WITH_RTE, REPO_ROOT } from "../helpers/fixtures.js";
import { tempDir, tinyModelDir } from "../train/helpers.js";

const MAIN = path.join(REPO_ROOT, "dist", "src", "cli", "main.js");
const GLUE = GLUE_WITH_RTE;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { killWhen?: (stdoutSoFar: string) => boolean; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, PROPETL_THREADS: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!killed && opts.killWhen?.(stdout)) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

function jsonLines(s: string): Record<string, unknown>[] {
  return s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

let work: string;
let model: string;
const TRAIN_ARGS = ["--task", "rte", "--max-train-examples", "64", "--max-eval-examples", "32", "--epochs", "2", "--batch-size", "16", "--bottleneck", "8", "--seed", "7"];

before(() => {
  work = tempDir("propetl-cli-");
  model = tinyModelDir(path.join(work, "model"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("--help", () => {
  for (const cmd of ["train", "eval", "predict", "storage", "inspect", "score"]) {
    test(`propetl ${cmd} --help`, async () => {
      const r = await cli([cmd, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: propetl ${cmd}`));
      if (cmd === "train" || cmd === "storage") for (const name of METHOD_NAMES) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"), name);
    });
  }
  test("propetl --help, --version, unknown command, unknown option", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands:[\s\S]*train[\s\S]*inspect/);
    assert.match((await cli(["--version"])).stdout, /^\d+\.\d+\.\d+/);
    const unknown = await cli(["fly"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "fly"/);
    const bad = await cli(["train", "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--bogus'/);
  });
});

describe("train, eval, predict, inspect, storage on RTE", { skip: GLUE ? false : "no GLUE RTE files found" }, () => {
  let out: string;
  let metrics: Record<string, unknown>;

  test("train writes a bit-packed task checkpoint and metrics.json (JSON lines when piped)", async () => {
    out = path.join(work, "rte");
    const r = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", out, ...TRAIN_ARGS]);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.ok(lines.some((l) => l.type === "step" && typeof l.etaSec !== "undefined"));
    assert.equal(lines.filter((l) => l.type === "eval").length, 2);
    const result = lines.find((l) => l.type === "result") as { seeds: { test: { scores: { accuracy: number } } }[] };
    assert.ok(result.seeds[0].test.scores.accuracy >= 0);
    for (const f of ["adapter_config.json", "adapter_model.safetensors", "metrics.json"]) assert.ok(existsSync(path.join(out, f)), f);
    assert.ok(!existsSync(path.join(out, "train_state.safetensors")), "the resume state is removed after a finished run");
    metrics = JSON.parse(readFileSync(path.join(out, "metrics.json"), "utf8")) as Record<string, unknown>;
    assert.equal(metrics.task, "rte");
    assert.deepEqual(Object.keys(metrics.versions as object).sort(), ["@huggingface/tokenizers", "@jax-js/jax", "node", "propetl"]);
    assert.equal((metrics.method as { method: string }).method, "propetl-adapter");
    assert.equal((metrics.hyper as { lr: number }).lr, 1e-4);
    assert.equal((metrics.data as { test: number }).test, 32);
    const cfg = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { label_names: Record<string, string[]>; k: number };
    assert.deepEqual(cfg.label_names.default, ["entailment", "not_entailment"]);
    assert.equal(cfg.k, 0.5);
    // A second train into the same folder is refused.
    const again = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", out, ...TRAIN_ARGS]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a finished run/);
  });

  test("eval reproduces the test metrics of the run", async () => {
    const r = await cli(["eval", "--model", model, "--checkpoint", out, "--task", "rte", "--data-dir", GLUE as string, "--max-examples", "32", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { scores: { accuracy: number }; examples: number; split: string };
    assert.equal(doc.split, "test");
    assert.equal(doc.examples, 32);
    assert.equal(doc.scores.accuracy, (metrics.test as { scores: { accuracy: number } }).scores.accuracy);
  });

  test("predict: a text pair on the command line, and JSONL in / JSONL out", async () => {
    const one = await cli(["predict", "--model", model, "--checkpoint", out, "--text", "A man is sleeping.", "--text-pair", "Someone sleeps."]);
    assert.equal(one.code, 0, one.stderr);
    const p = JSON.parse(one.stdout) as { label: string; probs: number[] };
    assert.ok(["entailment", "not_entailment"].includes(p.label));
    assert.ok(Math.abs(p.probs[0] + p.probs[1] - 1) < 1e-5);
    const input = path.join(work, "in.jsonl");
    const output = path.join(work, "out.jsonl");
    writeFileSync(input, '{"id": 1, "text": "The cat sat.", "text_pair": "A cat is sitting."}\n{"id": 2, "text": "It rains.", "text_pair": "It is dry."}\n');
    const many = await cli(["predict", "--model", model, "--checkpoint", out, "--input", input, "--output", output]);
    assert.equal(many.code, 0, many.stderr);
    const rows = jsonLines(readFileSync(output, "utf8"));
    assert.deepEqual(rows.map((r) => r.id), [1, 2]);
    assert.ok(rows.every((r) => typeof r.label === "string" && typeof r.label_id === "number"));
    writeFileSync(input, '{"id": 1, "text": "ok"}\nnot json\n');
    const bad = await cli(["predict", "--model", model, "--checkpoint", out, "--input", input]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /in\.jsonl:2: invalid JSON/);
  });

  test("inspect and storage describe the checkpoint", async () => {
    const ins = await cli(["inspect", out]);
    assert.equal(ins.code, 0, ins.stderr);
    assert.match(ins.stdout, /method: propetl-adapter/);
    assert.match(ins.stdout, /mask\.encoder\.layer\.0\.ffn_output\.down_weight\s+U8\s+\[8,32\].*50\.0%/);
    assert.match(ins.stdout, /run: task rte, seed 7/);
    const st = await cli(["storage", out, "--compare", "adapter"]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /ProPETL-adapter takes 0\.529× the storage of adapter/);
    const paper = await cli(["storage", "--method", "propetl-adapter", "--json"]);
    assert.equal(paper.code, 0, paper.stderr);
    assert.equal((JSON.parse(paper.stdout) as { report: { model: { numLayers: number } } }).report.model.numLayers, 12);
  });

  test("resume after a kill gives the uninterrupted run's final metrics", async () => {
    const dir = path.join(work, "rte-killed");
    const killed = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...TRAIN_ARGS, "--save-steps", "1", "--json"], {
      killWhen: (s) => /"type":"checkpoint","step":3\b/.test(s),
    });
    assert.equal(killed.code, null, "killed by the signal");
    assert.ok(existsSync(path.join(dir, "train_state.safetensors")));
    assert.ok(!existsSync(path.join(dir, "metrics.json")));
    const refused = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...TRAIN_ARGS]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /unfinished run.*--resume/);
    const resumed = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...TRAIN_ARGS, "--resume", "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const start = jsonLines(resumed.stdout).find((l) => l.type === "start") as { resumed: boolean; startStep: number };
    assert.ok(start.resumed && start.startStep >= 3, JSON.stringify(start));
    const m = JSON.parse(readFileSync(path.join(dir, "metrics.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(m.test, metrics.test);
    assert.deepEqual(m.validation, metrics.validation);
    assert.deepEqual(m.history, metrics.history);
    assert.deepEqual(readFileSync(path.join(dir, "adapter_model.safetensors")), readFileSync(path.join(out, "adapter_model.safetensors")));
  });

  test("--jit compiles the step and the eval forward pass (eager is the default); --jit with --no-jit is a usage error", async () => {
    const dir = path.join(work, "jit");
    const small = ["--task", "rte", "--max-train-examples", "16", "--max-eval-examples", "8", "--epochs", "1", "--batch-size", "8", "--bottleneck", "4"];
    const r = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...small, "--jit", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(path.join(dir, "metrics.json"), "utf8")) as { hyper: { jit: boolean; padToMultipleOf: number } };
    assert.equal(m.hyper.jit, true);
    assert.equal(m.hyper.padToMultipleOf, 8);
    const scores: unknown[] = [];
    for (const mode of ["--jit", "--no-jit"]) {
      const e = await cli(["eval", "--model", model, "--checkpoint", dir, "--task", "rte", "--data-dir", GLUE as string, "--max-examples", "8", mode, "--json"]);
      assert.equal(e.code, 0, e.stderr);
      scores.push((JSON.parse(e.stdout.trim().split("\n").pop() as string) as { scores: unknown }).scores);
    }
    assert.deepEqual(scores[0], scores[1], "the jitted and eager forward passes score alike");
    const both = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", path.join(work, "jit-both"), ...small, "--jit", "--no-jit"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --jit or --no-jit, not both/);
  });

  test("--remat and --no-remat: the same training to float rounding, recorded in metrics.json", async () => {
    const small = ["--task", "rte", "--max-train-examples", "16", "--max-eval-examples", "8", "--epochs", "1", "--batch-size", "8", "--bottleneck", "4", "--json"];
    const runs: { hyper: { remat: boolean }; history: { trainLoss: number }[]; test: { scores: { accuracy: number } } }[] = [];
    for (const extra of [["--remat"], ["--no-remat"]]) {
      const dir = path.join(work, `remat-${extra[0].slice(2)}`);
      const r = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, ...small, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      runs.push(JSON.parse(readFileSync(path.join(dir, "metrics.json"), "utf8")) as (typeof runs)[number]);
    }
    assert.deepEqual(runs.map((m) => m.hyper.remat), [true, false]);
    const [a, b] = runs.map((m) => m.history[0].trainLoss);
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `train loss ${a} (remat) vs ${b} (--no-remat)`);
    assert.deepEqual(runs[0].test.scores, runs[1].test.scores);
    // Text-to-text tasks take the flags too (block by block over T5's encoder and decoder): both at once is the same usage error.
    const t5 = await cli(["train", "--task", "bible-es-en", "--remat", "--no-remat", "--output", path.join(work, "t5-remat")]);
    assert.equal(t5.code, 2);
    assert.match(t5.stderr, /--remat and --no-remat contradict each other/);
  });

  test("--seeds runs each seed and reports mean and std", async () => {
    const dir = path.join(work, "seeds");
    const r = await cli(["train", "--model", model, "--data-dir", GLUE as string, "--output", dir, "--task", "rte", "--max-train-examples", "16", "--max-eval-examples", "8", "--epochs", "1", "--batch-size", "8", "--bottleneck", "4", "--method", "lora", "--rank", "2", "--seeds", "1,2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(readFileSync(path.join(dir, "metrics.json"), "utf8")) as { seeds: unknown[]; test: Record<string, { mean: number; std: number }> };
    assert.equal(summary.seeds.length, 2);
    assert.ok(Number.isFinite(summary.test.accuracy.mean) && Number.isFinite(summary.test.accuracy.std));
    for (const s of [1, 2]) assert.ok(existsSync(path.join(dir, `seed-${s}`, "adapter_model.safetensors")));
  });
});

describe("bad input", { skip: GLUE ? false : "no GLUE RTE files found" }, () => {
  let data: string;
  before(() => {
    data = path.join(work, "bad-glue");
    mkdirSync(path.join(data, "RTE"), { recursive: true });
    copyFileSync(path.join(GLUE as string, "RTE", "dev.tsv"), path.join(data, "RTE", "dev.tsv"));
    const lines = readFileSync(path.join(GLUE as string, "RTE", "train.tsv"), "utf8").split("\n").slice(0, 30);
    lines.splice(5, 0, "9991\tonly two columns", "9992\tsome text\tanother text\tmaybe");
    writeFileSync(path.join(data, "RTE", "train.tsv"), lines.join("\n") + "\n");
  });

  test("a malformed row stops with the file and line", async () => {
    const r = await cli(["train", "--model", model, "--data-dir", data, "--task", "rte", "--output", path.join(work, "bad1")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /RTE\/train\.tsv:6: expected 4 columns \(index, sentence1, sentence2, label\), found 2/);
  });

  test("--skip-bad-rows skips them, counts them and reports the count", async () => {
    const r = await cli(["train", "--model", model, "--data-dir", data, "--task", "rte", "--output", path.join(work, "bad2"), "--skip-bad-rows", "--max-steps", "1", "--epochs", "1", "--max-eval-examples", "8", "--bottleneck", "4", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const warning = jsonLines(r.stdout).find((l) => l.type === "warning") as { message: string };
    assert.match(warning.message, /skipped 2 bad row\(s\) in RTE\/train\.tsv; first: RTE\/train\.tsv:6/);
    const m = JSON.parse(readFileSync(path.join(work, "bad2", "metrics.json"), "utf8")) as { skippedRows: { count: number }[]; data: { train: number } };
    assert.equal(m.skippedRows[0].count, 2);
    assert.equal(m.data.train, 29);
  });

  test("an unknown label or an empty text names the file, line and problem", async () => {
    const lines = readFileSync(path.join(GLUE as string, "RTE", "train.tsv"), "utf8").split("\n").slice(0, 10);
    const variant = (extra: string): string => {
      const f = path.join(data, `train-${extra.length}.tsv`);
      writeFileSync(f, [...lines.slice(0, 4), extra, ...lines.slice(4)].join("\n") + "\n");
      return f;
    };
    const label = await cli(["train", "--model", model, "--data-dir", data, "--task", "rte", "--output", path.join(work, "bad3"), "--train-file", variant("9992\tsome text\tanother text\tmaybe")]);
    assert.equal(label.code, 1);
    assert.match(label.stderr, /train-\d+\.tsv:5: unknown label "maybe" in column "label" \(known labels: entailment, not_entailment\)/);
    const empty = await cli(["train", "--model", model, "--data-dir", data, "--task", "rte", "--output", path.join(work, "bad3"), "--train-file", variant("9993\t \tanother text\tentailment")]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /train-\d+\.tsv:5: empty text in column "sentence1"/);
  });

  test("a missing model file is named", async () => {
    const m = path.join(work, "no-weights");
    mkdirSync(m, { recursive: true });
    copyFileSync(path.join(model, "config.json"), path.join(m, "config.json"));
    const r = await cli(["train", "--model", m, "--data-dir", data, "--task", "rte", "--output", path.join(work, "bad4")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no-weights\/model\.safetensors: not found/);
  });

  test("an unknown task lists the known ones", async () => {
    const r = await cli(["train", "--model", model, "--data-dir", data, "--task", "rtee", "--output", path.join(work, "bad5")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown task "rtee"; known tasks: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli/);
  });

  test("an unwritable output folder is reported before training starts", async () => {
    const file = path.join(work, "a-file");
    writeFileSync(file, "x");
    const r = await cli(["train", "--model", model, "--data-dir", data, "--task", "rte", "--output", path.join(file, "out"), "--json"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a-file\/out: cannot create the output folder: .*a-file is a file, not a folder/);
    assert.ok(!r.stdout.includes('"type":"step"'));
  });

  test("a custom JSONL regression task trains and reports Pearson and Spearman", async () => {
    const dir = path.join(work, "custom");
    mkdirSync(dir, { recursive: true });
    const row = (i: number): string => JSON.stringify({ a: `the cat ${"a ".repeat(i % 5)}sat`, score: (i % 5) / 2 });
    writeFileSync(path.join(dir, "train.jsonl"), Array.from({ length: 16 }, (_, i) => row(i)).join("\n") + "\n");
    writeFileSync(path.join(dir, "dev.jsonl"), Array.from({ length: 10 }, (_, i) => row(i + 3)).join("\n") + "\n");
    const r = await cli(["train", "--model", model, "--task-dir", dir, "--text-column", "a", "--label-column", "score", "--regression", "--output", path.join(work, "custom-out"), "--epochs", "1", "--batch-size", "8", "--bottleneck", "4", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(path.join(work, "custom-out", "metrics.json"), "utf8")) as { task: string; test: { scores: Record<string, number> } };
    assert.equal(m.task, "custom:custom");
    assert.deepEqual(Object.keys(m.test.scores).sort(), ["pearson", "spearman"]);
  });
});

test("storage --model-config prints the paper's RoBERTa-base figures", async () => {
  // The repo ships no roberta-base config; write the real one's dimensions (shared/data/configs).
  const dir = tempDir();
  const file = path.join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ model_type: "roberta", vocab_size: 50265, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, hidden_act: "gelu", layer_norm_eps: 1e-5, max_position_embeddings: 514, type_vocab_size: 1, pad_token_id: 1 }));
  const cases: [string, RegExp][] = [
    ["propetl-adapter", /32-bit words\s+136,000[\s\S]*% of backbone\s+0\.109%/],
    ["adapter", /32-bit words\s+1,189,632[\s\S]*% of backbone\s+0\.954%/],
    ["propetl-lora", /32-bit words\s+135,168[\s\S]*% of backbone\s+0\.108%/],
    ["propetl-prefix", /32-bit words\s+135,168[\s\S]*% of backbone\s+0\.108%/],
  ];
  for (const [method, re] of cases) {
    const r = await cli(["storage", "--model-config", file, "--method", method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, re, method);
  }
  const both = await cli(["storage", "--model-config", file, "--config", file, "--method", "adapter"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
  // only-mask: the state (kept entries + masks) is the figure; the paper's eq. 15 figure is a note.
  const onlyMask = await cli(["storage", "--model-config", file, "--method", "only-mask"]);
  assert.equal(onlyMask.code, 0, onlyMask.stderr);
  assert.match(onlyMask.stdout, /32-bit words\s+636,672[\s\S]*eq\. 15 \(Appendix B\) omits the masks: it counts 19,193,856 bits = 599,808 32-bit words/);
  // Bad method names and k values: the method table's messages, as usage errors.
  const badK = await cli(["storage", "--method", "propetl-adapter", "--k", "1.5"]);
  assert.equal(badK.code, 2);
  assert.match(badK.stderr, /propetl-adapter: k must be a number in \(0, 1\] \(the kept fraction of a mask\), got 1\.5/);
  const badName = await cli(["storage", "--method", "adaptor"]);
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /--method: unknown method "adaptor"; accepted: adapter, houlsby, lora, prefix, full, propetl-adapter/);
});
