/**
 * Command-line parsing rules shared by every command: an option given twice is refused (it
 * used to keep the last value silently), except the repeatable ones; a negative number after
 * an option is its value, checked by the option's own range rule (it used to be called
 * "ambiguous").
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CliError, int, num, parseCommand } from "../../src/cli/args.js";
import type { OptionSpec } from "../../src/cli/args.js";

const OPTS: Record<string, OptionSpec> = { lr: { type: "string" }, seed: { type: "string" }, ref: { type: "string", multiple: true }, json: { type: "boolean" } };

test("an option given twice is a usage error naming it; repeatable options and --opt=value forms work", () => {
  assert.throws(() => parseCommand("train", ["--lr", "1", "--lr", "2"], OPTS), (e: Error) => e instanceof CliError && e.exitCode === 2 && /--lr is given more than once/.test(e.message));
  assert.throws(() => parseCommand("train", ["--json", "--json"], OPTS), /--json is given more than once/);
  assert.throws(() => parseCommand("train", ["--lr=1", "--lr", "2"], OPTS), /--lr is given more than once/);
  assert.deepEqual(parseCommand("score", ["--ref", "a", "--ref", "b"], OPTS).values.ref, ["a", "b"]);
});

test("negative numbers are values: the option's range check names them", () => {
  const { values } = parseCommand("train", ["--seed", "-1", "--lr", "-0.5", "--json"], OPTS);
  assert.equal(values.seed, "-1");
  assert.throws(() => int(values, "seed", { min: 0 }), /--seed must be an integer >= 0, got "-1"/);
  assert.throws(() => num(values, "lr", { min: 0, exclusiveMin: true }), /--lr/);
  assert.equal(parseCommand("train", ["--lr", "-.5"], OPTS).values.lr, "-.5");
  // A real option after an option still reads as a missing value.
  assert.throws(() => parseCommand("train", ["--lr", "--json"], OPTS), (e: Error) => e instanceof CliError && e.exitCode === 2);
});
