"""Writes a BERT-shaped encoder (post-LN, erf-GELU, learned positions, padding
mask) directly as tfx IR, with its weights, inputs and a PyTorch reference
computed independently of tfx.

usage: make_encoder.py OUTDIR [--layers 2] [--hidden 64] [--heads 4]
                       [--ffn 256] [--vocab 1000] [--seq 16] [--batch 2]
                       [--pad 0] [--from-state-dict FILE.pt]

OUTDIR gets model.mlir (tfx.weight ops reading weights.safetensors),
inputs.safetensors (input.input_ids, input.attention_mask: the last `pad`
keys of batch row 0 masked) and reference.safetensors
(output.last_hidden_state). --from-state-dict takes the weights that
/work/shared/peers/cpu_peer_model.py saves next to its ONNX file (the
BERT-base shape: --layers 12 --hidden 768 --heads 12 --ffn 3072
--vocab 30522).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch


def write_safetensors(path, tensors):
    header, offset = {}, 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    for name, arr in arrays.items():
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for arr in arrays.values():
            f.write(arr.tobytes())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=256)
    p.add_argument("--vocab", type=int, default=1000)
    p.add_argument("--positions", type=int, default=512)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--from-state-dict")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    L, H, NH, F, V, S, B = (a.layers, a.hidden, a.heads, a.ffn, a.vocab,
                            a.seq, a.batch)
    torch.manual_seed(0)
    if a.from_state_dict:
        sd = {k: v.float() for k, v in torch.load(a.from_state_dict).items()}
    else:
        sd = {"emb.weight": torch.randn(V, H) * 0.5,
              "pos.weight": torch.randn(a.positions, H) * 0.5,
              "ln.weight": 1 + 0.1 * torch.randn(H), "ln.bias": 0.1 * torch.randn(H)}
        for l in range(L):
            for n, (o, i) in {"q": (H, H), "k": (H, H), "v": (H, H), "o": (H, H),
                              "f1": (F, H), "f2": (H, F)}.items():
                sd["layers.%d.%s.weight" % (l, n)] = torch.randn(o, i) / math.sqrt(i)
                sd["layers.%d.%s.bias" % (l, n)] = 0.1 * torch.randn(o)
            for n in ("ln1", "ln2"):
                sd["layers.%d.%s.weight" % (l, n)] = 1 + 0.1 * torch.randn(H)
                sd["layers.%d.%s.bias" % (l, n)] = 0.1 * torch.randn(H)
    write_safetensors(os.path.join(a.outdir, "weights.safetensors"),
                      {k: v.numpy() for k, v in sd.items()})

    ids = torch.randint(0, V, (B, S))
    mask = torch.ones(B, S, dtype=torch.long)
    if a.pad:
        mask[0, S - a.pad:] = 0
    write_safetensors(os.path.join(a.outdir, "inputs.safetensors"),
                      {"input.input_ids": ids.numpy(),
                       "input.attention_mask": mask.numpy()})

    # The reference, in double, with the mask as tfx.attention defines it.
    W = {k: v.double() for k, v in sd.items()}
    lin = lambda x, n: x @ W[n + ".weight"].T + W[n + ".bias"]
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (H,), W[n + ".weight"],
                                                     W[n + ".bias"], 1e-5)
    heads = lambda t: t.view(B, S, NH, H // NH).transpose(1, 2)
    x = ln(W["emb.weight"][ids] + W["pos.weight"][:S], "ln")
    keep = mask[:, None, None, :].bool()
    for l in range(L):
        n = "layers.%d." % l
        s = heads(lin(x, n + "q")) @ heads(lin(x, n + "k")).transpose(-1, -2)
        s = (s / math.sqrt(H // NH)).masked_fill(~keep, float("-inf"))
        att = (s.softmax(-1) @ heads(lin(x, n + "v"))).transpose(1, 2).reshape(B, S, H)
        x = ln(x + lin(att, n + "o"), n + "ln1")
        f = torch.nn.functional.gelu(lin(x, n + "f1"))
        x = ln(x + lin(f, n + "f2"), n + "ln2")
    write_safetensors(os.path.join(a.outdir, "reference.safetensors"),
                      {"output.last_hidden_state": x.float().numpy()})

    t = lambda *d: "tensor<%sxf32>" % "x".join(str(v) for v in d)
    act = t(B, S, H)
    lines = ['module attributes {tfx.weights = "%s"} {' %
             os.path.abspath(os.path.join(a.outdir, "weights.safetensors")),
             'func.func @main(%%ids: tensor<%dx%dxi64> {tfx.name = "input_ids"}, '
             '%%mask: tensor<%dx%dxi64> {tfx.name = "attention_mask"}) -> '
             '(%s {tfx.name = "last_hidden_state"}) {' % (B, S, B, S, act)]
    emit = lines.append
    for name, v in sd.items():
        var = name.replace(".", "_")
        emit('  %%%s = tfx.weight "%s" : %s' % (var, name, t(*v.shape)))
    emit('  %%positions = arith.constant dense<[[%s]]> : tensor<1x%dxi64>'
         % (", ".join(str(i) for i in range(S)), S))
    emit('  %%tok = tfx.embedding %%ids, %%emb_weight : (tensor<%dx%dxi64>, %s) -> %s'
         % (B, S, t(V, H), act))
    emit('  %%pos = tfx.embedding %%positions, %%pos_weight : (tensor<1x%dxi64>, %s) -> %s'
         % (S, t(a.positions, H), t(1, S, H)))
    emit('  %%sum = tfx.add %%tok, %%pos : (%s, %s) -> %s' % (act, t(1, S, H), act))
    emit('  %%x0 = tfx.layer_norm %%sum, %%ln_weight, %%ln_bias {epsilon = 1.0e-05 : f32}'
         ' : (%s, %s, %s) -> %s' % (act, t(H), t(H), act))
    linear = lambda out, x, n, i, o: emit(
        '  %%%s = tfx.linear %%%s, %%%s_weight, %%%s_bias : (%s, %s, %s) -> %s'
        % (out, x, n, n, t(B, S, i), t(o, i), t(o), t(B, S, o)))
    for l in range(L):
        n, x = "layers_%d_" % l, "x%d" % l
        for proj in "qkv":
            linear("%s%s" % (n, proj), x, n + proj, H, H)
        emit('  %%%satt = tfx.attention %%%sq, %%%sk, %%%sv, %%mask {num_heads = %d : i64, '
             'num_kv_heads = %d : i64, scale = %r : f32} : (%s, %s, %s, tensor<%dx%dxi64>) -> %s'
             % (n, n, n, n, NH, NH, 1.0 / math.sqrt(H // NH), act, act, act, B, S, act))
        linear(n + "o", n + "att", n + "o", H, H)
        emit('  %%%sr1 = tfx.add %%%s, %%%so : (%s, %s) -> %s' % (n, x, n, act, act, act))
        emit('  %%%sh = tfx.layer_norm %%%sr1, %%%sln1_weight, %%%sln1_bias {epsilon = 1.0e-05 : f32}'
             ' : (%s, %s, %s) -> %s' % (n, n, n, n, act, t(H), t(H), act))
        linear(n + "f1", n + "h", n + "f1", H, F)
        emit('  %%%sg = tfx.gelu %%%sf1 : %s' % (n, n, t(B, S, F)))
        linear(n + "f2", n + "g", n + "f2", F, H)
        emit('  %%%sr2 = tfx.add %%%sh, %%%sf2 : (%s, %s) -> %s' % (n, n, n, act, act, act))
        emit('  %%x%d = tfx.layer_norm %%%sr2, %%%sln2_weight, %%%sln2_bias {epsilon = 1.0e-05 : f32}'
             ' : (%s, %s, %s) -> %s' % (l + 1, n, n, n, act, t(H), t(H), act))
    emit('  return %%x%d : %s' % (L, act))
    emit('}')
    emit('}')
    with open(os.path.join(a.outdir, "model.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
