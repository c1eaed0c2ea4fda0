"""The two models of the CPU benchmark, in PyTorch, with their FLOP counts.

- encoder: BERT-base-shaped (12 layers, hidden 768, 12 heads, FFN 3072,
  post-LN, erf-GELU, learned positions, additive padding mask), with the
  parameter names of /work/shared/peers/cpu_peer_model.py so that the state
  dict it saves next to its ONNX file loads here.
- decoder: GPT-2-small-shaped (12 layers, 768, 12 heads, vocab 50257,
  pre-LN, tanh-GELU, fused QKV in Conv1D layout, causal + padding mask,
  tied LM head), exportable to ONNX and to a Hugging Face folder.

usage: models.py encoder|decoder OUT.onnx [--folder DIR] [--seq 128]
Writes OUT.onnx and, with --folder, a Hugging Face style folder
(config.json + model.safetensors) of the same weights. Weights are random
with seed 0, so make() gives the same model again.
"""
import argparse
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS, HIDDEN, HEADS, FFN = 12, 768, 12, 3072
BERT_VOCAB, BERT_POSITIONS = 30522, 512
GPT2_VOCAB, GPT2_POSITIONS = 50257, 1024


def split_heads(x):
    b, s, _ = x.shape
    return x.view(b, s, HEADS, HIDDEN // HEADS).transpose(1, 2)


def merge_heads(x):
    b, _, s, _ = x.shape
    return x.transpose(1, 2).reshape(b, s, HIDDEN)


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)
        self.f1, self.f2 = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)

    def forward(self, x, mask_bias):
        scores = split_heads(self.q(x)) @ split_heads(self.k(x)).transpose(-1, -2)
        probs = torch.softmax(scores / math.sqrt(HIDDEN // HEADS) + mask_bias, -1)
        x = self.ln1(x + self.o(merge_heads(probs @ split_heads(self.v(x)))))
        return self.ln2(x + self.f2(F.gelu(self.f1(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(BERT_VOCAB, HIDDEN)
        self.pos = nn.Embedding(BERT_POSITIONS, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN)
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.ln(self.emb(input_ids) + self.pos(positions))
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e4
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(
            *x.shape[:-1], -1)


class DecoderBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)
        self.attn = nn.Module()
        self.attn.c_attn, self.attn.c_proj = Conv1D(HIDDEN, 3 * HIDDEN), Conv1D(HIDDEN, HIDDEN)
        self.mlp = nn.Module()
        self.mlp.c_fc, self.mlp.c_proj = Conv1D(HIDDEN, FFN), Conv1D(FFN, HIDDEN)

    def forward(self, x, mask_bias):
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(HIDDEN, dim=2)
        scores = split_heads(q) @ split_heads(k).transpose(-1, -2) / math.sqrt(HIDDEN // HEADS)
        probs = torch.softmax(scores + mask_bias, -1)
        x = x + self.attn.c_proj(merge_heads(probs @ split_heads(v)))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(GPT2_VOCAB, HIDDEN)
        self.transformer.wpe = nn.Embedding(GPT2_POSITIONS, HIDDEN)
        self.transformer.h = nn.ModuleList(DecoderBlock() for _ in range(LAYERS))
        self.transformer.ln_f = nn.LayerNorm(HIDDEN)
        nn.init.normal_(self.transformer.wte.weight, std=0.02)
        nn.init.normal_(self.transformer.wpe.weight, std=0.01)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        t = self.transformer
        x = t.wte(input_ids) + t.wpe(torch.arange(seq).unsqueeze(0))
        causal = torch.tril(torch.ones(seq, seq, dtype=torch.bool))
        keep = causal[None, None] & attention_mask[:, None, None, :].bool()
        mask_bias = torch.zeros(keep.shape).masked_fill(~keep, torch.finfo(torch.float32).min)
        for block in t.h:
            x = block(x, mask_bias)
        # Tied LM head as one Gemm over the embedding table, so that the
        # exported file holds the table once.
        h = t.ln_f(x)
        return F.linear(h.reshape(seq, HIDDEN), t.wte.weight).view(1, seq, GPT2_VOCAB)


def flops(kind, seq=128):
    """Multiply-adds x 2 of one forward pass, batch 1 (dense attention)."""
    per_layer = (8 * seq * HIDDEN * HIDDEN  # q, k, v, o
                 + 4 * seq * HIDDEN * FFN  # two FFN matmuls
                 + 4 * seq * seq * HIDDEN)  # scores and probs @ v
    total = LAYERS * per_layer
    if kind == "decoder":
        total += 2 * seq * HIDDEN * GPT2_VOCAB
    return total


def make(kind):
    torch.manual_seed(0)
    return (Encoder() if kind == "encoder" else Decoder()).eval()


def example_inputs(seq=128, vocab=BERT_VOCAB):
    ids = torch.tensor([[(k * 7919) % vocab for k in range(seq)]], dtype=torch.int64)
    return ids, torch.ones(1, seq, dtype=torch.int64)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    names = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        data = array.tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def write_hf_folder(model, folder):
    import os
    os.makedirs(folder, exist_ok=True)
    config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
              "n_layer": LAYERS, "n_embd": HIDDEN, "n_head": HEADS, "n_inner": None,
              "vocab_size": GPT2_VOCAB, "n_positions": GPT2_POSITIONS,
              "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
              "tie_word_embeddings": True, "dtype": "float32"}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      {k: v.detach().numpy() for k, v in model.state_dict().items()})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["encoder", "decoder"])
    parser.add_argument("out")
    parser.add_argument("--folder")
    parser.add_argument("--seq", type=int, default=128)
    args = parser.parse_args()
    model = make(args.kind)
    inputs = example_inputs(args.seq, BERT_VOCAB if args.kind == "encoder" else GPT2_VOCAB)
    output = "last_hidden_state" if args.kind == "encoder" else "logits"
    with torch.no_grad():
        torch.onnx.export(model, inputs, args.out, input_names=["input_ids", "attention_mask"],
                          output_names=[output], opset_version=14)
    if args.folder:
        write_hf_folder(model, args.folder)


if __name__ == "__main__":
    main()
