"""Writes a small Llama/GPT-style block as tfx IR with constant weights, its
inputs, and a reference computed with PyTorch written independently of the
interpreter (repeat_interleave for GQA, rotate_half for RoPE, masked softmax).

usage: gen_block.py MODEL.mlir INPUTS.safetensors REFERENCE.safetensors
"""
import sys

import numpy as np
import torch


B, S, D, H, KVH = 2, 5, 16, 4, 2
HD = D // H
THETA = 10000.0


def write_safetensors(path, tensors):
    import json
    import struct
    header, data = {}, b""
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t)
        dtype = {np.float32: "F32", np.int64: "I64"}[arr.dtype.type]
        blob = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def const(name, t):
    arr = np.ascontiguousarray(t.numpy().astype(np.float32))
    shape = "x".join(str(d) for d in arr.shape)
    return '    %%%s = arith.constant dense<"0x%s"> : tensor<%sxf32>\n' % (
        name, arr.tobytes().hex().upper(), shape)


def rope_half(x, pos):
    inv = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.int64).float() / HD))
    ang = pos[..., None].float() * inv  # [B,S,HD/2]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos()[:, :, None, :], emb.sin()[:, :, None, :]
    x = x.view(x.shape[0], x.shape[1], -1, HD)
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    rot = torch.cat([-x2, x1], -1)
    return (x * cos + rot * sin).flatten(2)


def rope_interleaved(x, pos):
    inv = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.int64).float() / HD))
    ang = pos[..., None].float() * inv
    cos, sin = ang.cos()[:, :, None, :], ang.sin()[:, :, None, :]
    x = x.view(x.shape[0], x.shape[1], -1, HD // 2, 2)
    a, b = x[..., 0], x[..., 1]
    return torch.stack([a * cos - b * sin, b * cos + a * sin], -1).flatten(2)


def main():
    model_path, inputs_path, ref_path = sys.argv[1:4]
    g = torch.Generator().manual_seed(0)
    rnd = lambda *shape: torch.randn(*shape, generator=g) * 0.5  # noqa: E731
    w = {"g1": rnd(D) + 1, "wq": rnd(D, D), "wk": rnd(KVH * HD, D),
         "wv": rnd(KVH * HD, D), "wo": rnd(D, D), "bo": rnd(D),
         "g2": rnd(D) + 1, "b2": rnd(D), "w3": rnd(8, D)}
    x = rnd(B, S, D)
    mask = torch.tensor([[1] * S, [0, 0] + [1] * (S - 2)], dtype=torch.int64)
    pos = torch.tensor([list(range(S)), [0, 0] + list(range(S - 2))], dtype=torch.int64)

    h = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w["g1"]
    q = rope_half(h @ w["wq"].T, torch.arange(S).expand(B, S))
    k = rope_interleaved(h @ w["wk"].T, pos)
    v = h @ w["wv"].T
    qh = q.view(B, S, H, HD).transpose(1, 2)
    kh = k.view(B, S, KVH, HD).transpose(1, 2).repeat_interleave(H // KVH, 1)
    vh = v.view(B, S, KVH, HD).transpose(1, 2).repeat_interleave(H // KVH, 1)
    scores = qh @ kh.transpose(-1, -2) * (1.0 / HD ** 0.5)
    keep = torch.ones(S, S).tril().bool()[None, None] & mask.bool()[:, None, None, :]
    probs = scores.masked_fill(~keep, float("-inf")).softmax(-1)
    probs = torch.nan_to_num(probs, nan=0.0)  # queries that see no key give zeros
    attn = (probs @ vh).transpose(1, 2).reshape(B, S, D)
    r = x + attn @ w["wo"].T + w["bo"]
    n = torch.nn.functional.layer_norm(r, (D,), w["g2"], w["b2"], 1e-5)
    act = torch.nn.functional.gelu(n, approximate="tanh")
    logits = (act @ w["w3"].T).softmax(-1)

    f = "tensor<%dx%dx%dxf32>"
    X, KV, L = f % (B, S, D), f % (B, S, KVH * HD), f % (B, S, 8)
    ir = ['func.func @main(%%x: %s {tfx.name = "x"}, %%mask: tensor<%dx%dxi64> '
          '{tfx.name = "mask"}, %%pos: tensor<%dx%dxi64> {tfx.name = "pos"}) -> '
          '(%s {tfx.name = "probs"}, %s {tfx.name = "residual"}) {\n'
          % (X, B, S, B, S, L, X)]
    ir += [const(name, t) for name, t in w.items()]
    ir.append(f"""\
    %h = tfx.rms_norm %x, %g1 {{epsilon = 1.0e-05 : f32}} : ({X}, tensor<{D}xf32>) -> {X}
    %q0 = tfx.linear %h, %wq : ({X}, tensor<{D}x{D}xf32>) -> {X}
    %k0 = tfx.linear %h, %wk : ({X}, tensor<{KVH * HD}x{D}xf32>) -> {KV}
    %v = tfx.linear %h, %wv : ({X}, tensor<{KVH * HD}x{D}xf32>) -> {KV}
    %q = tfx.rope %q0 {{num_heads = {H} : i64, rotary_dim = {HD} : i64, theta = {THETA} : f64}} : ({X}) -> {X}
    %k = tfx.rope %k0, %pos {{num_heads = {KVH} : i64, rotary_dim = {HD} : i64, theta = {THETA} : f64, layout = #tfx<rope_layout interleaved>}} : ({KV}, tensor<{B}x{S}xi64>) -> {KV}
    %a = tfx.attention %q, %k, %v, %mask {{num_heads = {H} : i64, num_kv_heads = {KVH} : i64, scale = {1.0 / HD ** 0.5} : f32, causal = true}} : ({X}, {KV}, {KV}, tensor<{B}x{S}xi64>) -> {X}
    %o = tfx.linear %a, %wo, %bo : ({X}, tensor<{D}x{D}xf32>, tensor<{D}xf32>) -> {X}
    %r = tfx.add %x, %o : ({X}, {X}) -> {X}
    %n = tfx.layer_norm %r, %g2, %b2 {{epsilon = 1.0e-05 : f32}} : ({X}, tensor<{D}xf32>, tensor<{D}xf32>) -> {X}
    %act = tfx.gelu %n {{approximate = #tfx<gelu_approx tanh>}} : {X}
    %l = tfx.linear %act, %w3 : ({X}, tensor<8x{D}xf32>) -> {L}
    %p = tfx.softmax %l : {L}
    return %p, %r : {L}, {X}
}}
""")
    with open(model_path, "w") as out:
        out.write("".join(ir))
    write_safetensors(inputs_path, {"input.x": x.numpy(), "input.mask": mask.numpy(),
                                    "input.pos": pos.numpy()})
    write_safetensors(ref_path, {"output.probs": logits.numpy(),
                                 "output.residual": r.numpy()})


if __name__ == "__main__":
    main()
