#!/usr/bin/env python3
"""Makes the project's own test models: Hugging Face folders with random weights.

usage: make_models.py OUTDIR [--only NAME ...] [--onnx]

Writes one folder per model under OUTDIR, deterministically (fixed seeds):
  config.json            the keys and values transformers writes for the model_type
  model.safetensors      HF tensor names and layouts, float32
  reference.safetensors  input.input_ids and input.attention_mask [B, S] int64 and
                         output.last_hidden_state (encoders) or output.logits
                         (causal LMs), float32, from the independent PyTorch
                         implementation in hf_reference.py
  model.onnx             with --onnx: that implementation exported by
                         torch.onnx.export (opset 17, else 14), inputs input_ids
                         and attention_mask, batch and sequence axes symbolic
Row 0 of every batch is unpadded and row 1 right-padded (its last 3 positions
masked); the decoders' row 2 is left-padded (its first 2 positions masked).
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402
# Re-exported for scripts that import this one (test/e2e/Inputs/pydoc_reference.py).
from hf_reference import attention, layer_norm, rms_norm  # noqa: E402,F401
from safetensors_io import read_safetensors  # noqa: E402,F401

torch.set_num_threads(1)

PAD_ID = 0


# --- config.json as transformers writes it ----------------------------------------
# bert, gpt2 and llama follow transformers 5 (as the shared models do: "dtype",
# rope_parameters); distilbert, qwen2 and mistral follow transformers 4.46, the
# form most published checkpoints carry ("torch_dtype", top-level rope_theta).

def bert_config(vocab, hidden, layers, heads, inter, positions):
    return {
        "add_cross_attention": False, "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1, "bos_token_id": None, "classifier_dropout": None,
        "dtype": "float32", "eos_token_id": None, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "hidden_size": hidden, "initializer_range": 0.02, "intermediate_size": inter,
        "is_decoder": False, "layer_norm_eps": 1e-12, "max_position_embeddings": positions,
        "model_type": "bert", "num_attention_heads": heads, "num_hidden_layers": layers,
        "pad_token_id": PAD_ID, "tie_word_embeddings": True, "transformers_version": "5.17.0",
        "type_vocab_size": 2, "use_cache": True, "vocab_size": vocab,
    }


def distilbert_config(vocab, hidden, layers, heads, inter, positions):
    return {
        "activation": "gelu", "architectures": ["DistilBertModel"], "attention_dropout": 0.1,
        "dim": hidden, "dropout": 0.1, "hidden_dim": inter, "initializer_range": 0.02,
        "max_position_embeddings": positions, "model_type": "distilbert", "n_heads": heads,
        "n_layers": layers, "pad_token_id": PAD_ID, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": False, "tie_weights_": True, "torch_dtype": "float32",
        "transformers_version": "4.46.3", "vocab_size": vocab,
    }


def gpt2_config(vocab, hidden, layers, heads, positions):
    return {
        "activation_function": "gelu_new", "add_cross_attention": False,
        "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1, "bos_token_id": vocab - 1,
        "dtype": "float32", "embd_pdrop": 0.1, "eos_token_id": vocab - 1, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_embd": hidden, "n_head": heads,
        "n_inner": None, "n_layer": layers, "n_positions": positions, "pad_token_id": None,
        "reorder_and_upcast_attn": False, "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True, "summary_activation": None, "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
        "tie_word_embeddings": True, "transformers_version": "5.17.0", "use_cache": True,
        "vocab_size": vocab,
    }


def llama_config(vocab, hidden, layers, heads, kv_heads, inter):
    return {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": 1, "dtype": "float32", "eos_token_id": 2, "head_dim": hidden // heads,
        "hidden_act": "silu", "hidden_size": hidden, "initializer_range": 0.02,
        "intermediate_size": inter, "max_position_embeddings": 256, "mlp_bias": False,
        "model_type": "llama", "num_attention_heads": heads, "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads, "pad_token_id": None, "pretraining_tp": 1,
        "rms_norm_eps": 1e-06, "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"},
        "tie_word_embeddings": False, "transformers_version": "5.17.0", "use_cache": True,
        "vocab_size": vocab,
    }


def qwen2_config(vocab, hidden, layers, heads, kv_heads, inter):
    # As Qwen2.5's small checkpoints: tied head, theta 1e6, a sliding_window
    # value that use_sliding_window switches off.
    return {
        "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": vocab - 2,
        "eos_token_id": vocab - 1, "hidden_act": "silu", "hidden_size": hidden,
        "initializer_range": 0.02, "intermediate_size": inter, "max_position_embeddings": 256,
        "max_window_layers": layers, "model_type": "qwen2", "num_attention_heads": heads,
        "num_hidden_layers": layers, "num_key_value_heads": kv_heads, "rms_norm_eps": 1e-06,
        "rope_scaling": None, "rope_theta": 1000000.0, "sliding_window": 32768,
        "tie_word_embeddings": True, "torch_dtype": "float32", "transformers_version": "4.46.3",
        "use_cache": True, "use_sliding_window": False, "vocab_size": vocab,
    }


def mistral_config(vocab, hidden, layers, heads, kv_heads, inter, window):
    return {
        "architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
        "eos_token_id": 2, "head_dim": hidden // heads, "hidden_act": "silu", "hidden_size": hidden,
        "initializer_range": 0.02, "intermediate_size": inter, "max_position_embeddings": 256,
        "model_type": "mistral", "num_attention_heads": heads, "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
        "sliding_window": window, "tie_word_embeddings": False, "torch_dtype": "float32",
        "transformers_version": "4.46.3", "use_cache": True, "vocab_size": vocab,
    }


# --- random weights under HF names -----------------------------------------------
# Scales keep every layer's activations near unit size (linear weights
# 1/sqrt(fan_in), so attention scores have spread ~1) and norm gains away from
# 1, so that a wrong transpose, scale or eps shows as a large error.

class Weights(dict):
    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def normal(self, name, shape, std):
        self[name] = (std * self.rng.standard_normal(shape)).astype(np.float32)

    def embedding(self, name, rows, width):
        self.normal(name + ".weight", (rows, width), 2.0 / width ** 0.5)

    def linear(self, name, out_features, in_features, bias=True):
        """nn.Linear: weight [out, in]."""
        self.normal(name + ".weight", (out_features, in_features), in_features ** -0.5)
        if bias:
            self.normal(name + ".bias", (out_features,), 0.05)

    def conv1d(self, name, in_features, out_features):
        """GPT-2's Conv1D: weight [in, out]."""
        self.normal(name + ".weight", (in_features, out_features), in_features ** -0.5)
        self.normal(name + ".bias", (out_features,), 0.05)

    def norm(self, name, width, bias=True):
        self[name + ".weight"] = (1.0 + 0.2 * self.rng.standard_normal(width)).astype(np.float32)
        if bias:
            self.normal(name + ".bias", (width,), 0.05)


