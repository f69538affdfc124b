#!/usr/bin/env python3
"""Generate test/fixtures/models/{tiny-t5,tiny-t5-v1_1}/: tiny random Hugging Face
T5ForConditionalGeneration folders plus reference outputs and gradients.

    tiny-t5        T5 v1.0: feed_forward_proj "relu", tied embeddings (rescaled LM head)
    tiny-t5-v1_1   T5 v1.1 / FLAN-T5: "gated-gelu", untied lm_head.weight

For each model directory this writes
  config.json            Hugging Face config (as save_pretrained writes it)
  model.safetensors      F32 weights, Hugging Face state-dict names
  expected.safetensors   a fixed batch (padding in both the encoder and the decoder)
                         and the reference results for it:
      input_ids attention_mask labels decoder_input_ids decoder_attention_mask
      encoder_last_hidden_state decoder_last_hidden_state logits loss
      grad.{stack}.layer.{i}.{site}      gradient of the loss w.r.t. an additive
                                         delta at every hook site of every layer
      grad.param.{hf name}               gradients of a few parameters
      prefix.{stack}.layer.{i}.{prefix,cross_prefix}.{key,value}
                                         prefix keys/values of a prefix run, and
      prefix.logits prefix.loss prefix.grad.{...}.{key,value}
                                         its logits, loss and prefix gradients
      buckets.{bidirectional,causal}     (tiny-t5 only) the buckets of relative
      buckets.relative                   positions -200..200 at T5's defaults
                                         (32 buckets, max distance 128)

The reference is scripts/t5_reference.py, a plain-torch re-implementation of
transformers' T5ForConditionalGeneration (eval mode).  Expected values are
computed in float64 from the float32 weights (then stored as F32); the script
also runs the same computation in float32 and checks it agrees with the
float64 run, checks autograd against central finite differences in float64,
and checks the masks: padded encoder tokens and later decoder tokens do not
change what they must not.

Run from the repository root (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 scripts/make_t5_fixtures.py
Output is deterministic (byte-identical across runs).  The TypeScript tests
only read the committed files; they never run Python.
"""

import json
import os
import sys
from collections import OrderedDict

import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_reference as ref  # noqa: E402
from make_model_fixtures import FiniteDifferences, read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "models")

B, S, T, P = 3, 7, 5, 2
ENC_LENGTHS = [7, 5, 3]  # encoder rows 1 and 2 are padded at the end
DEC_LENGTHS = [5, 4, 2]  # labelled (and unpadded) decoder positions per row
PARAM_GRADS = (
    "shared.weight",
    "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
    "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
    "encoder.final_layer_norm.weight",
    "decoder.final_layer_norm.weight",
    "decoder.block.1.layer.1.EncDecAttention.k.weight",
    "decoder.block.1.layer.2.layer_norm.weight",
)


def t5_config(gated):
    c = {
        "architectures": ["T5ForConditionalGeneration"],
        "d_ff": 64,
        "d_kv": 8,
        "d_model": 32,
        "decoder_start_token_id": 0,
        "dense_act_fn": "gelu_new" if gated else "relu",
        "dropout_rate": 0.1,
        "eos_token_id": 1,
        "feed_forward_proj": "gated-gelu" if gated else "relu",
        "initializer_factor": 1.0,
        "is_encoder_decoder": True,
        "is_gated_act": gated,
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "num_decoder_layers": 2,
        "num_heads": 2,
        "num_layers": 2,
        "pad_token_id": 0,
        # small bucket counts so that the short test sequences reach the log bins
        "relative_attention_max_distance": 20 if gated else 12,
        "relative_attention_num_buckets": 16 if gated else 8,
        "tie_word_embeddings": not gated,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": 64,
    }
    return c


