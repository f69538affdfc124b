/**
 * Classification tasks read as text-to-text (data/text-to-text.ts): the source and target texts,
 * the label a generation names, and the scores, where a generation naming no label is wrong.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTextToTextTask, labelOfText, labelTaskPrefix, labelTextPairs, scoreLabelTexts, TextToTextTaskError } from "../../src/data/text-to-text.js";
import type { TaskSpec } from "../../src/data/tasks.js";
import { getTask } from "../../src/data/tasks.js";

const rte = getTask("rte");
const cola = getTask("cola");

test("sources name their fields after the task prefix; targets are label names", () => {
  assert.equal(labelTaskPrefix(rte), "rte ");
  const pairs = labelTextPairs(rte, [
    { text: "A man sleeps.", textPair: "Someone sleeps.", label: 0, line: 2 },
    { text: "It rains.", textPair: "It is dry.", label: 1, line: 3 },
  ]);
  assert.deepEqual(pairs, [
    { source: "sentence1: A man sleeps. sentence2: Someone sleeps.", target: rte.labels[0] },
    { source: "sentence1: It rains. sentence2: It is dry.", target: rte.labels[1] },
  ]);
  assert.deepEqual(labelTextPairs(cola, [{ text: "He go.", label: 0, line: 5 }]), [{ source: "sentence: He go.", target: cola.labels[0] }]);
  assert.throws(() => labelTextPairs(rte, [{ text: "x", label: 7, line: 9 }]), /rte: example 1 \(line 9\) has label 7, not one of the 2 label ids/);
});

test("a generation names a label only when it equals one, spaces trimmed", () => {
  assert.equal(labelOfText(rte, ` ${rte.labels[1]} `), 1);
  assert.equal(labelOfText(rte, `${rte.labels[1]} yes`), -1);
  assert.equal(labelOfText(rte, ""), -1);
});

test("scores x100 with the task's metrics; a generation naming no label is counted and scored wrong", () => {
  const [a, b] = rte.labels;
  const all = scoreLabelTexts(rte, [a, b, a, b], [a, b, a, b]);
  assert.equal(all.main, 100);
  assert.equal(all.scores.noLabel, 0);
  // Two right, one wrong, one naming no label: accuracy 50%, not 2/3.
  const some = scoreLabelTexts(rte, [a, b, b, "maybe"], [a, b, a, a]);
  assert.equal(some.scores.noLabel, 1);
  assert.equal(some.scores.accuracy, 50);
  // CoLA's Matthews correlation sees the no-label generation as the wrong class too.
  const [u, g] = cola.labels;
  const mcc = scoreLabelTexts(cola, [u, g, "??", g], [u, g, g, g]);
  const flipped = scoreLabelTexts(cola, [u, g, u, g], [u, g, g, g]);
  assert.equal(mcc.scores.matthews, flipped.scores.matthews);
  assert.equal(mcc.main, mcc.scores.matthews);
  assert.throws(() => scoreLabelTexts(rte, ["x"], ["not a label"]), /rte: reference 1 "not a label" is not a label/);
  assert.throws(() => scoreLabelTexts(rte, ["x"], []), /1 predictions for 0 references/);
});

test("tasks without a text form are refused, naming the task", () => {
  const stsb: Pick<TaskSpec, "name" | "kind" | "labels"> = { name: "stsb", kind: "regression", labels: [] };
  assert.throws(() => checkTextToTextTask(stsb), (e: unknown) => e instanceof TextToTextTaskError && /stsb is a regression task/.test((e as Error).message));
  assert.throws(() => checkTextToTextTask({ name: "t", kind: "classification", labels: ["yes", " yes"] }), /t: two labels read "yes" as text/);
  assert.throws(() => checkTextToTextTask({ name: "t", kind: "classification", labels: ["a", ""] }), /label "" cannot be a target text/);
});
