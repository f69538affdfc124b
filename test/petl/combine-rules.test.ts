/**
 * The multi-task combine rules (combine-rule.ts), paper Sec. 3.4 and the Table 11 ablations:
 * "layer" keeps only layer masks (every task shares them), "task" only task masks (each at
 * every position). For each rule on tiny-bert: the resolved config (k / taskK only where the
 * rule has those masks), the trainable tree and the state spec (only the masks used), the
 * training forward equals the materialised one and the one rebuilt from the exported state,
 * the storage counts by hand, and adapter_config.json rejects a bad or inconsistent `combine`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { np } from "../../src/engine/jax.js";
import type { JArray } from "../../src/engine/jax.js";
import { CheckpointError, loadTaskCheckpoint, saveTaskCheckpoint } from "../../src/petl/checkpoint.js";
import { COMBINE_RULES, ruleMask, ruleMasks } from "../../src/petl/combine-rule.js";
import type { CombineRule } from "../../src/petl/combine-rule.js";
import { HostRng, combineMasksHost, keptCount } from "../../src/petl/mask.js";
import type { MethodConfig, PetlMethod } from "../../src/petl/method.js";
import { MethodConfigError } from "../../src/petl/methods.js";
import { disposeMaterialized, materializedHooks } from "../../src/petl/propetl.js";
import type { ModularParams } from "../../src/petl/propetl.js";
import { createMethod, resolveMethodConfig } from "../../src/petl/registry.js";
import { computeStorage, sharedAndTaskParts, stateBits } from "../../src/petl/storage.js";
import { classify, encode } from "../../src/models/bert/encoder.js";
import { leaves, setLeafAt, tinyBert } from "./petl-helpers.js";
import type { Setup } from "./petl-helpers.js";

const TASKS = ["a", "b", "c"];
const BN = 8;

let s: Setup;
let dir: string;
before(async () => {
  await initEngine({ threads: 1 });
  s = await tinyBert();
  dir = mkdtempSync(path.join(tmpdir(), "propetl-rules-"));
});
after(() => {
  s.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function config(method: MethodConfig["method"], combine: CombineRule): MethodConfig {
  return { method, bottleneck: BN, tasks: TASKS, combine };
}

/** init, then every module tensor moved by N(0, 0.1²) (so masks change the numbers). */
function trainedParams(method: PetlMethod<unknown>, seed: number): unknown {
  const params = method.init(s.model.config, s.model.encoder, seed);
  const rng = new HostRng(seed + 100);
  for (const [p, leaf] of leaves(params)) {
    if (p.startsWith("source.")) setLeafAt(params, p, leaf.ref.add(np.array(rng.normalArray(leaf.size, 0.1)).reshape(leaf.shape)));
  }
  return params;
}

async function host(x: JArray): Promise<Float32Array> {
  return (await x.data()) as Float32Array;
}

function closeArrays(a: Float32Array, b: Float32Array, what: string, tol = 1e-5): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe("resolved configs", () => {
  test("k only with layer masks, taskK only with task masks; combine is kept", () => {
    assert.deepEqual(resolveMethodConfig(config("propetl-adapter", "layer")), { method: "propetl-adapter", bottleneck: BN, k: 0.3, combine: "layer", tasks: TASKS });
    assert.deepEqual(resolveMethodConfig(config("propetl-adapter", "task")), { method: "propetl-adapter", bottleneck: BN, taskK: 0.3, combine: "task", tasks: TASKS });
    assert.deepEqual(resolveMethodConfig({ ...config("propetl-adapter", "or"), k: 0.4, taskK: 0.2 }), { method: "propetl-adapter", bottleneck: BN, k: 0.4, taskK: 0.2, combine: "or", tasks: TASKS });
    // A rule's unused kept fraction is validated, then dropped (as any unused option).
    assert.equal(resolveMethodConfig({ ...config("propetl-adapter", "layer"), taskK: 0.2 }).taskK, undefined);
    assert.throws(() => resolveMethodConfig({ ...config("propetl-adapter", "layer"), taskK: 2 }), /taskK must be a number in \(0, 1\]/);
    // One task: no rule.
    assert.equal(resolveMethodConfig({ method: "propetl-adapter", combine: "task" }).combine, undefined);
  });

  test("a bad combine value names the accepted ones", () => {
    assert.throws(
      () => resolveMethodConfig({ ...config("propetl-adapter", "or"), combine: "xor" as CombineRule }),
      (e: unknown) => e instanceof MethodConfigError && /propetl-adapter: combine must be "or", "and", "layer" or "task", got "xor"/.test(e.message),
    );
  });

  test("ruleMask: the one mask of 'layer' / 'task', the combination of 'or' / 'and'", () => {
    const l = Uint8Array.from([1, 1, 0, 0]);
    const t = Uint8Array.from([1, 0, 1, 0]);
    assert.deepEqual([...ruleMask("or", l, t, combineMasksHost)], [1, 1, 1, 0]);
    assert.deepEqual([...ruleMask("and", l, t, combineMasksHost)], [1, 0, 0, 0]);
    assert.deepEqual([...ruleMask("layer", l, undefined, combineMasksHost)], [1, 1, 0, 0]);
    assert.deepEqual([...ruleMask("task", undefined, t, combineMasksHost)], [1, 0, 1, 0]);
    assert.throws(() => ruleMask("or", l, undefined, combineMasksHost), /needs a task mask/);
    assert.throws(() => ruleMask("task", l, undefined, combineMasksHost), /needs a task mask/);
    assert.deepEqual(COMBINE_RULES.map((r) => ruleMasks(r)), [{ layer: true, task: true }, { layer: true, task: true }, { layer: true, task: false }, { layer: false, task: true }]);
  });
});

