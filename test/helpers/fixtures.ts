/** Paths and loaders for committed test fixtures (made by scripts/make_model_fixtures.py). */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensorsFileSync, toFloat32, toInt32 } from "../../src/io/safetensors.js";

/** Repository root (tests run from dist/test/...). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");

/** GLUE files with RTE for the CLI tests: the shared data folder, else a copy under data/. */
export const GLUE_WITH_RTE: string | undefined = [path.resolve(REPO_ROOT, "../shared/data/glue"), path.join(REPO_ROOT, "data", "glue")].find((d) =>
  existsSync(path.join(d, "RTE", "train.tsv")),
);

export function modelFixtureDir(name: string): string {
  return path.join(FIXTURES, "models", name);
}

export interface Expected {
  f32(name: string): Float32Array;
  i32(name: string): Int32Array;
  shape(name: string): number[];
  has(name: string): boolean;
  names(): string[];
}

export function readExpected(modelName: string): Expected {
  const file = path.join(modelFixtureDir(modelName), "expected.safetensors");
  const st = readSafetensorsFileSync(file);
  const get = (n: string) => {
    const e = st.tensors.get(n);
    if (!e) throw new Error(`${file}: no tensor ${n}`);
    return e;
  };
  return {
    f32: (n) => toFloat32(get(n), n, file),
    i32: (n) => toInt32(get(n), n, file),
    shape: (n) => get(n).shape,
    has: (n) => st.tensors.has(n),
    names: () => [...st.tensors.keys()],
  };
}

/** Max |a-b| and max relative error (|a-b| / (max|b| + tiny)). */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxAbs: number; rel: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { maxAbs, rel: maxAbs / (scale + 1e-12) };
}
