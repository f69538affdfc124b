"""PyTorch side of the GPU benchmark (bench/gpu/run.sh): the shape of bench/gpu/shape.ts, BERT-base
with ProPETL-adapter at batch 32 x 128 ($GPU_BENCH_SHAPE overrides fields), float32, on CUDA when
there is one (else the CPU, to check that the script runs). The model pieces are bench/torch_bench.py's.

ProPETL-adapter as propetl computes it (src/petl/adapter.ts, propetl.ts, mask.ts): one adapter
shared by all layers (down [bn, H], up [H, bn], biases), per layer a learned score per weight entry;
the layer's mask keeps the top k of |score| (straight-through: m + |s| - stopgrad(|s|)); the masked
adapter reads LN(out + h1) with the layer's output LayerNorm and adds to the FFN output. Cases:
forward (eval logits, masks precomputed, no grad), train_step (loss, gradients w.r.t. adapter,
scores and head, SGD step), and train_step_compiled (torch.compile of the loss-and-backward, only
with BENCH_COMPILE=1: compiling takes minutes). Prints JSON lines like bench/torch_bench.py.
"""
import json, math, os, sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_bench  # noqa: E402  (lin, layer_params, layer, timeit)

DEFAULT = dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=30522, batch=32, seq=128, bottleneck=64, k=0.5)


def shape():
    s = dict(DEFAULT)
    given = json.loads(os.environ.get("GPU_BENCH_SHAPE") or "{}")
    for key, value in given.items():
        if key not in s:
            raise SystemExit(f"GPU_BENCH_SHAPE: unknown field {key!r} (fields: {', '.join(s)})")
        s[key] = value
    return s


def st_mask(scores, k):
    """Straight-through top-k mask of |scores| (keeps n - floor((1 - k) n) entries)."""
    a = scores.abs()
    n = a.numel()
    kept = n - math.floor((1 - k) * n)
    m = torch.zeros(n, device=a.device).scatter_(0, torch.topk(a.detach().flatten(), kept).indices, 1.0).view_as(a)
    return m + (a - a.detach())


def main():
    S = shape()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if hasattr(torch, "set_default_device"):  # torch >= 2.0; Debian's 1.13 (CPU check here) has none
        torch.set_default_device(dev)
    elif dev != "cpu":
        raise SystemExit(f"torch {torch.__version__} has no set_default_device: torch >= 2.0 is needed on {dev}")
    torch.manual_seed(0)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    H, NL, B, T, V, bn, k = S["hidden"], S["layers"], S["batch"], S["seq"], S["vocab"], S["bottleneck"], S["k"]
    info = {"engine": "pytorch", "torch": torch.__version__, "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
            "tf32": torch.backends.cuda.matmul.allow_tf32, "shape": S}
    print(json.dumps(info), flush=True)

    emb, pos, typ = (torch.randn(V, H) * 0.02, torch.randn(T, H) * 0.02, torch.randn(2, H) * 0.02)
    lns = (torch.ones(H), torch.zeros(H))
    layers = [torch_bench.layer_params(H, S["ffn"]) for _ in range(NL)]
    theta = {"down_w": torch.randn(bn, H) * 0.02, "down_b": torch.zeros(bn), "up_w": torch.randn(H, bn) * 0.02, "up_b": torch.zeros(H)}
    scores = [{"down_w": torch.rand(bn, H) * 2 - 1, "up_w": torch.rand(H, bn) * 2 - 1} for _ in range(NL)]
    head = [tuple(torch_bench.lin(H, H)), tuple(torch_bench.lin(H, 2))]
    trainable = list(theta.values()) + [t for s in scores for t in s.values()] + [t for pair in head for t in pair]
    for t in trainable:
        t.requires_grad_()
    ids = torch.tensor([1 + ((i * 7919) % (V - 1)) for i in range(B * T)]).view(B, T)
    labels = torch.tensor([i % 2 for i in range(B)])
    bias = torch.zeros(B, 1, 1, T)

    def hook(dw, uw):
        def apply(out, resid, ln):
            z = F.layer_norm(out + resid, (H,), *ln, eps=1e-12)
            return out + F.linear(F.relu(F.linear(z, dw, theta["down_b"])), uw, theta["up_b"])
        return apply

    def logits(hooks):
        h = F.layer_norm(emb[ids] + pos[None] + typ[0], (H,), *lns, eps=1e-12)
        for lp, hk in zip(layers, hooks):
            h = torch_bench.layer(lp, h, bias, S["heads"], hk)
        return F.linear(torch.tanh(F.linear(h[:, 0], *head[0])), *head[1])

    tag = {"device": info["device"]}
    with torch.no_grad():
        fixed = [hook(theta["down_w"] * st_mask(s["down_w"], k), theta["up_w"] * st_mask(s["up_w"], k)) for s in scores]
    def forward():
        with torch.no_grad():
            logits(fixed)
    torch_bench.timeit("forward", forward, sync, tag)

    def loss_and_backward():
        hooks = [hook(theta["down_w"] * st_mask(s["down_w"], k), theta["up_w"] * st_mask(s["up_w"], k)) for s in scores]
        loss = F.cross_entropy(logits(hooks), labels)
        loss.backward()
        return loss
    opt = torch.optim.SGD(trainable, lr=1e-3)
    def step(fn):
        def run():
            opt.zero_grad()
            fn()
            opt.step()
        return run
    torch_bench.timeit("train_step", step(loss_and_backward), sync, tag)
    if os.environ.get("BENCH_COMPILE") == "1":
        torch_bench.timeit("train_step_compiled", step(torch.compile(loss_and_backward)), sync, tag)


if __name__ == "__main__":
    main()
