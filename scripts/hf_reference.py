#!/usr/bin/env python3
"""Pure-PyTorch reference for Hugging Face BERT / RoBERTa sequence classifiers.

Re-implements, in plain torch (no `transformers`), the forward pass of the
transformers v4 classes

    BertModel / BertForSequenceClassification
    RobertaModel / RobertaForSequenceClassification

with eager attention and absolute position embeddings, in eval mode (every
dropout is the identity).  Parameters live in a flat dict keyed exactly by the
Hugging Face state-dict names (``bert.encoder.layer.0.attention.self.query.weight``,
``roberta.embeddings.word_embeddings.weight``, ``classifier.out_proj.bias`` ...);
linear weights are [out, in] as in ``torch.nn.Linear``.

On top of the Hugging Face computation, ``forward`` accepts additive
perturbations ("deltas", default zero) at named hook points of every layer i,
so that gradients of the loss with respect to them can be recorded:

    layer.{i}.query             query projection output, before the head split  [B,T,H]
    layer.{i}.value             value projection output, before the head split  [B,T,H]
    layer.{i}.attention_output  attention output dense, before residual+LayerNorm [B,T,H]
    layer.{i}.ffn_output        FFN output dense, before residual+LayerNorm       [B,T,H]

an optional ``sublayer(i, which, h, x, ln)`` callback that computes the output of a
sublayer block (``which`` is "attention_output" or "ffn_output"; h = the dense output
after any delta, x = the residual input, ln = the block's LayerNorm as a function); the
default is ``ln(h + x)``, as Hugging Face.  Adapters in the AdapterHub placement are
written through it (scripts/make_petl_fixtures.py).  Also
optional prefix keys/values per layer (prefix tuning): ``prefix_k[i]`` and
``prefix_v[i]`` of shape [B,P,H] are concatenated in front of the projected
keys/values (before the head split), and the attention mask is extended with
P ones in front.  With all deltas zero and no prefixes the result is exactly
the Hugging Face model's.

Semantics reproduced from transformers (modeling_bert.py / modeling_roberta.py):
  * embeddings = word + token_type (+ position), LayerNorm, dropout;
    word_embeddings has padding_idx = pad_token_id (its row gets no gradient),
    RoBERTa's position_embeddings also has padding_idx = pad_token_id.
  * BERT position ids = arange(T); RoBERTa position ids =
    cumsum(input_ids != pad) * (input_ids != pad) + pad_token_id.
  * extended attention mask = (1 - mask)[:, None, None, :] * finfo(dtype).min,
    added to q k^T / sqrt(head_dim); softmax; probs @ v.
  * BertSelfOutput: LayerNorm(dense(ctx) + input); BertIntermediate: act(dense);
    BertOutput: LayerNorm(dense(inter) + attention_output).
  * hidden_act: "gelu" (exact erf), "gelu_new" (tanh approximation), "relu".
  * BERT head: pooler tanh(dense(h[:,0])) -> classifier linear.
    RoBERTa head: out_proj(tanh(dense(h[:,0]))), no pooler.
  * loss: num_labels == 1 (or problem_type "regression") -> MSE on the single
    logit; otherwise cross-entropy (mean) with integer labels.
"""

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F

HOOKS = ("query", "value", "attention_output", "ffn_output")


