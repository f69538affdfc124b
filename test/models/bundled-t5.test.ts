/**
 * The bundled encoder–decoder (models/propetl-mini-t5): it loads as a T5, its tokenizer fits
 * its vocabulary (sentinels at the top, EOS appended), the text-to-text commands find it by
 * default, and it generates from a task prefix within the limit.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { initEngine } from "../../src/engine/engine.js";
import { tree } from "../../src/engine/jax.js";
import { loadTokenizer } from "../../src/data/tokenizer.js";
import { loadBackboneDir } from "../../src/models/load.js";
import { isT5Config } from "../../src/models/t5/config.js";
import { BUNDLED_T5_MODEL, bundledModelDir, findBundledModel } from "../../src/train/defaults.js";
import { runCli } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/fixtures.js";

const DIR = path.join(REPO_ROOT, BUNDLED_T5_MODEL);

before(async () => {
  await initEngine({ threads: 1 });
});

test("propetl-mini-t5 loads as T5 v1.0 with a tokenizer that fits it, and is the text-to-text default", async () => {
  assert.ok(existsSync(path.join(DIR, "README.md")), "the model card");
  assert.equal(findBundledModel(BUNDLED_T5_MODEL), DIR);
  assert.equal(bundledModelDir("propetl-mini-t5"), DIR);
  const m = await loadBackboneDir(DIR);
  try {
    assert.ok(isT5Config(m.config));
    if (!isT5Config(m.config)) return;
    assert.equal(m.config.tieWordEmbeddings, true);
    const tok = await loadTokenizer(DIR);
    assert.equal(tok.vocabSize, m.config.vocabSize);
    assert.equal(tok.tokenToId("<extra_id_0>"), m.config.vocabSize - 1);
    const ids = tok.encode("En el principio creó Dios los cielos y la tierra.").inputIds;
    assert.equal(ids[ids.length - 1], m.config.eosTokenId);
    assert.ok(!ids.slice(0, -1).includes(tok.unkTokenId), "Spanish accents have pieces");
  } finally {
    tree.dispose(m.encoder);
  }
  const r = await runCli(["generate", "--model", DIR, "--text", "translate Spanish to English: Y dijo Dios: Sea la luz.", "--max-new-tokens", "8", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { text: string; ids: number[] };
  assert.ok(out.ids.length >= 1 && out.ids.length <= 8);
});