def bert_weights(c, seed):
    w, hidden = Weights(seed), c["hidden_size"]
    w.embedding("embeddings.word_embeddings", c["vocab_size"], hidden)
    w.embedding("embeddings.position_embeddings", c["max_position_embeddings"], hidden)
    w.embedding("embeddings.token_type_embeddings", c["type_vocab_size"], hidden)
    w.norm("embeddings.LayerNorm", hidden)
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w.linear(p + "attention.self." + name, hidden, hidden)
        w.linear(p + "attention.output.dense", hidden, hidden)
        w.norm(p + "attention.output.LayerNorm", hidden)
        w.linear(p + "intermediate.dense", c["intermediate_size"], hidden)
        w.linear(p + "output.dense", hidden, c["intermediate_size"])
        w.norm(p + "output.LayerNorm", hidden)
    w.linear("pooler.dense", hidden, hidden)  # saved by BertModel, unused by last_hidden_state
    return w


def distilbert_weights(c, seed):
    w, hidden = Weights(seed), c["dim"]
    w.embedding("embeddings.word_embeddings", c["vocab_size"], hidden)
    w.embedding("embeddings.position_embeddings", c["max_position_embeddings"], hidden)
    w.norm("embeddings.LayerNorm", hidden)
    for i in range(c["n_layers"]):
        p = f"transformer.layer.{i}."
        for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
            w.linear(p + "attention." + name, hidden, hidden)
        w.norm(p + "sa_layer_norm", hidden)
        w.linear(p + "ffn.lin1", c["hidden_dim"], hidden)
        w.linear(p + "ffn.lin2", hidden, c["hidden_dim"])
        w.norm(p + "output_layer_norm", hidden)
    return w


