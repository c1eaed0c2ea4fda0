#!/usr/bin/env python3
"""NaN/Inf inputs and weights: what reaches which output rows.

  nan_rows.py weights SRC_MODEL OUT_MODEL TENSOR ROW   copy a HF folder with
                                                  NaN in row ROW of weight TENSOR
  nan_rows.py report OUT.safetensors CLEAN.safetensors NAME AXIS
      prints, along AXIS of output NAME, which positions are all-finite (and
      their largest difference from the clean run) and which hold NaN.
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "models"))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402


def ranges(indices):
    out, start = [], None
    for k, i in enumerate(indices):
        if start is None:
            start = i
        if k + 1 == len(indices) or indices[k + 1] != i + 1:
            out.append(f"{start}" if start == i else f"{start}-{i}")
            start = None
    return ",".join(out) if out else "none"


def report(out_path, clean_path, name, axis):
    out = read_safetensors(out_path)[name]
    clean = read_safetensors(clean_path)[name]
    moved = np.moveaxis(out, axis, 0).reshape(out.shape[axis], -1)
    moved_clean = np.moveaxis(clean, axis, 0).reshape(clean.shape[axis], -1)
    finite = [i for i in range(moved.shape[0]) if np.isfinite(moved[i]).all()]
    nan = [i for i in range(moved.shape[0]) if np.isnan(moved[i]).any()]
    err = max((float(np.abs(moved[i] - moved_clean[i]).max()) for i in finite), default=0.0)
    print(f"{name}: finite {ranges(finite)} (max_abs_err vs clean {err:.3e}); NaN {ranges(nan)}")


def weights(src, dst, name, row):
    shutil.copytree(src, dst)
    tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    tensors[name] = tensors[name].copy()
    tensors[name][row, 0] = np.nan
    write_safetensors(os.path.join(dst, "model.safetensors"), tensors)


if __name__ == "__main__":
    if sys.argv[1] == "weights":
        weights(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        report(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
