#!/usr/bin/env python3
"""Generate test/fixtures/petl/tiny-bert-petl.safetensors: PETL modules and ProPETL masks
on the tiny-bert fixture model, with reference losses, logits and gradients from PyTorch.

For every case the file holds the module parameters (as inputs, F32), under the same dotted
paths as the TypeScript trainable tree (src/petl/propetl.ts `ModularParams`):

    <case>.source.<unit>.<tensor>     module instances (one when shared; layer-major)
    <case>.source.embedding / .source.mlp.l1.w ...   the prefix reparametrisation
    <case>.scores.<position>.<tensor>  layer-mask scores
    <case>.taskScores.<task>.<tensor>  task-mask scores

and the results `<case>.loss` [], `<case>.logits` [B, C], `<case>.grad.<path>` for every
input path, and `<case>.mask.<position>.<tensor>` / `<case>.taskmask.<task>.<tensor>`
(0/1 F32) for the masks the reference computed. `__metadata__` holds each case's method
config as JSON under `<case>.config` (and `<case>.task_ids` for mixed-task batches).

The model is test/fixtures/models/tiny-bert (weights and batch from its model.safetensors /
expected.safetensors). The reference forward is scripts/hf_reference.py. LoRA is attached by
wrapping its `_linear` (query / value outputs), prefixes through its prefix_k / prefix_v
inputs, and adapters through its `sublayer` callback with AdapterHub's bottleneck-layer
semantics (`Adapter.pre_forward` / `forward` / `post_forward` of adapter-transformers, with
the flags of `PfeifferConfig` and `HoulsbyConfig`; see `adapterhub_block` below):

    Pfeiffer (after the FFN):            LN(h + up(relu(down(LN(h + x)))) + x)
    Houlsby (after attention and FFN):   LN(h + up(relu(down(h))) + x)

where h is the sublayer's dense output, x its residual input and LN the frozen block
LayerNorm. (AdapterHub's Houlsby uses swish; propetl keeps the paper's ReLU, eq. 7.)
Random masks (random-mask) are drawn with a port of src/petl/mask.ts's HostRng.

Masks follow src/petl/mask.ts: keep n - floor((1-k) n) entries of largest |s| (ties to the
lower flat index); the gradient is straight-through as the authors' GetSubnet applied to
|s| (backward = identity), so d loss / d s = sign(s) * d loss / d m. Hybrid masks: OR as
1-(1-a)(1-b), AND as a*b.

Everything is computed in float64 from the float32 inputs, then rounded to F32. The script
checks autograd against central finite differences (float64) on a few entries of every
module parameter, and that the masked forward equals the plain forward with the masked
weights.

Run from the repository root (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 scripts/make_petl_fixtures.py
Deterministic output; the TypeScript tests only read the committed file.
"""

import json
import math
import os
import re
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.path.join(ROOT, "test", "fixtures", "models", "tiny-bert")
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "petl")
OUT = os.path.join(OUT_DIR, "tiny-bert-petl.safetensors")

BN, RANK, ALPHA, PLEN, PHID = 8, 4, 8.0, 4, 16
DT = torch.float64


