#!/usr/bin/env python3
"""Pure-PyTorch reference for Hugging Face generation with T5 (greedy and beam search).

Re-implements, in plain torch (no `transformers`), what transformers v4.40
`T5ForConditionalGeneration.generate(input_ids, attention_mask, max_new_tokens=N,
num_beams=K, length_penalty=..., early_stopping=..., eos_token_id=...,
pad_token_id=..., decoder_start_token_id=...)` does when no logits processor
applies (T5's generation config sets none; no sampling):

  * the decoder starts from `decoder_start_token_id`; max_length = 1 + N
    (`max_new_tokens` plus the one-token decoder prompt);
  * num_beams == 1: `_greedy_search` -- argmax of the last position's logits;
    finished rows get `pad_token_id`; stop when every row has emitted an EOS
    or at max_length;
  * num_beams > 1: `_beam_search` with `BeamSearchScorer` / `BeamHypotheses`
    (generation/beam_search.py), transcribed below: inputs expanded to
    num_beams rows, beam scores 0 for beam 0 and -1e9 for the others,
    log_softmax scores plus beam scores, top max(2, 1 + #eos) * num_beams over
    beams x vocabulary, EOS candidates ranked below num_beams skipped,
    hypotheses scored sum_logprobs / generated_len ** length_penalty with
    generated_len = cur_len - decoder_prompt_len, `is_done` for
    early_stopping True / False / "never", `finalize` adding the open beams
    and appending EOS to hypotheses shorter than the padded length.

The model is `t5_reference.py` (the teacher-forced forward pass) re-run over
the whole decoder prefix at every step instead of HF's key/value cache: the
logits of the last position are the same.  Everything runs at the dtype of
the parameters given (float32 as HF by default; float64 to check that a
fixture does not hinge on rounding).

Each function returns, per input, the generated ids without the decoder start
token, up to and including the EOS when one ended the sequence (HF's padded
rows without their padding), and the raw HF-style output tensor.
"""

import torch

import t5_reference as ref


def _last_logits(cfg, p, enc, attention_mask, decoder_input_ids):
    """Logits [rows, V] of the last decoder position (full recompute, no cache)."""
    dec = ref.decoder(cfg, p, decoder_input_ids, None, enc, attention_mask)
    return ref.lm_logits(cfg, p, dec)[:, -1, :]


def _eos_list(eos_token_id):
    if eos_token_id is None:
        return []
    return [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)


def greedy(cfg, p, input_ids, attention_mask, max_new_tokens, eos_token_id, pad_token_id, decoder_start_token_id):
    """transformers `_greedy_search` (no logits processors)."""
    eos = _eos_list(eos_token_id)
    B = input_ids.shape[0]
    max_length = 1 + max_new_tokens
    with torch.no_grad():
        enc = ref.encoder(cfg, p, input_ids, attention_mask)
        ids = torch.full((B, 1), decoder_start_token_id, dtype=torch.long)
        unfinished = torch.ones(B, dtype=torch.long)
        while True:
            logits = _last_logits(cfg, p, enc, attention_mask, ids)
            next_tokens = torch.argmax(logits, dim=-1)
            if eos:
                next_tokens = next_tokens * unfinished + pad_token_id * (1 - unfinished)
            ids = torch.cat([ids, next_tokens[:, None]], dim=-1)
            if eos:
                is_eos = torch.isin(ids[:, -1], torch.tensor(eos))
                unfinished = unfinished & ~is_eos
            if ids.shape[-1] >= max_length or unfinished.max() == 0:
                break
    out = []
    for r in range(B):
        seq = []
        for t in ids[r, 1:].tolist():
            seq.append(t)
            if t in eos:
                break
        out.append(seq)
    return out, ids


