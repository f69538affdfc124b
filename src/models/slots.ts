/**
 * Tensor slots: where each tensor of a model lives in our parameter trees and what Hugging
 * Face calls it. Every architecture lists its slots (e.g. `bert/params.ts`); loading, saving,
 * fresh initialisation and full fine-tuning's checkpoints all walk that one list.
 */
import type { JArray } from "../engine/jax.js";

/** One named tensor of a model: where it lives in our trees and how HF names it. */
export interface ParamSlot {
  /** Name without the model prefix, e.g. `encoder.layer.0.attention.self.query.weight`. */
  hfName: string;
  /** Whether HF stores this tensor under the model prefix (`bert.`, `roberta.`). */
  prefixed: boolean;
  /** Which tree holds it: the backbone ("encoder") or the classification head. */
  tree: "encoder" | "head";
  /** Path inside the tree. */
  path: (string | number)[];
  /** Shape in our tree. */
  shape: number[];
}

/** Read a leaf of a tree by path. */
export function getLeaf(tree: unknown, path: (string | number)[]): JArray {
  let node: unknown = tree;
  for (const k of path) node = (node as Record<string | number, unknown>)[k];
  return node as JArray;
}

/** Set a leaf of a tree by path, creating objects/arrays on the way. */
export function setLeaf(tree: Record<string, unknown>, path: (string | number)[], value: JArray): void {
  let node: Record<string | number, unknown> = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i];
    if (node[k] === undefined) node[k] = typeof path[i + 1] === "number" ? [] : {};
    node = node[k] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function isArrayLeaf(t: unknown): t is JArray {
  return t !== null && typeof t === "object" && typeof (t as { dispose?: unknown }).dispose === "function" && Array.isArray((t as { shape?: unknown }).shape);
}

/** The same tree with a new reference to every array (no copies: jax-js arrays are immutable). */
export function refTree<T>(t: T): T {
  if (t === null || typeof t !== "object") return t;
  if (isArrayLeaf(t)) return t.ref as T;
  if (Array.isArray(t)) return t.map((c: unknown) => refTree(c)) as T;
  return Object.fromEntries(Object.entries(t as Record<string, unknown>).map(([k, v]) => [k, refTree(v)])) as T;
}

/** Free every array of a tree. */
export function disposeTree(t: unknown): void {
  if (t === null || typeof t !== "object") return;
  if (isArrayLeaf(t)) {
    t.dispose();
    return;
  }
  for (const v of Object.values(t as Record<string, unknown>)) disposeTree(v);
}
