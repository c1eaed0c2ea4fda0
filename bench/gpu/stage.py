#!/usr/bin/env python3
"""Stages the GPU benchmark: a BERT-base-width encoder compiled for CUDA.

usage: bench/gpu/stage.py OUTDIR [--layers N] [--chip sm_90] [--build build]

The model has BERT-base's layer shape (hidden 768, 12 heads, FFN 3072; vocab
1024, 512 positions) with N layers (default 1: its weights must travel to
the GPU machine) and fixed random weights. It is compiled for batch 1 and
batch 32 at sequence 128 (--weights external: one weights file, the same
bytes for both), with fp32 references computed here by the project's
independent PyTorch forward. On the GPU machine `OUTDIR/run.py` checks and
times tfx and PyTorch on the same shapes (bench/gpu/run.py).
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))
import hf_reference  # noqa: E402
import make_models as mm  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402

BATCHES = (1, 32)
SEQ = 128
# Matmul precisions compiled (run.py checks f16 by relative L2 error).
PRECISIONS = ("f32", "f16")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--chip", default="sm_90")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    config = mm.bert_config(1024, 768, args.layers, 12, 3072, 512)
    weights = mm.bert_weights(config, seed=7)
    module = hf_reference.build(config, weights)
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "bert")
        os.makedirs(model)
        with open(os.path.join(model, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        write_safetensors(os.path.join(model, "model.safetensors"), weights)
        rng = np.random.default_rng(11)
        for batch in BATCHES:
            ids = rng.integers(1, config["vocab_size"], size=(batch, SEQ)).astype(np.int64)
            mask = np.ones((batch, SEQ), np.int64)
            with torch.no_grad():
                out = module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
            write_safetensors(os.path.join(args.outdir, "ref_b%d.safetensors" % batch),
                              {"input.input_ids": ids, "input.attention_mask": mask,
                               "output.last_hidden_state": out.astype(np.float32)})
            for precision in PRECISIONS:
                base = os.path.join(args.outdir, "bert_b%d_%s" % (batch, precision))
                subprocess.run([os.path.join(args.build, "bin", "tfx-compile"), model,
                                "--input-shape", "input_ids=%dx%d" % (batch, SEQ),
                                "--input-shape", "attention_mask=%dx%d" % (batch, SEQ),
                                "--target", "cuda:" + args.chip, "--gpu-matmul-precision",
                                precision, "--emit=so", "--weights", "external", "-o", base],
                               check=True)
                os.remove(base + ".h")
                print("compiled batch %d %s" % (batch, precision), flush=True)
    first = os.path.join(args.outdir, "bert_b%d_%s.weights" % (BATCHES[0], PRECISIONS[0]))
    for batch in BATCHES:
        for precision in PRECISIONS:
            other = os.path.join(args.outdir, "bert_b%d_%s.weights" % (batch, precision))
            if other == first:
                continue
            if not filecmp.cmp(first, other, shallow=False):
                raise SystemExit("the weights files differ between artifacts")
            os.remove(other)  # run.py copies the first one back
    with open(os.path.join(args.outdir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copy(os.path.join(args.build, "bin", "tfxrt-run"), args.outdir)
    shutil.copy(os.path.join(ROOT, "bench", "gpu", "run.py"), args.outdir)
    print("staged in %s (%d layers)" % (args.outdir, args.layers))


if __name__ == "__main__":
    main()
