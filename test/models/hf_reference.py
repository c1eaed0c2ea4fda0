"""Independent PyTorch forward passes of the Hugging Face families tfx imports.

Each class takes a transformers-style config (a dict read from config.json)
and a {tensor name: array} dict with the names and layouts a Hugging Face
checkpoint uses, and computes what the transformers model computes in float32
for input_ids and attention_mask (no token_type_ids, position_ids or cache):

  bert        BertModel            -> last_hidden_state
  distilbert  DistilBertModel      -> last_hidden_state
  gpt2        GPT2LMHeadModel      -> logits
  llama       LlamaForCausalLM     -> logits
  qwen2       Qwen2ForCausalLM     -> logits
  mistral     MistralForCausalLM   -> logits

One rule goes past what transformers defines: a query that may see no key at
all (a left-padded position of a causal model) gets zeros from attention.
Positions are 0..S-1 whatever the padding, as transformers uses when no
position_ids are given.

The modules hold the weights as buffers under their checkpoint names and
use only traceable ops, so torch.onnx.export of one gives a graph whose
initializers carry those names and whose batch and sequence sizes stay
symbolic.
"""
import math

import torch
import torch.nn.functional as F


# --- building blocks -----------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    return F.layer_norm(x, (weight.shape[0],), weight, bias, eps)


def rms_norm(x, weight, eps):
    """x * rsqrt(mean(x^2) + eps) * weight, in float32."""
    x32 = x.float()
    normed = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * normed.to(x.dtype)


def gelu_erf(x):
    return F.gelu(x)


def gelu_tanh(x):
    """GPT-2's gelu_new, written out as transformers writes it."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACTIVATIONS = {
    "gelu": gelu_erf,
    "gelu_new": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_fast": gelu_tanh,
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
}


def split_heads(x, heads, head_dim):
    """[B, S, heads*head_dim] -> [B, heads, S, head_dim]."""
    return x.view(x.shape[0], x.shape[1], heads, head_dim).transpose(1, 2)


def merge_heads(x):
    """[B, heads, S, head_dim] -> [B, S, heads*head_dim]."""
    return x.transpose(1, 2).flatten(2)


def repeat_kv(x, group):
    """[B, Hk, S, D] -> [B, Hk*group, S, D]: query head h reads key/value head
    h // group, as transformers' repeat_kv arranges them."""
    if group == 1:
        return x
    return x.unsqueeze(2).expand(-1, -1, group, -1, -1).flatten(1, 2)


def attend(q, k, v, mask, causal, window, scale):
    """Scaled dot-product attention on head-major tensors.

    q, k, v [B, H, S, D]; mask [B, S] with 1 for a real token. Query i sees key j when mask[j] is 1,
    and j <= i if causal, and j > i - window if window > 0. A query that sees
    no key gets zeros. scale multiplies q.k.
    """
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    allowed = (mask != 0)[:, None, None, :]
    if causal or window:
        position = torch.arange(scores.shape[-1], device=q.device)
        query, key = position[:, None], position[None, :]
        if causal:
            allowed = allowed & (key <= query)
        if window:
            allowed = allowed & (key > query - window)
    # The lowest finite value rather than -inf keeps a row with no visible key
    # finite (uniform); zeroing the hidden keys afterwards turns that row into
    # zeros and leaves every other row unchanged (its hidden keys are exact 0).
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1).masked_fill(~allowed, 0.0)
    return torch.matmul(probs, v)


def attention(q, k, v, heads, kv_heads, mask, causal, window=0, head_dim=None):
    """attend() on [B, S, heads*D] / [B, S, kv_heads*D] tensors."""
    head_dim = head_dim or q.shape[-1] // heads
    group = heads // kv_heads
    out = attend(split_heads(q, heads, head_dim), repeat_kv(split_heads(k, kv_heads, head_dim), group),
                 repeat_kv(split_heads(v, kv_heads, head_dim), group), mask, causal, window,
                 1.0 / math.sqrt(head_dim))
    return merge_heads(out)


