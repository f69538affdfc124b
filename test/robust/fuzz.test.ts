/**
 * A seeded, bounded fuzz of the loaders (issue 16): 520 mutations of a task checkpoint's
 * adapter_model.safetensors and adapter_config.json, a model folder's config.json and
 * model.safetensors, and TSV / JSONL task files. Each mutation is labelled, before it runs,
 * "must be refused" (the loader must throw) or "harmless" (the loader must accept it), from
 * what the mutation does (a float bit flip is harmless unless it makes the value NaN or
 * infinite, a mask bit flip changes the mask's popcount, ...). The library loaders are called
 * directly (no CLI), so the run takes seconds.
 *
 * A crash is an error that is not one of propetl's named error classes (a TypeError or
 * RangeError from deep inside, a raw ENOENT) or whose message does not name the file. The test
 * asserts 0 crashes, 0 accepted "must be refused" cases and 0 refused "harmless" cases, and
 * prints the counts.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { BitpackError } from "../../src/io/bitpack.js";
import { JsonDepthError } from "../../src/io/json-depth.js";
import { SafetensorsError } from "../../src/io/safetensors.js";
import { TextDecodeError } from "../../src/io/text-lines.js";
import { ConfigError } from "../../src/models/config-values.js";
import { ModelLoadError, loadModelDir } from "../../src/models/load.js";
import type { LoadedModel } from "../../src/models/load.js";
import { DataFormatError, readExamples, readExamplesSync } from "../../src/data/read-examples.js";
import type { RowSchema } from "../../src/data/read-examples.js";
import { CheckpointError, loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { HostRng } from "../../src/petl/mask.js";
import { MethodConfigError } from "../../src/petl/methods.js";
import { modelFixtureDir } from "../helpers/fixtures.js";
import { tempDir } from "../train/helpers.js";
import { CONFIG, MODEL, makeCheckpoint } from "./helpers.js";

/** propetl's named errors: what a loader may throw at bad input. */
const NAMED: (abstract new (...args: never[]) => Error)[] = [CheckpointError, SafetensorsError, ConfigError, ModelLoadError, DataFormatError, MethodConfigError, JsonDepthError, TextDecodeError, BitpackError];

type Label = "refuse" | "harmless";
interface Case {
  target: "checkpoint" | "model" | "tsv" | "jsonl";
  kind: string;
  label: Label;
  /** The file that was mutated (a task file's name is also what its reader reads). */
  file: string;
  /** The error must name one of these files (the loader reads them together). */
  names: string[];
  /** Write the mutated file(s); the loader then runs. */
  write(): void;
}

/** The fixed seed of the suite; PROPETL_FUZZ_SEED runs another (to search further by hand). */
const SEED = process.env.PROPETL_FUZZ_SEED !== undefined ? Number(process.env.PROPETL_FUZZ_SEED) : 20261202;
const rng = new HostRng(SEED);
const int = (n: number): number => Math.floor(rng.uniform() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

let work: string;
let ckDir: string;
let modelDir: string;
let base: { ckConfig: string; ckModel: Uint8Array; config: string; model: Uint8Array };
let model: LoadedModel;

before(async () => {
  await initEngine();
  work = tempDir("propetl-fuzz-");
  const src = path.join(work, "source");
  await makeCheckpoint(src, "propetl-adapter");
  ckDir = path.join(work, "ck");
  modelDir = path.join(work, "model");
  mkdirSync(ckDir);
  mkdirSync(modelDir);
  const fixture = modelFixtureDir("tiny-bert");
  base = {
    ckConfig: readFileSync(path.join(src, CONFIG), "utf8"),
    ckModel: readFileSync(path.join(src, MODEL)),
    config: readFileSync(path.join(fixture, "config.json"), "utf8"),
    model: readFileSync(path.join(fixture, "model.safetensors")),
  };
  copyFileSync(path.join(fixture, "config.json"), path.join(modelDir, "config.json"));
  model = await loadModelDir(fixture);
});
after(() => {
  tree.dispose([model.encoder, model.head]);
  rmSync(work, { recursive: true, force: true });
});

// --- safetensors bytes -----------------------------------------------------------------

interface Split {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  data: Uint8Array;
}
function split(bytes: Uint8Array): Split {
  const n = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
  // A copy: a Buffer's slice() is a view, and the base files must stay as they are.
  return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8")) as Split["header"], data: new Uint8Array(bytes.subarray(8 + n)) };
}
function join(header: string | Uint8Array, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const h = typeof header === "string" ? Buffer.from(header, "utf8") : header;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length + lengthDelta));
  return Buffer.concat([len, h, data]);
}
type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
const tensorNames = (s: Split): string[] => Object.keys(s.header).filter((k) => k !== "__metadata__");
const entry = (s: Split, name: string): Entry => s.header[name] as Entry;

