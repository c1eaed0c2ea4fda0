"""Writes a one-GEMM tfx module y = x W^T + b (x [M, K], W [N, K]) with
random weights, its inputs and a NumPy reference (in double), for testing
and timing the GEMM kernel through a compiled artifact.

usage: make_gemm.py OUTDIR M K N [--epilogue none|gelu|residual|silu-scale]
Writes OUTDIR/{model.mlir, weights.safetensors, inputs.safetensors,
reference.safetensors}; prints the GFLOP of one run (2 M N K / 1e9).
"""
import argparse
import json
import os
import struct

import math
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_artifact  # noqa: E402


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
    elif a.epilogue == "silu-scale":
        body.append("  %%a = tfx.silu %%y : %s" % y)
        body.append("  %h = arith.constant dense<0.5> : tensor<f32>")
        body.append("  %%s = tfx.mul %%h, %%a : (tensor<f32>, %s) -> %s" % (y, y))
        result = "%s"
    with open(os.path.join(a.outdir, "model.mlir"), "w") as f:
        f.write('module attributes {tfx.weights = "%s"} {\n' % path)
        f.write('func.func @main(%%x: %s {tfx.name = "x"}%s) -> (%s {tfx.name = "y"}) {\n'
                % (x, extra, y))
        f.write("\n".join(body) + "\n  return %s : %s\n}\n}\n" % (result, y))
    x64 = rng.standard_normal((a.m, a.k))
    r64 = rng.standard_normal((a.m, a.n))
    ref = x64 @ w.astype(np.float64).T + b
    if a.epilogue == "gelu":
        erf = np.vectorize(math.erf)
        ref = 0.5 * ref * (1 + erf(ref / math.sqrt(2)))
    elif a.epilogue == "residual":
        ref = ref + r64.astype(np.float32)
    elif a.epilogue == "silu-scale":
        ref = 0.5 * ref / (1 + np.exp(-ref))
    inputs = {"input.x": x64.astype(np.float32)}
    if a.epilogue == "residual":
        inputs["input.r"] = r64.astype(np.float32)
    run_artifact.write_safetensors(os.path.join(a.outdir, "inputs.safetensors"), inputs)
    run_artifact.write_safetensors(os.path.join(a.outdir, "reference.safetensors"),
                                   {"output.y": ref.astype(np.float32)})
    print("%.4f" % (2.0 * a.m * a.n * a.k / 1e9))


if __name__ == "__main__":
    main()
