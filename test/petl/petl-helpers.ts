/** Shared setup for the PETL tests: tiny-bert, its fixture batch, losses, tree paths, Adam. */
import { asEncoderParams } from "../../src/models/architecture.js";
import path from "node:path";
import { jit, np, tree, valueAndGrad } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { readSafetensorsFileSync, toFloat32 } from "../../src/io/safetensors.js";
import type { SafetensorsFile } from "../../src/io/safetensors.js";
import { classify, disposeBatch, encode, makeBatch, sequenceLoss } from "../../src/models/bert/encoder.js";
import type { DeviceBatch } from "../../src/models/bert/encoder.js";
import { loadModelDir } from "../../src/models/load.js";
import type { LoadedModel } from "../../src/models/load.js";
import type { HeadParams } from "../../src/models/bert/params.js";
import { materializedHooks } from "../../src/petl/propetl.js";
import type { HookContext, Materialized, PetlMethod } from "../../src/petl/method.js";
import { METHOD_NAMES } from "../../src/petl/methods.js";
import { namedLeaves } from "../../src/train/tree-util.js";
import assert from "node:assert/strict";
import { FIXTURES, modelFixtureDir, readExpected } from "../helpers/fixtures.js";

/** Small module sizes for tiny-bert (H = 32, L = 2). */
export const SMALL = { bottleneck: 8, rank: 4, alpha: 8, prefixLength: 4, prefixHidden: 16 } as const;

/** Every method of the method table (src/petl/methods.ts). */
export const ALL_METHODS = METHOD_NAMES;

export interface Setup {
  model: LoadedModel;
  batch: DeviceBatch;
  labels: JArray;
  B: number;
  dispose(): void;
}

/** tiny-bert with the batch and labels of its expected.safetensors. */
export async function tinyBert(): Promise<Setup> {
  const model = await loadModelDir(modelFixtureDir("tiny-bert"));
  const exp = readExpected("tiny-bert");
  const [B, T] = exp.shape("input_ids");
  const batch = makeBatch(model.config, { batchSize: B, seqLen: T, inputIds: exp.i32("input_ids"), attentionMask: exp.i32("attention_mask"), tokenTypeIds: exp.i32("token_type_ids") });
  const labels = np.array(exp.i32("labels"), { dtype: np.int32 });
  return {
    model,
    batch,
    labels,
    B,
    dispose: () => {
      disposeBatch(batch);
      labels.dispose();
      tree.dispose(model.encoder);
      tree.dispose(model.head);
    },
  };
}

/** Mean loss of a method's forward (params borrowed). */
export function lossOf<T>(s: Pick<Setup, "model">, method: PetlMethod<T>, params: T, batch: DeviceBatch, labels: JArray, ctx: HookContext, head: HeadParams = s.model.head): JArray {
  const enc = method.encoderOverride ? asEncoderParams(method.encoderOverride(params)) : s.model.encoder;
  const hidden = encode(s.model.config, enc, batch, method.hooks(params, ctx));
  return sequenceLoss(classify(head, hidden), labels.ref, s.model.config.numLabels);
}

/** valueAndGrad of `lossOf` w.r.t. the method tree (params borrowed; returns owned loss and grads). */
export function lossAndGrad<T>(s: Pick<Setup, "model">, method: PetlMethod<T>, params: T, batch: DeviceBatch, labels: JArray, ctx: HookContext): [JArray, T] {
  const f = (p: T): JArray => {
    const l = lossOf(s, method, p, batch, labels, ctx);
    tree.dispose(p as never);
    return l;
  };
  return valueAndGrad(f)(tree.ref(params as never)) as [JArray, T];
}

/** Logits of materialised modules (borrowed). */
export function materializedLogits(s: Pick<Setup, "model">, m: Materialized, batch: DeviceBatch, head: HeadParams | null = s.model.head): JArray {
  if (head === null) throw new Error("the checkpoint has no classification head");
  const enc = m.encoder ? asEncoderParams(m.encoder) : s.model.encoder;
  return classify(head, encode(s.model.config, enc, batch, materializedHooks(m)));
}

/** Host value of a scalar (consumed). */
export async function scalar(x: JArray): Promise<number> {
  return ((await x.data()) as Float32Array)[0];
}

/** Every array leaf of a tree with its dotted path (borrowed). */
export function leaves(t: unknown, prefix = ""): [string, JArray][] {
  const out: [string, JArray][] = [];
  const walk = (node: unknown, p: string): void => {
    if (node === null || node === undefined || typeof node !== "object") return;
    if (typeof (node as { dispose?: unknown }).dispose === "function" && Array.isArray((node as { shape?: unknown }).shape)) {
      out.push([p, node as JArray]);
      return;
    }
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node as Record<string, unknown>);
    for (const [k, v] of entries) walk(v, p === "" ? k : `${p}.${k}`);
  };
  walk(t, prefix);
  return out;
}

/** Same structure with `fn(leaf, path)` at every leaf, visiting leaves in `leaves()` order. */
export function mapLeaves(t: unknown, fn: (leaf: JArray, path: string) => unknown, prefix = ""): unknown {
  if (t === null || t === undefined || typeof t !== "object") return t;
  if (typeof (t as { dispose?: unknown }).dispose === "function" && Array.isArray((t as { shape?: unknown }).shape)) return fn(t as JArray, prefix);
  const sub = (k: string) => (prefix === "" ? k : `${prefix}.${k}`);
  if (Array.isArray(t)) return t.map((v, i) => mapLeaves(v, fn, sub(String(i))));
  return Object.fromEntries(Object.entries(t as Record<string, unknown>).map(([k, v]) => [k, mapLeaves(v, fn, sub(k))]));
}

