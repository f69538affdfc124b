"""PyTorch side of the GPU benchmark (bench/gpu/run.sh): the shape of bench/gpu/shape.ts, BERT-base
with ProPETL-adapter at batch 32 x 128 ($GPU_BENCH_SHAPE overrides fields), float32, on CUDA when
there is one (else the CPU, to check that the script runs). The model is bench/torch_bench.py's
`propetl_bert` (ProPETL-adapter as propetl computes it; see there). Cases:
forward (eval logits, masks precomputed, no grad), train_step (loss, gradients w.r.t. adapter,
scores and head, SGD step), and train_step_compiled (torch.compile of the loss-and-backward, only
with BENCH_COMPILE=1: compiling takes minutes). Prints JSON lines like bench/torch_bench.py.
"""
import json, os, sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_bench  # noqa: E402  (propetl_bert, timeit)

DEFAULT = dict(layers=12, hidden=768, heads=12, ffn=3072, vocab=30522, batch=32, seq=128, bottleneck=64, k=0.5)


def shape():
    s = dict(DEFAULT)
    given = json.loads(os.environ.get("GPU_BENCH_SHAPE") or "{}")
    for key, value in given.items():
        if key not in s:
            raise SystemExit(f"GPU_BENCH_SHAPE: unknown field {key!r} (fields: {', '.join(s)})")
        s[key] = value
    return s


def main():
    S = shape()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if hasattr(torch, "set_default_device"):  # torch >= 2.0; Debian's 1.13 (CPU check here) has none
        torch.set_default_device(dev)
    elif dev != "cpu":
        raise SystemExit(f"torch {torch.__version__} has no set_default_device: torch >= 2.0 is needed on {dev}")
    torch.manual_seed(0)
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    info = {"engine": "pytorch", "torch": torch.__version__, "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
            "tf32": torch.backends.cuda.matmul.allow_tf32, "shape": S}
    print(json.dumps(info), flush=True)

    logits, hooks, fixed_hooks, trainable, labels = torch_bench.propetl_bert(S)

    tag = {"device": info["device"]}
    fixed = fixed_hooks()
    def forward():
        with torch.no_grad():
            logits(fixed)
    torch_bench.timeit("forward", forward, sync, tag)

    def loss_and_backward():
        loss = F.cross_entropy(logits(hooks()), labels)
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
