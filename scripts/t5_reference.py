#!/usr/bin/env python3
"""Pure-PyTorch reference for Hugging Face T5ForConditionalGeneration.

Re-implements, in plain torch (no `transformers`), the teacher-forced forward
pass of transformers v4 `T5ForConditionalGeneration` (modeling_t5.py) in eval
mode (every dropout is the identity), for both variants:

    T5 v1.0          feed_forward_proj "relu", tie_word_embeddings true
    T5 v1.1 / FLAN   feed_forward_proj "gated-gelu", tie_word_embeddings false

Parameters live in a flat dict keyed exactly by the Hugging Face state-dict
names (`shared.weight`, `encoder.block.0.layer.0.SelfAttention.q.weight`,
`decoder.block.1.layer.2.DenseReluDense.wi_0.weight`, `lm_head.weight`, ...);
linear weights are [out, in] as in torch.nn.Linear.

Semantics reproduced from transformers:
  * T5LayerNorm (RMSNorm): w * x * rsqrt(mean(x^2) + eps); no mean, no bias.
    (HF computes the variance in float32 so that half-precision inputs
    accumulate in float32; float32 inputs are unchanged by that.  Here the
    variance keeps the input's dtype, so float64 runs stay float64.)
  * Blocks are pre-LN: x + Attention(LN(x)), x + EncDecAttention(LN(x), enc),
    x + FFN(LN(x)); each stack ends in final_layer_norm.
  * T5Attention: q, k, v, o without bias; scores = q k^T (NO 1/sqrt(d)
    scaling) + position_bias, softmax over keys, probs @ v, o(...).
  * position_bias: block 0 of each stack owns relative_attention_bias
    (nn.Embedding(num_buckets, n_heads)); compute_bias uses
    _relative_position_bucket(memory - context) (bidirectional in the
    encoder, unidirectional in the decoder) and the mask
    (1 - mask) * finfo(dtype).min is added; the sum is reused by every block
    of the stack.  Cross-attention has no relative bias: its position_bias is
    zeros + the encoder padding mask.
  * Decoder mask: causal (key <= query) times the decoder padding mask.
  * FFN "relu": wo(relu(wi(x))); "gated-gelu": wo(gelu_new(wi_0(x)) * wi_1(x)),
    gelu_new = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  * Embeddings: shared (no padding_idx), used by both stacks.
  * LM head: tie_word_embeddings -> (dec * d_model**-0.5) @ shared^T;
    otherwise lm_head(dec).
  * loss: CrossEntropyLoss(ignore_index=-100), mean over the labelled
    positions; decoder_input_ids = _shift_right(labels).

On top of that, `forward` accepts additive perturbations ("deltas", default
zero) at the hook sites, keyed `{stack}.layer.{i}.{site}`:

    query key value                      self-attention projections [B,L,inner]
    attention_output                     o(...) before the residual   [B,L,d]
    cross_query                          EncDecAttention q            [B,T,inner]
    cross_key cross_value                EncDecAttention k, v         [B,S,inner]
    cross_attention_output               its o(...) before residual   [B,T,d]
    ffn_output                           wo(...) before the residual  [B,L,d]

A delta may also be a callable f(t, inp) returning the replacement of the
site's value t (a PETL module): inp is the projection's input for q/k/v sites
and the block's residual input for ffn_output.

and prefix keys/values (prefix tuning), keyed `{stack}.layer.{i}.prefix` and
`decoder.layer.{i}.cross_prefix`, each a pair ([B,P,inner], [B,P,inner])
placed before the projected keys/values.  Self-attention prefixes are treated
as Hugging Face treats past key/values of length P: the queries sit at
positions P..P+L-1 (compute_bias over P+L positions, its last L rows), the
prefix keys are always attended (also by the causal decoder).  A
cross-attention prefix is attended with no position bias.  Every layer of a
stack must use the same P (as past key/values do).
"""

import math
from collections import OrderedDict

import torch

ENCODER_SITES = ("query", "key", "value", "attention_output", "ffn_output")
DECODER_SITES = ENCODER_SITES + ("cross_query", "cross_key", "cross_value", "cross_attention_output")