def rope_inv_freq(head_dim, theta):
    """1 / theta^(2i/d) in float32, as transformers' default rotary init."""
    exponent = torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim
    return 1.0 / (theta ** exponent)


def rope_tables(seq_len, inv_freq):
    """cos and sin [S, D] of the float32 angles position * inv_freq."""
    position = torch.arange(seq_len, dtype=torch.int64).float()
    angle = position[:, None] * inv_freq[None, :]
    angle = torch.cat([angle, angle], dim=-1)
    return angle.cos(), angle.sin()


def apply_rope(x, cos, sin, head_dim):
    """x [B, H, S, D] rotated in the rotate_half layout (pairs i, i + D/2)."""
    half = head_dim // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


# --- weights held under their checkpoint names ------------------------------------

class CheckpointModule(torch.nn.Module):
    """Registers every tensor of a checkpoint as a buffer at its dotted path."""

    def __init__(self, weights):
        super().__init__()
        for name, value in weights.items():
            *path, leaf = name.split(".")
            module = self
            for part in path:
                if part not in module._modules:
                    module.add_module(part, torch.nn.Module())
                module = module._modules[part]
            module.register_buffer(leaf, torch.as_tensor(value).float())

    def has(self, name):
        try:
            self.get_buffer(name)
            return True
        except AttributeError:
            return False

    def w(self, name):
        try:
            return self.get_buffer(name)
        except AttributeError:
            raise KeyError(f"checkpoint has no tensor '{name}'") from None

    def linear(self, x, name):
        """nn.Linear: weight [out, in], optional bias."""
        y = torch.matmul(x, self.w(name + ".weight").t())
        return y + self.w(name + ".bias") if self.has(name + ".bias") else y

    def conv1d(self, x, name):
        """GPT-2's Conv1D: weight [in, out], bias."""
        return torch.matmul(x, self.w(name + ".weight")) + self.w(name + ".bias")

    def layer_norm(self, x, name, eps):
        return layer_norm(x, self.w(name + ".weight"), self.w(name + ".bias"), eps)


def _prefix(weights, candidates, probe):
    for prefix in candidates:
        if prefix + probe in weights:
            return prefix
    raise KeyError(f"checkpoint has no '{probe}' under any of {candidates}")


# --- encoders ----------------------------------------------------------------------

class Bert(CheckpointModule):
    output_name = "last_hidden_state"

    def __init__(self, config, weights):
        super().__init__(weights)
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are implemented")
        self.p = _prefix(weights, ["", "bert."], "embeddings.word_embeddings.weight")
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.head_dim = config["hidden_size"] // self.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.act = ACTIVATIONS[config.get("hidden_act", "gelu")]

    def forward(self, input_ids, attention_mask):
        p = self.p + "embeddings."
        seq = input_ids.shape[1]
        # token_type_ids default to 0: row 0 of the type table for every token.
        h = F.embedding(input_ids, self.w(p + "word_embeddings.weight")) + \
            self.w(p + "token_type_embeddings.weight")[0]
        h = h + self.w(p + "position_embeddings.weight")[:seq]
        h = self.layer_norm(h, p + "LayerNorm", self.eps)
        for i in range(self.layers):
            p = f"{self.p}encoder.layer.{i}."
            q = split_heads(self.linear(h, p + "attention.self.query"), self.heads, self.head_dim)
            k = split_heads(self.linear(h, p + "attention.self.key"), self.heads, self.head_dim)
            v = split_heads(self.linear(h, p + "attention.self.value"), self.heads, self.head_dim)
            a = merge_heads(attend(q, k, v, attention_mask, False, 0, self.scale))
            h = self.layer_norm(self.linear(a, p + "attention.output.dense") + h,
                                p + "attention.output.LayerNorm", self.eps)
            f = self.act(self.linear(h, p + "intermediate.dense"))
            h = self.layer_norm(self.linear(f, p + "output.dense") + h, p + "output.LayerNorm", self.eps)
        return h