def gpt2_weights(c, seed):
    w, hidden = Weights(seed), c["n_embd"]
    inner = c["n_inner"] or 4 * hidden
    w.embedding("transformer.wte", c["vocab_size"], hidden)
    w.embedding("transformer.wpe", c["n_positions"], hidden)
    for i in range(c["n_layer"]):
        p = f"transformer.h.{i}."
        w.norm(p + "ln_1", hidden)
        w.conv1d(p + "attn.c_attn", hidden, 3 * hidden)
        w.conv1d(p + "attn.c_proj", hidden, hidden)
        w.norm(p + "ln_2", hidden)
        w.conv1d(p + "mlp.c_fc", hidden, inner)
        w.conv1d(p + "mlp.c_proj", inner, hidden)
    w.norm("transformer.ln_f", hidden)
    # The head is wte itself (tie_word_embeddings): GPT2LMHeadModel saves no lm_head.
    return w


def llama_like_weights(c, seed):
    w, hidden = Weights(seed), c["hidden_size"]
    head_dim = c.get("head_dim") or hidden // c["num_attention_heads"]
    q_width = c["num_attention_heads"] * head_dim
    kv_width = c["num_key_value_heads"] * head_dim
    qkv_bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
    w.embedding("model.embed_tokens", c["vocab_size"], hidden)
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.norm(p + "input_layernorm", hidden, bias=False)
        w.linear(p + "self_attn.q_proj", q_width, hidden, bias=qkv_bias)
        w.linear(p + "self_attn.k_proj", kv_width, hidden, bias=qkv_bias)
        w.linear(p + "self_attn.v_proj", kv_width, hidden, bias=qkv_bias)
        w.linear(p + "self_attn.o_proj", hidden, q_width, bias=c.get("attention_bias", False))
        w.norm(p + "post_attention_layernorm", hidden, bias=False)
        w.linear(p + "mlp.gate_proj", c["intermediate_size"], hidden, bias=False)
        w.linear(p + "mlp.up_proj", c["intermediate_size"], hidden, bias=False)
        w.linear(p + "mlp.down_proj", hidden, c["intermediate_size"], bias=False)
    w.norm("model.norm", hidden, bias=False)
    if not c["tie_word_embeddings"]:
        w.linear("lm_head", c["vocab_size"], hidden, bias=False)
    return w


# --- the models ----------------------------------------------------------------------
# name: (config, weight maker, seed, sequence length, left-padded row)

MODELS = {
    "bert-test": (bert_config(512, 64, 2, 4, 256, 64), bert_weights, 11, 16, False),
    "distilbert-test": (distilbert_config(600, 64, 2, 4, 256, 64), distilbert_weights, 12, 16, False),
    "gpt2-test": (gpt2_config(700, 64, 2, 4, 64), gpt2_weights, 13, 16, True),
    "llama-test": (llama_config(800, 128, 2, 4, 2, 352), llama_like_weights, 14, 16, True),
    "qwen2-test": (qwen2_config(900, 64, 2, 4, 2, 176), llama_like_weights, 15, 16, True),
    "mistral-test": (mistral_config(1000, 96, 2, 4, 1, 224, 6), llama_like_weights, 16, 16, True),
    "gpt2-demo": (gpt2_config(2048, 256, 4, 4, 256), gpt2_weights, 21, 64, False),
    "bert-demo": (bert_config(2048, 256, 4, 4, 1024, 128), bert_weights, 22, 64, False),
}