def init_params(cfg, gen):
    """Random weights at scales where a wrong scaling, bucket or mask would show:
    embeddings N(0,1), projections N(0, 0.2^2), relative-attention tables
    N(0, 0.5^2), norm weights 1 + N(0, 0.2^2)."""
    params = OrderedDict()
    for name, shape in ref.param_shapes(cfg).items():
        if "layer_norm" in name:
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif "relative_attention_bias" in name:
            t = 0.5 * torch.randn(shape, generator=gen)
        elif name == "shared.weight":
            t = torch.randn(shape, generator=gen)
        else:
            t = 0.2 * torch.randn(shape, generator=gen)
        params[name] = t.to(torch.float32)
    return params


def make_batch(cfg, gen):
    V, pad, eos = cfg.vocab_size, cfg.pad_token_id, cfg.raw["eos_token_id"]
    ids = torch.randint(2, V, (B, S), generator=gen, dtype=torch.long)
    mask = torch.zeros(B, S, dtype=torch.long)
    for r, n in enumerate(ENC_LENGTHS):
        mask[r, :n] = 1
        ids[r, n - 1] = eos
        ids[r, n:] = pad
    labels = torch.randint(2, V, (B, T), generator=gen, dtype=torch.long)
    dmask = torch.zeros(B, T, dtype=torch.long)
    for r, n in enumerate(DEC_LENGTHS):
        labels[r, n - 1] = eos
        labels[r, n:] = -100
        dmask[r, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "decoder_attention_mask": dmask}


def make_prefixes(cfg, gen):
    out = OrderedDict()
    for stack, n in (("encoder", cfg.num_layers), ("decoder", cfg.num_decoder_layers)):
        for i in range(n):
            kinds = ("prefix", "cross_prefix") if stack == "decoder" else ("prefix",)
            for kind in kinds:
                out["%s.layer.%d.%s" % (stack, i, kind)] = tuple(0.5 * torch.randn(B, P, cfg.inner, generator=gen) for _ in range(2))
    return out


def call(cfg, params, batch, deltas=None, prefixes=None):
    return ref.forward(cfg, params, batch["input_ids"], batch["attention_mask"], batch["labels"],
                       decoder_attention_mask=batch["decoder_attention_mask"], deltas=deltas, prefixes=prefixes)


def run(cfg, params32, batch, dtype, prefixes=None):
    """Forward + backward at `dtype`. Returns OrderedDict of named results."""
    params = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in params32.items())
    res = OrderedDict()
    if prefixes is None:
        deltas = ref.zero_deltas(cfg, B, S, T, dtype)
        out = call(cfg, params, batch, deltas=deltas)
        out["loss"].backward()
        for k in ("encoder_last_hidden_state", "decoder_last_hidden_state", "logits", "loss"):
            res[k] = out[k].detach()
        for n, d in deltas.items():
            res["grad." + n] = d.grad.detach()
        for n in PARAM_GRADS:
            if n in params:
                res["grad.param." + n] = params[n].grad.detach()
        return res
    pre = OrderedDict((k, tuple(t.to(dtype).clone().requires_grad_(True) for t in kv)) for k, kv in prefixes.items())
    out = call(cfg, params, batch, prefixes=pre)
    out["loss"].backward()
    res["logits"] = out["logits"].detach()
    res["loss"] = out["loss"].detach()
    for k, (pk, pv) in pre.items():
        res["grad.%s.key" % k] = pk.grad.detach()
        res["grad.%s.value" % k] = pv.grad.detach()
    return res


def loss64(cfg, params64, batch, deltas=None, prefixes=None):
    with torch.no_grad():
        return call(cfg, params64, batch, deltas=deltas, prefixes=prefixes)["loss"].item()


