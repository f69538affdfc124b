#!/usr/bin/env python3
"""Generate test/fixtures/metrics.json: reference metric values for propetl.

Expected values come from the reference implementations the GLUE/HF
`evaluate` metric uses:
  accuracy  -> sklearn.metrics.accuracy_score
  f1        -> sklearn.metrics.f1_score(labels, preds, zero_division=0)  (binary, pos_label=1)
  matthews  -> sklearn.metrics.matthews_corrcoef
  pearson   -> scipy.stats.pearsonr(x, y)[0]
  spearman  -> scipy.stats.spearmanr(x, y)[0]   (average ranks for ties)

Cases are drawn from seeded numpy Generators (deterministic), plus hand-made
degenerate cases (ties, constant inputs, all-one / all-zero predictions).
NaN (pearson/spearman of a constant input) is written as JSON null.

Run from the repository root (Debian: apt-get install python3-scipy python3-sklearn):
    /usr/bin/python3 scripts/make_metric_fixtures.py
The TypeScript tests only read the committed JSON; they never run Python.
"""

import json
import math
import os
import warnings

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "metrics.json")


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def cls_case(name, preds, labels):
    preds = [int(p) for p in preds]
    labels = [int(t) for t in labels]
    binary = set(preds) <= {0, 1} and set(labels) <= {0, 1}
    case = {
        "name": name,
        "preds": preds,
        "labels": labels,
        "accuracy": num(accuracy_score(labels, preds)),
        "matthews": num(matthews_corrcoef(labels, preds)),
    }
    if binary:
        # labels=[0, 1] keeps sklearn in binary mode even when only one class occurs.
        case["f1"] = num(f1_score(labels, preds, labels=[0, 1], pos_label=1, average="binary", zero_division=0))
    return case


def reg_case(name, x, y):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning for constant inputs
        p = scipy.stats.pearsonr(np.array(x), np.array(y))[0]
        s = scipy.stats.spearmanr(np.array(x), np.array(y))[0]
    return {"name": name, "x": x, "y": y, "pearson": num(p), "spearman": num(s)}


