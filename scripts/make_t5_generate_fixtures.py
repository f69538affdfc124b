#!/usr/bin/env python3
"""Generate test/fixtures/t5-generate/{tiny-t5,tiny-t5-v1_1}.json: greedy and
beam-search outputs of the tiny random T5 models (test/fixtures/models/, made
by make_t5_fixtures.py) on a padded batch, by scripts/t5_generate_reference.py
(transformers v4.40 generation semantics, plain torch).

Each file holds the encoder batch (4 inputs of 6, 4, 2 and 5 tokens, each
ending in the config's EOS, padded with pad_token_id) and cases:

  greedy            max_new_tokens 10, without EOS, and with an EOS
  beams 3 and 4     length_penalty 1.0, 0.6, 2.0 x early_stopping false, true,
                    max_new_tokens 8; plus early_stopping "never" (beams 3,
                    length_penalty 2.0 and 0.6) and a beam case without EOS

The random models rarely emit their config's EOS (id 1), so every case with
an EOS chooses it among the tokens the model does emit (`choose_eos`): the
run with it as EOS must
  * give the same ids in float32 (as HF runs) and float64 (so the fixture
    does not hinge on rounding: the TypeScript logits differ from torch's in
    the last bits), and
  * change the output, preferably by a sequence that ends with EOS after 3 or
    more tokens, before max_new_tokens, among sequences of different lengths.
    (tiny-t5's random weights repeat a few tokens; some of its beam cases only
    have EOS hypotheses that lose to open beams, which still changes the beams.)
The script prints each case's EOS and sequence lengths.

Run from the repository root (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 scripts/make_t5_generate_fixtures.py
Output is deterministic.  The TypeScript tests only read the committed files.
"""

import json
import os
import sys
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_generate_reference as gen  # noqa: E402
import t5_reference as ref  # noqa: E402
from make_model_fixtures import read_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.path.join(ROOT, "test", "fixtures", "models")
OUT = os.path.join(ROOT, "test", "fixtures", "t5-generate")

ENC_LENGTHS = [6, 4, 2, 5]
GREEDY_NEW = 10
BEAM_NEW = 8
BEAM_CASES = [(nb, lp, es) for nb in (3, 4) for es in (False, True) for lp in (1.0, 0.6, 2.0)] + [(3, 2.0, "never"), (3, 0.6, "never")]