class T5RefConfig:
    """The subset of a T5 config.json the reference needs (T5Config defaults)."""

    def __init__(self, d):
        self.raw = dict(d)
        if d.get("model_type") != "t5":
            raise ValueError("unsupported model_type %r" % d.get("model_type"))
        self.vocab_size = d["vocab_size"]
        self.d_model = d["d_model"]
        self.d_kv = d["d_kv"]
        self.d_ff = d["d_ff"]
        self.num_layers = d["num_layers"]
        self.num_decoder_layers = d.get("num_decoder_layers") or self.num_layers
        self.num_heads = d["num_heads"]
        self.num_buckets = d.get("relative_attention_num_buckets", 32)
        self.max_distance = d.get("relative_attention_max_distance", 128)
        self.eps = d.get("layer_norm_epsilon", 1e-6)
        self.feed_forward_proj = d.get("feed_forward_proj", "relu")
        if self.feed_forward_proj not in ("relu", "gated-gelu"):
            raise ValueError("unsupported feed_forward_proj %r" % self.feed_forward_proj)
        self.gated = self.feed_forward_proj == "gated-gelu"
        self.tie = d.get("tie_word_embeddings", True)
        self.pad_token_id = d.get("pad_token_id", 0)
        self.decoder_start_token_id = d.get("decoder_start_token_id", self.pad_token_id)
        self.inner = self.num_heads * self.d_kv


