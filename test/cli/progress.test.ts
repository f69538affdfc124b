import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, makeReporter } from "../../src/cli/progress.js";

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns: 100, text: "", write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe("progress output", () => {
  test("formatDuration", () => {
    assert.equal(formatDuration(5), "0:05");
    assert.equal(formatDuration(125), "2:05");
    assert.equal(formatDuration(3723), "1:02:03");
    assert.equal(formatDuration(Number.NaN), "?");
  });

  test("JSON lines when stdout is not a terminal, with rate and ETA", () => {
    const out = fakeStream(false);
    const r = makeReporter({ json: false, stdout: out, stderr: fakeStream(false) });
    r.event(1, { type: "start", epochs: 1, stepsPerEpoch: 10, totalSteps: 10, startStep: 0, resumed: false, trainExamples: 80 });
    r.event(1, { type: "step", step: 5, totalSteps: 10, epoch: 1, epochs: 1, loss: 0.5, lrScale: 1, gradNorm: 1, examples: 8, elapsedMs: 5000 });
    r.result({ ok: true }, "ignored");
    const lines = out.text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.type), ["start", "step", "result"]);
    assert.equal(lines[1].stepsPerSec, 1);
    assert.equal(lines[1].etaSec, 5);
    assert.equal(lines[1].seed, 1);
  });

  test("a progress bar with rate and ETA on a terminal; results on stdout", () => {
    const out = fakeStream(true);
    const err = fakeStream(true);
    const r = makeReporter({ json: false, stdout: out, stderr: err });
    r.event(1, { type: "start", epochs: 2, stepsPerEpoch: 5, totalSteps: 10, startStep: 0, resumed: false, trainExamples: 40 });
    r.event(1, { type: "step", step: 4, totalSteps: 10, epoch: 1, epochs: 2, loss: 0.25, lrScale: 1, gradNorm: 1, examples: 8, elapsedMs: 2000 });
    r.event(1, { type: "eval", epoch: 1, step: 5, main: 0.75, scores: { accuracy: 0.75 }, improved: true, best: 0.75, elapsedMs: 2500 });
    r.result({}, "done");
    assert.match(err.text, /epoch 1\/2 \[=+> +\] 4\/10 loss 0\.2500 2\.0 it\/s ETA 0:03/);
    assert.match(err.text, /epoch 1: validation accuracy 0\.7500 .*\(best, saved\)/);
    assert.equal(out.text, "done\n");
  });
});