/**
 * Mutations of a safetensors file; `masksOf` gives its bit-packed masks (name → entries).
 * `strictMetadata`: its __metadata__ keys are fixed (a task checkpoint); a model file's
 * metadata is free-form in Hugging Face files, so an added key is harmless there.
 */
function safetensorsMutation(bytes: Uint8Array, masksOf: (s: Split) => Map<string, number>, strictMetadata: boolean): { kind: string; label: Label; bytes: Uint8Array } {
  const s = split(bytes);
  const names = tensorNames(s);
  const masks = masksOf(s);
  const floats = names.filter((n) => entry(s, n).dtype === "F32");
  const kinds = ["truncate", "append", "float-bit", "float-bit", "float-bit", "float-nan", "mask-bit", "dtype", "shape-swap", "offsets", "drop-entry", "rename", "meta-key", "mask-meta-shape", "length-field", "header-utf8", "header-array", "deep-json", "pad-header"];
  const kind = pick(kinds.filter((k) => !(k.startsWith("mask") && masks.size === 0)));
  const clone = (): Split["header"] => JSON.parse(JSON.stringify(s.header)) as Split["header"];
  switch (kind) {
    case "truncate":
      return { kind, label: "refuse", bytes: bytes.subarray(0, int(bytes.length)) };
    case "append":
      return { kind, label: "refuse", bytes: Buffer.concat([bytes, Buffer.from(rng.uniformArray(1 + int(16), 0, 255).map(Math.floor))]) };
    case "float-bit":
    case "float-nan": {
      const name = pick(floats);
      const e = entry(s, name);
      const count = (e.data_offsets[1] - e.data_offsets[0]) / 4;
      const at = e.data_offsets[0] + 4 * int(count);
      const data = s.data.slice();
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (kind === "float-nan") view.setFloat32(at, pick([Number.NaN, Infinity, -Infinity]), true);
      else view.setUint32(at, view.getUint32(at, true) ^ (1 << int(32)), true);
      const v = view.getFloat32(at, true);
      return { kind, label: Number.isFinite(v) ? "harmless" : "refuse", bytes: join(JSON.stringify(s.header), data) };
    }
    case "mask-bit": {
      const name = pick([...masks.keys()]);
      const n = masks.get(name) as number;
      const data = s.data.slice();
      const bit = int(n);
      data[entry(s, name).data_offsets[0] + (bit >> 3)] ^= 1 << (bit & 7);
      return { kind, label: "refuse", bytes: join(JSON.stringify(s.header), data) };
    }
    case "dtype": {
      const h = clone();
      const name = pick(names);
      const e = h[name] as Entry;
      e.dtype = pick(["F16", "BF16", "I32", "U8", "F64", "BOOL", "Q4", ""].filter((d) => d !== e.dtype));
      return { kind: `${kind}(${name}→${e.dtype})`, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "shape-swap": {
      const h = clone();
      const name = pick(names.filter((n) => (h[n] as Entry).shape.length === 2 && (h[n] as Entry).shape[0] !== (h[n] as Entry).shape[1]));
      const e = h[name] as Entry;
      e.shape = [e.shape[1], e.shape[0]];
      return { kind, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "offsets": {
      const h = clone();
      const e = h[pick(names)] as Entry;
      const d = pick([-4, -1, 1, 4, 1 << 20, 2 ** 40]);
      e.data_offsets = pick([[e.data_offsets[0] + d, e.data_offsets[1] + d], [e.data_offsets[0], e.data_offsets[1] + d], [e.data_offsets[1], e.data_offsets[0]]]) as [number, number];
      return { kind, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "drop-entry": {
      const h = clone();
      delete h[pick(names)];
      return { kind, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "rename": {
      const h = clone();
      const name = pick(names);
      h[`${name}${pick(["_", ".x", "s"])}`] = h[name];
      delete h[name];
      return { kind, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "meta-key": {
      const h = clone();
      h.__metadata__ = { ...((h.__metadata__ as Record<string, string>) ?? {}), [pick(["notes", "mask.encoder.layer.9.x", "x"])]: pick(["[1]", "y", "{}"]) };
      return { kind, label: strictMetadata ? "refuse" : "harmless", bytes: join(JSON.stringify(h), s.data) };
    }
    case "mask-meta-shape": {
      const h = clone();
      const meta = h.__metadata__ as Record<string, string>;
      const name = pick([...masks.keys()]);
      const shape = JSON.parse(meta[name]) as number[];
      meta[name] = pick([JSON.stringify([...shape].reverse()), JSON.stringify([shape[0] * 2, shape[1] / 2]), "[", "\"a\"", JSON.stringify([shape.reduce((a, b) => a * b, 1)]), "[[[[1]]]]"]);
      // A transposed or flattened shape of the same size still differs from what the method expects.
      return { kind, label: "refuse", bytes: join(JSON.stringify(h), s.data) };
    }
    case "length-field":
      return { kind, label: "refuse", bytes: join(JSON.stringify(s.header), s.data, pick([-8, -1, 1, 8, 2 ** 30, 2 ** 52])) };
    case "header-utf8": {
      const h = Buffer.from(JSON.stringify(s.header), "utf8");
      const at = 2 + int(h.length - 4);
      h[at] = pick([0xff, 0xc3, 0x80, 0xfe]);
      return { kind, label: "refuse", bytes: join(h, s.data) };
    }
    case "header-array":
      return { kind, label: "refuse", bytes: join(pick(["[]", "null", "1", "\"x\"", "{", ""]), s.data) };
    case "deep-json": {
      const h = clone();
      h.__metadata__ = { ...((h.__metadata__ as Record<string, string>) ?? {}) };
      return { kind, label: "refuse", bytes: join(JSON.stringify(h).replace(/}$/, `,"deep":${"[".repeat(5000)}${"]".repeat(5000)}}`), s.data) };
    }
    case "pad-header": {
      // Trailing spaces in the header (as the writer pads it): the same file.
      return { kind, label: "harmless", bytes: join(JSON.stringify(s.header) + " ".repeat(1 + int(40)), s.data) };
    }
  }
  throw new Error(`no mutation ${kind}`);
}

/** Mask names and entry counts of a checkpoint file (from __metadata__). */
function checkpointMasks(s: Split): Map<string, number> {
  const meta = (s.header.__metadata__ ?? {}) as Record<string, string>;
  return new Map(Object.keys(meta).filter((k) => k.startsWith("mask.")).map((k) => [k, (JSON.parse(meta[k]) as number[]).reduce((a, b) => a * b, 1)]));
}

// --- JSON config files -------------------------------------------------------------------

type Json = Record<string, unknown>;
interface JsonMutation {
  kind: string;
  label: Label;
  text: string | Uint8Array;
}

/** Generic damage to a JSON file's text. */
function textDamage(text: string): JsonMutation {
  switch (int(4)) {
    case 0:
      return { kind: "json-truncated", label: "refuse", text: text.slice(0, 1 + int(text.length - 2)) };
    case 1: {
      const b = Buffer.from(text, "utf8");
      // Inside a string value: the first quote after a random point.
      const at = b.indexOf(0x22, 1 + int(b.length - 10)) + 1;
      return { kind: "json-bad-utf8", label: "refuse", text: Buffer.concat([b.subarray(0, at), Buffer.from([pick([0xff, 0xc3, 0xe9, 0x80])]), b.subarray(at)]) };
    }
    case 2:
      return { kind: "json-deep", label: "refuse", text: text.replace(/^\{/, `{"deep": ${"[".repeat(6000)}${"]".repeat(6000)},`) };
    default:
      return { kind: "json-not-object", label: "refuse", text: pick(["[]", "null", "42", "\"x\"", ""]) };
  }
}

function adapterConfigMutation(): JsonMutation {
  const j = JSON.parse(base.ckConfig) as Json;
  const mod = j.module as Json;
  const set = (kind: string, label: Label, edit: () => void): JsonMutation => {
    edit();
    return { kind, label, text: JSON.stringify(j, null, int(2) ? 2 : 0) };
  };
  const required = ["format", "format_version", "method", "module", "k", "task_k", "combine", "hook_points", "tasks", "label_names", "dtype", "backbone"];
  switch (int(16)) {
    case 0:
      return set("k", "refuse", () => (j.k = pick([0.3, 0.7, 1, 0.49, 0, -0.5, 2, "0.5", null, true])));
    case 1:
      return set("task_k/combine", "refuse", () => (pick([true, false]) ? (j.task_k = pick([0.3, 0.5])) : (j.combine = pick(["or", "and", "xor"]))));
    case 2:
      return set("method", "refuse", () => (j.method = pick(["adapter", "propetl-lora", "propetl-houlsby", "only-mask", "bogus", 1, null])));
    case 3:
      return set("module", "refuse", () => (pick([true, false]) ? (mod.bottleneck = pick([16, 4, 0, -8, 8.5, "8", null])) : (mod[pick(["rank", "extra", "bottleneck_size"])] = 4)));
    case 4: {
      const hp = j.hook_points as string[];
      return set("hook_points", "refuse", () => (j.hook_points = pick([hp.slice(1), [...hp].reverse(), [...hp, "encoder.layer.2.ffn_output"], hp.map((h) => h.replace("encoder.", "")), "x", [1]])));
    }
    case 5:
      return set("tasks", "refuse", () => (j.tasks = pick([["x"], [], ["default", "default"], "default", [1]])));
    case 6:
      return set("label_names", "refuse", () => ((j.label_names as Json).default = pick([["no", "no"], [], ["only"], ["a", "b", "c"], "ab", [1, 2]])));
    case 7:
      return set("dtype", "refuse", () => (j.dtype = pick(["F16", "BF16", "f32", null])));
    case 8:
      return set("backbone", "refuse", () => ((j.backbone as Json)[pick(["hidden_size", "num_hidden_layers", "model_type", "vocab_size", "extra_key"])] = pick([64, 3, "roberta", 121, "x"])));
    case 9:
      return set("format", "refuse", () => (pick([true, false]) ? (j.format = pick(["propetl", "peft", null])) : (j.format_version = pick([0, 1, 3, "2", 2.5]))));
    case 10:
      return set("stacks", "refuse", () => (j.stacks = pick([{ encoder: 3 }, { encoder: 2, decoder: 2 }, [], "x"])));
    case 11:
      return set("missing-key", "refuse", () => delete j[pick(required)]);
    case 12:
      return set("unknown-key", "refuse", () => (j[pick(["notes", "K", "hook_point", "extra"])] = pick([1, "x", null, {}])));
    case 13: {
      // Harmless: reordered keys, other whitespace, other (distinct) label names, no "stacks" (older files).
      const h = pick(["reorder", "labels", "no-stacks", "whitespace"]);
      if (h === "reorder") return { kind: "h-reorder", label: "harmless", text: JSON.stringify(Object.fromEntries(Object.entries(j).reverse())) };
      if (h === "labels") return set("h-labels", "harmless", () => ((j.label_names as Json).default = pick([["neg", "pos"], ["é", "ü"], ["1", "0"]])));
      if (h === "no-stacks") return set("h-no-stacks", "harmless", () => delete j.stacks);
      return { kind: "h-whitespace", label: "harmless", text: `\n\t ${JSON.stringify(j, null, 4)}\r\n` };
    }
    default:
      return textDamage(base.ckConfig);
  }
}

function configMutation(): JsonMutation {
  const j = JSON.parse(base.config) as Json;
  const set = (kind: string, label: Label, edit: () => void): JsonMutation => {
    edit();
    return { kind, label, text: JSON.stringify(j, null, 2) };
  };
  const shapeKeys = ["hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size", "max_position_embeddings", "type_vocab_size"];
  switch (int(12)) {
    case 0:
      return set("missing-required", "refuse", () => delete j[pick(["hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size", "max_position_embeddings"])]);
    case 1:
      // Another valid value for a key the weights' shapes follow: the weights no longer fit.
      return set("shape-key", "refuse", () => {
        const key = pick(shapeKeys);
        j[key] = (j[key] as number) + pick([1, 2, -1, 8, 32]);
      });
    case 2:
      return set("bad-type", "refuse", () => (j[pick([...shapeKeys, "num_attention_heads", "pad_token_id"])] = pick(["32", 32.5, -4, true, [32], {}])));
    case 3:
      return set("zero", "refuse", () => (j[pick(["hidden_size", "num_attention_heads", "num_hidden_layers", "intermediate_size", "vocab_size", "max_position_embeddings"])] = 0));
    case 4:
      return set("choice", "refuse", () => (pick([true, false]) ? (j.hidden_act = pick(["swish2", "", 1, "GELU"])) : (j.position_embedding_type = pick(["relative_key", "rotary"]))));
    case 5:
      return set("meaning", "refuse", () => {
        const m = int(5);
        if (m === 0) j.num_attention_heads = 3;
        else if (m === 1) j.pad_token_id = pick([120, 500, -1]);
        else if (m === 2) j.id2label = { "0": "a", "1": "a", "2": "b" };
        else if (m === 3) j.layer_norm_eps = pick([0, -1e-12, "x"]);
        else j.model_type = pick(["gpt2", "llama", 7]);
      });
    case 6:
    case 7: {
      const h = int(5);
      if (h === 0) return set("h-drop-optional", "harmless", () => delete j[pick(["architectures", "torch_dtype", "use_cache", "initializer_range", "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "label2id", "type_vocab_size", "pad_token_id", "position_embedding_type", "layer_norm_eps"])]);
      if (h === 1) return set("h-unknown-key", "harmless", () => (j[pick(["transformers_version", "gradient_checkpointing", "foo"])] = pick(["4.40.0", false, 1])));
      if (h === 2) return set("h-dropout", "harmless", () => (j.hidden_dropout_prob = pick([0, 0.2, 0.5])));
      if (h === 3) return { kind: "h-reorder", label: "harmless", text: JSON.stringify(Object.fromEntries(Object.entries(j).reverse())) };
      return set("h-labels", "harmless", () => (j.id2label = { "0": "neg", "1": "neu", "2": "pos" }));
    }
    default:
      return textDamage(base.config);
  }
}

// --- task files --------------------------------------------------------------------------

const LABELS = ["entailment", "not_entailment"];
const TSV_SCHEMA: RowSchema = { layout: { format: "tsv", header: true, textColumn: "sentence1", textPairColumn: "sentence2", labelColumn: "label" }, kind: "classification", labels: LABELS };
const JSONL_SCHEMA: RowSchema = { layout: { format: "jsonl", header: false, textColumn: "text", labelColumn: "label" }, kind: "classification", labels: LABELS };
const ROWS = [
  ["The cat sat on the mat.", "A cat sat.", "entailment"],
  ["He did not go.", "He went.", "not_entailment"],
  ["Ships sail at dawn.", "Nothing sails.", "not_entailment"],
  ["Rain fell all day.", "It rained.", "entailment"],
];

function tsvMutation(): JsonMutation {
  const rows = ROWS.map((r) => [...r]);
  const out = (header = "sentence1\tsentence2\tlabel", eol = "\n"): string => [header, ...rows.map((r) => r.join("\t"))].join(eol) + eol;
  const r = int(rows.length);
  switch (int(12)) {
    case 0:
      return { kind: "bad-utf8", label: "refuse", text: Buffer.concat([Buffer.from(out().slice(0, 40)), Buffer.from([pick([0xe9, 0xff, 0xc3])]), Buffer.from(out().slice(40))]) };
    case 1:
      rows[r].splice(int(3), 1);
      return { kind: "missing-column", label: "refuse", text: out() };
    case 2:
      rows[r].push(pick(["", "x"]));
      return { kind: "extra-column", label: "refuse", text: out() };
    case 3:
      rows[r][2] = pick(["entail", "1", "", "Entailment", "neutral"]);
      return { kind: "unknown-label", label: "refuse", text: out() };
    case 4:
      rows[r][int(2)] = pick(["", " ", "\u00a0".trim()]);
      return { kind: "empty-text", label: "refuse", text: out() };
    case 5:
      return { kind: "bad-header", label: "refuse", text: out(pick(["sentence1\tsentence\tlabel", "text\tsentence2\tlabel", "sentence1\tsentence2", "sentence1\tsentence2\tgold"])) };
    case 6:
      return { kind: "empty-file", label: "refuse", text: pick(["", "\n", "\n\n"]) };
    default: {
      const h = int(5);
      if (h === 0) return { kind: "h-crlf", label: "harmless", text: out(undefined, "\r\n") };
      if (h === 1) return { kind: "h-bom", label: "harmless", text: `\ufeff${out()}` };
      if (h === 2) return { kind: "h-blank-lines", label: "harmless", text: out().replace(/\n/g, "\n\n") };
      if (h === 3) {
        rows[r][int(2)] = pick(["Él comió café.", "naïve “quotes” — dash", "日本語の文", "emoji 🙂 ok"]);
        return { kind: "h-unicode", label: "harmless", text: out() };
      }
      rows[r][2] = ` ${rows[r][2]} `;
      return { kind: "h-label-spaces", label: "harmless", text: out().replace(/\n$/, "") };
    }
  }
}

function jsonlMutation(): JsonMutation {
  const objs: Json[] = ROWS.map(([text, , label]) => ({ text, label }));
  const out = (eol = "\n"): string => objs.map((o) => JSON.stringify(o)).join(eol) + eol;
  const r = int(objs.length);
  switch (int(12)) {
    case 0: {
      const lines = out().split("\n");
      lines[r] = lines[r].slice(0, 1 + int(lines[r].length - 2));
      return { kind: "truncated-line", label: "refuse", text: lines.join("\n") };
    }
    case 1:
      delete objs[r][pick(["text", "label"])];
      return { kind: "missing-key", label: "refuse", text: out() };
    case 2:
      objs[r][pick(["text", "label"])] = pick([null, [], {}, 7]);
      return { kind: "bad-type", label: "refuse", text: out() };
    case 3:
      objs[r].label = pick(["entail", "", "0", "Entailment"]);
      return { kind: "unknown-label", label: "refuse", text: out() };
    case 4:
      return { kind: "bad-utf8", label: "refuse", text: Buffer.concat([Buffer.from(out().slice(0, 12)), Buffer.from([pick([0xe9, 0xff, 0xc3])]), Buffer.from(out().slice(12))]) };
    case 5:
      return { kind: "not-object", label: "refuse", text: out().replace(/^[^\n]*/, pick(["[1]", "null", "\"x\"", "3"])) };
    case 6:
      return { kind: "deep", label: "refuse", text: out().replace(/^[^\n]*/, `{"text":"a","label":"entailment","x":${"[".repeat(5000)}${"]".repeat(5000)}}`) };
    default: {
      const h = int(4);
      if (h === 0) return { kind: "h-crlf", label: "harmless", text: out("\r\n") };
      if (h === 1) {
        objs[r].extra = pick([1, "x", { a: [1] }]);
        return { kind: "h-extra-key", label: "harmless", text: out() };
      }
      if (h === 2) return { kind: "h-reorder", label: "harmless", text: objs.map((o) => JSON.stringify(Object.fromEntries(Object.entries(o).reverse()))).join("\n") };
      return { kind: "h-blank-lines", label: "harmless", text: `\n${out().replace(/\n/g, "\n  \n")}` };
    }
  }
}

// --- the cases ---------------------------------------------------------------------------

function cases(): Case[] {
  const out: Case[] = [];
  const ckConfig = (): string => path.join(ckDir, CONFIG);
  const ckModel = (): string => path.join(ckDir, MODEL);
  for (let i = 0; i < 170; i++) {
    const m = safetensorsMutation(base.ckModel, checkpointMasks, true);
    out.push({ target: "checkpoint", kind: `safetensors:${m.kind}`, label: m.label, file: MODEL, names: [MODEL, CONFIG], write: () => (writeFileSync(ckConfig(), base.ckConfig), writeFileSync(ckModel(), m.bytes)) });
  }
  for (let i = 0; i < 110; i++) {
    const m = adapterConfigMutation();
    out.push({ target: "checkpoint", kind: `adapter_config:${m.kind}`, label: m.label, file: CONFIG, names: [MODEL, CONFIG], write: () => (writeFileSync(ckConfig(), m.text), writeFileSync(ckModel(), base.ckModel)) });
  }
  for (let i = 0; i < 60; i++) {
    const m = safetensorsMutation(base.model, () => new Map(), false);
    out.push({ target: "model", kind: `model.safetensors:${m.kind}`, label: m.label, file: "model.safetensors", names: ["model.safetensors", "config.json"], write: () => (writeFileSync(path.join(modelDir, "config.json"), base.config), writeFileSync(path.join(modelDir, "model.safetensors"), m.bytes)) });
  }
  for (let i = 0; i < 80; i++) {
    const m = configMutation();
    out.push({ target: "model", kind: `config:${m.kind}`, label: m.label, file: "config.json", names: ["model.safetensors", "config.json"], write: () => (writeFileSync(path.join(modelDir, "config.json"), m.text), writeFileSync(path.join(modelDir, "model.safetensors"), base.model)) });
  }
  for (let i = 0; i < 50; i++) {
    const m = tsvMutation();
    out.push({ target: "tsv", kind: `tsv:${m.kind}`, label: m.label, file: "train.tsv", names: ["train.tsv"], write: () => writeFileSync(path.join(work, "train.tsv"), m.text) });
  }
  for (let i = 0; i < 50; i++) {
    const m = jsonlMutation();
    out.push({ target: "jsonl", kind: `jsonl:${m.kind}`, label: m.label, file: "train.jsonl", names: ["train.jsonl"], write: () => writeFileSync(path.join(work, "train.jsonl"), m.text) });
  }
  return out;
}

async function load(c: Case): Promise<void> {
  switch (c.target) {
    case "checkpoint": {
      const ck = await loadTaskCheckpoint(ckDir, { encoderConfig: model.config });
      ck.dispose();
      return;
    }
    case "model": {
      const m = await loadModelDir(modelDir);
      tree.dispose([m.encoder, m.head]);
      return;
    }
    case "tsv":
    case "jsonl": {
      const file = path.join(work, c.file);
      const schema = c.target === "tsv" ? TSV_SCHEMA : JSONL_SCHEMA;
      const a = readExamplesSync(file, schema);
      const b = await readExamples(file, schema);
      assert.deepEqual(b.examples, a.examples, "the sync and streaming readers agree");
      if (a.examples.length !== ROWS.length) throw new Error(`${c.file}: read ${a.examples.length} examples, not ${ROWS.length}`);
      return;
    }
  }
}

test("fuzz: 520 labelled mutations of checkpoints, model folders and task files", async () => {
  const all = cases();
  assert.ok(all.length >= 500);
  const counts = { cases: all.length, refused: 0, accepted: 0, mustRefuse: 0, harmless: 0, crashes: 0, acceptedMustRefuse: 0, refusedHarmless: 0 };
  const problems: string[] = [];
  const byKind = new Map<string, number>();
  for (const [i, c] of all.entries()) {
    if (c.label === "refuse") counts.mustRefuse++;
    else counts.harmless++;
    const family = c.kind.replace(/\(.*\)$/, "");
    byKind.set(family, (byKind.get(family) ?? 0) + 1);
    c.write();
    let error: unknown;
    try {
      await load(c);
    } catch (e) {
      error = e;
    }
    if (error === undefined) {
      counts.accepted++;
      if (c.label === "refuse") {
        counts.acceptedMustRefuse++;
        problems.push(`#${i} ${c.kind}: accepted, but must be refused`);
      }
      continue;
    }
    counts.refused++;
    const named = NAMED.some((cls) => error instanceof cls);
    const msg = error instanceof Error ? error.message : String(error);
    if (!named || !c.names.some((f) => msg.includes(f))) {
      counts.crashes++;
      problems.push(`#${i} ${c.kind}: crash: ${error instanceof Error ? error.name : typeof error}: ${msg.slice(0, 300)}`);
    } else if (c.label === "harmless") {
      counts.refusedHarmless++;
      problems.push(`#${i} ${c.kind}: refused, but harmless: ${msg.slice(0, 300)}`);
    }
  }
  console.log(`fuzz (seed ${SEED}): ${JSON.stringify(counts)}`);
  console.log(`fuzz kinds: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(", ")}`);
  assert.deepEqual(problems, []);
  assert.equal(counts.crashes, 0);
  assert.equal(counts.acceptedMustRefuse, 0);
  assert.equal(counts.refusedHarmless, 0);
});
