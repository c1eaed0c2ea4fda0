"""Exports a small post-LN encoder written with plain torch.nn modules (the
way user code, not Hugging Face, writes one): explicit softmax attention with
an additive -1e4 padding bias, nn.LayerNorm (decomposed by opset 14) and
nn.Linear. Writes OUT.onnx and OUT.ref.safetensors (inputs and the PyTorch
output) for a padded batch.

usage: make_torch_encoder.py OUT
"""
import json
import math
import struct
import sys

import numpy as np
import torch
from torch import nn

torch.manual_seed(7)
torch.set_num_threads(1)
LAYERS, WIDTH, HEADS, FFN, VOCAB, SEQ = 2, 64, 4, 128, 300, 12


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(3))
        self.out = nn.Linear(WIDTH, WIDTH)
        self.norm1, self.norm2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.up, self.down = nn.Linear(WIDTH, FFN), nn.Linear(FFN, WIDTH)

    def forward(self, x, bias):
        b, t, _ = x.shape
        heads = [m(x).view(b, t, HEADS, -1).transpose(1, 2) for m in self.qkv]
        q, k, v = heads
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(WIDTH // HEADS) + bias, dim=-1)
        x = self.norm1(x + self.out((w @ v).transpose(1, 2).reshape(b, t, WIDTH)))
        return self.norm2(x + self.down(torch.nn.functional.gelu(self.up(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, WIDTH), nn.Embedding(64, WIDTH)
        self.norm = nn.LayerNorm(WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))

    def forward(self, ids, mask):
        x = self.norm(self.tok(ids) + self.pos(torch.arange(ids.shape[1])[None]))
        bias = (1.0 - mask[:, None, None, :].float()) * -1e4
        for blk in self.blocks:
            x = blk(x, bias)
        return x


def save(path, tensors):
    header, data = {}, b""
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[str(a.dtype)],
                        "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


model = Encoder().eval()
ids = torch.randint(0, VOCAB, (2, SEQ))
mask = torch.ones(2, SEQ, dtype=torch.long)
mask[1, SEQ - 4:] = 0
torch.onnx.export(model, (ids, mask), sys.argv[1] + ".onnx", opset_version=14,
                  input_names=["input_ids", "attention_mask"], output_names=["hidden"])
with torch.no_grad():
    out = model(ids, mask).numpy()
save(sys.argv[1] + ".ref.safetensors",
     {"input.input_ids": ids.numpy(), "input.attention_mask": mask.numpy(), "output.hidden": out})
