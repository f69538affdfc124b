/** Method configs: documented defaults, validation, and the layouts behind every method name. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { METHOD_NAMES, MethodConfigError, methodLayout } from "../../src/petl/methods.js";
import { createMethod, resolveMethodConfig } from "../../src/petl/registry.js";

describe("method registry", () => {
  test("defaults follow the paper (Sec. 4) and AdapterHub", () => {
    assert.deepEqual(resolveMethodConfig({ method: "adapter" }), { method: "adapter", bottleneck: 64 });
    assert.deepEqual(resolveMethodConfig({ method: "houlsby" }), { method: "houlsby", bottleneck: 64 });
    assert.deepEqual(resolveMethodConfig({ method: "lora" }), { method: "lora", rank: 32, alpha: 32 });
    assert.deepEqual(resolveMethodConfig({ method: "prefix" }), { method: "prefix", prefixLength: 64, prefixHidden: 512 });
    assert.deepEqual(resolveMethodConfig({ method: "full" }), { method: "full" });
    assert.deepEqual(resolveMethodConfig({ method: "propetl-adapter" }), { method: "propetl-adapter", bottleneck: 64, k: 0.5 });
    assert.deepEqual(resolveMethodConfig({ method: "propetl-lora" }), { method: "propetl-lora", rank: 32, alpha: 48, k: 0.5 });
    assert.deepEqual(resolveMethodConfig({ method: "propetl-prefix", k: 0.1 }), { method: "propetl-prefix", prefixLength: 64, prefixHidden: 512, k: 0.1 });
    assert.deepEqual(resolveMethodConfig({ method: "only-share" }), { method: "only-share", base: "adapter", bottleneck: 64 });
    assert.deepEqual(resolveMethodConfig({ method: "only-mask", base: "lora" }), { method: "only-mask", base: "lora", rank: 32, alpha: 48, k: 0.5 });
    assert.deepEqual(resolveMethodConfig({ method: "random-mask", seed: 4 }), { method: "random-mask", base: "adapter", bottleneck: 64, k: 0.5, seed: 4 });
    assert.equal(resolveMethodConfig({ method: "random-mask" }).seed, 0);
    // Multi-task: k = taskK = 0.3 and OR (Sec. 3.4 / 4); AND on request.
    assert.deepEqual(resolveMethodConfig({ method: "propetl-adapter", tasks: ["a", "b"] }), { method: "propetl-adapter", bottleneck: 64, k: 0.3, taskK: 0.3, combine: "or", tasks: ["a", "b"] });
    assert.equal(resolveMethodConfig({ method: "propetl-adapter", tasks: ["a", "b"], combine: "and", k: 0.6 }).combine, "and");
    // Options a method does not use are dropped.
    assert.deepEqual(resolveMethodConfig({ method: "adapter", rank: 8, k: 0.2 }), { method: "adapter", bottleneck: 64 });
  });

  test("every method name builds, with the documented layout", () => {
    for (const name of METHOD_NAMES) {
      const m = createMethod({ method: name });
      assert.equal(m.config.method, name);
    }
    assert.deepEqual(methodLayout({ method: "propetl-houlsby" }), { kind: "houlsby", share: true, masks: "learned" });
    assert.deepEqual(methodLayout({ method: "only-mask", base: "prefix" }), { kind: "prefix", share: false, masks: "learned" });
    assert.deepEqual(methodLayout({ method: "random-mask" }), { kind: "adapter", share: true, masks: "random" });
    assert.deepEqual(methodLayout({ method: "lora" }), { kind: "lora", share: false, masks: "none" });
  });

  test("invalid configs are rejected with the option named", () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ method: "adaptor" }, /^unknown method "adaptor"; accepted: adapter, houlsby, lora, prefix, full, propetl-adapter, propetl-houlsby, propetl-lora, propetl-prefix, only-share, only-mask, random-mask$/],
      [{ method: "adapter", bottleneck: 0 }, /bottleneck must be a positive integer/],
      [{ method: "propetl-lora", k: 0 }, /^propetl-lora: k must be a number in \(0, 1\] \(the kept fraction of a mask\), got 0$/],
      [{ method: "propetl-lora", taskK: 2 }, /^propetl-lora: taskK must be a number in \(0, 1\]/],
      [{ method: "propetl-adapter", tasks: ["a.b"] }, /task name "a.b" must match/],
      [{ method: "propetl-adapter", tasks: ["a", "a"] }, /task name "a" appears twice/],
      [{ method: "propetl-adapter", combine: "xor" }, /combine must be "or", "and", "layer" or "task", got "xor"/],
      [{ method: "only-share", base: "bitfit" }, /^only-share: base must be one of adapter, houlsby, lora, prefix; got "bitfit"$/],
      [{ method: "lora", alpha: -1 }, /alpha must be a positive number/],
    ];
    for (const [c, re] of bad) assert.throws(() => resolveMethodConfig(c as never), (e: Error) => e instanceof MethodConfigError && re.test(e.message));
  });
});
