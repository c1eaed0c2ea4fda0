"""Reference logits of the trained gpt2-pydoc model on held-out text.

usage: pydoc_reference.py MODEL_DIR OUT.safetensors [SEQUENCES]

Runs the independent PyTorch GPT-2 of test/models/make_models.py with the
model's own weights on the first SEQUENCES rows (default 4) of
heldout-eval.safetensors, writes input.input_ids and output.logits, and
prints the held-out perplexity of those rows.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "models"))
import make_models as mm  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype)
                                     .reshape(info["shape"]).copy())
    return out


model_dir, out_path = sys.argv[1], sys.argv[2]
rows = int(sys.argv[3]) if len(sys.argv) > 3 else 4
cfg = json.load(open(os.path.join(model_dir, "config.json")))
W = read(os.path.join(model_dir, "model.safetensors"))
ids = next(iter(read(os.path.join(model_dir, "heldout-eval.safetensors")).values()))[:rows]
D, heads, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
P = "transformer."
with torch.no_grad():
    B, S = ids.shape
    mask = torch.ones(B, S, dtype=torch.long)
    h = W[P + "wte.weight"][ids] + W[P + "wpe.weight"][:S]
    for i in range(cfg["n_layer"]):
        p = f"{P}h.{i}."
        conv = lambda x, n: x @ W[n + ".weight"] + W[n + ".bias"]
        a = mm.layer_norm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        q, k, v = conv(a, p + "attn.c_attn").split(D, -1)
        h = h + conv(mm.attention(q, k, v, heads, heads, mask, True), p + "attn.c_proj")
        m = mm.layer_norm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        h = h + conv(torch.nn.functional.gelu(conv(m, p + "mlp.c_fc"), approximate="tanh"),
                     p + "mlp.c_proj")
    h = mm.layer_norm(h, W[P + "ln_f.weight"], W[P + "ln_f.bias"], eps)
    logits = h @ W[P + "wte.weight"].T
    ce = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                           ids[:, 1:].reshape(-1))
print(f"held-out perplexity over {rows} sequences: {float(ce.exp()):.3f}")
mm.write_safetensors(out_path, {"input.input_ids": ids.numpy(),
                                "output.logits": logits.numpy().astype(np.float32)})