def fd_check(cfg, params32, batch, prefixes, res, res_prefix, gen):
    """Central finite differences (float64) on random entries of every hook-site
    gradient, every prefix gradient and the recorded parameter gradients."""
    eps = 1e-6
    params64 = OrderedDict((k, v.double()) for k, v in params32.items())
    prefixes64 = OrderedDict((k, tuple(t.double() for t in kv)) for k, kv in prefixes.items())
    fd = FiniteDifferences(eps)
    compare = fd.compare

    pick = lambda n: int(torch.randint(0, n, (1,), generator=gen))  # noqa: E731
    for name, shape in ref.site_shapes(cfg, B, S, T).items():
        g = res["grad." + name]
        lengths = ENC_LENGTHS if (name.startswith("encoder") or name.endswith(("cross_key", "cross_value"))) else DEC_LENGTHS
        for _ in range(2):
            r = pick(B)
            idx = (r, pick(lengths[r]), pick(shape[2]))
            vals = []
            for s in (1, -1):
                d = {name: torch.zeros(shape, dtype=torch.float64)}
                d[name][idx] = s * eps
                vals.append(loss64(cfg, params64, batch, deltas=d))
            compare(g[idx].item(), vals[0], vals[1], "%s%s" % (name, list(idx)))
    for name, (pk, _) in prefixes64.items():
        for which, kind in ((0, "key"), (1, "value")):
            g = res_prefix["grad.%s.%s" % (name, kind)]
            idx = (pick(B), pick(P), pick(cfg.inner))
            vals = []
            for s in (1, -1):
                pre = OrderedDict((k, tuple(t.clone() for t in kv)) for k, kv in prefixes64.items())
                pre[name][which][idx] += s * eps
                vals.append(loss64(cfg, params64, batch, prefixes=pre))
            compare(g[idx].item(), vals[0], vals[1], "%s.%s%s" % (name, kind, list(idx)))
    used = sorted(set(batch["input_ids"].flatten().tolist()))
    for key in [k for k in res if k.startswith("grad.param.")]:
        name = key[len("grad.param."):]
        g = res[key]
        for _ in range(2):
            idx = (used[pick(len(used))], pick(cfg.d_model)) if name == "shared.weight" else tuple(pick(s) for s in g.shape)
            vals = []
            for s in (1, -1):
                pp = OrderedDict(params64)
                pp[name] = params64[name].clone()
                pp[name][idx] += s * eps
                vals.append(loss64(cfg, pp, batch))
            compare(g[idx].item(), vals[0], vals[1], "%s%s" % (name, list(idx)))
    return fd.count, fd.worst


def mask_checks(cfg, params32, batch):
    """The masks of the reference mean what they should (float64)."""
    p = OrderedDict((k, v.double()) for k, v in params32.items())
    base = call(cfg, p, batch)
    # changing padded encoder tokens changes nothing
    ids = batch["input_ids"].clone()
    ids[~batch["attention_mask"].bool()] = 7
    other = call(cfg, p, dict(batch, input_ids=ids))
    assert (other["logits"] - base["logits"]).abs().max().item() < 1e-12
    # a later decoder token does not change earlier logits (causal), and a padded one
    # changes no logit of a real position (decoder padding mask)
    labels = batch["labels"].clone()
    labels[0, 2] = (labels[0, 2] + 1) % cfg.vocab_size  # decoder input at position 3
    other = call(cfg, p, dict(batch, labels=labels))
    assert (other["logits"][0, :3] - base["logits"][0, :3]).abs().max().item() < 1e-12
    assert (other["logits"][0, 3:] - base["logits"][0, 3:]).abs().max().item() > 1e-6
    dmask = batch["decoder_attention_mask"]
    r = 2  # row 2: positions >= DEC_LENGTHS[2] are padding
    ids = base["decoder_input_ids"].clone()
    ids[r, DEC_LENGTHS[r]:] = 5
    enc = ref.encoder(cfg, p, batch["input_ids"], batch["attention_mask"])
    dec = ref.decoder(cfg, p, ids, dmask, enc, batch["attention_mask"])
    assert (dec[r, :DEC_LENGTHS[r]] - base["decoder_last_hidden_state"][r, :DEC_LENGTHS[r]]).abs().max().item() < 1e-12
    # an empty prefix is the plain model
    empty = OrderedDict((k, (torch.zeros(B, 0, cfg.inner, dtype=torch.float64),) * 2) for k in make_prefixes(cfg, torch.Generator().manual_seed(0)))
    assert (call(cfg, p, batch, prefixes=empty)["logits"] - base["logits"]).abs().max().item() < 1e-12


