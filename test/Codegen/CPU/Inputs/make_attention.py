"""Writes one tfx.attention as a module, random inputs, and a PyTorch
reference computed independently of tfx (repeat_interleave for GQA, explicit
boolean masks, rows without a visible key set to zero).

usage: make_attention.py OUTDIR [--batch 2] [--sq 32] [--sk 32] [--heads 4]
           [--kv-heads 2] [--head-dim 16] [--causal] [--window 0] [--pad 0]
           [--mask-type i64|f32|i1] [--global G] [--block B --layout 10/11]
           [--kind linear_elu|linear_relu|linear_random [--features N --seed S]]
           [--no-mask]
`pad` hides the last keys of batch row 0 through the mask operand (with
--pad >= sk and --causal, whole rows see no key). `global` makes the first
G positions global (seen by and seeing every query), `block`/`layout` a
block-sparse layout (rows of 0/1 by '/'). A linear kind replaces the
softmax by phi(q) S / (phi(q) . z); linear_random draws its projection
with its own copy of tfx's generator (splitmix64 + Box-Muller).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch


def write_safetensors(path, tensors):
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64",
             np.dtype(np.bool_): "BOOL"}
    header, blob = {}, b""
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


def splitmix64_normals(count, seed):
    """Standard normals as tfx/Support/RandomFeatures.cpp draws them."""
    mask = (1 << 64) - 1
    state = seed & mask

    def uniform():
        nonlocal state
        state = (state + 0x9e3779b97f4a7c15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & mask
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & mask
        z ^= z >> 31
        return ((z >> 11) + 1) * 2.0 ** -53

    out = np.zeros(count, np.float32)
    for n in range(0, count, 2):
        radius = math.sqrt(-2.0 * math.log(uniform()))
        angle = 2.0 * math.pi * uniform()
        out[n] = radius * math.cos(angle)
        if n + 1 < count:
            out[n + 1] = radius * math.sin(angle)
    return out


def linear_attention(qh, kh, vh, keep_keys, causal, kind, scale, features, seed):
    """qh [B,H,SQ,D], kh/vh [B,H,SK,D] (double), keep_keys [B,SK] bool."""
    if kind == "linear_elu":
        phi = lambda x: torch.where(x > 0, x + 1, torch.exp(x))
    elif kind == "linear_relu":
        phi = lambda x: torch.clamp(x, min=0)
    else:
        D = qh.shape[-1]
        w = torch.from_numpy(splitmix64_normals(features * D, seed)).double().view(features, D)

        def phi(x):
            x = x * math.sqrt(scale)
            return torch.exp(x @ w.T - (x * x).sum(-1, keepdim=True) / 2) / math.sqrt(features)
    pq, pk = phi(qh), phi(kh) * keep_keys[:, None, :, None].double()
    SQ, SK = qh.shape[2], kh.shape[2]
    i = torch.arange(SQ)[:, None] + (SK - SQ)
    j = torch.arange(SK)[None, :]
    weights = pq @ pk.transpose(-1, -2)
    if causal:
        weights = weights * (j <= i).double()
    den = weights.sum(-1, keepdim=True)
    out = (weights @ vh) / den
    return torch.where(den > 0, out, torch.zeros_like(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--sq", type=int, default=32)
    p.add_argument("--sk", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=16)
    p.add_argument("--causal", action="store_true")
    p.add_argument("--window", type=int, default=0)
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--mask-type", default="i64")
    p.add_argument("--global", dest="global_tokens", type=int, default=0)
    p.add_argument("--block", type=int, default=0)
    p.add_argument("--layout", default="")
    p.add_argument("--kind", default="softmax")
    p.add_argument("--features", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    B, SQ, SK, H, KV, D = a.batch, a.sq, a.sk, a.heads, a.kv_heads, a.head_dim
    torch.manual_seed(0)
    q = torch.randn(B, SQ, H * D)
    k = torch.randn(B, SK, KV * D)
    v = torch.randn(B, SK, KV * D)
    mask = torch.ones(B, SK, dtype=torch.int64)
    if a.pad:
        mask[0, SK - a.pad:] = 0
    scale = 1.0 / math.sqrt(D)

    qh = q.double().view(B, SQ, H, D).transpose(1, 2)
    kh = k.double().view(B, SK, KV, D).transpose(1, 2).repeat_interleave(H // KV, 1)
    vh = v.double().view(B, SK, KV, D).transpose(1, 2).repeat_interleave(H // KV, 1)
    s = scale * qh @ kh.transpose(-1, -2)
    i = torch.arange(SQ)[:, None] + (SK - SQ)
    j = torch.arange(SK)[None, :]
    keep = torch.ones(SQ, SK, dtype=torch.bool)
    if a.causal:
        keep &= j <= i
    local = None
    if a.window > 0:
        local = (j > i - a.window) & (j < i + a.window)
    if a.block:
        rows = [[c == "1" for c in r] for r in a.layout.split("/")]
        layout = torch.tensor(rows, dtype=torch.bool)
        local = layout[(i // a.block).expand(SQ, SK), (j // a.block).expand(SQ, SK)]
    if local is not None:
        if a.global_tokens:
            local = local | (j < a.global_tokens) | (i < a.global_tokens)
        keep &= local
    keep = keep[None, None] & mask.bool()[:, None, None, :]
    s = s.masked_fill(~keep, float("-inf"))
    probs = torch.nan_to_num(torch.softmax(s, -1), nan=0.0)
    out = (probs @ vh).transpose(1, 2).reshape(B, SQ, H * D)
    if a.kind != "softmax":
        out = linear_attention(qh, kh, vh, mask.bool(), a.causal, a.kind, scale,
                               a.features, a.seed).transpose(1, 2).reshape(B, SQ, H * D)

    mtype = {"i64": ("i64", np.int64), "f32": ("f32", np.float32),
             "i1": ("i1", np.bool_)}[a.mask_type]
    write_safetensors(os.path.join(a.outdir, "inputs.safetensors"),
                      {"input.q": q.numpy(), "input.k": k.numpy(), "input.v": v.numpy(),
                       "input.mask": mask.numpy().astype(mtype[1])})
    write_safetensors(os.path.join(a.outdir, "reference.safetensors"),
                      {"output.out": out.float().numpy()})
    tq = "tensor<%dx%dx%dxf32>" % (B, SQ, H * D)
    tk = "tensor<%dx%dx%dxf32>" % (B, SK, KV * D)
    tm = "tensor<%dx%dx%s>" % (B, SK, mtype[0])
    attrs = "num_heads = %d : i64, num_kv_heads = %d : i64, scale = %r : f32" % (
        H, KV, scale)
    if a.causal:
        attrs += ", causal = true"
    if a.window:
        attrs += ", window = %d : i64" % a.window
    if a.global_tokens:
        attrs += ", global_tokens = %d : i64" % a.global_tokens
    if a.block:
        attrs += ", block_size = %d : i64, block_layout = array<i1: %s>" % (
            a.block, ", ".join("true" if c == "1" else "false"
                               for c in a.layout.replace("/", "")))
    if a.kind != "softmax":
        attrs += ", kind = #tfx<attention_kind %s>" % a.kind
    if a.kind == "linear_random":
        attrs += ", features = %d : i64, feature_seed = %d : i64" % (a.features, a.seed)
    with open(os.path.join(a.outdir, "model.mlir"), "w") as f:
        f.write('func.func @main(%%q: %s {tfx.name = "q"}, %%k: %s {tfx.name = "k"}, '
                '%%v: %s {tfx.name = "v"}, %%mask: %s {tfx.name = "mask"}) -> '
                '(%s {tfx.name = "out"}) {\n' % (tq, tk, tk, tm, tq))
        f.write('  %%o = tfx.attention %%q, %%k, %%v, %%mask {%s} : (%s, %s, %s, %s) -> %s\n'
                % (attrs, tq, tk, tk, tm, tq))
        f.write("  return %%o : %s\n}\n" % tq)


if __name__ == "__main__":
    main()