def make_inputs(vocab, seq, left_pad, seed):
    rng = np.random.default_rng(seed)
    rows = 3 if left_pad else 2
    ids = rng.integers(1, vocab, size=(rows, seq)).astype(np.int64)
    mask = np.ones((rows, seq), np.int64)
    mask[1, seq - 3:] = 0
    if left_pad:
        mask[2, :2] = 0
    ids[mask == 0] = PAD_ID  # what a tokenizer puts under a padded position
    return ids, mask


def export_onnx(module, ids, mask, path):
    """Exports module to path; returns the opset used."""
    opset = trace_and_export(module, ids, mask, path)
    # The exporter loses the static width of a LayerNormalization result
    # (bert's hidden size) to a made-up symbol; only batch and sequence vary.
    import onnx
    model = onnx.load(path)
    with torch.no_grad():
        shape = module(ids, mask).shape
    for dim, size in zip(model.graph.output[0].type.tensor_type.shape.dim[2:], shape[2:]):
        dim.Clear()
        dim.dim_value = size
    for value in model.graph.input:
        if [d.dim_param for d in value.type.tensor_type.shape.dim] != ["batch", "sequence"]:
            raise RuntimeError(f"{path}: input {value.name} is not [batch, sequence]")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return opset


def trace_and_export(module, ids, mask, path):
    """Tracing first at another batch and sequence size and comparing with
    eager execution shows that no size was frozen into the graph."""
    output = module.output_name
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, (ids, mask), check_trace=False)
        other_ids = torch.cat([ids, ids[:1]])[:, : ids.shape[1] - 5].contiguous()
        other_mask = torch.cat([mask, mask[1:2]])[:, : ids.shape[1] - 5].contiguous()
        other_mask[-1, -2:] = 0
        err = (traced(other_ids, other_mask) - module(other_ids, other_mask)).abs().max().item()
        if err > 1e-5:
            raise RuntimeError(f"{path}: traced graph differs from eager at another shape ({err})")
        axes = {0: "batch", 1: "sequence"}
        failure = None
        for opset in (17, 14):
            try:
                torch.onnx.export(module, (ids, mask), path, input_names=["input_ids", "attention_mask"],
                                  output_names=[output], opset_version=opset, do_constant_folding=True,
                                  dynamic_axes={"input_ids": axes, "attention_mask": axes, output: axes})
                return opset
            except Exception as e:  # older exporters lack some opset-17 symbolics
                failure = e
    raise failure


def make(name, outdir, with_onnx):
    start = time.time()
    config, make_weights, seed, seq, left_pad = MODELS[name]
    weights = make_weights(config, seed)
    folder = os.path.join(outdir, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(folder, "model.safetensors"), weights)

    module = hf_reference.build(config, weights)
    ids, mask = make_inputs(config["vocab_size"], seq, left_pad, seed + 1000)
    ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
    with torch.no_grad():
        out = module(ids_t, mask_t).numpy().astype(np.float32)
    write_safetensors(os.path.join(folder, "reference.safetensors"),
                      {"input.input_ids": ids, "input.attention_mask": mask,
                       "output." + module.output_name: out})
    note = ""
    if with_onnx:
        note = f", model.onnx (opset {export_onnx(module, ids_t, mask_t, os.path.join(folder, 'model.onnx'))})"
    params = sum(a.size for a in weights.values())
    print(f"{name}: {params} parameters, output.{module.output_name} {list(out.shape)} "
          f"(std {out.std():.2f}){note} -> {folder} [{time.time() - start:.1f} s]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="+", choices=sorted(MODELS), metavar="NAME",
                    help="models to make (default: all): " + ", ".join(MODELS))
    ap.add_argument("--onnx", action="store_true", help="also export model.onnx")
    args = ap.parse_args()
    for name in args.only or MODELS:
        make(name, args.outdir, args.onnx)


if __name__ == "__main__":
    main()
