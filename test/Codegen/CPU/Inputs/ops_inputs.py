"""Inputs of ops.mlir: usage ops_inputs.py OUT.safetensors [--bad-ids]."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_artifact  # noqa: E402

rng = np.random.default_rng(1)
x = (rng.standard_normal((2, 3, 8)) * 2).astype(np.float32)
ids = rng.integers(-4, 4, (2, 3)).astype(np.int64)
if "--bad-ids" in sys.argv:
    ids[1, 2] = 7
run_artifact.write_safetensors(sys.argv[1], {
    "input.x": x, "input.ids": ids,
    "input.flags": rng.integers(0, 2, (2, 3, 8)).astype(np.bool_),
    "input.pos": rng.integers(0, 50, (2, 3)).astype(np.int64)})
