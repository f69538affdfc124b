#!/usr/bin/env python3
"""Generate test/fixtures/span-corruption/hf.json: T5 span corruption as Hugging Face's
examples/flax/language-modeling/run_t5_mlm_flax.py computes it (numpy only; the functions
below are that script's compute_input_and_target_lengths and FlaxDataCollatorForT5MLM's
random_spans_noise_mask, create_sentinel_ids and filter_input_ids, unchanged but for the
tokenizer, which is replaced by its length and EOS id).

    python3 scripts/make_span_corruption_fixture.py

The fixture holds, for several (inputs_length, noise_density, mean_noise_span_length):
  tokens_length, targets_length   compute_input_and_target_lengths
  rows: mask, tokens, inputs, labels
        mask    random_spans_noise_mask(tokens_length) under np.random.seed(SEED)
        tokens  random ids in [3, 7000)
        inputs  filter_input_ids(tokens, create_sentinel_ids(mask))
        labels  filter_input_ids(tokens, create_sentinel_ids(~mask))
with len(tokenizer) = 8000 and eos_token_id = 1. test/train/span-corruption.test.ts checks
src/train/span-corruption.ts against it (our masks come from another generator, so the masks
are compared by their counts; the sentinel filling on HF's masks must match exactly).
"""
import json
import os

import numpy as np

LEN_TOKENIZER = 8000
EOS = 1
SEED = 1234
SETTINGS = [(128, 0.15, 3), (64, 0.15, 3), (48, 0.15, 3), (512, 0.15, 3), (100, 0.3, 2), (128, 0.5, 3), (40, 0.15, 5)]


def compute_input_and_target_lengths(inputs_length, noise_density, mean_noise_span_length):
    def _tokens_length_to_inputs_length_targets_length(tokens_length):
        num_noise_tokens = int(round(tokens_length * noise_density))
        num_nonnoise_tokens = tokens_length - num_noise_tokens
        num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
        _input_length = num_nonnoise_tokens + num_noise_spans + 1
        _output_length = num_noise_tokens + num_noise_spans + 1
        return _input_length, _output_length

    tokens_length = inputs_length
    while _tokens_length_to_inputs_length_targets_length(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    inputs_length, targets_length = _tokens_length_to_inputs_length_targets_length(tokens_length)
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def random_spans_noise_mask(length, noise_density, mean_noise_span_length):
    orig_length = length
    num_noise_tokens = int(np.round(length * noise_density))
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_noise_spans = int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length))
    num_noise_spans = max(num_noise_spans, 1)

    def _random_segmentation(num_items, num_segments):
        mask_indices = np.arange(num_items - 1) < (num_segments - 1)
        np.random.shuffle(mask_indices)
        first_in_segment = np.pad(mask_indices, [[1, 0]])
        segment_id = np.cumsum(first_in_segment)
        _, segment_length = np.unique(segment_id, return_counts=True)
        return segment_length

    noise_span_lengths = _random_segmentation(num_noise_tokens, num_noise_spans)
    nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans)
    interleaved_span_lengths = np.reshape(np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1), [num_noise_spans * 2])
    span_starts = np.cumsum(interleaved_span_lengths)[:-1]
    span_start_indicator = np.zeros((length,), dtype=np.int8)
    span_start_indicator[span_starts] = True
    span_num = np.cumsum(span_start_indicator)
    is_noise = np.equal(span_num % 2, 1)
    return is_noise[:orig_length]


def create_sentinel_ids(mask_indices):
    start_indices = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
    start_indices[:, 0] = mask_indices[:, 0]
    sentinel_ids = np.where(start_indices != 0, np.cumsum(start_indices, axis=-1), start_indices)
    sentinel_ids = np.where(sentinel_ids != 0, (LEN_TOKENIZER - sentinel_ids), 0)
    sentinel_ids -= mask_indices - start_indices
    return sentinel_ids


def filter_input_ids(input_ids, sentinel_ids):
    batch_size = input_ids.shape[0]
    input_ids_full = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
    input_ids = input_ids_full[input_ids_full >= 0].reshape((batch_size, -1))
    return np.concatenate([input_ids, np.full((batch_size, 1), EOS, dtype=np.int32)], axis=-1)


def main():
    np.random.seed(SEED)
    cases = []
    for inputs_length, density, mean in SETTINGS:
        tokens_length, targets_length = compute_input_and_target_lengths(inputs_length, density, mean)
        mask = np.asarray([random_spans_noise_mask(tokens_length, density, mean) for _ in range(6)])
        tokens = np.random.randint(3, 7000, size=mask.shape).astype(np.int64)
        inputs = filter_input_ids(tokens, create_sentinel_ids(mask.astype(np.int8)))
        labels = filter_input_ids(tokens, create_sentinel_ids((~mask).astype(np.int8)))
        cases.append({
            "inputs_length": inputs_length, "noise_density": density, "mean_noise_span_length": mean,
            "tokens_length": tokens_length, "targets_length": targets_length,
            "rows": [{"mask": m.astype(int).tolist(), "tokens": t.tolist(), "inputs": i.tolist(), "labels": l.tolist()}
                     for m, t, i, l in zip(mask, tokens, inputs, labels)],
        })
    out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "span-corruption", "hf.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"source": "HF examples/flax/language-modeling/run_t5_mlm_flax.py (numpy port of its functions)",
                   "len_tokenizer": LEN_TOKENIZER, "eos_token_id": EOS, "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out}: {len(cases)} settings")


if __name__ == "__main__":
    main()