class DistilBert(CheckpointModule):
    output_name = "last_hidden_state"

    def __init__(self, config, weights):
        super().__init__(weights)
        if config.get("sinusoidal_pos_embds", False):
            raise ValueError("sinusoidal position embeddings are not implemented")
        self.p = _prefix(weights, ["", "distilbert."], "embeddings.word_embeddings.weight")
        self.layers = config["n_layers"]
        self.heads = config["n_heads"]
        self.head_dim = config["dim"] // self.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.act = ACTIVATIONS[config.get("activation", "gelu")]

    def forward(self, input_ids, attention_mask):
        p = self.p + "embeddings."
        seq = input_ids.shape[1]
        h = F.embedding(input_ids, self.w(p + "word_embeddings.weight")) + \
            self.w(p + "position_embeddings.weight")[:seq]
        h = self.layer_norm(h, p + "LayerNorm", 1e-12)
        for i in range(self.layers):
            p = f"{self.p}transformer.layer.{i}."
            q = split_heads(self.linear(h, p + "attention.q_lin"), self.heads, self.head_dim)
            k = split_heads(self.linear(h, p + "attention.k_lin"), self.heads, self.head_dim)
            v = split_heads(self.linear(h, p + "attention.v_lin"), self.heads, self.head_dim)
            a = merge_heads(attend(q, k, v, attention_mask, False, 0, self.scale))
            h = self.layer_norm(self.linear(a, p + "attention.out_lin") + h, p + "sa_layer_norm", 1e-12)
            f = self.linear(self.act(self.linear(h, p + "ffn.lin1")), p + "ffn.lin2")
            h = self.layer_norm(f + h, p + "output_layer_norm", 1e-12)
        return h


# --- decoders ----------------------------------------------------------------------

class GPT2(CheckpointModule):
    output_name = "logits"

    def __init__(self, config, weights):
        super().__init__(weights)
        self.layers = config["n_layer"]
        self.heads = config["n_head"]
        self.hidden = config["n_embd"]
        self.head_dim = self.hidden // self.heads
        self.eps = config.get("layer_norm_epsilon", 1e-5)
        self.act = ACTIVATIONS[config.get("activation_function", "gelu_new")]
        self.scale_weights = config.get("scale_attn_weights", True)
        self.scale_by_layer = config.get("scale_attn_by_inverse_layer_idx", False)
        # GPT2LMHeadModel ties the head to wte; a file may still carry lm_head.
        self.head = "lm_head.weight" if self.has("lm_head.weight") else "transformer.wte.weight"

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        h = F.embedding(input_ids, self.w("transformer.wte.weight")) + self.w("transformer.wpe.weight")[:seq]
        for i in range(self.layers):
            p = f"transformer.h.{i}."
            x = self.layer_norm(h, p + "ln_1", self.eps)
            q, k, v = self.conv1d(x, p + "attn.c_attn").split(self.hidden, dim=-1)
            scale = 1.0 / math.sqrt(self.head_dim) if self.scale_weights else 1.0
            if self.scale_by_layer:
                scale /= float(i + 1)
            a = attend(split_heads(q, self.heads, self.head_dim), split_heads(k, self.heads, self.head_dim),
                       split_heads(v, self.heads, self.head_dim), attention_mask, True, 0, scale)
            h = self.conv1d(merge_heads(a), p + "attn.c_proj") + h
            x = self.layer_norm(h, p + "ln_2", self.eps)
            h = self.conv1d(self.act(self.conv1d(x, p + "mlp.c_fc")), p + "mlp.c_proj") + h
        h = self.layer_norm(h, "transformer.ln_f", self.eps)
        return torch.matmul(h, self.w(self.head).t())


