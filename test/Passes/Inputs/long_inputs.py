"""Random token ids and a padding mask at a chosen shape, as calibration or
test inputs for the project's models at sequence lengths their reference
files do not cover.

usage: long_inputs.py OUT.safetensors --batch B --seq S --vocab V [--pad N] [--seed S]
Row 0 has its last N keys padded (attention_mask 0); the ids are uniform in
[0, V) from a fixed seed (0 unless --seed).
"""
import argparse
import json
import struct

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--pad", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    ids = rng.integers(0, a.vocab, size=(a.batch, a.seq), dtype=np.int64)
    mask = np.ones((a.batch, a.seq), dtype=np.int64)
    if a.pad:
        mask[0, a.seq - a.pad:] = 0
    header, blob = {}, b""
    for name, arr in (("input.input_ids", ids), ("input.attention_mask", mask)):
        raw = arr.tobytes()
        header[name] = {"dtype": "I64", "shape": list(arr.shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


if __name__ == "__main__":
    main()