class BeamHypotheses:
    """transformers BeamHypotheses (v4.40)."""

    def __init__(self, num_beams, length_penalty, early_stopping, max_length):
        self.length_penalty = length_penalty
        self.early_stopping = early_stopping
        self.max_length = max_length
        self.num_beams = num_beams
        self.beams = []
        self.worst_score = 1e9

    def __len__(self):
        return len(self.beams)

    def add(self, hyp, sum_logprobs, generated_len):
        score = sum_logprobs / (generated_len ** self.length_penalty)
        if len(self) < self.num_beams or score > self.worst_score:
            self.beams.append((score, hyp))
            if len(self) > self.num_beams:
                sorted_next_scores = sorted([(s, idx) for idx, (s, _) in enumerate(self.beams)])
                del self.beams[sorted_next_scores[0][1]]
                self.worst_score = sorted_next_scores[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs, cur_len, decoder_prompt_len):
        if len(self) < self.num_beams:
            return False
        if self.early_stopping is True:
            return True
        if self.early_stopping is False:
            highest_attainable_score = best_sum_logprobs / (cur_len - decoder_prompt_len) ** self.length_penalty
            return self.worst_score >= highest_attainable_score
        # "never"
        if self.length_penalty > 0.0:
            highest_attainable_score = best_sum_logprobs / (self.max_length - decoder_prompt_len) ** self.length_penalty
        else:
            highest_attainable_score = best_sum_logprobs / (cur_len - decoder_prompt_len) ** self.length_penalty
        return self.worst_score >= highest_attainable_score


class BeamSearchScorer:
    """transformers BeamSearchScorer (v4.40), one beam group, one returned sequence per input."""

    def __init__(self, batch_size, num_beams, length_penalty, do_early_stopping, max_length):
        self.num_beams = num_beams
        self.group_size = num_beams
        self._beam_hyps = [BeamHypotheses(num_beams, length_penalty, do_early_stopping, max_length) for _ in range(batch_size)]
        self._done = [False] * batch_size

    @property
    def is_done(self):
        return all(self._done)

    def process(self, input_ids, next_scores, next_tokens, next_indices, pad_token_id, eos_token_id, decoder_prompt_len):
        cur_len = input_ids.shape[-1] + 1
        batch_size = len(self._beam_hyps)
        next_beam_scores = torch.zeros((batch_size, self.group_size), dtype=next_scores.dtype)
        next_beam_tokens = torch.zeros((batch_size, self.group_size), dtype=next_tokens.dtype)
        next_beam_indices = torch.zeros((batch_size, self.group_size), dtype=next_indices.dtype)
        for batch_idx in range(batch_size):
            if self._done[batch_idx]:
                next_beam_scores[batch_idx, :] = 0
                next_beam_tokens[batch_idx, :] = pad_token_id
                next_beam_indices[batch_idx, :] = 0
                continue
            beam_idx = 0
            for beam_token_rank, (next_token, next_score, next_index) in enumerate(zip(next_tokens[batch_idx], next_scores[batch_idx], next_indices[batch_idx])):
                batch_beam_idx = batch_idx * self.group_size + next_index
                if eos_token_id and next_token.item() in eos_token_id:
                    if beam_token_rank >= self.group_size:
                        continue
                    self._beam_hyps[batch_idx].add(input_ids[batch_beam_idx].clone(), next_score.item(), generated_len=cur_len - decoder_prompt_len)
                else:
                    next_beam_scores[batch_idx, beam_idx] = next_score
                    next_beam_tokens[batch_idx, beam_idx] = next_token
                    next_beam_indices[batch_idx, beam_idx] = batch_beam_idx
                    beam_idx += 1
                if beam_idx == self.group_size:
                    break
            if beam_idx < self.group_size:
                raise ValueError("At most %d tokens in %s can be equal to `eos_token_id: %s`." % (self.group_size, next_tokens[batch_idx], eos_token_id))
            self._done[batch_idx] = self._done[batch_idx] or self._beam_hyps[batch_idx].is_done(next_scores[batch_idx].max().item(), cur_len, decoder_prompt_len)
        return next_beam_scores.view(-1), next_beam_tokens.view(-1), next_beam_indices.view(-1)

    def finalize(self, input_ids, final_beam_scores, max_length, pad_token_id, eos_token_id, decoder_prompt_len):
        batch_size = len(self._beam_hyps)
        for batch_idx, beam_hyp in enumerate(self._beam_hyps):
            if self._done[batch_idx]:
                continue
            for beam_id in range(self.num_beams):
                batch_beam_idx = batch_idx * self.num_beams + beam_id
                final_score = final_beam_scores[batch_beam_idx].item()
                final_tokens = input_ids[batch_beam_idx]
                beam_hyp.add(final_tokens, final_score, generated_len=final_tokens.shape[-1] - decoder_prompt_len)
        sent_lengths = [0] * batch_size
        best = []
        for i, beam_hyp in enumerate(self._beam_hyps):
            sorted_hyps = sorted(beam_hyp.beams, key=lambda x: x[0])
            best_hyp = sorted_hyps.pop()[1]
            sent_lengths[i] = len(best_hyp)
            best.append(best_hyp)
        sent_max_len = min(max(sent_lengths) + 1, max_length)
        decoded = input_ids.new(batch_size, sent_max_len)
        if min(sent_lengths) != max(sent_lengths):
            decoded.fill_(pad_token_id)
        with_eos = []
        for i, hypo in enumerate(best):
            decoded[i, : sent_lengths[i]] = hypo
            appended = sent_lengths[i] < sent_max_len
            if appended:
                decoded[i, sent_lengths[i]] = eos_token_id[0]
            with_eos.append(appended)
        return decoded, sent_lengths, with_eos


