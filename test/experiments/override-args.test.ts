/** The experiment runners' argument overrides: replace an option's value, or append it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { overrideArgs } from "../../experiments/compare/plan.js";

test("overrideArgs replaces given options in place and appends new ones, never doubling an option", () => {
  const plan = ["--task", "bible-es-en", "--model", "models/propetl-mini-t5", "--max-train-examples", "1600"];
  assert.deepEqual(overrideArgs(plan, ["--model", "/abs/m", "--max-steps", "2"]), ["--task", "bible-es-en", "--model", "/abs/m", "--max-train-examples", "1600", "--max-steps", "2"]);
  assert.deepEqual(overrideArgs(plan, []), plan);
});
