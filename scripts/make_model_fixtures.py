#!/usr/bin/env python3
"""Generate test/fixtures/models/: tiny random Hugging Face BERT/RoBERTa
sequence classifiers plus reference outputs and gradients.

For each model directory (tiny-bert, tiny-roberta, tiny-bert-relu) this writes
  config.json            Hugging Face config (as save_pretrained writes it)
  model.safetensors      F32 weights, Hugging Face state-dict names
  expected.safetensors   a fixed batch and the reference results for it

The reference is scripts/hf_reference.py, a plain-torch re-implementation of
transformers' BertForSequenceClassification / RobertaForSequenceClassification
(eval mode).  Expected values are computed in float64 from the float32 weights
(then stored as F32); the script also runs the same computation in float32 and
checks it agrees with the float64 run to 1e-5, checks autograd against central
finite differences in float64, and checks the encoder layer against
torch.nn.TransformerEncoderLayer.

Run from the repository root (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 scripts/make_model_fixtures.py
Output is deterministic (byte-identical across runs).  The TypeScript tests
only read the committed files; they never run Python.
"""

import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep scripts/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "models")

B, T, P = 3, 10, 4
LENGTHS = [10, 7, 5]  # rows 1 and 2 are padded at the end

# ----------------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------------

_DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors):
    """Minimal safetensors writer: keys sorted, F32/I64 little endian,
    header JSON padded with spaces to a multiple of 8, metadata format=pt."""
    header = OrderedDict()
    header["__metadata__"] = {"format": "pt"}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype not in _DTYPES:
            raise TypeError("%s: unsupported dtype %s" % (name, t.dtype))
        code, npd = _DTYPES[t.dtype]
        data = t.numpy().astype(npd).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = OrderedDict()
    inv = {"F32": "<f4", "I64": "<i8"}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(buf[base + a:base + b], dtype=inv[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


# ----------------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------------


def label_maps(n):
    return ({str(i): "LABEL_%d" % i for i in range(n)}, {"LABEL_%d" % i: i for i in range(n)})


def bert_config(hidden_act="gelu", num_labels=3, layers=2, labels_as="id2label"):
    c = {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": hidden_act,
        "hidden_dropout_prob": 0.1,
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 64,
        "model_type": "bert",
        "num_attention_heads": 4,
        "num_hidden_layers": layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": 120,
    }
    if labels_as == "id2label":
        c["id2label"], c["label2id"] = label_maps(num_labels)
    else:  # hand-written configs often carry only num_labels; HF accepts both
        c["num_labels"] = num_labels
    return c


def roberta_config():
    c = {
        "architectures": ["RobertaForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": 0,
        "classifier_dropout": None,
        "eos_token_id": 2,
        "hidden_act": "gelu_new",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 32,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 66,
        "model_type": "roberta",
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "problem_type": "regression",
        "torch_dtype": "float32",
        "type_vocab_size": 1,
        "use_cache": True,
        "vocab_size": 120,
    }
    c["id2label"], c["label2id"] = label_maps(1)
    return c


# ----------------------------------------------------------------------------
# weights and batch
# ----------------------------------------------------------------------------


# Weights and embeddings are N(0, WEIGHT_STD^2).  HF initialises with
# initializer_range = 0.02, but at that scale a 2-layer model is nearly linear
# and nearly uniform in its attention: swapping gelu for gelu_new changes the
# logits by ~4e-9 and dropping the 1/sqrt(head_dim) scaling by ~4e-6, i.e.
# such bugs would pass any float32 tolerance.  At 0.2 they change the logits
# by ~1e-4 and ~1 respectively.  (config.json still says 0.02: that value only
# matters for initialising new heads.)
WEIGHT_STD = 0.2


def init_params(cfg, gen):
    """Normal(0, WEIGHT_STD) weights and embeddings; biases and LayerNorm
    parameters are randomised as well so that a bug cannot hide behind
    zeros/ones."""
    std = WEIGHT_STD
    params = OrderedDict()
    for name, shape in ref.param_shapes(cfg).items():
        if "LayerNorm.weight" in name:
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif "LayerNorm.bias" in name:
            t = 0.1 * torch.randn(shape, generator=gen)
        elif name.endswith(".bias"):
            t = 0.1 * torch.randn(shape, generator=gen)
        else:
            t = std * torch.randn(shape, generator=gen)
        params[name] = t.to(torch.float32)
    return params


def make_batch(cfg, gen):
    V, pad = cfg.vocab_size, cfg.pad_token_id
    ids = torch.randint(3, V, (B, T), generator=gen, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    types = torch.zeros(B, T, dtype=torch.long)
    for r, n in enumerate(LENGTHS):
        mask[r, :n] = 1
        ids[r, n:] = pad
        if cfg.model_type == "bert":
            ids[r, 0] = 2  # [CLS]-like
            types[r, (n + 1) // 2:n] = 1  # segment A then segment B, padding is type 0
        else:
            ids[r, 0] = cfg.raw["bos_token_id"]
            ids[r, n - 1] = cfg.raw["eos_token_id"]
    if cfg.is_regression:
        labels = torch.randn(B, generator=gen, dtype=torch.float32)
    else:
        labels = torch.randint(0, cfg.num_labels, (B,), generator=gen, dtype=torch.long)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels}


def make_prefixes(cfg, gen):
    pk = [0.5 * torch.randn(B, P, cfg.hidden_size, generator=gen) for _ in range(cfg.num_hidden_layers)]
    pv = [0.5 * torch.randn(B, P, cfg.hidden_size, generator=gen) for _ in range(cfg.num_hidden_layers)]
    return pk, pv


# ----------------------------------------------------------------------------
# reference runs
# ----------------------------------------------------------------------------


def run(cfg, params32, batch, dtype, prefix=None):
    """Forward + backward at `dtype`. Returns OrderedDict of named results."""
    params = OrderedDict((k, v.to(dtype).clone().requires_grad_(True)) for k, v in params32.items())
    deltas = ref.zero_deltas(cfg, B, T, dtype)
    pk = pv = None
    if prefix is not None:
        pk = [t.to(dtype).clone().requires_grad_(True) for t in prefix[0]]
        pv = [t.to(dtype).clone().requires_grad_(True) for t in prefix[1]]
    out = ref.forward(cfg, params, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                      batch["labels"], deltas=deltas, prefix_k=pk, prefix_v=pv)
    out["loss"].backward()
    res = OrderedDict()
    res["last_hidden_state"] = out["last_hidden_state"].detach()
    res["logits"] = out["logits"].detach()
    res["loss"] = out["loss"].detach()
    if prefix is None:
        for n, d in deltas.items():
            res["grad." + n] = d.grad.detach()
        for n, p in params.items():
            res["grad.param." + n] = p.grad.detach()
    else:
        for i in range(cfg.num_hidden_layers):
            res["grad.layer.%d.prefix_key" % i] = pk[i].grad.detach()
            res["grad.layer.%d.prefix_value" % i] = pv[i].grad.detach()
    return res


def loss64(cfg, params64, batch, deltas=None, prefix=None):
    with torch.no_grad():
        pk, pv = prefix if prefix is not None else (None, None)
        return ref.forward(cfg, params64, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                           batch["labels"], deltas=deltas, prefix_k=pk, prefix_v=pv)["loss"].item()


class FiniteDifferences:
    """Checks autograd against central differences (f(x+eps) - f(x-eps)) / 2eps, to
    1e-7 + 1e-5*|g|; keeps the count and the worst error/tolerance."""

    def __init__(self, eps):
        self.eps = eps
        self.worst = 0.0
        self.count = 0

    def compare(self, analytic, f_plus, f_minus, what):
        numeric = (f_plus - f_minus) / (2 * self.eps)
        err = abs(numeric - analytic)
        tol = 1e-7 + 1e-5 * abs(analytic)
        self.worst = max(self.worst, err / tol)
        self.count += 1
        if err > tol:
            raise AssertionError("finite difference mismatch at %s: autograd %.10g numeric %.10g" % (what, analytic, numeric))


def fd_check(cfg, params32, batch, prefix, res, res_prefix, gen):
    """Central finite differences (float64) on random entries of every hook
    gradient, every prefix gradient and every parameter gradient."""
    eps = 1e-6
    params64 = OrderedDict((k, v.double()) for k, v in params32.items())
    prefix64 = ([t.double() for t in prefix[0]], [t.double() for t in prefix[1]])
    fd = FiniteDifferences(eps)
    compare = fd.compare

    valid = [(r, t) for r in range(B) for t in range(LENGTHS[r])]
    pick = lambda n: int(torch.randint(0, n, (1,), generator=gen))  # noqa: E731

    # hook points
    for name in ref.hook_names(cfg):
        g = res["grad." + name]
        for _ in range(3):
            r, t = valid[pick(len(valid))]
            j = pick(cfg.hidden_size)
            vals = []
            for s in (1, -1):
                d = {name: torch.zeros(B, T, cfg.hidden_size, dtype=torch.float64)}
                d[name][r, t, j] = s * eps
                vals.append(loss64(cfg, params64, batch, deltas=d))
            compare(g[r, t, j].item(), vals[0], vals[1], "%s[%d,%d,%d]" % (name, r, t, j))

    # prefix keys / values
    for i in range(cfg.num_hidden_layers):
        for kind, which in (("prefix_key", 0), ("prefix_value", 1)):
            g = res_prefix["grad.layer.%d.%s" % (i, kind)]
            for _ in range(3):
                r, p_, j = pick(B), pick(P), pick(cfg.hidden_size)
                vals = []
                for s in (1, -1):
                    pre = ([t.clone() for t in prefix64[0]], [t.clone() for t in prefix64[1]])
                    pre[which][i][r, p_, j] += s * eps
                    vals.append(loss64(cfg, params64, batch, prefix=pre))
                compare(g[r, p_, j].item(), vals[0], vals[1], "layer.%d.%s[%d,%d,%d]" % (i, kind, r, p_, j))

    # parameters (rows with padding_idx get no gradient in HF: skip them here, checked separately)
    used_ids = sorted(set(batch["input_ids"].flatten().tolist()) - {cfg.pad_token_id})
    for name, p32 in params32.items():
        g = res["grad.param." + name]
        for _ in range(2):
            if name.endswith("word_embeddings.weight"):
                idx = (used_ids[pick(len(used_ids))], pick(cfg.hidden_size))
            elif name.endswith("position_embeddings.weight"):
                pos = ref.position_ids_for(cfg, batch["input_ids"])[batch["attention_mask"].bool()]
                used = sorted(set(pos.tolist()))
                idx = (used[pick(len(used))], pick(cfg.hidden_size))
            else:
                idx = tuple(pick(s) for s in p32.shape)
            vals = []
            for s in (1, -1):
                pp = OrderedDict(params64)
                pp[name] = params64[name].clone()
                pp[name][idx] += s * eps
                vals.append(loss64(cfg, pp, batch))
            compare(g[idx].item(), vals[0], vals[1], "%s%s" % (name, list(idx)))

    # padding_idx rows: zero gradient, as nn.Embedding(padding_idx=pad) in HF
    p = cfg.prefix
    assert torch.all(res["grad.param.%s.embeddings.word_embeddings.weight" % p][cfg.pad_token_id] == 0)
    if cfg.model_type == "roberta":
        assert torch.all(res["grad.param.roberta.embeddings.position_embeddings.weight"][cfg.pad_token_id] == 0)
    return fd.count, fd.worst


def torch_layer_check(cfg, params32, batch):
    """Check the reference encoder layer 0 (no deltas) against
    torch.nn.TransformerEncoderLayer (post-LN), an independent implementation.
    gelu_new is given to it as torch's own F.gelu(approximate="tanh")."""
    act = {"gelu": "gelu", "relu": "relu",
           "gelu_new": lambda x: torch.nn.functional.gelu(x, approximate="tanh")}[cfg.hidden_act]
    p = OrderedDict((k, v.double()) for k, v in params32.items())
    pre = cfg.prefix + ".encoder.layer.0."
    H = cfg.hidden_size
    layer = torch.nn.TransformerEncoderLayer(H, cfg.num_attention_heads, cfg.intermediate_size, dropout=0.0,
                                             activation=act, layer_norm_eps=cfg.layer_norm_eps,
                                             batch_first=True, norm_first=False).double()
    with torch.no_grad():
        sa = layer.self_attn
        sa.in_proj_weight.copy_(torch.cat([p[pre + "attention.self.%s.weight" % n] for n in ("query", "key", "value")]))
        sa.in_proj_bias.copy_(torch.cat([p[pre + "attention.self.%s.bias" % n] for n in ("query", "key", "value")]))
        sa.out_proj.weight.copy_(p[pre + "attention.output.dense.weight"])
        sa.out_proj.bias.copy_(p[pre + "attention.output.dense.bias"])
        layer.norm1.weight.copy_(p[pre + "attention.output.LayerNorm.weight"])
        layer.norm1.bias.copy_(p[pre + "attention.output.LayerNorm.bias"])
        layer.linear1.weight.copy_(p[pre + "intermediate.dense.weight"])
        layer.linear1.bias.copy_(p[pre + "intermediate.dense.bias"])
        layer.linear2.weight.copy_(p[pre + "output.dense.weight"])
        layer.linear2.bias.copy_(p[pre + "output.dense.bias"])
        layer.norm2.weight.copy_(p[pre + "output.LayerNorm.weight"])
        layer.norm2.bias.copy_(p[pre + "output.LayerNorm.bias"])
    layer.eval()
    one = dict(cfg.raw)
    one["num_hidden_layers"] = 1
    cfg1 = ref.RefConfig(one)
    x_ref = ref.base_model(cfg1, p, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    # embeddings output = input of layer 0: a 0-layer model
    zero = dict(cfg.raw)
    zero["num_hidden_layers"] = 0
    emb = ref.base_model(ref.RefConfig(zero), p, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    x_torch = layer(emb.requires_grad_(True), src_key_padding_mask=~batch["attention_mask"].bool())
    return (x_ref - x_torch).abs().max().item()


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------


def build(dirname, config, seed, strip_prefix=False):
    cfg = ref.RefConfig(config)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    params = init_params(cfg, gen)
    batch = make_batch(cfg, gen)
    prefix = make_prefixes(cfg, gen)

    res64 = run(cfg, params, batch, torch.float64)
    res32 = run(cfg, params, batch, torch.float32)
    pre64 = run(cfg, params, batch, torch.float64, prefix=prefix)
    pre32 = run(cfg, params, batch, torch.float32, prefix=prefix)
    worst32 = 0.0
    for a, b in ((res64, res32), (pre64, pre32)):
        for k in a:
            diff = (a[k] - b[k].double()).abs().max().item()
            if diff > 1e-5:
                raise AssertionError("%s: float32 vs float64 differ by %.3g in %s" % (dirname, diff, k))
            worst32 = max(worst32, diff)

    # sanity: prefix of length 0 / zero deltas reproduce the plain run
    params64 = OrderedDict((k, v.double()) for k, v in params.items())
    plain = ref.forward(cfg, params64, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                        batch["labels"])
    assert torch.equal(plain["logits"], res64["logits"])
    # sanity: padded positions do not influence the logits
    ids2 = batch["input_ids"].clone()
    ids2[~batch["attention_mask"].bool()] = 5 if cfg.model_type == "bert" else cfg.pad_token_id
    b2 = dict(batch, input_ids=ids2)
    if cfg.model_type == "bert":
        out2 = ref.forward(cfg, params64, b2["input_ids"], b2["attention_mask"], b2["token_type_ids"], b2["labels"])
        assert (out2["logits"] - plain["logits"]).abs().max().item() < 1e-12

    n_fd, worst_fd = fd_check(cfg, params, batch, prefix, res64, pre64, gen)
    layer_diff = torch_layer_check(cfg, params, batch)

    d = os.path.join(OUT, dirname)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")

    weights = OrderedDict()
    for k, v in params.items():
        if strip_prefix and k.startswith(cfg.prefix + "."):
            k = k[len(cfg.prefix) + 1:]
        weights[k] = v
    write_safetensors(os.path.join(d, "model.safetensors"), weights)

    exp = OrderedDict()
    for k in ("input_ids", "attention_mask", "token_type_ids", "labels"):
        exp[k] = batch[k]
    for k, v in res64.items():
        exp[k] = v.to(torch.float32)
    for i in range(cfg.num_hidden_layers):
        exp["prefix.layer.%d.key" % i] = prefix[0][i]
        exp["prefix.layer.%d.value" % i] = prefix[1][i]
    for k, v in pre64.items():
        exp["prefix." + k] = v.to(torch.float32)
    write_safetensors(os.path.join(d, "expected.safetensors"), exp)

    # round trip
    back = read_safetensors(os.path.join(d, "model.safetensors"))
    assert list(back) == sorted(weights) and all(torch.equal(back[k], weights[k]) for k in weights)
    assert ref.canonicalize_state_dict(cfg, back).keys() == params.keys()
    back = read_safetensors(os.path.join(d, "expected.safetensors"))
    assert all(torch.equal(back[k], exp[k]) for k in exp)

    print("%-15s params=%d  f32-vs-f64 max|diff|=%.2e  finite-diff: %d entries, worst err/tol=%.3f%s  OK" % (
        dirname, sum(v.numel() for v in params.values()), worst32, n_fd, worst_fd,
        "  nn.TransformerEncoderLayer max|diff|=%.1e" % layer_diff))
    assert layer_diff < 1e-10, layer_diff
    print("  loss=%.6f logits[0]=%s prefix.loss=%.6f" % (
        res64["loss"].item(), [round(x, 5) for x in res64["logits"][0].tolist()], pre64["loss"].item()))
    return exp


def main():
    torch.set_num_threads(1)  # deterministic reductions
    torch.manual_seed(0)
    build("tiny-bert", bert_config(), seed=1234)
    build("tiny-roberta", roberta_config(), seed=5678, strip_prefix=True)
    build("tiny-bert-relu", bert_config(hidden_act="relu", num_labels=2, layers=1, labels_as="num_labels"), seed=91011)
    total = 0
    for name in ("tiny-bert", "tiny-roberta", "tiny-bert-relu"):  # OUT also holds other scripts' models
        for f in os.listdir(os.path.join(OUT, name)):
            total += os.path.getsize(os.path.join(OUT, name, f))
    assert total < 1 << 20, total
    print("wrote tiny-bert, tiny-roberta, tiny-bert-relu (%d bytes)  OK" % total)


if __name__ == "__main__":
    main()
