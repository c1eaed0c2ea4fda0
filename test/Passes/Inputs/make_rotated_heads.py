"""Copies a GPT-2 folder, making odd heads rotated copies of even heads.

usage: make_rotated_heads.py IN_DIR OUT_DIR

In every layer, head 2i+1 becomes head 2i seen through random orthogonal
maps: q and k through the same R (so its attention scores equal head 2i's),
v through S and the output projection's columns through S^T (so its output
equals head 2i's). Such pairs pool into one kv-head without any error once
aligned, which is what tfx-share-kv-heads align=true must find.
"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact as ra  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for name in os.listdir(src):
    if name != "model.safetensors":
        shutil.copy(os.path.join(src, name), dst)
cfg = json.load(open(os.path.join(src, "config.json")))
D, H = cfg["n_embd"], cfg["n_head"]
d = D // H
t = {k: np.array(v, dtype=np.float64) for k, v in
     ra.read_safetensors(os.path.join(src, "model.safetensors")).items()}
rng = np.random.default_rng(0)


def orthogonal():
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return q


for layer in range(cfg["n_layer"]):
    p = "transformer.h.%d.attn." % layer
    w, b = t[p + "c_attn.weight"], t[p + "c_attn.bias"]  # [D, 3D] (Conv1D), [3D]
    wo = t[p + "c_proj.weight"]  # [D(in), D(out)]: rows are attention features
    for h in range(1, H, 2):
        src_cols = slice((h - 1) * d, h * d)
        dst_cols = slice(h * d, (h + 1) * d)
        r, s = orthogonal(), orthogonal()
        for part, m in ((0, r), (1, r), (2, s)):
            cs = slice(part * D + src_cols.start, part * D + src_cols.stop)
            cd = slice(part * D + dst_cols.start, part * D + dst_cols.stop)
            w[:, cd] = w[:, cs] @ m.T  # features x -> m x
            b[cd] = m @ b[cs]
        wo[dst_cols, :] = s @ wo[src_cols, :]  # Wo,h' = Wo,h S^T (row form)
tensors = {k: v.astype(np.float32) for k, v in t.items()}
ra.write_safetensors(os.path.join(dst, "model.safetensors"), tensors)