def build(dirname, gated, seed, buckets=False):
    config = t5_config(gated)
    cfg = ref.T5RefConfig(config)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    params = init_params(cfg, gen)
    batch = make_batch(cfg, gen)
    prefixes = make_prefixes(cfg, gen)

    res64 = run(cfg, params, batch, torch.float64)
    res32 = run(cfg, params, batch, torch.float32)
    pre64 = run(cfg, params, batch, torch.float64, prefixes=prefixes)
    pre32 = run(cfg, params, batch, torch.float32, prefixes=prefixes)
    worst32 = 0.0
    for a, b in ((res64, res32), (pre64, pre32)):
        for k in a:
            diff = (a[k] - b[k].double()).abs().max().item()
            scale = a[k].abs().max().item()
            if diff > 1e-5 * max(1.0, scale):
                raise AssertionError("%s: float32 vs float64 differ by %.3g in %s" % (dirname, diff, k))
            worst32 = max(worst32, diff)
    mask_checks(cfg, params, batch)
    n_fd, worst_fd = fd_check(cfg, params, batch, prefixes, res64, pre64, gen)

    d = os.path.join(OUT, dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    weights = OrderedDict(params)
    write_safetensors(os.path.join(d, "model.safetensors"), weights)

    exp = OrderedDict()
    for k in ("input_ids", "attention_mask", "labels", "decoder_attention_mask"):
        exp[k] = batch[k]
    exp["decoder_input_ids"] = ref.shift_right(cfg, batch["labels"])
    for k, v in res64.items():
        exp[k] = v.to(torch.float32)
    for k, (pk, pv) in prefixes.items():
        exp["prefix.%s.key" % k] = pk
        exp["prefix.%s.value" % k] = pv
    for k, v in pre64.items():
        exp["prefix." + k] = v.to(torch.float32)
    if buckets:
        rel = torch.arange(-200, 201, dtype=torch.long)
        exp["buckets.relative"] = rel
        exp["buckets.bidirectional"] = ref.relative_position_bucket(rel, True, 32, 128)
        exp["buckets.causal"] = ref.relative_position_bucket(rel, False, 32, 128)
    write_safetensors(os.path.join(d, "expected.safetensors"), exp)

    back = read_safetensors(os.path.join(d, "model.safetensors"))
    assert list(back) == sorted(weights) and all(torch.equal(back[k], weights[k]) for k in weights)
    back = read_safetensors(os.path.join(d, "expected.safetensors"))
    assert all(torch.equal(back[k], exp[k]) for k in exp)

    print("%-13s params=%d  f32-vs-f64 max|diff|=%.2e  finite-diff: %d entries, worst err/tol=%.3f  OK" % (
        dirname, sum(v.numel() for v in params.values()), worst32, n_fd, worst_fd))
    print("  loss=%.6f prefix.loss=%.6f" % (res64["loss"].item(), pre64["loss"].item()))


def main():
    torch.set_num_threads(1)  # deterministic reductions
    torch.manual_seed(0)
    build("tiny-t5", gated=False, seed=2468, buckets=True)
    build("tiny-t5-v1_1", gated=True, seed=1357)
    total = 0
    for name in ("tiny-t5", "tiny-t5-v1_1"):
        for f in os.listdir(os.path.join(OUT, name)):
            total += os.path.getsize(os.path.join(OUT, name, f))
    assert total < 500 * 1024, total
    print("wrote tiny-t5, tiny-t5-v1_1 (%d bytes)  OK" % total)


if __name__ == "__main__":
    main()
