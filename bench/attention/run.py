#!/usr/bin/python3
"""Attention time against sequence length, in one run.

One tfx.attention on the BERT-base attention shape (batch 1, 12 heads,
head_dim 64, q = k = v = [1, n, 768], no mask, not causal) at n = 512 .. 8192,
compiled by tfx-compile (--cpu=native) and timed by
`tfx-run MODEL.so --backend cpu --threads 1 --bench N` (median), as

  naive     the linalg lowering (--no-kernels): scores, probabilities and the
            weighted sum each materialized as [12, n, n]
  flash     the flash-style kernel (online softmax over key blocks), dense
  window    the same kernel with window = 256 (tfx-sparse-attention
            window=256): it visits only the key blocks of each query block's
            window
  linear    kind = linear_elu (tfx-linear-attention): running sums, O(n)

Prints a table of median milliseconds and, per variant, the slope: time at n
over time at n/2 (4 for O(n^2), 2 for O(n)).

usage: /usr/bin/python3 bench/attention/run.py [--build build]
           [--lengths 512,1024,2048,4096,8192] [--naive-max 2048]
A program that prints numbers, not a test: it fails only when it cannot run.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HEADS, HEAD_DIM = 12, 64
WIDTH = HEADS * HEAD_DIM
sys.path.insert(0, os.path.join(ROOT, "test", "Codegen", "CPU", "Inputs"))
from run_artifact import write_safetensors  # noqa: E402


def write_model(path, n, attrs):
    t = "tensor<1x%dx%dxf32>" % (n, WIDTH)
    with open(path, "w") as f:
        f.write('func.func @main(%%q: %s {tfx.name = "q"}, %%k: %s {tfx.name = "k"}, '
                '%%v: %s {tfx.name = "v"}) -> (%s {tfx.name = "out"}) {\n' % (t, t, t, t))
        f.write("  %%o = tfx.attention %%q, %%k, %%v {num_heads = %d : i64, "
                "num_kv_heads = %d : i64, scale = 0.125 : f32%s} : (%s, %s, %s) -> %s\n"
                % (HEADS, HEADS, attrs, t, t, t, t))
        f.write("  return %%o : %s\n}\n" % t)


def runs_for(variant, n):
    """Timed runs: fewer where one run takes seconds."""
    if variant in ("naive", "flash"):
        return 3 if n >= 4096 else 5
    return 11


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--lengths", default="512,1024,2048,4096,8192")
    p.add_argument("--naive-max", type=int, default=2048)
    args = p.parse_args()
    compile_tool = os.path.join(args.build, "bin", "tfx-compile")
    run_tool = os.path.join(args.build, "bin", "tfx-run")
    lengths = [int(x) for x in args.lengths.split(",")]
    variants = [("naive", "", ["--no-kernels"]), ("flash", "", []),
                ("window", ", window = 256 : i64", []),
                ("linear", ", kind = #tfx<attention_kind linear_elu>", [])]
    times = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="tfx-attn-bench") as work:
        for n in lengths:
            inputs = os.path.join(work, "in%d.safetensors" % n)
            write_safetensors(inputs, {"input." + x: rng.standard_normal(
                (1, n, WIDTH), dtype=np.float32) for x in "qkv"})
            for name, attrs, flags in variants:
                if name == "naive" and n > args.naive_max:
                    continue
                model = os.path.join(work, "%s%d.mlir" % (name, n))
                so = os.path.join(work, "%s%d" % (name, n))
                write_model(model, n, attrs)
                subprocess.run([compile_tool, model, "--target", "cpu", "--cpu=native",
                                "--emit=so", "-o", so] + flags, check=True)
                out = subprocess.run(
                    [run_tool, so + ".so", "--backend", "cpu", "--threads", "1",
                     "--inputs", inputs, "--bench", str(runs_for(name, n))],
                    check=True, capture_output=True, text=True).stdout
                ms = float(re.search(r"median ([0-9.]+) ms", out).group(1))
                times[name, n] = ms
                print("  %-6s n=%-5d %10.3f ms" % (name, n, ms), file=sys.stderr, flush=True)
            os.remove(inputs)

    names = [v[0] for v in variants]
    print("attention, BERT-base shape (1 x n x 12 heads x 64), 1 thread, median ms")
    print("%6s " % "n" + "".join("%12s" % x for x in names))
    for n in lengths:
        row = ""
        for x in names:
            row += "%12.3f" % times[x, n] if (x, n) in times else "%12s" % "skipped"
        print("%6d " % n + row)
    print("slope: time(n) / time(n/2)  (O(n^2) -> 4, O(n) -> 2)")
    for prev, n in zip(lengths, lengths[1:]):
        row = ""
        for x in names:
            if (x, n) in times and (x, prev) in times:
                row += "%12.2f" % (times[x, n] / times[x, prev])
            else:
                row += "%12s" % "-"
        print("%6d " % n + row)
    skipped = [n for n in lengths if ("naive", n) not in times]
    if skipped:
        print("naive skipped at n = %s (--naive-max %d): three [12, n, n] f32 buffers, "
              "%.1f GB at n = %d" % (",".join(map(str, skipped)), args.naive_max,
                                    3 * HEADS * skipped[-1] ** 2 * 4 / 1e9, skipped[-1]))


if __name__ == "__main__":
    main()
