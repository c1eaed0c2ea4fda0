"""Exports a small Mistral-like decoder written with plain torch code (not
Hugging Face): RMS norm through torch.rsqrt, rotate-half RoPE with theta
1000 from tables built in forward(), grouped-query attention (4 heads, 2 kv
heads) repeated with expand + reshape, a causal sliding-window mask of 5 keys
and a padding mask applied with masked_fill(finfo.min), SiLU gating. Writes
OUT.onnx, OUT.inputs.safetensors (a right- and left-padded batch) and
OUT.ref.safetensors (the PyTorch logits).

usage: make_torch_decoder.py OUT
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from padded_inputs import write  # noqa: E402

torch.manual_seed(11)
torch.set_num_threads(1)
LAYERS, WIDTH, HEADS, KV_HEADS, FFN, VOCAB, SEQ, WINDOW, THETA = 2, 64, 4, 2, 96, 200, 12, 5, 1000.0
HEAD_DIM = WIDTH // HEADS


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(WIDTH))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


def rotate_half(x):
    return torch.cat((-x[..., HEAD_DIM // 2:], x[..., :HEAD_DIM // 2]), dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(WIDTH, WIDTH, bias=False)
        self.k = nn.Linear(WIDTH, KV_HEADS * HEAD_DIM, bias=False)
        self.v = nn.Linear(WIDTH, KV_HEADS * HEAD_DIM, bias=False)
        self.o = nn.Linear(WIDTH, WIDTH, bias=False)
        self.gate = nn.Linear(WIDTH, FFN, bias=False)
        self.up = nn.Linear(WIDTH, FFN, bias=False)
        self.down = nn.Linear(FFN, WIDTH, bias=False)
        self.norm1, self.norm2 = RMSNorm(), RMSNorm()

    def forward(self, x, cos, sin, hide):
        b, t, _ = x.shape
        h = self.norm1(x)
        q = self.q(h).view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = HEADS // KV_HEADS
        k = k[:, :, None].expand(b, KV_HEADS, group, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        v = v[:, :, None].expand(b, KV_HEADS, group, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        scores = (q @ k.transpose(2, 3)) * HEAD_DIM ** -0.5
        scores = scores.masked_fill(hide, torch.finfo(torch.float32).min)
        o = torch.softmax(scores, dim=-1) @ v
        x = x + self.o(o.transpose(1, 2).reshape(b, t, WIDTH))
        h = self.norm2(x)
        gate = self.gate(h)
        return x + self.down(gate * torch.sigmoid(gate) * self.up(h))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = RMSNorm()
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)

    def forward(self, ids, mask):
        t = ids.shape[1]
        inv_freq = 1.0 / (THETA ** (torch.arange(0, HEAD_DIM, 2).float() / HEAD_DIM))
        freqs = torch.arange(t).float()[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        i = torch.arange(t)[:, None]
        j = torch.arange(t)[None, :]
        visible = (j <= i) & (j > i - WINDOW)
        hide = ~(visible[None, None] & mask[:, None, None, :].bool())
        x = self.tok(ids)
        for blk in self.blocks:
            x = blk(x, cos, sin, hide)
        return self.head(self.norm(x))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    model = Decoder().eval()
    ids = torch.randint(0, VOCAB, (2, SEQ))
    mask = torch.ones(2, SEQ, dtype=torch.int64)
    mask[0, SEQ - 4:] = 0
    mask[1, :3] = 0
    with torch.no_grad():
        logits = model(ids, mask)
        torch.onnx.export(model, (ids, mask), out + ".onnx", opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"])
    write(out + ".inputs.safetensors", {"input.input_ids": ids.numpy(), "input.attention_mask": mask.numpy()})
    write(out + ".ref.safetensors", {"output.logits": logits.numpy()})


if __name__ == "__main__":
    main()
