#!/usr/bin/env python3
"""Makes the project's own test models: Hugging Face folders with random weights.

usage: make_models.py OUTDIR [--only NAME ...]

Each folder holds config.json (the keys transformers writes for that
model_type), model.safetensors (HF tensor names and layouts, f32) and
reference.safetensors with input.input_ids, input.attention_mask and the f32
output of an independent PyTorch implementation of the family's forward pass
written below. Row 1 of every batch is right-padded (and row 2 of the decoders
left-padded) so that padding masks matter. Deterministic (fixed seeds).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch

torch.set_num_threads(1)

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        data = a.tobytes()
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Weights(dict):
    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def add(self, name, *shape, scale=0.08, ones=False):
        if ones:
            a = 1.0 + 0.1 * self.rng.standard_normal(shape)
        else:
            a = scale * self.rng.standard_normal(shape)
        self[name] = a.astype(np.float32)
        return torch.from_numpy(self[name])


# --- reference implementations ------------------------------------------------

def attention(q, k, v, heads, kv_heads, mask, causal, window=0):
    """q [B,S,H*D], k/v [B,S,Hk*D]; mask [B,S] (1 = keep). Rows that see no
    key give zeros."""
    B, S, _ = q.shape
    d = q.shape[-1] // heads
    q = q.view(B, S, heads, d).transpose(1, 2)
    k = k.view(B, S, kv_heads, d).transpose(1, 2).repeat_interleave(heads // kv_heads, 1)
    v = v.view(B, S, kv_heads, d).transpose(1, 2).repeat_interleave(heads // kv_heads, 1)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
    allowed = mask[:, None, None, :].bool().expand(B, 1, S, S)
    i = torch.arange(S)[:, None]
    j = torch.arange(S)[None, :]
    if causal:
        allowed = allowed & (j <= i)
    if window:
        allowed = allowed & (j > i - window)
    scores = scores.masked_fill(~allowed, float("-inf"))
    p = torch.softmax(scores, -1).nan_to_num(0.0)
    return (p @ v).transpose(1, 2).reshape(B, S, heads * d)


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, heads, theta):
    B, S, W = x.shape
    d = W // heads
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = torch.arange(S, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    x = x.view(B, S, heads, d)
    rot = torch.cat([-x[..., d // 2:], x[..., : d // 2]], -1)
    return (x * cos[None, :, None] + rot * sin[None, :, None]).reshape(B, S, W)


def linear(x, W, name, bias=True):
    y = x @ W[name + ".weight"].T
    return y + W[name + ".bias"] if bias and name + ".bias" in W else y


# --- families -----------------------------------------------------------------

def make_bert(vocab, hidden, layers, heads, inter, seq):
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocab,
           "hidden_size": hidden, "num_hidden_layers": layers,
           "num_attention_heads": heads, "intermediate_size": inter,
           "hidden_act": "gelu", "max_position_embeddings": max(seq, 64),
           "type_vocab_size": 2, "layer_norm_eps": 1e-12,
           "position_embedding_type": "absolute", "pad_token_id": 0}
    W = Weights(1)
    t = {k: W.add(k, *s) for k, s in [("embeddings.word_embeddings.weight", (vocab, hidden)),
         ("embeddings.position_embeddings.weight", (cfg["max_position_embeddings"], hidden)),
         ("embeddings.token_type_embeddings.weight", (2, hidden))]}
    for n in ["embeddings.LayerNorm"]:
        t[n + ".weight"] = W.add(n + ".weight", hidden, ones=True)
        t[n + ".bias"] = W.add(n + ".bias", hidden)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for n, o, k in [("attention.self.query", hidden, hidden), ("attention.self.key", hidden, hidden),
                        ("attention.self.value", hidden, hidden), ("attention.output.dense", hidden, hidden),
                        ("intermediate.dense", inter, hidden), ("output.dense", hidden, inter)]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", o, k)
            t[p + n + ".bias"] = W.add(p + n + ".bias", o)
        for n in ["attention.output.LayerNorm", "output.LayerNorm"]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", hidden, ones=True)
            t[p + n + ".bias"] = W.add(p + n + ".bias", hidden)
    W.add("pooler.dense.weight", hidden, hidden)
    W.add("pooler.dense.bias", hidden)

    def forward(ids, mask):
        S = ids.shape[1]
        h = t["embeddings.word_embeddings.weight"][ids] + \
            t["embeddings.position_embeddings.weight"][:S] + t["embeddings.token_type_embeddings.weight"][0]
        h = layer_norm(h, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], 1e-12)
        for i in range(layers):
            p = f"encoder.layer.{i}."
            a = attention(linear(h, t, p + "attention.self.query"), linear(h, t, p + "attention.self.key"),
                          linear(h, t, p + "attention.self.value"), heads, heads, mask, False)
            h = layer_norm(linear(a, t, p + "attention.output.dense") + h,
                           t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"], 1e-12)
            f = torch.nn.functional.gelu(linear(h, t, p + "intermediate.dense"))
            h = layer_norm(linear(f, t, p + "output.dense") + h,
                           t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], 1e-12)
        return h
    return cfg, W, forward, "last_hidden_state"


def make_distilbert(vocab, hidden, layers, heads, inter, seq):
    cfg = {"architectures": ["DistilBertModel"], "model_type": "distilbert", "vocab_size": vocab,
           "dim": hidden, "n_layers": layers, "n_heads": heads, "hidden_dim": inter,
           "activation": "gelu", "max_position_embeddings": max(seq, 64),
           "sinusoidal_pos_embds": False, "pad_token_id": 0}
    W = Weights(2)
    t = {"embeddings.word_embeddings.weight": W.add("embeddings.word_embeddings.weight", vocab, hidden),
         "embeddings.position_embeddings.weight": W.add("embeddings.position_embeddings.weight",
                                                        cfg["max_position_embeddings"], hidden),
         "embeddings.LayerNorm.weight": W.add("embeddings.LayerNorm.weight", hidden, ones=True),
         "embeddings.LayerNorm.bias": W.add("embeddings.LayerNorm.bias", hidden)}
    for i in range(layers):
        p = f"transformer.layer.{i}."
        for n, o, k in [("attention.q_lin", hidden, hidden), ("attention.k_lin", hidden, hidden),
                        ("attention.v_lin", hidden, hidden), ("attention.out_lin", hidden, hidden),
                        ("ffn.lin1", inter, hidden), ("ffn.lin2", hidden, inter)]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", o, k)
            t[p + n + ".bias"] = W.add(p + n + ".bias", o)
        for n in ["sa_layer_norm", "output_layer_norm"]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", hidden, ones=True)
            t[p + n + ".bias"] = W.add(p + n + ".bias", hidden)

    def forward(ids, mask):
        S = ids.shape[1]
        h = t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:S]
        h = layer_norm(h, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], 1e-12)
        for i in range(layers):
            p = f"transformer.layer.{i}."
            a = attention(linear(h, t, p + "attention.q_lin"), linear(h, t, p + "attention.k_lin"),
                          linear(h, t, p + "attention.v_lin"), heads, heads, mask, False)
            h = layer_norm(linear(a, t, p + "attention.out_lin") + h,
                           t[p + "sa_layer_norm.weight"], t[p + "sa_layer_norm.bias"], 1e-12)
            f = linear(torch.nn.functional.gelu(linear(h, t, p + "ffn.lin1")), t, p + "ffn.lin2")
            h = layer_norm(f + h, t[p + "output_layer_norm.weight"], t[p + "output_layer_norm.bias"], 1e-12)
        return h
    return cfg, W, forward, "last_hidden_state"


def make_gpt2(vocab, hidden, layers, heads, inter, seq):
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab,
           "n_embd": hidden, "n_layer": layers, "n_head": heads, "n_inner": None,
           "n_positions": max(seq, 64), "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5, "scale_attn_weights": True, "tie_word_embeddings": True}
    W = Weights(3)
    t = {"transformer.wte.weight": W.add("transformer.wte.weight", vocab, hidden),
         "transformer.wpe.weight": W.add("transformer.wpe.weight", cfg["n_positions"], hidden)}
    for i in range(layers):
        p = f"transformer.h.{i}."
        for n, k, o in [("attn.c_attn", hidden, 3 * hidden), ("attn.c_proj", hidden, hidden),
                        ("mlp.c_fc", hidden, 4 * hidden), ("mlp.c_proj", 4 * hidden, hidden)]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", k, o)  # Conv1D: [in, out]
            t[p + n + ".bias"] = W.add(p + n + ".bias", o)
        for n in ["ln_1", "ln_2"]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", hidden, ones=True)
            t[p + n + ".bias"] = W.add(p + n + ".bias", hidden)
    t["transformer.ln_f.weight"] = W.add("transformer.ln_f.weight", hidden, ones=True)
    t["transformer.ln_f.bias"] = W.add("transformer.ln_f.bias", hidden)

    def conv(x, n):
        return x @ t[n + ".weight"] + t[n + ".bias"]

    def forward(ids, mask):
        S = ids.shape[1]
        h = t["transformer.wte.weight"][ids] + t["transformer.wpe.weight"][:S]
        for i in range(layers):
            p = f"transformer.h.{i}."
            a = layer_norm(h, t[p + "ln_1.weight"], t[p + "ln_1.bias"], 1e-5)
            q, k, v = conv(a, p + "attn.c_attn").split(hidden, -1)
            h = h + conv(attention(q, k, v, heads, heads, mask, True), p + "attn.c_proj")
            m = layer_norm(h, t[p + "ln_2.weight"], t[p + "ln_2.bias"], 1e-5)
            h = h + conv(torch.nn.functional.gelu(conv(m, p + "mlp.c_fc"), approximate="tanh"), p + "mlp.c_proj")
        h = layer_norm(h, t["transformer.ln_f.weight"], t["transformer.ln_f.bias"], 1e-5)
        return h @ t["transformer.wte.weight"].T
    return cfg, W, forward, "logits"


def make_llama_like(kind, vocab, hidden, layers, heads, inter, seq, kv_heads, window=None):
    arch = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"}[kind]
    tied = kind == "qwen2"
    cfg = {"architectures": [arch], "model_type": kind, "vocab_size": vocab, "hidden_size": hidden,
           "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
           "intermediate_size": inter, "hidden_act": "silu", "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "max_position_embeddings": 256, "tie_word_embeddings": tied}
    if kind == "mistral":
        cfg["sliding_window"] = window
    if kind == "qwen2":
        cfg["use_sliding_window"] = False
        cfg["sliding_window"] = 4096
    d = hidden // heads
    W = Weights({"llama": 4, "qwen2": 5, "mistral": 6}[kind])
    t = {"model.embed_tokens.weight": W.add("model.embed_tokens.weight", vocab, hidden)}
    for i in range(layers):
        p = f"model.layers.{i}."
        for n, o, k in [("self_attn.q_proj", heads * d, hidden), ("self_attn.k_proj", kv_heads * d, hidden),
                        ("self_attn.v_proj", kv_heads * d, hidden), ("self_attn.o_proj", hidden, heads * d),
                        ("mlp.gate_proj", inter, hidden), ("mlp.up_proj", inter, hidden),
                        ("mlp.down_proj", hidden, inter)]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", o, k)
            if kind == "qwen2" and n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                t[p + n + ".bias"] = W.add(p + n + ".bias", o)
        for n in ["input_layernorm", "post_attention_layernorm"]:
            t[p + n + ".weight"] = W.add(p + n + ".weight", hidden, ones=True)
    t["model.norm.weight"] = W.add("model.norm.weight", hidden, ones=True)
    if not tied:
        t["lm_head.weight"] = W.add("lm_head.weight", vocab, hidden)

    def forward(ids, mask):
        h = t["model.embed_tokens.weight"][ids]
        for i in range(layers):
            p = f"model.layers.{i}."
            a = rms_norm(h, t[p + "input_layernorm.weight"], 1e-6)
            q = rope(linear(a, t, p + "self_attn.q_proj"), heads, 10000.0)
            k = rope(linear(a, t, p + "self_attn.k_proj"), kv_heads, 10000.0)
            v = linear(a, t, p + "self_attn.v_proj")
            h = h + linear(attention(q, k, v, heads, kv_heads, mask, True, window or 0), t, p + "self_attn.o_proj")
            m = rms_norm(h, t[p + "post_attention_layernorm.weight"], 1e-6)
            g = torch.nn.functional.silu(linear(m, t, p + "mlp.gate_proj")) * linear(m, t, p + "mlp.up_proj")
            h = h + linear(g, t, p + "mlp.down_proj")
        h = rms_norm(h, t["model.norm.weight"], 1e-6)
        return h @ (t["model.embed_tokens.weight"] if tied else t["lm_head.weight"]).T
    return cfg, W, forward, "logits"


MODELS = {
    "bert-test": lambda: (make_bert(500, 64, 2, 4, 128, 16), 16, False),
    "distilbert-test": lambda: (make_distilbert(500, 64, 2, 4, 128, 16), 16, False),
    "gpt2-test": lambda: (make_gpt2(500, 64, 2, 4, 256, 16), 16, True),
    "llama-test": lambda: (make_llama_like("llama", 500, 64, 2, 4, 96, 16, 2), 16, True),
    "qwen2-test": lambda: (make_llama_like("qwen2", 500, 64, 2, 4, 96, 16, 2), 16, True),
    "mistral-test": lambda: (make_llama_like("mistral", 500, 64, 2, 4, 96, 16, 1, window=6), 16, True),
    "gpt2-demo": lambda: (make_gpt2(2048, 256, 4, 4, 1024, 64), 64, True),
    "bert-demo": lambda: (make_bert(2048, 256, 4, 4, 1024, 64), 64, False),
}


def inputs(vocab, seq, left_pad):
    rng = np.random.default_rng(seq)
    B = 3 if left_pad else 2
    ids = rng.integers(0, vocab, size=(B, seq)).astype(np.int64)
    mask = np.ones((B, seq), np.int64)
    mask[1, seq - 3:] = 0  # right padding
    if left_pad:
        mask[2, :2] = 0    # left padding
    return ids, mask


def make(name, outdir):
    (cfg, W, forward, output), seq, decoder = MODELS[name]()
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), dict(W))
    ids, mask = inputs(cfg["vocab_size"], seq, decoder)
    with torch.no_grad():
        out = forward(torch.from_numpy(ids), torch.from_numpy(mask)).numpy().astype(np.float32)
    write_safetensors(os.path.join(folder, "reference.safetensors"),
                      {"input.input_ids": ids, "input.attention_mask": mask, "output." + output: out})
    print(f"{name}: {sum(a.size for a in W.values())} parameters -> {folder}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*", choices=sorted(MODELS))
    args = ap.parse_args()
    for name in args.only or sorted(MODELS):
        make(name, args.outdir)


if __name__ == "__main__":
    main()