def main():
    classification = []
    regression = []

    # --- seeded random binary cases (GLUE-sized and tiny) ---
    for seed, n, p_pos in [(1, 10, 0.5), (2, 37, 0.3), (3, 100, 0.5), (4, 277, 0.6), (5, 1043, 0.7), (6, 5, 0.5)]:
        rng = np.random.default_rng(seed)
        labels = (rng.random(n) < p_pos).astype(int)
        # predictions agree with labels ~75% of the time
        flip = rng.random(n) < 0.25
        preds = np.where(flip, 1 - labels, labels)
        classification.append(cls_case(f"binary-random-seed{seed}-n{n}", preds, labels))
    # uniformly random (uncorrelated) predictions
    rng = np.random.default_rng(7)
    classification.append(cls_case("binary-uncorrelated-n200", rng.integers(0, 2, 200), rng.integers(0, 2, 200)))

    # --- degenerate binary cases ---
    rng = np.random.default_rng(8)
    lab = rng.integers(0, 2, 50)
    classification.append(cls_case("all-one-preds", np.ones(50, int), lab))
    classification.append(cls_case("all-zero-preds", np.zeros(50, int), lab))
    classification.append(cls_case("all-zero-preds-all-zero-labels", np.zeros(20, int), np.zeros(20, int)))
    classification.append(cls_case("all-one-preds-all-one-labels", np.ones(20, int), np.ones(20, int)))
    classification.append(cls_case("all-zero-labels-some-positive-preds", rng.integers(0, 2, 30), np.zeros(30, int)))
    classification.append(cls_case("all-one-labels", rng.integers(0, 2, 30), np.ones(30, int)))
    classification.append(cls_case("perfect", lab, lab))
    classification.append(cls_case("all-wrong", 1 - lab, lab))
    classification.append(cls_case("single-example-correct", [1], [1]))
    classification.append(cls_case("single-example-wrong", [0], [1]))

    # --- multiclass (MNLI-like, 3 classes): accuracy and matthews only ---
    for seed, n in [(11, 60), (12, 500)]:
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 3, n)
        preds = np.where(rng.random(n) < 0.6, labels, rng.integers(0, 3, n))
        classification.append(cls_case(f"multiclass3-seed{seed}-n{n}", preds, labels))
    rng = np.random.default_rng(13)
    classification.append(cls_case("multiclass3-constant-preds", np.full(40, 2), rng.integers(0, 3, 40)))

    # --- regression / correlation cases ---
    for seed, n in [(21, 10), (22, 139), (23, 750), (24, 3)]:
        rng = np.random.default_rng(seed)
        y = rng.uniform(0, 5, n)
        x = y + rng.normal(0, 1.0, n)
        regression.append(reg_case(f"continuous-seed{seed}-n{n}", x, y))
    # STS-B-like gold scores with many ties (0.2 steps) vs continuous predictions
    rng = np.random.default_rng(25)
    y = np.round(rng.uniform(0, 5, 300) * 5) / 5
    x = y + rng.normal(0, 0.8, 300)
    regression.append(reg_case("stsb-like-ties-in-gold", x, y))
    # heavy ties on both sides (small integer values)
    rng = np.random.default_rng(26)
    a = rng.integers(0, 4, 80)
    b = np.clip(a + rng.integers(-1, 2, 80), 0, 3)
    regression.append(reg_case("integer-ties-both", a, b))
    regression.append(reg_case("ties-small-handmade", [1, 2, 2, 3, 3, 3, 4], [2, 1, 2, 2, 5, 3, 3]))
    # constant inputs -> NaN in scipy
    rng = np.random.default_rng(27)
    v = rng.uniform(0, 5, 25)
    regression.append(reg_case("constant-x", np.full(25, 2.5), v))
    regression.append(reg_case("constant-y", v, np.full(25, 1.0)))
    regression.append(reg_case("both-constant", np.full(5, 3.0), np.full(5, 3.0)))
    # exact linear / monotone relations
    lin = np.arange(20, dtype=float)
    regression.append(reg_case("perfect-linear", lin, 3 * lin + 1))
    regression.append(reg_case("perfect-anti-linear", lin, -2 * lin + 7))
    regression.append(reg_case("monotone-nonlinear", lin, np.exp(lin / 4)))
    regression.append(reg_case("two-points", [0.0, 1.0], [5.0, 2.0]))
    # large offset (tests the centred two-pass sums)
    rng = np.random.default_rng(28)
    base = rng.normal(0, 1, 100)
    regression.append(reg_case("large-offset", base + 1e6, base * 0.5 + rng.normal(0, 0.5, 100) - 3e5))
    # uncorrelated
    rng = np.random.default_rng(29)
    regression.append(reg_case("uncorrelated-n500", rng.normal(0, 1, 500), rng.normal(0, 1, 500)))

    data = {
        "generator": "scripts/make_metric_fixtures.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "notes": "Fractions, not percentages. null = NaN (scipy result for constant input). "
        "f1 is sklearn f1_score(pos_label=1, average='binary', zero_division=0); only present for binary cases.",
        "classification": classification,
        "regression": regression,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One case per line keeps the file small and its diffs readable.
    def dumps(v):
        return json.dumps(v, allow_nan=False, separators=(",", ":"))

    lines = ["{"]
    keys = list(data)
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        v = data[k]
        if isinstance(v, list):
            lines.append(f" {dumps(k)}: [")
            lines.extend(f"  {dumps(c)}" + ("," if j < len(v) - 1 else "") for j, c in enumerate(v))
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {dumps(k)}: {dumps(v)}{comma}")
    lines.append("}")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(classification)} classification, {len(regression)} regression cases")


if __name__ == "__main__":
    main()
