"""PyTorch side of the benchmark (bench/run.ts runs it): the same shapes as bench/shapes.ts.

One BERT-base-shaped layer (forward; forward+backward w.r.t. a Pfeiffer adapter after the
FFN, backbone frozen) and one training step of a 4-layer hidden-256 model with adapters.
Prints JSON lines. Threads: torch.set_num_threads($BENCH_THREADS or 2). bench/gpu/torch_bert_base.py
imports its model pieces (`lin`, `layer_params`, `layer`, `timeit`).
"""
import json, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
reps = int(os.environ.get("BENCH_REPS", "5"))


def lin(i, o):
    return (torch.randn(o, i) * 0.02, torch.randn(o) * 0.02)


def layer_params(H, Fd):
    return dict(q=lin(H, H), k=lin(H, H), v=lin(H, H), ao=lin(H, H), ln1=(torch.ones(H), torch.zeros(H)),
                i=lin(H, Fd), o=lin(Fd, H), ln2=(torch.ones(H), torch.zeros(H)))


def layer(p, x, bias, heads, adapter):
    """One encoder layer. `adapter`: a (down, up) pair added to the FFN output, or a function
    hook(out, residual, ln) returning the FFN output to use (ln: the output LayerNorm's (g, b))."""
    B, T, H = x.shape
    hd = H // heads
    def split(t):
        return t.view(B, T, heads, hd).transpose(1, 2)
    q, k, v = (split(F.linear(x, *p[n])) for n in "qkv")
    s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + bias
    ctx = torch.matmul(torch.softmax(s, -1), v).transpose(1, 2).reshape(B, T, H)
    h1 = F.layer_norm(F.linear(ctx, *p["ao"]) + x, (H,), *p["ln1"], eps=1e-12)
    out = F.linear(F.gelu(F.linear(h1, *p["i"])), *p["o"])
    if callable(adapter):
        out = adapter(out, h1, p["ln2"])
    else:
        down, up = adapter
        out = out + F.linear(F.relu(F.linear(out, *down)), *up)
    return F.layer_norm(out + h1, (H,), *p["ln2"], eps=1e-12)


def timeit(label, fn, sync=lambda: None, extra=None):
    """Run fn twice untimed, then `reps` times; print {engine, case, median_ms, min_ms, **extra}.
    `sync` waits for the device (torch.cuda.synchronize on a GPU) before each clock read."""
    fn(); fn()
    ts = []
    for _ in range(reps):
        sync(); t0 = time.perf_counter(); fn(); sync(); ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    print(json.dumps({"engine": "pytorch", "case": label, "median_ms": ts[len(ts) // 2], "min_ms": ts[0], **(extra or {})}), flush=True)


def main():
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(0)
    shapes = json.loads(os.environ["BENCH_SHAPES"])
    L = shapes["layer"]
    H, heads, Fd, B, T, bn = L["hidden"], L["heads"], L["ffn"], L["batch"], L["seq"], L["bottleneck"]
    p = layer_params(H, Fd)
    x = torch.randn(B, T, H)
    bias = torch.zeros(B, 1, 1, T)
    adapter = [tuple(t.requires_grad_() for t in lin(H, bn)), tuple(t.requires_grad_() for t in lin(bn, H))]
    def fwd():
        with torch.no_grad():
            layer(p, x, bias, heads, adapter)
    timeit("layer_forward", fwd)
    def fwd_bwd():
        loss = layer(p, x, bias, heads, adapter).square().mean()
        grads = torch.autograd.grad(loss, [t for pair in adapter for t in pair])
        return grads
    timeit("layer_forward_backward_adapter", fwd_bwd)

    S = shapes["step"]
    H, heads, Fd, NL, B, T, bn, V = S["hidden"], S["heads"], S["ffn"], S["layers"], S["batch"], S["seq"], S["bottleneck"], S["vocab"]
    emb = torch.randn(V, H) * 0.02
    pos = torch.randn(T, H) * 0.02
    typ = torch.randn(2, H) * 0.02
    lns = (torch.ones(H), torch.zeros(H))
    layers = [layer_params(H, Fd) for _ in range(NL)]
    adapters = [[tuple(t.requires_grad_() for t in lin(H, bn)), tuple(t.requires_grad_() for t in lin(bn, H))] for _ in range(NL)]
    head = [tuple(t.requires_grad_() for t in lin(H, H)), tuple(t.requires_grad_() for t in lin(H, 2))]
    ids = torch.tensor([1 + ((i * 7919) % (V - 1)) for i in range(B * T)]).view(B, T)
    labels = torch.tensor([i % 2 for i in range(B)])
    bias = torch.zeros(B, 1, 1, T)
    params = [t for a in adapters for pair in a for t in pair] + [t for pair in head for t in pair]
    opt = torch.optim.SGD(params, lr=1e-3)
    def step():
        h = emb[ids] + pos[None] + typ[0]
        h = F.layer_norm(h, (H,), *lns, eps=1e-12)
        for lp, a in zip(layers, adapters):
            h = layer(lp, h, bias, heads, a)
        logits = F.linear(torch.tanh(F.linear(h[:, 0], *head[0])), *head[1])
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    timeit("train_step_4L_h256", step)


if __name__ == "__main__":
    main()