describe("state spec and trainable tree hold only the masks the rule uses", () => {
  const cfg = () => s.model.config;
  const L = () => cfg().numLayers;
  const H = () => cfg().hiddenSize;
  for (const rule of COMBINE_RULES) {
    test(`propetl-adapter, ${rule}`, () => {
      const method = createMethod(config("propetl-adapter", rule));
      const spec = method.stateSpec(cfg());
      const layerMasks = [...spec.masks.keys()].filter((n) => n.startsWith("mask.encoder.layer."));
      const taskMasks = [...spec.masks.keys()].filter((n) => n.startsWith("mask.task."));
      const has = ruleMasks(rule);
      assert.equal(layerMasks.length, has.layer ? 2 * L() : 0, "down and up weight masks per layer");
      assert.deepEqual(taskMasks, has.task ? TASKS.flatMap((t) => [`mask.task.${t}.down_weight`, `mask.task.${t}.up_weight`]) : []);
      assert.deepEqual([...spec.tensors.keys()].sort(), ["prototype.down_bias", "prototype.down_weight", "prototype.up_bias", "prototype.up_weight"]);
      const params = method.init(cfg(), s.model.encoder, 1) as ModularParams<unknown>;
      assert.equal(params.scores !== undefined, has.layer, "layer scores");
      assert.equal(params.taskScores !== undefined, has.task, "task scores");
      if (params.taskScores) assert.equal(params.taskScores.length, TASKS.length);
      for (const [, leaf] of leaves(params)) leaf.dispose();
      method.dispose();

      // Storage, by hand (Appendix B eq. 14 and Sec. 3.4): a 32-bit prototype; 1 bit per masked weight entry per position and per task.
      const weights = 2 * BN * H();
      const proto = 32 * (weights + BN + H());
      const layerBits = has.layer ? L() * weights : 0;
      const taskBits = has.task ? TASKS.length * weights : 0;
      const r = computeStorage({ config: cfg(), numLabels: 2 }, { method: "propetl-adapter", bottleneck: BN, tasks: TASKS, combine: rule });
      assert.equal(r.totalBits, proto + layerBits + taskBits);
      assert.equal(r.totalBits, stateBits(spec));
      assert.equal(r.groups.some((g) => g.name === "layer masks (1-bit)"), has.layer);
      assert.equal(r.groups.some((g) => g.name === "task masks (1-bit)"), has.task);
      assert.equal(r.copiesPerTask, false);
      const parts = sharedAndTaskParts(r);
      assert.equal(parts.perTask.bits, has.task ? weights : 0, "each task adds its task mask (nothing under 'layer')");
      assert.equal(parts.shared.bits, proto + layerBits);
    });
  }

  test("only-mask: 'layer' stores the kept entries (as single-task), 'task' whole modules and the task masks", () => {
    const layer = createMethod(config("only-mask", "layer")).stateSpec(cfg());
    assert.deepEqual(layer.tensors.get("encoder.layer.0.ffn_output.down_weight"), [keptCount(BN * H(), 0.3)]);
    assert.equal([...layer.masks.keys()].filter((n) => n.startsWith("mask.task.")).length, 0);
    const task = createMethod(config("only-mask", "task")).stateSpec(cfg());
    assert.deepEqual(task.tensors.get("encoder.layer.0.ffn_output.down_weight"), [BN, H()]);
    assert.deepEqual([...task.masks.keys()].filter((n) => !n.startsWith("mask.task.")), []);
    const r = computeStorage({ config: cfg(), numLabels: 2 }, { method: "only-mask", bottleneck: BN, tasks: TASKS, combine: "task" });
    assert.equal(r.totalBits, stateBits(task));
  });

  test("random-mask: fixed masks of the rule's kind only", () => {
    for (const rule of ["layer", "task"] as const) {
      const spec = createMethod(config("random-mask", rule)).stateSpec(cfg());
      const names = [...spec.masks.keys()];
      assert.ok(names.length > 0);
      assert.ok(names.every((n) => n.startsWith(rule === "task" ? "mask.task." : "mask.encoder.layer.")), `${rule}: ${names.join(", ")}`);
    }
  });
});

