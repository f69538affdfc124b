#!/usr/bin/env python3
"""Cross-check a pretrained T5 folder, step 2 (see dump-batch.ts): the teacher-forced loss and
token accuracy of the batch in OUT.json under scripts/t5_reference.py (plain PyTorch transcription
of Hugging Face's T5ForConditionalGeneration), in float64, from the folder's config.json and
model.safetensors (F32 or F16), against ours. Exit status 1 when the losses differ by more
than 1e-4.

    /usr/bin/python3 experiments/pretrain-t5/check_torch.py MODEL_DIR OUT.json
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import t5_reference as R  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        if v["dtype"] not in DTYPES:
            raise SystemExit("%s: tensor %s has dtype %s, expected F32 or F16" % (path, name, v["dtype"]))
        a, b = v["data_offsets"]
        arr = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: check_torch.py MODEL_DIR OUT.json")
    model_dir, batch_file = argv
    cfg = R.T5RefConfig(json.load(open(os.path.join(model_dir, "config.json"))))
    params = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    batch = json.load(open(batch_file))
    B = batch["batchSize"]
    x = torch.tensor(batch["inputIds"]).view(B, -1)
    y = torch.tensor(batch["labels"]).view(B, -1)
    out = R.forward(cfg, params, x, torch.ones_like(x), y)
    loss = out["loss"].item()
    acc = (out["logits"].argmax(-1) == y).double().mean().item()
    diff = abs(loss - batch["loss"])
    print("torch (float64) loss %.8f accuracy %.6f; ours loss %.8f accuracy %.6f; |loss diff| %.2e" % (loss, acc, batch["loss"], batch["accuracy"], diff))
    return 0 if diff <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
