"""PyTorch side of the benchmark (bench/run.ts runs it): the same shapes as bench/shapes.ts.

One BERT-base-shaped layer (forward; forward+backward w.r.t. a Pfeiffer adapter after the
FFN, backbone frozen), one training step of a 4-layer hidden-256 model with adapters, and one
BERT-base ProPETL-adapter training step at batch 8 x 128 (`propetl_bert`). The backbone's
tensors never require grad (frozen: autograd does only the input-gradient work through it);
GELU is F.gelu's default, the exact erf form, as propetl's "gelu"; there is no dropout on
either side. Prints JSON lines. Threads: torch.set_num_threads($BENCH_THREADS or 2).
$BENCH_CASES (comma-separated) picks cases. bench/gpu/torch_bert_base.py imports its model
pieces (`lin`, `layer_params`, `layer`, `propetl_bert`, `timeit`).
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


def st_mask(scores, k):
    """Straight-through top-k mask of |scores| (keeps n - floor((1 - k) n) entries)."""
    a = scores.abs()
    n = a.numel()
    kept = n - math.floor((1 - k) * n)
    m = torch.zeros(n, device=a.device).scatter_(0, torch.topk(a.detach().flatten(), kept).indices, 1.0).view_as(a)
    return m + (a - a.detach())


def propetl_bert(S):
    """BERT of shape S (layers, hidden, heads, ffn, vocab, batch, seq, bottleneck, k) with
    ProPETL-adapter as propetl computes it (src/petl/adapter.ts, propetl.ts, mask.ts): one adapter
    shared by all layers (down [bn, H], up [H, bn], biases), per layer a learned score per weight
    entry; the layer's mask keeps the top k of |score| (straight-through); the masked adapter reads
    LN(out + h1) with the layer's frozen output LayerNorm and adds to the FFN output. Returns
    (logits(hooks), hooks() building the masked hooks from the current scores, fixed_hooks()
    under no_grad, trainable tensors, labels); tensors on torch's default device."""
    H, NL, B, T, V, bn, k = S["hidden"], S["layers"], S["batch"], S["seq"], S["vocab"], S["bottleneck"], S["k"]
    emb, pos, typ = (torch.randn(V, H) * 0.02, torch.randn(T, H) * 0.02, torch.randn(2, H) * 0.02)
    lns = (torch.ones(H), torch.zeros(H))
    layers = [layer_params(H, S["ffn"]) for _ in range(NL)]
    theta = {"down_w": torch.randn(bn, H) * 0.02, "down_b": torch.zeros(bn), "up_w": torch.randn(H, bn) * 0.02, "up_b": torch.zeros(H)}
    scores = [{"down_w": torch.rand(bn, H) * 2 - 1, "up_w": torch.rand(H, bn) * 2 - 1} for _ in range(NL)]
    head = [tuple(lin(H, H)), tuple(lin(H, 2))]
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
            h = layer(lp, h, bias, S["heads"], hk)
        return F.linear(torch.tanh(F.linear(h[:, 0], *head[0])), *head[1])

    def hooks():
        return [hook(theta["down_w"] * st_mask(s["down_w"], k), theta["up_w"] * st_mask(s["up_w"], k)) for s in scores]

    def fixed_hooks():
        with torch.no_grad():
            return hooks()
    return logits, hooks, fixed_hooks, trainable, labels


def timeit(label, fn, sync=lambda: None, extra=None):
    """Run fn twice untimed, then `reps` times; print {engine, case, median_ms, min_ms, cpu_ms, **extra}
    (cpu_ms: the median CPU time of the process, all threads, per run).
    `sync` waits for the device (torch.cuda.synchronize on a GPU) before each clock read."""
    fn(); fn()
    ts, cpu = [], []
    for _ in range(reps):
        sync(); c0 = time.process_time(); t0 = time.perf_counter(); fn(); sync()
        ts.append((time.perf_counter() - t0) * 1000); cpu.append((time.process_time() - c0) * 1000)
    ts.sort(); cpu.sort()
    print(json.dumps({"engine": "pytorch", "case": label, "median_ms": ts[len(ts) // 2], "min_ms": ts[0], "cpu_ms": cpu[len(cpu) // 2], **(extra or {})}), flush=True)


def main():
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(0)
    shapes = json.loads(os.environ["BENCH_SHAPES"])
    cases = [c for c in os.environ.get("BENCH_CASES", "").split(",") if c] or None
    def want(c):
        return cases is None or c in cases
    L = shapes["layer"]
    H, heads, Fd, B, T, bn = L["hidden"], L["heads"], L["ffn"], L["batch"], L["seq"], L["bottleneck"]
    p = layer_params(H, Fd)
    x = torch.randn(B, T, H)
    bias = torch.zeros(B, 1, 1, T)
    adapter = [tuple(t.requires_grad_() for t in lin(H, bn)), tuple(t.requires_grad_() for t in lin(bn, H))]
    def fwd():
        with torch.no_grad():
            layer(p, x, bias, heads, adapter)
    if want("layer_forward"):
        timeit("layer_forward", fwd)
    def fwd_bwd():
        loss = layer(p, x, bias, heads, adapter).square().mean()
        grads = torch.autograd.grad(loss, [t for pair in adapter for t in pair])
        return grads
    if want("layer_forward_backward_adapter"):
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
    if want("train_step_4L_h256"):
        timeit("train_step_4L_h256", step)

    if want("train_step_bert_base_8x128"):
        logits, hooks, _, trainable, blabels = propetl_bert(shapes["bert"])
        bopt = torch.optim.SGD(trainable, lr=1e-3)
        def bert_step():
            loss = F.cross_entropy(logits(hooks()), blabels)
            bopt.zero_grad()
            loss.backward()
            bopt.step()
        timeit("train_step_bert_base_8x128", bert_step)


if __name__ == "__main__":
    main()
