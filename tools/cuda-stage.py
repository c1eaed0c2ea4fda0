#!/usr/bin/env python3
"""Compiles the test models for a CUDA GPU and stages what a GPU machine needs.

usage: cuda-stage.py OUTDIR [--chip sm_90] [--build build] [--shared ../shared/models]
                     [--only NAME ...]

This machine compiles (tfx-compile --target cuda:CHIP); the GPU machine only
runs: OUTDIR gets one folder per model (model.so, reference.safetensors),
tfxrt-run (needs nothing but libc), cuda-check.sh and a list of the checks.
On the GPU machine `OUTDIR/cuda-check.sh` runs every artifact against its
fp32 reference and prints one line per output and a summary.

Models: the project's own (build/models, `ninja tfx-test-models`) and, when
the shared models are beside the checkout, their safetensors folders and
gpt2-pydoc on two held-out rows (its reference.safetensors disagrees with
its weights, see test/Codegen/CPU/shared-models.test).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def input_shapes(reference):
    with open(reference, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    return {k[len("input."):]: v["shape"] for k, v in header.items()
            if k.startswith("input.")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--chip", default="sm_90")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "models"))
    ap.add_argument("--only", nargs="+", metavar="NAME")
    ap.add_argument("--precision", nargs="+", default=["f32"], choices=["f32", "f16"],
                    help="matmul precisions to compile each model with (f16: tensor "
                         "cores, checked by relative L2 error instead of rtol 1e-4)")
    ap.add_argument("--skip-demo", action="store_true",
                    help="leave out the demo-size own models (15 MB each)")
    args = ap.parse_args()

    models = []  # (name, model path, reference)
    own = os.path.join(args.build, "models")
    for name in sorted(os.listdir(own)) if os.path.isdir(own) else []:
        if not os.path.isfile(os.path.join(own, name, "reference.safetensors")):
            continue
        if args.skip_demo and name.endswith("-demo"):
            continue
        models.append((name, os.path.join(own, name),
                       os.path.join(own, name, "reference.safetensors")))
    tmp = os.path.join(args.outdir, ".tmp")
    os.makedirs(tmp, exist_ok=True)
    if os.path.isdir(args.shared):
        for name in ["bert-tiny", "gpt2-tiny", "llama-tiny-gqa"]:
            models.append(("shared-" + name, os.path.join(args.shared, name),
                           os.path.join(args.shared, name, "reference.safetensors")))
        pydoc = os.path.join(args.shared, "gpt2-pydoc")
        if os.path.isdir(pydoc):
            ref = os.path.join(tmp, "pydoc.safetensors")
            subprocess.run([sys.executable, os.path.join(ROOT, "test", "e2e", "Inputs",
                                                         "pydoc_reference.py"), pydoc, ref, "2"],
                           check=True, stdout=subprocess.DEVNULL)
            models.append(("shared-gpt2-pydoc", pydoc, ref))
    if args.only:
        models = [m for m in models if m[0] in args.only]

    compile_tool = os.path.join(args.build, "bin", "tfx-compile")
    # What each precision is checked with: rtol/atol for f32 (as every other
    # backend), the relative L2 error where inputs are rounded (f16 has an
    # 11-bit significand).
    tolerance = {"f32": "", "f16": "--rel-l2 5e-3"}
    checks = []
    for name, path, ref in models:
        for precision in args.precision:
            label = name if precision == "f32" else name + "-" + precision
            folder = os.path.join(args.outdir, label)
            os.makedirs(folder, exist_ok=True)
            cmd = [compile_tool, path, "--target", "cuda:" + args.chip, "--emit=so",
                   "--gpu-matmul-precision", precision, "-o", os.path.join(folder, "model")]
            for key, shape in input_shapes(ref).items():
                cmd += ["--input-shape", "%s=%s" % (key, "x".join(map(str, shape)))]
            print("compiling %s" % label, flush=True)
            subprocess.run(cmd, check=True)
            os.remove(os.path.join(folder, "model.h"))
            if precision == args.precision[0]:
                shutil.copy(ref, os.path.join(folder, "reference.safetensors"))
            else:  # the same reference, once
                first = name if args.precision[0] == "f32" else name + "-" + args.precision[0]
                os.symlink(os.path.join("..", first, "reference.safetensors"),
                           os.path.join(folder, "reference.safetensors"))
            checks.append((label + " " + tolerance[precision]).strip())
    shutil.rmtree(tmp)
    shutil.copy(os.path.join(args.build, "bin", "tfxrt-run"), args.outdir)
    shutil.copy(os.path.join(ROOT, "tools", "cuda-check.sh"), args.outdir)
    with open(os.path.join(args.outdir, "models.txt"), "w") as f:
        f.write("\n".join(checks) + "\n")
    print("staged %d models in %s" % (len(checks), args.outdir))


if __name__ == "__main__":
    main()