describe("forward, materialize and materializeState agree for every rule", () => {
  for (const rule of COMBINE_RULES) {
    for (const name of ["propetl-adapter", "only-mask"] as const) {
      test(`${name}, ${rule}`, async () => {
        const method = createMethod(config(name, rule));
        const params = trainedParams(method, 7);
        const state = await method.exportState(params);
        const cfg = s.model.config;
        const seen: Float32Array[] = [];
        for (let t = 0; t < TASKS.length; t++) {
          const ctx = { batchSize: s.B, taskIdsHost: new Int32Array(s.B).fill(t), training: false };
          const train = await host(classify(s.model.head, encode(cfg, s.model.encoder, s.batch, method.hooks(params, ctx))));
          const m = method.materialize(params, t);
          const fromParams = await host(classify(s.model.head, encode(cfg, s.model.encoder, s.batch, materializedHooks(m))));
          disposeMaterialized(m);
          const ms = method.materializeState(cfg, state, t);
          const fromState = await host(classify(s.model.head, encode(cfg, s.model.encoder, s.batch, materializedHooks(ms))));
          disposeMaterialized(ms);
          closeArrays(fromParams, train, `${name} ${rule} task ${t}: materialize vs training forward`);
          closeArrays(fromState, fromParams, `${name} ${rule} task ${t}: materializeState vs materialize`);
          seen.push(fromState);
        }
        // "layer": every task runs the same modules; the other rules give each task its own.
        const same = seen[1].every((x, i) => x === seen[0][i]);
        assert.equal(same, rule === "layer", `${rule}: tasks 0 and 1 ${same ? "agree" : "differ"}`);
        for (const [, leaf] of leaves(params)) leaf.dispose();
        method.dispose();
      });
    }
  }
});

describe("adapter_config.json: combine", () => {
  async function saved(rule: CombineRule, sub: string): Promise<string> {
    const method = createMethod(config("propetl-adapter", rule));
    const params = method.init(s.model.config, s.model.encoder, 3);
    const out = path.join(dir, sub);
    const heads = TASKS.map(() => s.model.head);
    await saveTaskCheckpoint(out, { method, params, encoderConfig: s.model.config, heads });
    for (const [, leaf] of leaves(params)) leaf.dispose();
    method.dispose();
    return out;
  }
  const edit = (out: string, patch: Record<string, unknown>): string => {
    const file = path.join(out, "adapter_config.json");
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>), ...patch }));
    return file;
  };

  test("each rule loads back with its k / task_k, and the file holds only its masks", async () => {
    for (const rule of COMBINE_RULES) {
      const out = await saved(rule, `ok-${rule}`);
      const json = JSON.parse(readFileSync(path.join(out, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      const has = ruleMasks(rule);
      assert.deepEqual([json.combine, json.k, json.task_k], [rule, has.layer ? 0.3 : null, has.task ? 0.3 : null]);
      const ck = await loadTaskCheckpoint(out);
      assert.equal(ck.method.config.combine, rule);
      assert.equal([...ck.state.masks.keys()].some((n) => n.startsWith("mask.task.")), has.task);
      assert.equal([...ck.state.masks.keys()].some((n) => n.startsWith("mask.encoder.")), has.layer);
      ck.dispose();
    }
  });

  test("a bad value is an error naming the file, the key and the accepted values", async () => {
    const out = await saved("layer", "bad");
    const file = edit(out, { combine: "xor" });
    await assert.rejects(loadTaskCheckpoint(out), (e: unknown) => e instanceof CheckpointError && e.message.startsWith(`${file}: "combine" must be one of "or", "and", "layer", "task" or null, got "xor"`));
    edit(out, { combine: 1 });
    await assert.rejects(loadTaskCheckpoint(out), /"combine" must be one of .* got 1/);
  });

  test("a kept fraction the rule does not use is refused", async () => {
    const layer = await saved("layer", "layer-taskk");
    const f1 = edit(layer, { task_k: 0.3 });
    await assert.rejects(loadTaskCheckpoint(layer), (e: unknown) => e instanceof CheckpointError && e.message.startsWith(`${f1}: "task_k" is 0.3 but propetl-adapter with these settings needs null`));
    const task = await saved("task", "task-k");
    const f2 = edit(task, { k: 0.3 });
    await assert.rejects(loadTaskCheckpoint(task), (e: unknown) => e instanceof CheckpointError && e.message.startsWith(`${f2}: "k" is 0.3 but propetl-adapter with these settings needs null`));
    // A file switched from "task" to "layer" lacks the layer masks its rule needs.
    const switched = await saved("task", "switched");
    edit(switched, { combine: "layer", k: 0.3, task_k: null });
    await assert.rejects(loadTaskCheckpoint(switched), /missing tensor "mask\.encoder\.layer\.0\.ffn_output\.down_weight"/);
  });
});
