"""Combine bench/gpu/run.sh's two halves: RESULTS/node.jsonl (jax-js, webgpu) and torch.jsonl
(PyTorch) into OUT/result.json and OUT/result.md, a row per case with both medians and the ratio.
Usage: python3 bench/gpu/summarize.py RESULTS_DIR OUT_DIR. Partial files are read when a half
did not finish."""
import json, os, sys


def rows(folder, name):
    for f in (f"{name}.jsonl", f"{name}.partial.jsonl"):
        p = os.path.join(folder, f)
        if os.path.exists(p):
            with open(p) as fh:
                return [json.loads(l) for l in fh if l.startswith("{")]
    return []


def main():
    src, out = sys.argv[1], sys.argv[2]
    js, pt = rows(src, "node"), rows(src, "torch")
    js_info = next((r for r in js if "case" not in r), {})
    pt_info = next((r for r in pt if "case" not in r), {})
    # jax-js's train_step_jit is compared with PyTorch's eager train_step (its usual mode).
    pairs = [("forward", "forward"), ("train_step", "train_step"), ("train_step_jit", "train_step")]
    by = lambda rs, c: next((r for r in rs if r.get("case") == c), None)
    table = []
    for jc, pc in pairs:
        j, p = by(js, jc), by(pt, pc)
        table.append({"jaxjs_case": jc, "torch_case": pc, "jaxjs_ms": j and j["median_ms"], "torch_ms": p and p["median_ms"],
                      "ratio": (j["median_ms"] / p["median_ms"]) if j and p else None})
    for r in pt:
        if r.get("case") == "train_step_compiled":
            table.append({"jaxjs_case": None, "torch_case": "train_step_compiled", "jaxjs_ms": None, "torch_ms": r["median_ms"], "ratio": None})
    result = {"jaxjs": js_info, "torch": pt_info, "rows": table}
    with open(os.path.join(out, "result.json"), "w") as fh:
        json.dump(result, fh, indent=2)
    fmt = lambda v: "-" if v is None else f"{v:.1f}"
    lines = [f"jax-js: {js_info.get('line', 'did not run')}; shape {json.dumps(js_info.get('shape'))}; reps {js_info.get('reps')}",
             f"PyTorch {pt_info.get('torch', '?')} on {pt_info.get('device', 'did not run')} (fp32, TF32 {pt_info.get('tf32')})", "",
             "| case | jax-js webgpu ms | PyTorch ms | ratio |", "|---|---|---|---|"]
    for r in table:
        lines.append(f"| {r['jaxjs_case'] or '-'} vs {r['torch_case']} | {fmt(r['jaxjs_ms'])} | {fmt(r['torch_ms'])} | "
                     + ("-" if r["ratio"] is None else f"{r['ratio']:.2f}x") + " |")
    with open(os.path.join(out, "result.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
