"""Copies a Hugging Face model folder, making layer 1 a near copy of layer 0.

usage: make_twin_layers.py IN_DIR OUT_DIR [--noise 0.01]

Every tensor of layer 1 (names with '.1.' where layer 0 has '.0.') becomes
layer 0's tensor times (1 + noise * N(0, 1)), so that cross-layer sharing
has something to find; the other tensors and config.json are copied.
"""
import argparse
import json
import os
import shutil
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact as ra  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("src")
p.add_argument("dst")
p.add_argument("--noise", type=float, default=0.01)
args = p.parse_args()
os.makedirs(args.dst, exist_ok=True)
for name in os.listdir(args.src):
    if name != "model.safetensors":
        shutil.copy(os.path.join(args.src, name), args.dst)
tensors = {k: np.array(v) for k, v in ra.read_safetensors(
    os.path.join(args.src, "model.safetensors")).items()}
rng = np.random.default_rng(0)
for name in list(tensors):
    if ".1." in name:
        twin = name.replace(".1.", ".0.")
        base = tensors[twin]
        tensors[name] = (base * (1 + args.noise * rng.standard_normal(base.shape))
                         ).astype(base.dtype)
ra.write_safetensors(os.path.join(args.dst, "model.safetensors"), tensors)
