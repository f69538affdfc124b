#!/usr/bin/env python3
"""PETL on T5 fixtures: teacher-forced loss and gradients of the PETL parameters.

Placement (DESIGN.md, as the authors' T5 code / AdapterHub's T5 mixins place them):
  adapter  Pfeiffer after the FFN of every encoder and decoder block; T5 has no output norm,
           so the adapter reads a = h + x and the block returns x + h + up(relu(down(a))).
  prefix   reparametrised key/value prefixes in the self-attention of both stacks.
  lora     q and v of self-attention in every block and of the decoder's cross-attention
           (whose k/v input is the encoder output); q <- q + (alpha/r) (x A^T) B^T.
Positions are numbered stack by stack, layer by layer, in the kind's order (LoRA:
self_attention, then cross_attention where the block has one).
ProPETL: ONE prototype for every position, position p's weights are prototype * m_p with
m_p = top-k(|s_p|) (n - floor((1-k) n) kept) and the straight-through gradient of the
authors' GetSubnet (identity on |s|); biases unmasked.

Reads test/fixtures/models/<model>/{config.json, model.safetensors, expected.safetensors}
(its padded encoder and decoder batch) and writes
test/fixtures/petl-t5/<model>/<method>.safetensors with the PETL tensors (state names:
`prototype.<t>`, `<stack>.layer.<i>.<position>.<t>`, scores `scores.<p>.<t>`), `grad.<name>`
for each, and `loss`. Computed in float64, stored as F32. Debian python3 + torch 1.13.
"""

import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_reference as ref  # noqa: E402
from make_model_fixtures import read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.path.join(ROOT, "test", "fixtures", "models")
OUT = os.path.join(ROOT, "test", "fixtures", "petl-t5")

BN, RANK, ALPHA, K = 4, 2, 4.0, 0.5
PREFIX_LEN, PREFIX_HIDDEN = 3, 8


def positions(cfg, kind):
    """(name, stack, layer, position) in the library's order."""
    out = []
    for stack, n in (("encoder", cfg.num_layers), ("decoder", cfg.num_decoder_layers)):
        for i in range(n):
            if kind == "adapter":
                out.append(("%s.layer.%d.ffn_output" % (stack, i), stack, i, "ffn_output"))
            elif kind == "prefix":
                out.append(("%s.layer.%d.prefix" % (stack, i), stack, i, "prefix"))
            else:
                out.append(("%s.layer.%d.self_attention" % (stack, i), stack, i, "self_attention"))
                if stack == "decoder":
                    out.append(("%s.layer.%d.cross_attention" % (stack, i), stack, i, "cross_attention"))
    return out


def unit_spec(cfg, kind):
    d, inner = cfg.d_model, cfg.num_heads * cfg.d_kv
    if kind == "adapter":
        return [("down_weight", (BN, d), True), ("down_bias", (BN,), False), ("up_weight", (d, BN), True), ("up_bias", (d,), False)]
    return [("query_lora_A", (RANK, d), True), ("query_lora_B", (inner, RANK), True), ("value_lora_A", (RANK, d), True), ("value_lora_B", (inner, RANK), True)]


def top_k_ste(s, k):
    a = s.abs()
    n = a.numel()
    drop = int((1 - k) * n)
    flat = a.detach().flatten()
    order = torch.argsort(flat)
    m = torch.ones(n, dtype=s.dtype)
    m[order[:drop]] = 0
    return m.view(s.shape) + (a - a.detach())