def param_shapes(cfg):
    """Every parameter of T5ForConditionalGeneration (shared copies excluded), in state-dict order."""
    d, f, inner, V = cfg.d_model, cfg.d_ff, cfg.inner, cfg.vocab_size
    out = OrderedDict()
    out["shared.weight"] = (V, d)

    def attn(prefix):
        out[prefix + ".q.weight"] = (inner, d)
        out[prefix + ".k.weight"] = (inner, d)
        out[prefix + ".v.weight"] = (inner, d)
        out[prefix + ".o.weight"] = (d, inner)

    def ffn(prefix):
        if cfg.gated:
            out[prefix + ".DenseReluDense.wi_0.weight"] = (f, d)
            out[prefix + ".DenseReluDense.wi_1.weight"] = (f, d)
        else:
            out[prefix + ".DenseReluDense.wi.weight"] = (f, d)
        out[prefix + ".DenseReluDense.wo.weight"] = (d, f)
        out[prefix + ".layer_norm.weight"] = (d,)

    for stack, n in (("encoder", cfg.num_layers), ("decoder", cfg.num_decoder_layers)):
        for i in range(n):
            b = "%s.block.%d.layer" % (stack, i)
            attn(b + ".0.SelfAttention")
            if i == 0:
                out[b + ".0.SelfAttention.relative_attention_bias.weight"] = (cfg.num_buckets, cfg.num_heads)
            out[b + ".0.layer_norm.weight"] = (d,)
            if stack == "decoder":
                attn(b + ".1.EncDecAttention")
                out[b + ".1.layer_norm.weight"] = (d,)
                ffn(b + ".2")
            else:
                ffn(b + ".1")
        out[stack + ".final_layer_norm.weight"] = (d,)
    if not cfg.tie:
        out["lm_head.weight"] = (V, d)
    return out


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """T5Attention._relative_position_bucket (float32 log bins, as HF)."""
    relative_buckets = 0
    if bidirectional:
        num_buckets //= 2
        relative_buckets += (relative_position > 0).to(torch.long) * num_buckets
        relative_position = torch.abs(relative_position)
    else:
        relative_position = -torch.min(relative_position, torch.zeros_like(relative_position))
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    if_large = max_exact + (
        torch.log(relative_position.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    if_large = torch.min(if_large, torch.full_like(if_large, num_buckets - 1))
    return relative_buckets + torch.where(is_small, relative_position, if_large)


def compute_bias(cfg, table, query_length, key_length, bidirectional):
    """[1, heads, query_length, key_length] from block 0's relative_attention_bias."""
    context = torch.arange(query_length, dtype=torch.long)[:, None]
    memory = torch.arange(key_length, dtype=torch.long)[None, :]
    buckets = relative_position_bucket(memory - context, bidirectional, cfg.num_buckets, cfg.max_distance)
    return torch.nn.functional.embedding(buckets, table).permute([2, 0, 1]).unsqueeze(0)


def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def _delta(deltas, name, t, inp=None):
    """Add a delta at a site; a callable delta (a PETL module) returns the replacement f(t, inp)."""
    d = deltas.get(name) if deltas else None
    if d is None:
        return t
    return d(t, inp) if callable(d) else t + d


def attention(cfg, p, prefix, x, kv, bias, deltas, names, pre):
    """T5Attention: x [B,L,d] queries, kv [B,M,d] keys/values, bias [*,*,L,K] (incl. mask)."""
    B, L, _ = x.shape
    H, dk = cfg.num_heads, cfg.d_kv
    q = _delta(deltas, names["q"], x @ p[prefix + ".q.weight"].T, x)
    k = _delta(deltas, names["k"], kv @ p[prefix + ".k.weight"].T, kv)
    v = _delta(deltas, names["v"], kv @ p[prefix + ".v.weight"].T, kv)
    if pre is not None:
        k = torch.cat([pre[0], k], 1)
        v = torch.cat([pre[1], v], 1)

    def heads(t):
        return t.view(B, -1, H, dk).transpose(1, 2)

    scores = torch.matmul(heads(q), heads(k).transpose(3, 2)) + bias
    probs = torch.softmax(scores, dim=-1)
    ctx = torch.matmul(probs, heads(v)).transpose(1, 2).contiguous().view(B, L, cfg.inner)
    return _delta(deltas, names["o"], ctx @ p[prefix + ".o.weight"].T)


def ffn(cfg, p, prefix, x):
    w = lambda n: p["%s.DenseReluDense.%s.weight" % (prefix, n)]  # noqa: E731
    if cfg.gated:
        h = gelu_new(x @ w("wi_0").T) * (x @ w("wi_1").T)
    else:
        h = torch.relu(x @ w("wi").T)
    return h @ w("wo").T


def _min(dtype):
    return torch.finfo(dtype).min


def _names(stack, i, cross=False):
    s = "%s.layer.%d." % (stack, i)
    if cross:
        return {"q": s + "cross_query", "k": s + "cross_key", "v": s + "cross_value", "o": s + "cross_attention_output"}
    return {"q": s + "query", "k": s + "key", "v": s + "value", "o": s + "attention_output"}


def _prefix_len(prefixes, keys):
    lens = {prefixes[k][0].shape[1] for k in keys if prefixes and k in prefixes}
    if len(lens) > 1:
        raise ValueError("every layer of a stack must use the same prefix length")
    return lens.pop() if lens else 0


def _layer_prefix(prefixes, stack, i, P):
    """Layer i's self-attention prefix (None without); a stack with prefixes needs one in every layer."""
    pre = prefixes.get("%s.layer.%d.prefix" % (stack, i)) if prefixes else None
    if pre is None and P:
        raise ValueError("every layer of a stack must use the same prefix length")
    return pre


def encoder(cfg, p, input_ids, attention_mask, deltas=None, prefixes=None):
    """T5Stack (encoder): last hidden state [B,S,d] after final_layer_norm."""
    dtype = p["shared.weight"].dtype
    B, S = input_ids.shape
    x = torch.nn.functional.embedding(input_ids, p["shared.weight"])
    P = _prefix_len(prefixes, ["encoder.layer.%d.prefix" % i for i in range(cfg.num_layers)])
    mask = torch.cat([torch.ones(B, P, dtype=attention_mask.dtype), attention_mask], 1)
    ext = (1.0 - mask[:, None, None, :].to(dtype)) * _min(dtype)
    table = p["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    # past key/values of length P: queries at P..P+S-1, keys at 0..P+S-1
    bias = compute_bias(cfg, table, P + S, P + S, True)[:, :, -S:, :] + ext
    for i in range(cfg.num_layers):
        b = "encoder.block.%d.layer" % i
        pre = _layer_prefix(prefixes, "encoder", i, P)
        h = rms_norm(x, p[b + ".0.layer_norm.weight"], cfg.eps)
        x = x + attention(cfg, p, b + ".0.SelfAttention", h, h, bias, deltas, _names("encoder", i), pre)
        h = rms_norm(x, p[b + ".1.layer_norm.weight"], cfg.eps)
        x = x + _delta(deltas, "encoder.layer.%d.ffn_output" % i, ffn(cfg, p, b + ".1", h), x)
    return rms_norm(x, p["encoder.final_layer_norm.weight"], cfg.eps)


def decoder(cfg, p, decoder_input_ids, decoder_attention_mask, enc, attention_mask, deltas=None, prefixes=None):
    """T5Stack (decoder): last hidden state [B,T,d] after final_layer_norm."""
    dtype = p["shared.weight"].dtype
    B, T = decoder_input_ids.shape
    x = torch.nn.functional.embedding(decoder_input_ids, p["shared.weight"])
    P = _prefix_len(prefixes, ["decoder.layer.%d.prefix" % i for i in range(cfg.num_decoder_layers)])
    if decoder_attention_mask is None:
        decoder_attention_mask = torch.ones(B, T, dtype=torch.long)
    # causal over P + T positions (the prefix always visible), times the padding mask
    pos = torch.arange(P + T)
    causal = (pos[None, :] <= pos[-T:, None]).to(dtype)  # [T, P+T]
    pad = torch.cat([torch.ones(B, P, dtype=decoder_attention_mask.dtype), decoder_attention_mask], 1)
    m = causal[None, None, :, :] * pad[:, None, None, :].to(dtype)
    ext = (1.0 - m) * _min(dtype)
    table = p["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    bias = compute_bias(cfg, table, P + T, P + T, False)[:, :, -T:, :] + ext
    enc_ext = (1.0 - attention_mask[:, None, None, :].to(dtype)) * _min(dtype)
    for i in range(cfg.num_decoder_layers):
        b = "decoder.block.%d.layer" % i
        pre = _layer_prefix(prefixes, "decoder", i, P)
        h = rms_norm(x, p[b + ".0.layer_norm.weight"], cfg.eps)
        x = x + attention(cfg, p, b + ".0.SelfAttention", h, h, bias, deltas, _names("decoder", i), pre)
        cpre = prefixes.get("decoder.layer.%d.cross_prefix" % i) if prefixes else None
        cross = torch.zeros(1, cfg.num_heads, T, enc.shape[1], dtype=dtype) + enc_ext
        if cpre is not None:
            cross = torch.cat([torch.zeros(B, cfg.num_heads, T, cpre[0].shape[1], dtype=dtype), cross.expand(B, -1, -1, -1)], 3)
        h = rms_norm(x, p[b + ".1.layer_norm.weight"], cfg.eps)
        x = x + attention(cfg, p, b + ".1.EncDecAttention", h, enc, cross, deltas, _names("decoder", i, cross=True), cpre)
        h = rms_norm(x, p[b + ".2.layer_norm.weight"], cfg.eps)
        x = x + _delta(deltas, "decoder.layer.%d.ffn_output" % i, ffn(cfg, p, b + ".2", h), x)
    return rms_norm(x, p["decoder.final_layer_norm.weight"], cfg.eps)


def shift_right(cfg, labels):
    """T5PreTrainedModel._shift_right."""
    shifted = labels.new_zeros(labels.shape)
    shifted[..., 1:] = labels[..., :-1].clone()
    shifted[..., 0] = cfg.decoder_start_token_id
    shifted.masked_fill_(shifted == -100, cfg.pad_token_id)
    return shifted


def lm_logits(cfg, p, dec):
    if cfg.tie:
        return (dec * (cfg.d_model ** -0.5)) @ p["shared.weight"].T
    return dec @ p["lm_head.weight"].T


def forward(cfg, p, input_ids, attention_mask, labels, decoder_attention_mask=None, deltas=None, prefixes=None):
    """Teacher-forced T5ForConditionalGeneration: encoder/decoder states, logits, loss."""
    decoder_input_ids = shift_right(cfg, labels)
    enc = encoder(cfg, p, input_ids, attention_mask, deltas, prefixes)
    dec = decoder(cfg, p, decoder_input_ids, decoder_attention_mask, enc, attention_mask, deltas, prefixes)
    logits = lm_logits(cfg, p, dec)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, cfg.vocab_size), labels.view(-1), ignore_index=-100)
    out = OrderedDict()
    out["encoder_last_hidden_state"] = enc
    out["decoder_last_hidden_state"] = dec
    out["logits"] = logits
    out["loss"] = loss
    out["decoder_input_ids"] = decoder_input_ids
    return out


def site_shapes(cfg, B, S, T):
    """Every additive hook site with its shape, in a fixed order."""
    out = OrderedDict()
    for stack, n, L, sites in (("encoder", cfg.num_layers, S, ENCODER_SITES), ("decoder", cfg.num_decoder_layers, T, DECODER_SITES)):
        for i in range(n):
            for s in sites:
                width = cfg.inner if s in ("query", "key", "value", "cross_query", "cross_key", "cross_value") else cfg.d_model
                length = S if s in ("cross_key", "cross_value") else L
                out["%s.layer.%d.%s" % (stack, i, s)] = (B, length, width)
    return out


def zero_deltas(cfg, B, S, T, dtype):
    return OrderedDict((n, torch.zeros(shape, dtype=dtype, requires_grad=True)) for n, shape in site_shapes(cfg, B, S, T).items())