class RefConfig:
    """The subset of a Hugging Face config.json the reference needs."""

    def __init__(self, d):
        self.raw = dict(d)
        self.model_type = d["model_type"]
        if self.model_type not in ("bert", "roberta"):
            raise ValueError("unsupported model_type %r" % self.model_type)
        self.vocab_size = d["vocab_size"]
        self.hidden_size = d["hidden_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.intermediate_size = d["intermediate_size"]
        self.hidden_act = d.get("hidden_act", "gelu")
        self.layer_norm_eps = d.get("layer_norm_eps", 1e-12)
        self.max_position_embeddings = d["max_position_embeddings"]
        self.type_vocab_size = d.get("type_vocab_size", 2)
        self.pad_token_id = d.get("pad_token_id", 0)
        if d.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are supported")
        if "id2label" in d:
            self.num_labels = len(d["id2label"])
        else:
            self.num_labels = d.get("num_labels", 2)
        self.problem_type = d.get("problem_type")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size not divisible by num_attention_heads")
        self.head_dim = self.hidden_size // self.num_attention_heads

    @property
    def prefix(self):
        """base_model_prefix of the *ForSequenceClassification class."""
        return self.model_type  # "bert" or "roberta"

    @property
    def is_regression(self):
        if self.problem_type is not None:
            return self.problem_type == "regression"
        return self.num_labels == 1


def param_shapes(cfg):
    """OrderedDict canonical HF name -> shape, in HF module order."""
    H, I, L = cfg.hidden_size, cfg.intermediate_size, cfg.num_labels
    p = cfg.prefix
    s = OrderedDict()
    s[p + ".embeddings.word_embeddings.weight"] = (cfg.vocab_size, H)
    s[p + ".embeddings.position_embeddings.weight"] = (cfg.max_position_embeddings, H)
    s[p + ".embeddings.token_type_embeddings.weight"] = (cfg.type_vocab_size, H)
    s[p + ".embeddings.LayerNorm.weight"] = (H,)
    s[p + ".embeddings.LayerNorm.bias"] = (H,)
    for i in range(cfg.num_hidden_layers):
        b = "%s.encoder.layer.%d." % (p, i)
        for n in ("query", "key", "value"):
            s[b + "attention.self.%s.weight" % n] = (H, H)
            s[b + "attention.self.%s.bias" % n] = (H,)
        s[b + "attention.output.dense.weight"] = (H, H)
        s[b + "attention.output.dense.bias"] = (H,)
        s[b + "attention.output.LayerNorm.weight"] = (H,)
        s[b + "attention.output.LayerNorm.bias"] = (H,)
        s[b + "intermediate.dense.weight"] = (I, H)
        s[b + "intermediate.dense.bias"] = (I,)
        s[b + "output.dense.weight"] = (H, I)
        s[b + "output.dense.bias"] = (H,)
        s[b + "output.LayerNorm.weight"] = (H,)
        s[b + "output.LayerNorm.bias"] = (H,)
    if cfg.model_type == "bert":
        s["bert.pooler.dense.weight"] = (H, H)
        s["bert.pooler.dense.bias"] = (H,)
        s["classifier.weight"] = (L, H)
        s["classifier.bias"] = (L,)
    else:
        s["classifier.dense.weight"] = (H, H)
        s["classifier.dense.bias"] = (H,)
        s["classifier.out_proj.weight"] = (L, H)
        s["classifier.out_proj.bias"] = (L,)
    return s


def canonicalize_state_dict(cfg, sd):
    """Accept keys with or without the base-model prefix (as from_pretrained does)."""
    shapes = param_shapes(cfg)
    out = OrderedDict()
    for k, v in sd.items():
        name = k
        if name not in shapes and (cfg.prefix + "." + name) in shapes:
            name = cfg.prefix + "." + name
        if name not in shapes:
            continue  # e.g. position_ids buffers, unused heads
        out[name] = v
    missing = [k for k in shapes if k not in out]
    if missing:
        raise KeyError("missing parameters: %s" % missing)
    for k, shp in shapes.items():
        if tuple(out[k].shape) != tuple(shp):
            raise ValueError("%s: shape %s, expected %s" % (k, tuple(out[k].shape), shp))
    return out


def hook_names(cfg):
    return ["layer.%d.%s" % (i, h) for i in range(cfg.num_hidden_layers) for h in HOOKS]


def activation(name, x):
    if name == "gelu":
        return F.gelu(x)  # exact: x * 0.5 * (1 + erf(x / sqrt(2)))
    if name == "gelu_new":
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return F.relu(x)
    raise ValueError("unsupported hidden_act %r" % name)


def position_ids_for(cfg, input_ids):
    if cfg.model_type == "roberta":
        # transformers.models.roberta.modeling_roberta.create_position_ids_from_input_ids
        mask = input_ids.ne(cfg.pad_token_id).int()
        incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
        return incremental.long() + cfg.pad_token_id
    T = input_ids.shape[1]
    return torch.arange(T, dtype=torch.long).unsqueeze(0).expand_as(input_ids)


def _linear(params, name, x):
    return F.linear(x, params[name + ".weight"], params[name + ".bias"])


def _layer_norm(cfg, params, name, x):
    return F.layer_norm(x, (cfg.hidden_size,), params[name + ".weight"], params[name + ".bias"], cfg.layer_norm_eps)


def _split_heads(cfg, x):
    B, T, _ = x.shape
    return x.view(B, T, cfg.num_attention_heads, cfg.head_dim).permute(0, 2, 1, 3)


def _block(sublayer, i, which, h, x, ln):
    if sublayer is None:
        return ln(h + x)
    return sublayer(i, which, h, x, ln)


def base_model(cfg, params, input_ids, attention_mask=None, token_type_ids=None,
               deltas=None, prefix_k=None, prefix_v=None, sublayer=None):
    """BertModel / RobertaModel forward (without pooler). Returns last_hidden_state."""
    p = cfg.prefix
    deltas = deltas or {}
    B, T = input_ids.shape
    dtype = params[p + ".embeddings.word_embeddings.weight"].dtype
    if attention_mask is None:
        attention_mask = torch.ones(B, T, dtype=torch.long)
    if token_type_ids is None:
        token_type_ids = torch.zeros(B, T, dtype=torch.long)

    # ---- embeddings
    pos_ids = position_ids_for(cfg, input_ids)
    words = F.embedding(input_ids, params[p + ".embeddings.word_embeddings.weight"], padding_idx=cfg.pad_token_id)
    types = F.embedding(token_type_ids, params[p + ".embeddings.token_type_embeddings.weight"])
    pos_pad = cfg.pad_token_id if cfg.model_type == "roberta" else None
    pos = F.embedding(pos_ids, params[p + ".embeddings.position_embeddings.weight"], padding_idx=pos_pad)
    h = words + types
    h = h + pos
    h = _layer_norm(cfg, params, p + ".embeddings.LayerNorm", h)

    mask = attention_mask.to(dtype)
    for i in range(cfg.num_hidden_layers):
        b = "%s.encoder.layer.%d." % (p, i)
        d = lambda n: deltas.get("layer.%d.%s" % (i, n))  # noqa: E731

        # ---- BertSelfAttention
        q = _linear(params, b + "attention.self.query", h)
        if d("query") is not None:
            q = q + d("query")
        k = _linear(params, b + "attention.self.key", h)
        v = _linear(params, b + "attention.self.value", h)
        if d("value") is not None:
            v = v + d("value")
        m = mask
        if prefix_k is not None and prefix_k[i] is not None:
            pk, pv = prefix_k[i], prefix_v[i]
            if pk.shape != pv.shape or pk.shape[0] != B or pk.shape[2] != cfg.hidden_size:
                raise ValueError("bad prefix shape %s / %s" % (tuple(pk.shape), tuple(pv.shape)))
            k = torch.cat([pk, k], dim=1)
            v = torch.cat([pv, v], dim=1)
            m = torch.cat([torch.ones(B, pk.shape[1], dtype=dtype), mask], dim=1)
        ext = (1.0 - m[:, None, None, :]) * torch.finfo(dtype).min
        qh, kh, vh = _split_heads(cfg, q), _split_heads(cfg, k), _split_heads(cfg, v)
        scores = torch.matmul(qh, kh.transpose(-1, -2))
        scores = scores / math.sqrt(cfg.head_dim)
        scores = scores + ext
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, vh).permute(0, 2, 1, 3).contiguous().view(B, T, cfg.hidden_size)

        # ---- BertSelfOutput
        a = _linear(params, b + "attention.output.dense", ctx)
        if d("attention_output") is not None:
            a = a + d("attention_output")
        ln_a = lambda y, n=b + "attention.output.LayerNorm": _layer_norm(cfg, params, n, y)  # noqa: E731
        attn_out = _block(sublayer, i, "attention_output", a, h, ln_a)

        # ---- BertIntermediate + BertOutput
        inter = activation(cfg.hidden_act, _linear(params, b + "intermediate.dense", attn_out))
        o = _linear(params, b + "output.dense", inter)
        if d("ffn_output") is not None:
            o = o + d("ffn_output")
        ln_o = lambda y, n=b + "output.LayerNorm": _layer_norm(cfg, params, n, y)  # noqa: E731
        h = _block(sublayer, i, "ffn_output", o, attn_out, ln_o)
    return h