def build_prefix(model, method):
    """Prefix-tuning: P' [l, d] -> Linear(d, hidden) -> tanh -> Linear(hidden, count*2*inner); position p
    takes its [l, 2*inner] slice (ProPETL: the one slice, masked per position), keys then values,
    prepended to every self-attention of both stacks (t5_reference's prefixes)."""
    cfg = ref.T5RefConfig(json.load(open(os.path.join(MODELS, model, "config.json"))))
    params = OrderedDict((k, v.to(torch.float64)) for k, v in read_safetensors(os.path.join(MODELS, model, "model.safetensors")).items())
    exp = read_safetensors(os.path.join(MODELS, model, "expected.safetensors"))
    shared = method.startswith("propetl-")
    pos = positions(cfg, "prefix")
    A = cfg.num_heads * cfg.d_kv
    count = 1 if shared else len(pos)
    gen = torch.Generator().manual_seed(4321)
    leaves = OrderedDict()
    r = lambda *shape: (torch.randn(shape, generator=gen, dtype=torch.float64) * 0.3).requires_grad_(True)  # noqa: E731
    leaves["embedding"] = r(PREFIX_LEN, cfg.d_model)
    leaves["mlp.l1.w"] = r(PREFIX_HIDDEN, cfg.d_model)
    leaves["mlp.l1.b"] = r(PREFIX_HIDDEN)
    leaves["mlp.l2.w"] = r(count * 2 * A, PREFIX_HIDDEN)
    leaves["mlp.l2.b"] = r(count * 2 * A)
    if shared:
        for p in range(len(pos)):
            leaves["scores.%d.key_value" % p] = (torch.rand((PREFIX_LEN, 2 * A), generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    kv_all = torch.tanh(leaves["embedding"] @ leaves["mlp.l1.w"].T + leaves["mlp.l1.b"]) @ leaves["mlp.l2.w"].T + leaves["mlp.l2.b"]
    B = exp["input_ids"].shape[0]
    prefixes = {}
    for p, (name, stack, i, _) in enumerate(pos):
        kv = kv_all if shared else kv_all[:, p * 2 * A:(p + 1) * 2 * A]
        if shared:
            kv = kv * top_k_ste(leaves["scores.%d.key_value" % p], K)
        prefixes[name] = (kv[:, :A].unsqueeze(0).expand(B, -1, -1), kv[:, A:].unsqueeze(0).expand(B, -1, -1))
    out = ref.forward(cfg, params, exp["input_ids"], exp["attention_mask"], exp["labels"], exp["decoder_attention_mask"], prefixes=prefixes)
    return out["loss"], leaves


def build(model, method):
    if method.endswith("prefix"):
        loss, leaves = build_prefix(model, method)
        write(model, method, loss, leaves)
        return
    cfg_json = json.load(open(os.path.join(MODELS, model, "config.json")))
    cfg = ref.T5RefConfig(cfg_json)
    params = OrderedDict((k, v.to(torch.float64)) for k, v in read_safetensors(os.path.join(MODELS, model, "model.safetensors")).items())
    exp = read_safetensors(os.path.join(MODELS, model, "expected.safetensors"))
    kind = "adapter" if method.endswith("adapter") else "lora"
    shared = method.startswith("propetl-")
    pos = positions(cfg, kind)
    spec = unit_spec(cfg, kind)
    gen = torch.Generator().manual_seed(1234)
    leaves = OrderedDict()

    def fresh(shape):
        return (torch.randn(shape, generator=gen, dtype=torch.float64) * 0.3).requires_grad_(True)

    if shared:
        for t, shape, _ in spec:
            leaves["prototype." + t] = fresh(shape)
        for p in range(len(pos)):
            for t, shape, masked in spec:
                if masked:
                    leaves["scores.%d.%s" % (p, t)] = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    else:
        for name, *_ in pos:
            for t, shape, _ in spec:
                leaves["%s.%s" % (name, t)] = fresh(shape)

    def tensor(p, t, masked):
        if not shared:
            return leaves["%s.%s" % (pos[p][0], t)]
        w = leaves["prototype." + t]
        return w * top_k_ste(leaves["scores.%d.%s" % (p, t)], K) if masked else w

    deltas = {}
    for p, (name, stack, i, where) in enumerate(pos):
        u = {t: tensor(p, t, masked) for t, _, masked in spec}
        base = "%s.layer.%d." % (stack, i)
        if kind == "adapter":
            deltas[base + "ffn_output"] = (lambda u: lambda h, x: h + torch.relu((h + x) @ u["down_weight"].T + u["down_bias"]) @ u["up_weight"].T + u["up_bias"])(u)
        else:
            s = ALPHA / RANK
            sites = ("query", "value") if where == "self_attention" else ("cross_query", "cross_value")
            for site, target in zip(sites, ("query", "value")):
                deltas[base + site] = (lambda a, b: lambda y, x: y + s * ((x @ a.T) @ b.T))(u[target + "_lora_A"], u[target + "_lora_B"])

    out = ref.forward(cfg, params, exp["input_ids"], exp["attention_mask"], exp["labels"], exp["decoder_attention_mask"], deltas=deltas)
    write(model, method, out["loss"], leaves)


def write(model, method, loss, leaves):
    names = list(leaves)
    grads = torch.autograd.grad(loss, [leaves[n] for n in names])
    res = OrderedDict()
    res["loss"] = loss.detach().to(torch.float32).reshape(1)
    for n, g in zip(names, grads):
        res[n] = leaves[n].detach().to(torch.float32)
        res["grad." + n] = g.to(torch.float32)
    d = os.path.join(OUT, model)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, method + ".safetensors"), res)
    print("%-13s %-16s loss=%.6f  %d tensors" % (model, method, loss.item(), len(names)))


def main():
    torch.set_num_threads(1)
    for model in ("tiny-t5", "tiny-t5-v1_1"):
        for method in ("adapter", "propetl-adapter", "lora", "propetl-lora", "prefix", "propetl-prefix"):
            build(model, method)


if __name__ == "__main__":
    main()