/** Replace the leaf at a dotted path (the old leaf is disposed). */
export function setLeafAt(t: unknown, dotted: string, value: JArray): void {
  const keys = dotted.split(".");
  let node = t as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (next === undefined || next === null || typeof next !== "object") throw new Error(`no node "${k}" on the way to ${dotted}`);
    node = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  const old = node[last] as JArray | undefined;
  if (!old) throw new Error(`no leaf at ${dotted}`);
  if (old.shape.join(",") !== value.shape.join(",")) throw new Error(`${dotted}: shape [${value.shape}] != [${old.shape}]`);
  old.dispose();
  node[last] = value;
}

/** The PETL fixture file made by scripts/make_petl_fixtures.py. */
export function petlFixture(): { file: SafetensorsFile; f32(name: string): Float32Array; shape(name: string): number[]; cases(): string[] } {
  const name = path.join(FIXTURES, "petl", "tiny-bert-petl.safetensors");
  const file = readSafetensorsFileSync(name);
  const get = (n: string) => {
    const e = file.tensors.get(n);
    if (!e) throw new Error(`${name}: no tensor ${n}`);
    return e;
  };
  return {
    file,
    f32: (n) => toFloat32(get(n), n, name),
    shape: (n) => get(n).shape,
    cases: () => Object.keys(file.metadata).filter((k) => k.endsWith(".config")).map((k) => k.slice(0, -".config".length)),
  };
}

/** Max |a−b| relative to max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / (s + 1e-30);
}

/**
 * Asserts that two losses agree within 1e-6 relative and two gradient trees have the same leaf
 * paths with every leaf within `tol` (relative, `relErr`); `label` starts each message. Consumes
 * the two losses (as `scalar` does) and borrows the gradient trees (the caller disposes them). Returns how many of `want`'s leaves are not all zero, so
 * that a caller can also assert the comparison was not between zeros.
 */
export async function assertSameGradients(
  want: { loss: JArray; grads: unknown },
  got: { loss: JArray; grads: unknown },
  tol: number,
  label: string,
): Promise<number> {
  const [a, b] = [await scalar(want.loss), await scalar(got.loss)];
  assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a)), `${label}: loss ${b} vs ${a}`);
  const expected = namedLeaves(want.grads);
  const actual = new Map(namedLeaves(got.grads));
  assert.deepEqual([...actual.keys()].sort(), expected.map(([p]) => p).sort(), `${label}: same gradient tree`);
  let nonzero = 0;
  for (const [p, g] of expected) {
    const x = (await g.ref.data()) as Float32Array;
    const y = (await (actual.get(p) as JArray).ref.data()) as Float32Array;
    if (x.some((v) => v !== 0)) nonzero++;
    const e = relErr(y, x);
    assert.ok(e <= tol, `${label}: gradient ${p}: relative error ${e}`);
  }
  return nonzero;
}

/** Plain Adam over a tree (no weight decay), compiled; `step` consumes params and grads. */
export class Adam<T> {
  private t = 0;
  private m: T;
  private v: T;
  private readonly update: ((...args: unknown[]) => unknown) & { dispose(): void };
  constructor(
    params: T,
    private readonly lr: (path: string) => number,
  ) {
    this.m = mapLeaves(params, (x) => np.zeros(x.shape)) as T;
    this.v = mapLeaves(params, (x) => np.zeros(x.shape)) as T;
    const b1 = 0.9;
    const b2 = 0.999;
    const lrOf = this.lr;
    const fn = (p: T, g: T, m: T, v: T, c: JArray): [T, T, T] => {
      // c = [1/(1−b1^t), 1/(1−b2^t)]
      const gm = new Map(leaves(g));
      const mm = new Map(leaves(m));
      const vm = new Map(leaves(v));
      const newM = new Map<string, JArray>();
      const newV = new Map<string, JArray>();
      const c1 = c.ref.slice(0);
      const c2 = c.slice(1);
      const next = mapLeaves(p, (x, path) => {
        const gi = gm.get(path) as JArray;
        const mi = (mm.get(path) as JArray).mul(b1).add(gi.ref.mul(1 - b1));
        const vi = (vm.get(path) as JArray).mul(b2).add(gi.ref.mul(gi).mul(1 - b2));
        const upd = mi.ref.mul(c1.ref).div(np.sqrt(vi.ref.mul(c2.ref)).add(1e-8));
        newM.set(path, mi);
        newV.set(path, vi);
        return x.sub(upd.mul(lrOf(path)));
      }) as T;
      c1.dispose();
      c2.dispose();
      return [next, mapLeaves(m, (_, path) => newM.get(path)) as T, mapLeaves(v, (_, path) => newV.get(path)) as T];
    };
    this.update = jit(fn as unknown as (...args: JArray[]) => JArray[]) as unknown as typeof this.update;
  }
  step(params: T, grads: T): T {
    this.t++;
    const c = np.array([1 / (1 - 0.9 ** this.t), 1 / (1 - 0.999 ** this.t)]);
    const [next, m, v] = this.update(params as never, grads as never, this.m as never, this.v as never, c) as [T, T, T];
    this.m = m;
    this.v = v;
    return next;
  }
  dispose(): void {
    tree.dispose(this.m as never);
    tree.dispose(this.v as never);
    this.update.dispose();
  }
}
