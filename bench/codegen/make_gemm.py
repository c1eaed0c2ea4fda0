"""Writes a one-GEMM tfx module y = x W^T + b (x [M, K], W [N, K]) with
random weights, for timing the GEMM kernel through a compiled artifact.

usage: make_gemm.py OUTDIR M K N [--epilogue none|gelu|residual]
Prints the GFLOP of one run (2 M N K / 1e9).
"""
import argparse
import json
import os
import struct

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("m", type=int)
    p.add_argument("k", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--epilogue", default="none")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((a.n, a.k)) / np.sqrt(a.k)).astype(np.float32)
    b = rng.standard_normal(a.n).astype(np.float32)
    path = os.path.abspath(os.path.join(a.outdir, "weights.safetensors"))
    header = {"w": {"dtype": "F32", "shape": [a.n, a.k], "data_offsets": [0, w.nbytes]},
              "b": {"dtype": "F32", "shape": [a.n],
                    "data_offsets": [w.nbytes, w.nbytes + b.nbytes]}}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + w.tobytes() + b.tobytes())
    x, y = "tensor<%dx%dxf32>" % (a.m, a.k), "tensor<%dx%dxf32>" % (a.m, a.n)
    body = ['  %%w = tfx.weight "w" : tensor<%dx%dxf32>' % (a.n, a.k),
            '  %%b = tfx.weight "b" : tensor<%dxf32>' % a.n,
            '  %%y = tfx.linear %%x, %%w, %%b : (%s, tensor<%dx%dxf32>, tensor<%dxf32>) -> %s'
            % (x, a.n, a.k, a.n, y)]
    result, extra = "%y", ""
    if a.epilogue == "gelu":
        body.append("  %%g = tfx.gelu %%y : %s" % y)
        result = "%g"
    elif a.epilogue == "residual":
        extra = ', %%r: %s {tfx.name = "r"}' % y
        body.append("  %%s = tfx.add %%y, %%r : (%s, %s) -> %s" % (y, y, y))
        result = "%s"
    with open(os.path.join(a.outdir, "model.mlir"), "w") as f:
        f.write('module attributes {tfx.weights = "%s"} {\n' % path)
        f.write('func.func @main(%%x: %s {tfx.name = "x"}%s) -> (%s {tfx.name = "y"}) {\n'
                % (x, extra, y))
        f.write("\n".join(body) + "\n  return %s : %s\n}\n}\n" % (result, y))
    print("%.4f" % (2.0 * a.m * a.n * a.k / 1e9))


if __name__ == "__main__":
    main()