# ----------------------------------------------------------------------------
# safetensors (F32 / I64 / U8 subset)
# ----------------------------------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    inv = {"F32": "<f4", "I64": "<i8"}
    out = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(buf[base + a:base + b], dtype=inv[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_safetensors(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = OrderedDict(sorted(metadata.items()))
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


# ----------------------------------------------------------------------------
# masks (src/petl/mask.ts)
# ----------------------------------------------------------------------------

def kept_count(n, k):
    return n - int(math.floor((1 - k) * n))


def topk_mask(a, k):
    """0/1 mask of the kept_count largest entries of a (ties: lower flat index kept)."""
    flat = a.detach().reshape(-1).to(torch.float32).numpy()
    n = flat.size
    K = kept_count(n, k)
    order = np.lexsort((np.arange(n), -flat))  # by -a, then index
    m = np.zeros(n)
    m[order[:K]] = 1.0
    return torch.from_numpy(m).to(a.dtype).reshape(a.shape)


class GetSubnet(torch.autograd.Function):
    """Top-k thresholding with a straight-through (identity) backward, as the authors'."""

    @staticmethod
    def forward(ctx, a, k):
        return topk_mask(a, k)

    @staticmethod
    def backward(ctx, g):
        return g, None


def st_mask(scores, k):
    return GetSubnet.apply(scores.abs(), k)


def combine(a, b, rule):
    return 1 - (1 - a) * (1 - b) if rule == "or" else a * b


class HostRng:
    """src/petl/mask.ts HostRng (splitmix32), bit for bit."""

    M = 0xFFFFFFFF

    def __init__(self, seed):
        self.state = (int(seed) ^ 0x9E3779B9) & self.M

    def next_u32(self):
        self.state = (self.state + 0x9E3779B9) & self.M
        z = self.state
        z = ((z ^ (z >> 16)) * 0x85EBCA6B) & self.M
        z = ((z ^ (z >> 13)) * 0xC2B2AE35) & self.M
        return (z ^ (z >> 16)) & self.M

    def uniform_array(self, n):
        return np.array([(self.next_u32() >> 8) / 16777216.0 for _ in range(n)], dtype=np.float32)


def random_masks(seed, npos, spec, k):
    """random-mask's fixed layer masks, as ModularMethod.drawRandomMasks draws them."""
    rng = HostRng((seed ^ 0x7A2D) & 0xFFFFFFFF)
    out = {}
    for p in range(npos):
        for t, shape, masked in spec:
            if masked:
                u = torch.from_numpy(rng.uniform_array(int(np.prod(shape))).astype(np.float64)).reshape(shape)
                out[(p, t)] = topk_mask(u, k)
    return out


# ----------------------------------------------------------------------------
# module math (src/petl/adapter.ts, lora.ts, prefix.ts); weights may be per example [B, ...]
# ----------------------------------------------------------------------------

def lin(x, w, b=None):
    y = torch.einsum("bti,oi->bto", x, w) if w.dim() == 2 else torch.einsum("bti,boi->bto", x, w)
    return y if b is None else y + b


def bottleneck(z, u):
    return lin(torch.relu(lin(z, u["down_weight"], u["down_bias"])), u["up_weight"], u["up_bias"])


# AdapterHub's flags (adapter-transformers `PfeifferConfig` / `HoulsbyConfig`).
PFEIFFER = {"original_ln_before": True, "original_ln_after": True, "residual_before_ln": True}
HOULSBY = {"original_ln_before": False, "original_ln_after": True, "residual_before_ln": True}


def adapterhub_block(flags, h, x, ln, u):
    """One sublayer block with a bottleneck adapter, as AdapterHub's pre_forward / forward /
    post_forward compute it (no adapter LayerNorms, no gating, scaling 1, eval mode)."""
    residual = h if flags["residual_before_ln"] else None
    hidden = ln(h + x) if flags["original_ln_before"] else h
    if not flags["residual_before_ln"]:
        residual = hidden
    out = bottleneck(hidden, u) + residual
    return ln(out + x) if flags["original_ln_after"] else out


def lora_fn(x, A, Bm, scaling):
    return lin(lin(x, A), Bm) * scaling


ADAPTER_SPEC = [("down_weight", (BN, 32), True), ("down_bias", (BN,), False), ("up_weight", (32, BN), True), ("up_bias", (32,), False)]
LORA_SPEC = [(n, s, True) for n, s in [("query_lora_A", (RANK, 32)), ("query_lora_B", (32, RANK)), ("value_lora_A", (RANK, 32)), ("value_lora_B", (32, RANK))]]
PREFIX_SPEC = [("key_value", (PLEN, 64), True)]
KINDS = {
    "adapter": (["ffn_output"], ADAPTER_SPEC),
    "houlsby": (["attention_output", "ffn_output"], ADAPTER_SPEC),
    "lora": (["self_attention"], LORA_SPEC),
    "prefix": (["prefix"], PREFIX_SPEC),
}

# Which wrapped `_linear` output each position modifies (LoRA).
HOOK_OF = {"attention.self.query": "query", "attention.self.value": "value"}
LINEAR_RE = re.compile(r"^(?:bert|roberta)\.encoder\.layer\.(\d+)\.(attention\.self\.query|attention\.self\.value)$")

_orig_linear = ref._linear
_current = {"fn": None}


def _patched_linear(params, name, x):
    y = _orig_linear(params, name, x)
    m = LINEAR_RE.match(name)
    if m and _current["fn"] is not None:
        y = _current["fn"](int(m.group(1)), HOOK_OF[m.group(2)], x, y)
    return y


ref._linear = _patched_linear


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------

class Case:
    """One method instance: inputs (leaf tensors with requires_grad) under tree paths."""

    def __init__(self, name, config, kind, share, masks, tasks=None, task_ids=None):
        self.name, self.config, self.kind, self.share, self.masks = name, config, kind, share, masks
        self.tasks = tasks or ["default"]
        self.task_ids = task_ids
        self.inputs = OrderedDict()
        self.masks_out = OrderedDict()

    def leaf(self, path, value):
        t = value.to(torch.float32).to(DT).clone().requires_grad_(True)
        self.inputs[path] = t
        return t


def make_case(name, config, kind, share, masks, gen, L, tasks=None, task_ids=None):
    c = Case(name, config, kind, share, masks, tasks, task_ids)
    positions, spec = KINDS[kind]
    npos = L * len(positions)
    count = 1 if share else npos
    if kind == "prefix":
        H = 32
        c.leaf("source.embedding", torch.randn(PLEN, H, generator=gen))
        c.leaf("source.mlp.l1.w", 0.3 * torch.randn(PHID, H, generator=gen))
        c.leaf("source.mlp.l1.b", 0.1 * torch.randn(PHID, generator=gen))
        c.leaf("source.mlp.l2.w", 0.3 * torch.randn(count * 2 * H, PHID, generator=gen))
        c.leaf("source.mlp.l2.b", 0.1 * torch.randn(count * 2 * H, generator=gen))
    else:
        for u in range(count):
            for t, shape, masked in spec:
                c.leaf("source.%d.%s" % (u, t), (0.3 if masked else 0.1) * torch.randn(*shape, generator=gen))
    if masks == "learned":
        def scores(shape):
            bound = 1.0 / math.sqrt(shape[1])
            return (torch.rand(*shape, generator=gen) * 2 - 1) * bound
        for p in range(npos):
            for t, shape, masked in spec:
                if masked:
                    c.leaf("scores.%d.%s" % (p, t), scores(shape))
        if len(c.tasks) > 1:
            for ti in range(len(c.tasks)):
                for t, shape, masked in spec:
                    if masked:
                        c.leaf("taskScores.%d.%s" % (ti, t), scores(shape))
    return c


def units_of(c, L):
    """Effective unit tensors per position (list over positions of dict name -> tensor)."""
    positions, spec = KINDS[c.kind]
    npos = L * len(positions)
    if c.kind == "prefix":
        I = c.inputs
        out = torch.tanh(I["source.embedding"] @ I["source.mlp.l1.w"].T + I["source.mlp.l1.b"]) @ I["source.mlp.l2.w"].T + I["source.mlp.l2.b"]
        raw = [{"key_value": out if c.share else out[:, p * 64:(p + 1) * 64]} for p in range(npos)]
    else:
        raw = [{t: c.inputs["source.%d.%s" % (0 if c.share else p, t)] for t, _, _ in spec} for p in range(npos)]
    if not c.masks:
        return raw
    k = c.config.get("k", 0.5)
    if c.masks == "random":
        fixed = random_masks(c.config.get("seed", 0), npos, spec, k)
        out = []
        for p in range(npos):
            u = {}
            for t, _, masked in spec:
                u[t] = raw[p][t] * fixed[(p, t)].to(DT) if masked else raw[p][t]
                if masked:
                    c.masks_out["mask.%d.%s" % (p, t)] = fixed[(p, t)]
            out.append(u)
        return out
    task_k = c.config.get("taskK", 0.3)
    rule = c.config.get("combine", "or")
    multi = len(c.tasks) > 1
    task_masks = {}
    if multi:
        for ti in range(len(c.tasks)):
            for t, _, masked in spec:
                if masked:
                    m = st_mask(c.inputs["taskScores.%d.%s" % (ti, t)], task_k)
                    c.masks_out["taskmask.%d.%s" % (ti, t)] = m
                    task_masks[(ti, t)] = m
    out = []
    for p in range(npos):
        u = {}
        for t, _, masked in spec:
            x = raw[p][t]
            if masked:
                m = st_mask(c.inputs["scores.%d.%s" % (p, t)], k)
                c.masks_out["mask.%d.%s" % (p, t)] = m
                if multi:
                    hyb = torch.stack([combine(m, task_masks[(ti, t)], rule) for ti in range(len(c.tasks))])
                    m = hyb[torch.tensor(c.task_ids)]  # [B, ...] per example
                x = x * m
            u[t] = x
        out.append(u)
    return out


def run_case(c, cfg, params, batch):
    L = cfg.num_hidden_layers
    positions, _ = KINDS[c.kind]
    P = len(positions)
    c.masks_out.clear()
    units = units_of(c, L)
    s = c.config.get("alpha", 0) / c.config.get("rank", 1)

    flags = PFEIFFER if c.kind == "adapter" else HOULSBY

    def block(i, which, h, x, ln):
        if c.kind in ("adapter", "houlsby") and which in positions:
            return adapterhub_block(flags, h, x, ln, units[i * P + positions.index(which)])
        return ln(h + x)

    def fn(i, hook, x, y):
        if c.kind == "lora" and hook in ("query", "value"):
            u = units[i]
            return y + lora_fn(x, u[hook + "_lora_A"], u[hook + "_lora_B"], s)
        return y

    prefix_k = prefix_v = None
    B = batch["input_ids"].shape[0]
    if c.kind == "prefix":
        prefix_k, prefix_v = [], []
        for i in range(L):
            kv = units[i]["key_value"]
            if kv.dim() == 2:
                kv = kv.unsqueeze(0).expand(B, -1, -1)
            prefix_k.append(kv[:, :, :32])
            prefix_v.append(kv[:, :, 32:])
    _current["fn"] = fn
    try:
        out = ref.forward(cfg, params, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                          labels=batch["labels"], prefix_k=prefix_k, prefix_v=prefix_v, sublayer=block)
    finally:
        _current["fn"] = None
    return out


def finite_difference_check(c, cfg, params, batch, gen, grads):
    """Central differences in float64 on 2 entries of every source input (masks fixed)."""
    for path, t in c.inputs.items():
        if not path.startswith("source."):
            continue
        for _ in range(2):
            idx = int(torch.randint(0, t.numel(), (1,), generator=gen))
            eps = 1e-6
            with torch.no_grad():
                flat = t.view(-1)
                old = float(flat[idx])
                flat[idx] = old + eps
                lp = float(run_case(c, cfg, params, batch)["loss"])
                flat[idx] = old - eps
                lm = float(run_case(c, cfg, params, batch)["loss"])
                flat[idx] = old
            fd = (lp - lm) / (2 * eps)
            g = float(grads[path].reshape(-1)[idx])
            if abs(fd - g) > 1e-7 + 1e-5 * abs(g):
                raise SystemExit("%s %s[%d]: autograd %.10g vs finite difference %.10g" % (c.name, path, idx, g, fd))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20230709)
    with open(os.path.join(MODEL, "config.json")) as f:
        cfg = ref.RefConfig(json.load(f))
    weights = read_safetensors(os.path.join(MODEL, "model.safetensors"))
    params = OrderedDict((k, v.to(DT)) for k, v in ref.canonicalize_state_dict(cfg, weights).items())
    exp = read_safetensors(os.path.join(MODEL, "expected.safetensors"))
    batch = {k: exp[k] for k in ("input_ids", "attention_mask", "token_type_ids", "labels")}
    L = cfg.num_hidden_layers

    small = {"bottleneck": BN}
    cases = [
        make_case("adapter", {"method": "adapter", **small}, "adapter", False, None, gen, L),
        make_case("houlsby", {"method": "houlsby", **small}, "houlsby", False, None, gen, L),
        make_case("lora", {"method": "lora", "rank": RANK, "alpha": ALPHA}, "lora", False, None, gen, L),
        make_case("prefix", {"method": "prefix", "prefixLength": PLEN, "prefixHidden": PHID}, "prefix", False, None, gen, L),
        make_case("propetl-adapter", {"method": "propetl-adapter", **small, "k": 0.5}, "adapter", True, "learned", gen, L),
        make_case("propetl-houlsby", {"method": "propetl-houlsby", **small, "k": 0.5}, "houlsby", True, "learned", gen, L),
        make_case("propetl-lora", {"method": "propetl-lora", "rank": RANK, "alpha": ALPHA, "k": 0.5}, "lora", True, "learned", gen, L),
        make_case("propetl-prefix", {"method": "propetl-prefix", "prefixLength": PLEN, "prefixHidden": PHID, "k": 0.5}, "prefix", True, "learned", gen, L),
        make_case("only-mask", {"method": "only-mask", **small, "k": 0.5}, "adapter", False, "learned", gen, L),
        make_case("propetl-adapter-mt-or", {"method": "propetl-adapter", **small, "k": 0.3, "taskK": 0.3, "combine": "or", "tasks": ["a", "b"]},
                  "adapter", True, "learned", gen, L, tasks=["a", "b"], task_ids=[0, 1, 0]),
        make_case("propetl-adapter-mt-and", {"method": "propetl-adapter", **small, "k": 0.7, "taskK": 0.7, "combine": "and", "tasks": ["a", "b"]},
                  "adapter", True, "learned", gen, L, tasks=["a", "b"], task_ids=[1, 1, 0]),
        make_case("only-share", {"method": "only-share", **small}, "adapter", True, None, gen, L),
        make_case("random-mask", {"method": "random-mask", **small, "k": 0.5, "seed": 5}, "adapter", True, "random", gen, L),
    ]

    tensors, metadata = OrderedDict(), OrderedDict()
    fd_gen = torch.Generator().manual_seed(7)
    for c in cases:
        out = run_case(c, cfg, params, batch)
        grads = dict(zip(c.inputs.keys(), torch.autograd.grad(out["loss"], list(c.inputs.values()))))
        finite_difference_check(c, cfg, params, batch, fd_gen, grads)
        for path, t in c.inputs.items():
            tensors["%s.%s" % (c.name, path)] = t
            tensors["%s.grad.%s" % (c.name, path)] = grads[path]
        for path, m in c.masks_out.items():
            tensors["%s.%s" % (c.name, path)] = m
        tensors["%s.loss" % c.name] = out["loss"].reshape(())
        tensors["%s.logits" % c.name] = out["logits"]
        metadata["%s.config" % c.name] = json.dumps(c.config, sort_keys=True)
        if c.task_ids is not None:
            metadata["%s.task_ids" % c.name] = json.dumps(c.task_ids)
        # Straight-through: score gradient = sign(s) * theta * dL/d(masked weight) for the shared adapter.
        if c.name == "propetl-adapter":
            check_straight_through(c, cfg, params, batch, grads)
        print("%-24s loss %.6f  inputs %d" % (c.name, float(out["loss"]), len(c.inputs)))

    os.makedirs(OUT_DIR, exist_ok=True)
    write_safetensors(OUT, tensors, metadata)
    size = os.path.getsize(OUT)
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT, ROOT), size))
    if size > 500 * 1024:
        raise SystemExit("fixture too large: %d bytes" % size)


def check_straight_through(c, cfg, params, batch, grads):
    """Score gradients equal sign(s) * theta * (gradient w.r.t. the masked weight)."""
    L = cfg.num_hidden_layers
    c.masks_out.clear()
    units = units_of(c, L)
    plain = Case("plain", {}, "adapter", False, None)
    for p in range(L):
        for t, _, _ in ADAPTER_SPEC:
            plain.leaf("source.%d.%s" % (p, t), units[p][t].detach())
    out = run_case(plain, cfg, params, batch)
    g_plain = dict(zip(plain.inputs.keys(), torch.autograd.grad(out["loss"], list(plain.inputs.values()))))
    for p in range(L):
        for t, _, masked in ADAPTER_SPEC:
            if not masked:
                continue
            s = c.inputs["scores.%d.%s" % (p, t)]
            theta = c.inputs["source.0.%s" % t]
            want = torch.sign(s) * theta * g_plain["source.%d.%s" % (p, t)]
            got = grads["scores.%d.%s" % (p, t)]
            if not torch.allclose(got, want, rtol=1e-10, atol=1e-14):
                raise SystemExit("straight-through check failed for %s" % t)


if __name__ == "__main__":
    main()