def beam_search(cfg, p, input_ids, attention_mask, num_beams, max_new_tokens, length_penalty, early_stopping, eos_token_id, pad_token_id, decoder_start_token_id):
    """transformers `_beam_search` with a BeamSearchScorer (no logits processors)."""
    eos = _eos_list(eos_token_id)
    B = input_ids.shape[0]
    max_length = 1 + max_new_tokens
    dtype = p["shared.weight"].dtype
    scorer = BeamSearchScorer(B, num_beams, length_penalty, early_stopping, max_length)
    with torch.no_grad():
        # _expand_inputs_for_generation: every input repeated num_beams times (repeat_interleave)
        enc_ids = input_ids.repeat_interleave(num_beams, dim=0)
        enc_mask = attention_mask.repeat_interleave(num_beams, dim=0)
        enc = ref.encoder(cfg, p, enc_ids, enc_mask)
        ids = torch.full((B * num_beams, 1), decoder_start_token_id, dtype=torch.long)
        decoder_prompt_len = ids.shape[-1]
        beam_scores = torch.zeros((B, num_beams), dtype=dtype)
        beam_scores[:, 1:] = -1e9
        beam_scores = beam_scores.view((B * num_beams,))
        while True:
            logits = _last_logits(cfg, p, enc, enc_mask, ids)
            next_token_scores = torch.nn.functional.log_softmax(logits, dim=-1)
            next_token_scores = next_token_scores + beam_scores[:, None].expand_as(next_token_scores)
            vocab_size = next_token_scores.shape[-1]
            next_token_scores = next_token_scores.view(B, num_beams * vocab_size)
            n_tokens_to_keep = max(2, 1 + len(eos)) * num_beams
            next_token_scores, next_tokens = torch.topk(next_token_scores, n_tokens_to_keep, dim=1, largest=True, sorted=True)
            next_indices = torch.div(next_tokens, vocab_size, rounding_mode="floor")
            next_tokens = next_tokens % vocab_size
            beam_scores, beam_next_tokens, beam_idx = scorer.process(ids, next_token_scores, next_tokens, next_indices, pad_token_id, eos, decoder_prompt_len)
            ids = torch.cat([ids[beam_idx, :], beam_next_tokens.unsqueeze(-1)], dim=-1)
            if scorer.is_done or ids.shape[-1] >= max_length:
                break
        decoded, sent_lengths, with_eos = scorer.finalize(ids, beam_scores, max_length, pad_token_id, eos, decoder_prompt_len)
    out = []
    for i in range(B):
        seq = decoded[i, 1: sent_lengths[i]].tolist()
        if with_eos[i]:
            seq.append(eos[0])
        out.append(seq)
    return out, decoded
