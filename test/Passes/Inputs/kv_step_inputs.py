#!/usr/bin/env python3
"""Inputs for a generation step function (the output of tfx-kv-cache).

usage: kv_step_inputs.py STEP.mlir OUT.safetensors --reference REF [--row R]
       kv_step_inputs.py STEP.mlir OUT.safetensors --random SEED

The shapes come from the step's signature (its tfx.name arguments).
--reference: row R of REF's input_ids as the new tokens against an empty
cache, and row R of REF's output.logits as the expected output (the step of
an empty cache is the forward pass).
--random: random token ids, cache lengths, block tables (distinct blocks per
sequence) and cache contents, to compare two executions of the step.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402


def signature(path):
    text = open(path).read()
    shapes = {}
    for dims, elem, name in re.findall(r"tensor<([0-9x]+)x(i64|i32|f32)> \{tfx\.name = \"(\w+)\"\}", text):
        shapes.setdefault(name, [int(d) for d in dims.split("x")])
    return shapes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step")
    p.add_argument("out")
    p.add_argument("--reference")
    p.add_argument("--row", type=int, default=0)
    p.add_argument("--random", type=int)
    a = p.parse_args()
    s = signature(a.step)
    batch, tokens = s["input_ids"]
    max_blocks = s["block_table"][1]
    blocks, layers, width, block = s["k_cache"]
    vocab = s["logits"][2]
    tensors = {}
    if a.reference:
        ref = read_safetensors(a.reference)
        ids = ref["input.input_ids"][a.row:a.row + 1, :tokens]
        tensors["input.input_ids"] = ids.astype(np.int64)
        tensors["input.cache_lengths"] = np.zeros([1], np.int64)
        tensors["input.block_table"] = np.zeros([1, max_blocks], np.int32)
        tensors["input.k_cache"] = np.zeros(s["k_cache"], np.float32)
        tensors["input.v_cache"] = np.zeros(s["v_cache"], np.float32)
        tensors["output.logits"] = ref["output.logits"][a.row:a.row + 1, :tokens].astype(np.float32)
    else:
        rng = np.random.default_rng(a.random)
        capacity = max_blocks * block
        tensors["input.input_ids"] = rng.integers(0, vocab, size=(batch, tokens)).astype(np.int64)
        tensors["input.cache_lengths"] = rng.integers(0, capacity - tokens + 1, size=batch).astype(np.int64)
        tensors["input.block_table"] = np.stack(
            [rng.permutation(blocks)[:max_blocks] for _ in range(batch)]).astype(np.int32)
        tensors["input.k_cache"] = rng.normal(size=s["k_cache"]).astype(np.float32)
        tensors["input.v_cache"] = rng.normal(size=s["v_cache"]).astype(np.float32)
    write_safetensors(a.out, tensors)
    print("cache_lengths", list(tensors["input.cache_lengths"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
