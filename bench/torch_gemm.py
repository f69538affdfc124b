"""PyTorch side of bench/gemm.ts (which runs it): the same products, the same thread count.

Shapes come from $GEMM_SHAPES (bench/gemm.ts's GEMM_CASES as JSON); threads from
$BENCH_THREADS. Prints one JSON line per case: engine, case, threads, median_ms, gflops (wall),
cpu_gflops (flops per CPU-second of the process, all threads; OpenMP threads that spin while
waiting count too).
"""
import json, os, time
import torch

reps = int(os.environ.get("GEMM_REPS", "5"))


def main():
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    only = os.environ.get("GEMM_CASES")
    only = [int(x) for x in only.split(",")] if only else None
    for ci, c in enumerate(json.loads(os.environ["GEMM_SHAPES"])):
        if only is not None and ci not in only:
            continue
        a, b = torch.randn(c["a"]), torch.randn(c["b"])
        kind = c["kind"]
        if kind == "linear":
            fn = lambda: torch.nn.functional.linear(a, b)
        elif kind == "wgrad":
            fn = lambda: a.t().matmul(b)
        elif kind == "bmm":
            fn = lambda: torch.matmul(a, b.transpose(1, 2))
        else:
            fn = lambda: torch.matmul(a, b)
        ts, cs = [], []
        for r in range(reps + 2):
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn()
            if r >= 2:
                ts.append((time.perf_counter() - t0) * 1000)
                cs.append((time.process_time() - c0) * 1000)
        ts.sort()
        cs.sort()
        med, cpu = ts[len(ts) // 2], cs[len(cs) // 2]
        print(json.dumps({"engine": "pytorch", "case": c["name"], "threads": threads, "median_ms": med,
                          "gflops": c["flops"] / med / 1e6, "cpu_gflops": c["flops"] / cpu / 1e6}), flush=True)


if __name__ == "__main__":
    main()