def rope_theta(config):
    """theta from rope_parameters (transformers 5), rope_scaling or the top level."""
    theta = config.get("rope_theta", 10000.0)
    for key in ("rope_parameters", "rope_scaling"):
        rope = config.get(key)
        if not rope:
            continue
        kind = rope.get("rope_type", rope.get("type", "default"))
        if kind != "default":
            raise ValueError(f"{key}.rope_type '{kind}' is not implemented")
        theta = rope.get("rope_theta", theta)
    return float(theta)


def sliding_windows(config):
    """Per-layer window (0 = full causal) as each model_type decides it."""
    layers = config["num_hidden_layers"]
    window = config.get("sliding_window") or 0
    kind = config["model_type"]
    if "layer_types" in config:
        return [window if t == "sliding_attention" else 0 for t in config["layer_types"]]
    if kind == "mistral":
        return [window] * layers
    if kind == "qwen2" and config.get("use_sliding_window", False):
        first = config.get("max_window_layers", layers)
        return [window if i >= first else 0 for i in range(layers)]
    return [0] * layers


class LlamaLike(CheckpointModule):
    """LlamaForCausalLM, Qwen2ForCausalLM and MistralForCausalLM.

    They differ only in which projections carry a bias (taken from the
    checkpoint: Qwen2 biases q, k and v; Llama's attention_bias biases all
    four), in the sliding window and in whether the head is tied.
    """
    output_name = "logits"

    def __init__(self, config, weights):
        super().__init__(weights)
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = config.get("num_key_value_heads") or self.heads
        self.group = self.heads // self.kv_heads
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.eps = config.get("rms_norm_eps", 1e-6)
        self.act = ACTIVATIONS[config.get("hidden_act", "silu")]
        if config.get("partial_rotary_factor", 1.0) != 1.0:
            raise ValueError("partial rotary embeddings are not implemented")
        self.inv_freq = rope_inv_freq(self.head_dim, rope_theta(config))
        self.windows = sliding_windows(config)
        self.head = "lm_head.weight" if self.has("lm_head.weight") else "model.embed_tokens.weight"

    def forward(self, input_ids, attention_mask):
        cos, sin = rope_tables(input_ids.shape[1], self.inv_freq)
        h = F.embedding(input_ids, self.w("model.embed_tokens.weight"))
        for i in range(self.layers):
            p = f"model.layers.{i}."
            x = rms_norm(h, self.w(p + "input_layernorm.weight"), self.eps)
            q = split_heads(self.linear(x, p + "self_attn.q_proj"), self.heads, self.head_dim)
            k = split_heads(self.linear(x, p + "self_attn.k_proj"), self.kv_heads, self.head_dim)
            v = split_heads(self.linear(x, p + "self_attn.v_proj"), self.kv_heads, self.head_dim)
            q = apply_rope(q, cos, sin, self.head_dim)
            k = apply_rope(k, cos, sin, self.head_dim)
            a = attend(q, repeat_kv(k, self.group), repeat_kv(v, self.group), attention_mask, True,
                       self.windows[i], self.scale)
            h = h + self.linear(merge_heads(a), p + "self_attn.o_proj")
            x = rms_norm(h, self.w(p + "post_attention_layernorm.weight"), self.eps)
            g = self.act(self.linear(x, p + "mlp.gate_proj")) * self.linear(x, p + "mlp.up_proj")
            h = h + self.linear(g, p + "mlp.down_proj")
        h = rms_norm(h, self.w("model.norm.weight"), self.eps)
        return torch.matmul(h, self.w(self.head).t())


FAMILIES = {
    "bert": Bert,
    "distilbert": DistilBert,
    "gpt2": GPT2,
    "llama": LlamaLike,
    "qwen2": LlamaLike,
    "mistral": LlamaLike,
}


def build(config, weights):
    """The reference module for a config.json dict and a checkpoint dict."""
    kind = config.get("model_type")
    if kind not in FAMILIES:
        raise ValueError(f"model_type '{kind}' has no reference implementation")
    return FAMILIES[kind](config, weights).eval()
