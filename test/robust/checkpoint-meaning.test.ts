/**
 * Checkpoint meaning is cross-checked at load (issue 16): every mask keeps exactly the number
 * of entries top-k keeps for `k` (task masks: `task_k`), an all-zero mask is refused, an
 * export-task file's hybrid masks are checked against the range OR / AND allows, and a
 * truncated checkpoint gives `storage`, `inspect` and the loader a named error, not figures.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { CheckpointError, loadTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { exportTaskCheckpoint } from "../../src/petl/export-task.js";
import { keptCount } from "../../src/petl/mask.js";
import { run as storageRun } from "../../src/cli/storage.js";
import { run as inspectRun } from "../../src/cli/inspect.js";
import { MODEL, editConfig, editTensors, makeCheckpoint } from "./helpers.js";

let work: string;
let single: string;
let multi: string;
before(async () => {
  await initEngine();
  work = mkdtempSync(path.join(tmpdir(), "propetl-meaning-"));
  single = path.join(work, "single");
  multi = path.join(work, "multi");
  await makeCheckpoint(single, "propetl-adapter");
  await makeCheckpoint(multi, "propetl-adapter", { tasks: ["a", "b"] });
});
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function copy(src: string): string {
  const d = path.join(work, `case-${n++}`);
  cpSync(src, d, { recursive: true });
  return d;
}

async function refused(dir: string, re: RegExp): Promise<void> {
  await assert.rejects(loadTaskCheckpoint(dir), (e: unknown) => {
    assert.ok(e instanceof Error && e.name !== "TypeError" && e.name !== "RangeError", `a named error, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

/** The first layer mask's name and entry count. */
function firstMask(dir: string, prefix = "mask.encoder."): { name: string; n: number } {
  const json = JSON.parse(readFileSync(path.join(dir, MODEL)).subarray(8, 8 + Number(readFileSync(path.join(dir, MODEL)).readBigUInt64LE(0))).toString()) as Record<string, unknown>;
  const meta = json.__metadata__ as Record<string, string>;
  const name = Object.keys(meta).filter((k) => k.startsWith(prefix)).sort()[0];
  return { name, n: (JSON.parse(meta[name]) as number[]).reduce((a, b) => a * b, 1) };
}

describe("mask popcounts", () => {
  test("the saved files load (their masks keep keptCount(n, k) entries)", async () => {
    (await loadTaskCheckpoint(single)).dispose();
    (await loadTaskCheckpoint(multi)).dispose();
  });

  test("k edited in adapter_config.json: refused, naming the mask and the count top-k keeps", async () => {
    const d = copy(single);
    editConfig(d, (j) => (j.k = 0.3));
    const { name, n } = firstMask(d);
    const re = new RegExp(`${MODEL}: mask "${name.replace(/\./g, "\\.")}" keeps ${keptCount(n, 0.5)} of ${n} entries, expected ${keptCount(n, 0.3)}: top-k with k = 0\\.3`);
    await refused(d, re);
  });

  test("one extra bit in a mask: refused", async () => {
    const d = copy(single);
    const { name, n } = firstMask(d);
    editTensors(d, (t) => {
      const bytes = t[name].data as Uint8Array;
      for (let i = 0; i < n; i++) if (!((bytes[i >> 3] >> (i & 7)) & 1)) {
        bytes[i >> 3] |= 1 << (i & 7);
        break;
      }
    });
    await refused(d, new RegExp(`mask "${name.replace(/\./g, "\\.")}" keeps ${keptCount(n, 0.5) + 1} of ${n} entries, expected ${keptCount(n, 0.5)}`));
  });

  test("an all-zero mask: refused", async () => {
    const d = copy(single);
    const { name, n } = firstMask(d);
    editTensors(d, (t) => (t[name].data as Uint8Array).fill(0));
    await refused(d, new RegExp(`mask "${name.replace(/\./g, "\\.")}" is all zeros .*expected ${keptCount(n, 0.5)} ones of ${n}`));
  });

  test("multi-task: a task mask is checked against task_k", async () => {
    const d = copy(multi);
    const json = JSON.parse(readFileSync(path.join(d, "adapter_config.json"), "utf8")) as { task_k: number };
    const { name, n } = firstMask(d, "mask.task.b.");
    editConfig(d, (j) => (j.task_k = 0.9));
    await refused(d, new RegExp(`mask "mask\\.task\\.a\\..*" keeps ${keptCount(n, json.task_k)} of ${n} entries, expected ${keptCount(n, 0.9)}: top-k with task_k = 0\\.9`));
    const d2 = copy(multi);
    editTensors(d2, (t) => (t[name].data as Uint8Array).fill(0));
    await refused(d2, new RegExp(`mask "${name.replace(/\./g, "\\.")}" is all zeros`));
  });

  test("export-task: hybrid layer masks load (recorded as hybrid_masks); without that record they are refused", async () => {
    const out = path.join(work, "exported");
    await exportTaskCheckpoint(multi, "b", out);
    const json = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as { hybrid_masks?: unknown };
    assert.deepEqual(json.hybrid_masks, { task_k: 0.3, combine: "or" });
    (await loadTaskCheckpoint(out)).dispose();
    const d = copy(out);
    editConfig(d, (j) => delete j.hybrid_masks);
    await refused(d, /keeps \d+ of \d+ entries, expected \d+: top-k with k = /);
    const d2 = copy(out);
    editConfig(d2, (j) => (j.hybrid_masks = { task_k: 0.3, combine: "xor" }));
    await refused(d2, /"hybrid_masks\.combine" must be "or" or "and"/);
  });

  test("hook_points edited: refused, naming what the method needs", async () => {
    const d = copy(single);
    editConfig(d, (j) => (j.hook_points = (j.hook_points as string[]).slice(1)));
    await refused(d, /"hook_points" .* do not match propetl-adapter's/);
  });
});

describe("a truncated checkpoint", () => {
  test("loader, storage and inspect name the file and say it is truncated", async () => {
    const d = copy(single);
    const file = path.join(d, MODEL);
    truncateSync(file, statSync(file).size - 100);
    await refused(d, /adapter_model\.safetensors: tensor ".*": data_offsets .* truncated file/);
    const write = process.stdout.write.bind(process.stdout);
    let printed = "";
    process.stdout.write = ((chunk: string | Uint8Array) => ((printed += String(chunk)), true)) as typeof process.stdout.write;
    try {
      await assert.rejects(storageRun([d]), /adapter_model\.safetensors: .*truncated file.*no storage figures/);
      await assert.rejects(inspectRun([d]), /adapter_model\.safetensors: .*truncated file/);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(printed, "", "no figures printed");
    assert.ok(CheckpointError);
  });
});