def make_batch(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    B, S = len(ENC_LENGTHS), max(ENC_LENGTHS)
    ids = torch.randint(2, cfg.vocab_size, (B, S), generator=g, dtype=torch.long)
    mask = torch.zeros(B, S, dtype=torch.long)
    for r, n in enumerate(ENC_LENGTHS):
        mask[r, :n] = 1
        ids[r, n - 1] = cfg.raw["eos_token_id"]
        ids[r, n:] = cfg.pad_token_id
    return ids, mask


def run(cfg, params, ids, mask, case, eos, dtype):
    p = OrderedDict((k, v.to(dtype)) for k, v in params.items())
    common = dict(eos_token_id=eos, pad_token_id=cfg.pad_token_id, decoder_start_token_id=cfg.decoder_start_token_id)
    if case["num_beams"] == 1:
        return gen.greedy(cfg, p, ids, mask, case["max_new_tokens"], **common)[0]
    return gen.beam_search(cfg, p, ids, mask, case["num_beams"], case["max_new_tokens"], case["length_penalty"], case["early_stopping"], **common)[0]


def stops_early(seqs, eos, max_new):
    ended = [s for s in seqs if s and s[-1] == eos and len(s) < max_new]
    return bool(ended) and len({len(s) for s in seqs}) > 1


def choose_eos(cfg, params, ids, mask, case):
    """An EOS id for a case (see the file comment): tokens the case emits without EOS first
    (by position, then row), then the rest of the vocabulary; the first whose run is robust
    (float32 = float64) and stops early with an EOS-ended sequence of length >= 3, else the
    first robust one that stops early, else the first robust one that changes the output."""
    free = run(cfg, params, ids, mask, case, None, torch.float32)
    order = []
    for t in range(case["max_new_tokens"]):
        for s in free:
            if t < len(s) and s[t] not in order:
                order.append(s[t])
    order += [t for t in range(cfg.vocab_size) if t not in order and t != cfg.pad_token_id]
    fallback = []
    for eos in order:
        seqs = run(cfg, params, ids, mask, case, eos, torch.float32)
        if seqs == free:
            continue
        if run(cfg, params, ids, mask, case, eos, torch.float64) != seqs:
            continue
        if stops_early(seqs, eos, case["max_new_tokens"]):
            if any(s[-1] == eos and 3 <= len(s) < case["max_new_tokens"] for s in seqs):
                return eos, seqs
            fallback.append((0, eos, seqs))
        else:
            fallback.append((1, eos, seqs))
    if not fallback:
        raise RuntimeError("no EOS candidate changes the output of %r robustly" % (case,))
    _, eos, seqs = min(fallback, key=lambda f: f[0])
    return eos, seqs


def cases_for(cfg, params, ids, mask):
    out = []

    def add(name, case, with_eos):
        if with_eos:
            eos, seqs = choose_eos(cfg, params, ids, mask, case)
        else:
            eos = None
            seqs = run(cfg, params, ids, mask, case, None, torch.float32)
            if run(cfg, params, ids, mask, case, None, torch.float64) != seqs:
                raise RuntimeError("%s: float32 and float64 disagree" % name)
        c = OrderedDict(name=name)
        c.update(case)
        c["eos_token_id"] = eos
        c["pad_token_id"] = cfg.pad_token_id
        c["decoder_start_token_id"] = cfg.decoder_start_token_id
        c["sequences"] = seqs
        out.append(c)
        print("  %-34s eos %-4s lengths %s" % (name, eos, [len(s) for s in seqs]))

    greedy = OrderedDict(num_beams=1, length_penalty=1.0, early_stopping=False, max_new_tokens=GREEDY_NEW)
    add("greedy, no EOS", greedy, False)
    add("greedy", greedy, True)
    add("beams 3, no EOS", OrderedDict(num_beams=3, length_penalty=1.0, early_stopping=False, max_new_tokens=BEAM_NEW), False)
    for nb, lp, es in BEAM_CASES:
        case = OrderedDict(num_beams=nb, length_penalty=lp, early_stopping=es, max_new_tokens=BEAM_NEW)
        add("beams %d, length_penalty %s, early_stopping %s" % (nb, lp, json.dumps(es)), case, True)
    return out


def dumps(doc):
    """JSON with one line per case and per row of ids (small, readable diffs)."""
    rows = lambda m: "[\n  " + ",\n  ".join(json.dumps(r) for r in m) + "\n ]"  # noqa: E731
    head = ",\n".join(" %s: %s" % (json.dumps(k), rows(v) if k in ("input_ids", "attention_mask") else json.dumps(v)) for k, v in doc.items() if k != "cases")
    cases = ",\n".join("  " + json.dumps(c) for c in doc["cases"])
    return "{\n%s,\n \"cases\": [\n%s\n ]\n}" % (head, cases)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for seed, name in ((11, "tiny-t5"), (12, "tiny-t5-v1_1")):
        with open(os.path.join(MODELS, name, "config.json")) as f:
            cfg = ref.T5RefConfig(json.load(f))
        params = read_safetensors(os.path.join(MODELS, name, "model.safetensors"))
        if cfg.tie:
            params.pop("lm_head.weight", None)
        ids, mask = make_batch(cfg, seed)
        print(name)
        doc = OrderedDict()
        doc["model"] = name
        doc["made_by"] = "scripts/make_t5_generate_fixtures.py (reference: scripts/t5_generate_reference.py, transformers v4.40 generation)"
        doc["input_ids"] = ids.tolist()
        doc["attention_mask"] = mask.tolist()
        doc["cases"] = cases_for(cfg, params, ids, mask)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            f.write(dumps(doc) + "\n")


if __name__ == "__main__":
    main()
