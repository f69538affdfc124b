/**
 * Small helpers over parameter trees (plain nested objects / arrays of jax-js arrays): leaves
 * with their dotted paths ("method.prototype.down.w"), path-wise mapping, and matching a
 * same-shaped tree of labels. Object keys are visited in sorted order, so paths and leaf order
 * are stable across runs and processes (checkpoints are keyed by path).
 */
import type { JArray } from "../engine/jax.js";

/** True for a jax-js array (duck-typed: jax.ts exports the class only as a type). */
export function isJArray(x: unknown): x is JArray {
  return typeof x === "object" && x !== null && typeof (x as { dispose?: unknown }).dispose === "function" && Array.isArray((x as { shape?: unknown }).shape);
}

function join(prefix: string, key: string | number): string {
  return prefix === "" ? String(key) : `${prefix}.${key}`;
}

/** Every array leaf of `tree` with its dotted path, in a stable order. Borrowed (no refs taken). */
export function namedLeaves(tree: unknown, prefix = ""): [string, JArray][] {
  const out: [string, JArray][] = [];
  const walk = (node: unknown, path: string): void => {
    if (isJArray(node)) {
      out.push([path, node]);
    } else if (Array.isArray(node)) {
      node.forEach((child, i) => walk(child, join(path, i)));
    } else if (typeof node === "object" && node !== null) {
      for (const key of Object.keys(node).sort()) walk((node as Record<string, unknown>)[key], join(path, key));
    } else if (node !== undefined && node !== null) {
      throw new TypeError(`parameter tree: leaf at "${path || "<root>"}" is a ${typeof node}, not an array`);
    }
  };
  walk(tree, prefix);
  return out;
}

/** Rebuild `tree`'s structure with `fn(path, leaf)` at each array leaf. */
export function mapNamed<R>(tree: unknown, fn: (path: string, leaf: JArray) => R, prefix = ""): unknown {
  const walk = (node: unknown, path: string): unknown => {
    if (isJArray(node)) return fn(path, node);
    if (Array.isArray(node)) return node.map((child, i) => walk(child, join(path, i)));
    if (typeof node === "object" && node !== null) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(node).sort()) out[key] = walk((node as Record<string, unknown>)[key], join(path, key));
      return out;
    }
    return node;
  };
  return walk(tree, prefix);
}

/** The value at a dotted path of a plain tree (labels, configs), or undefined. */
export function getPath(tree: unknown, path: string): unknown {
  let node: unknown = tree;
  for (const key of path === "" ? [] : path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Total number of scalars in a tree's leaves. */
export function countParams(tree: unknown): number {
  let n = 0;
  for (const [, leaf] of namedLeaves(tree)) n += leaf.size;
  return n;
}

/** A tree's structure with each array leaf replaced by its path (holds no arrays). */
export function skeletonOf(tree: unknown): unknown {
  return mapNamed(tree, (path) => path);
}

/** Rebuild a tree from a skeleton (see `skeletonOf`), taking each leaf from `values` by path. */
export function fillSkeleton(skeleton: unknown, values: ReadonlyMap<string, JArray>): unknown {
  if (typeof skeleton === "string") {
    const v = values.get(skeleton);
    if (v === undefined) throw new Error(`no value for parameter "${skeleton}"`);
    return v;
  }
  if (Array.isArray(skeleton)) return skeleton.map((c) => fillSkeleton(c, values));
  if (typeof skeleton === "object" && skeleton !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(skeleton)) out[k] = fillSkeleton(c, values);
    return out;
  }
  return skeleton;
}