def classifier_head(cfg, params, last_hidden_state):
    first = last_hidden_state[:, 0]
    if cfg.model_type == "bert":
        pooled = torch.tanh(_linear(params, "bert.pooler.dense", first))
        return _linear(params, "classifier", pooled)
    x = torch.tanh(_linear(params, "classifier.dense", first))
    return _linear(params, "classifier.out_proj", x)


def loss_fn(cfg, logits, labels):
    if cfg.is_regression:
        if cfg.num_labels == 1:
            return F.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return F.mse_loss(logits, labels.to(logits.dtype))
    return F.cross_entropy(logits.view(-1, cfg.num_labels), labels.view(-1))


def forward(cfg, params, input_ids, attention_mask=None, token_type_ids=None, labels=None,
            deltas=None, prefix_k=None, prefix_v=None, sublayer=None):
    """*ForSequenceClassification forward. Returns dict(last_hidden_state, logits, loss)."""
    h = base_model(cfg, params, input_ids, attention_mask, token_type_ids, deltas, prefix_k, prefix_v, sublayer)
    logits = classifier_head(cfg, params, h)
    loss = loss_fn(cfg, logits, labels) if labels is not None else None
    return {"last_hidden_state": h, "logits": logits, "loss": loss}


def zero_deltas(cfg, B, T, dtype):
    return OrderedDict((n, torch.zeros(B, T, cfg.hidden_size, dtype=dtype, requires_grad=True))
                       for n in hook_names(cfg))
