"""How much can propetl-mini's frozen features learn? (sanity probe for the comparison)

Reads probe-features.js output and reports test accuracy of
  1. logistic regression to convergence on standardised [CLS] / mean-pooled features (sklearn), and
  2. the fine-tuning head itself (dense+tanh pooler, then a linear classifier; normal(0, 0.02) init)
     trained on the frozen [CLS] features with the experiment's optimiser: AdamW lr 2e-3, weight
     decay 0.1, batch 32, warmup 0.1 + linear decay, for 1 epoch (the runs' budget), 5 and 20.

Debian python3-torch and python3-sklearn:  /usr/bin/python3 experiments/compare/probe_head.py FEATURES.json
"""
import json
import sys

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

d = json.load(open(sys.argv[1]))
ytr, yte = np.array(d["train"]["y"]), np.array(d["test"]["y"])
print(f"majority class: test {max(np.mean(yte == c) for c in set(yte)):.3f}")
for f in ("cls", "mean"):
    sc = StandardScaler().fit(d["train"][f])
    clf = LogisticRegression(max_iter=2000, C=0.1).fit(sc.transform(d["train"][f]), ytr)
    print(f"logistic regression on {f}: test {clf.score(sc.transform(d['test'][f]), yte):.3f}, train {clf.score(sc.transform(d['train'][f]), ytr):.3f}")

Xtr, Xte = torch.tensor(d["train"]["cls"]), torch.tensor(d["test"]["cls"])
Ytr, Yte = torch.tensor(ytr), torch.tensor(yte)
n, H = Xtr.shape
for epochs in (1, 5, 20):
    torch.manual_seed(0)
    dense, out = torch.nn.Linear(H, H), torch.nn.Linear(H, int(Ytr.max()) + 1)
    for layer in (dense, out):
        torch.nn.init.normal_(layer.weight, 0, 0.02)
        torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.AdamW([*dense.parameters(), *out.parameters()], lr=2e-3, weight_decay=0.1)
    total = epochs * ((n + 31) // 32)
    step = 0
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i : i + 32]
            warm = 0.1 * total
            scale = (step + 1) / warm if step < warm else (total - step) / (total - warm)
            for g in opt.param_groups:
                g["lr"] = 2e-3 * scale
            loss = torch.nn.functional.cross_entropy(out(torch.tanh(dense(Xtr[idx]))), Ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    with torch.no_grad():
        te = (out(torch.tanh(dense(Xte))).argmax(-1) == Yte).float().mean().item()
        tr = (out(torch.tanh(dense(Xtr))).argmax(-1) == Ytr).float().mean().item()
    print(f"pooler+classifier head on frozen [CLS], {epochs} epoch(s) of {n}: test {te:.3f}, train {tr:.3f}")
