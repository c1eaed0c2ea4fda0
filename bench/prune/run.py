#!/usr/bin/env python3
"""Pruning, head sharing and low rank against the dense model, in one run.

usage: bench/prune/run.py [--models bert-base,gpt2-small] [--threads N]
                          [--runs N] [--only NAME,...]

For a BERT-base-shaped encoder and a GPT-2-small-shaped decoder (the
project's own random weights, Hugging Face layout, made once under
bench/.work/prune), compiles the dense model and each compressed variant
with tfx-compile for this CPU and prints, per variant: the weight blob's
size, the GFLOP of one [1, 128] forward pass (from the passes' reports),
the median latency of tfx-run --bench, the speedup over dense measured in
this run, and the fidelity of the output against the dense model's on the
same input (relative L2 error; top-1 agreement for logits).

Weights are random, so the fidelity figures say how far each rewrite moves
the function, not what a trained model loses; passes/README.md has those
(held-out perplexity of gpt2-pydoc).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))
import make_models  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

SEQ = 128
SHAPES = {
    "bert-base": (make_models.bert_config(30522, 768, 12, 12, 3072, 512),
                  make_models.bert_weights, 31),
    "gpt2-small": (make_models.gpt2_config(50257, 768, 12, 12, 1024),
                   make_models.gpt2_weights, 32),
}

# name, --passes pipeline (CAL: the calibration file), extra tfx-compile flags.
VARIANTS = [
    ("dense", "", []),
    ("50% unstructured", "tfx-prune-weights{sparsity=0.5}", []),
    ("80% unstructured", "tfx-prune-weights{sparsity=0.8}", []),
    ("90% unstructured", "tfx-prune-weights{sparsity=0.9}", []),
    ("2:4", "tfx-prune-weights{pattern=2:4}", []),
    ("int8 (w8)", "", ["--quantize=w8"]),
    ("2:4 + int8", "tfx-prune-weights{pattern=2:4}", ["--quantize=w8"]),
    ("25% heads pruned", "tfx-prune-heads{ratio=0.25 calibration=CAL}", []),
    ("25% FFN neurons", "tfx-prune-ffn{ratio=0.25 calibration=CAL}", []),
    ("GQA, 4 kv-heads", "tfx-share-kv-heads{kv-heads=4}", []),
    ("FFN rank halved", "tfx-low-rank{rank-ratio=0.5 targets=ffn}", []),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_model(name, work):
    folder = os.path.join(work, name)
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return folder
    config, make_weights, seed = SHAPES[name]
    log("making %s in %s" % (name, folder))
    os.makedirs(folder, exist_ok=True)
    import json
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), make_weights(config, seed))
    return folder


def make_inputs(path, vocab):
    ids = (np.arange(SEQ, dtype=np.int64) * 7919 % (vocab - 1) + 1).reshape(1, SEQ)
    write_safetensors(path, {"input.input_ids": ids,
                             "input.attention_mask": np.ones_like(ids)})


def compile_variant(build, folder, out, passes, extra, cal):
    cmd = [os.path.join(build, "bin", "tfx-compile"), folder, "--target", "cpu",
           "--emit=so", "--weights", "external", "-o", out,
           "--input-shape", "input_ids=1x%d" % SEQ,
           "--input-shape", "attention_mask=1x%d" % SEQ] + extra
    if passes:
        cmd.append("--passes=" + passes.replace("CAL", cal))
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1:] or ["failed"]
    flops = re.findall(r"GFLOP ([0-9.]+) -> ([0-9.]+)", p.stderr)
    log("  compiled in %.0f s" % (time.time() - start))
    return (float(flops[0][0]), float(flops[-1][1])) if flops else None, None


def run_variant(build, out, inputs, threads, runs):
    run = os.path.join(build, "bin", "tfx-run")
    p = subprocess.run([run, out + ".so", "--backend", "cpu", "--threads", str(threads),
                        "--bench", str(runs), "--inputs", inputs],
                       capture_output=True, text=True)
    median = re.search(r"median ([0-9.]+) ms", p.stdout + p.stderr)
    p2 = subprocess.run([run, out + ".so", "--backend", "cpu", "--threads", str(threads),
                         "--inputs", inputs, "--output", out + ".out.safetensors"],
                        capture_output=True, text=True)
    if not median or p2.returncode != 0:
        return None, None
    outputs = read_safetensors(out + ".out.safetensors")
    return float(median.group(1)), outputs


def fidelity(dense, other):
    parts = []
    for key in sorted(dense):
        a, b = dense[key].astype(np.float64), other[key].astype(np.float64)
        rel = np.linalg.norm(b - a) / max(np.linalg.norm(a), 1e-30)
        part = "rel_l2 %.3g" % rel
        if key.endswith("logits"):
            rows = a.reshape(-1, a.shape[-1]).argmax(-1)
            agree = np.mean(rows == b.reshape(-1, a.shape[-1]).argmax(-1))
            part += ", top1 %.1f%%" % (100 * agree)
        parts.append(part)
    return "; ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="bert-base,gpt2-small")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--only", help="comma-separated variant names (dense always runs)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    work = os.path.join(ROOT, "bench", ".work", "prune")
    os.makedirs(work, exist_ok=True)
    variants = VARIANTS
    if args.only:
        chosen = set(args.only.split(","))
        variants = [v for v in VARIANTS if v[0] == "dense" or v[0] in chosen]
    rows = []
    for model in args.models.split(","):
        folder = make_model(model, work)
        inputs = os.path.join(work, model + ".in.safetensors")
        make_inputs(inputs, SHAPES[model][0]["vocab_size"])
        dense_ms = dense_out = dense_flops = None
        for name, passes, extra in variants:
            log("%s: %s" % (model, name))
            out = os.path.join(work, "%s-%s" % (model, re.sub(r"[^a-z0-9]+", "-", name.lower())))
            flops, error = compile_variant(args.build, folder, out, passes, extra, inputs)
            if error:
                rows.append((model, name, "compile failed: " + error[0]))
                continue
            ms, outputs = run_variant(args.build, out, inputs, args.threads, args.runs)
            if ms is None:
                rows.append((model, name, "run failed"))
                continue
            size = os.path.getsize(out + ".weights")
            if name == "dense":
                dense_ms, dense_out, dense_size = ms, outputs, size
            gflop = flops[1] if flops else None
            if name == "dense" or dense_flops is None:
                dense_flops = flops[0] if flops else None
            fid = "-" if name == "dense" else fidelity(dense_out, outputs)
            rows.append((model, name, "%7.1f MB %6.3fx  %7s %6s  %8.1f ms %6.2fx  %s" % (
                size / 1e6, size / dense_size,
                "%.2f" % gflop if gflop else "-",
                "%.3fx" % (gflop / dense_flops) if gflop and dense_flops else "-",
                ms, dense_ms / ms, fid)))
            print("%-11s %-18s %s" % rows[-1], flush=True)
    print()
    print("%-11s %-18s %7s %10s %8s %6s  %11s %7s  %s" % (
        "model", "variant", "weights", "ratio", "GFLOP", "ratio", "latency", "speedup",
        "fidelity vs dense"))
    for row in rows:
        print("%-11s %-18s %s" % row)
    print("(one [1, %d] forward pass; median of %d runs on %d thread(s); GFLOP from the "
          "passes' reports, dense GFLOP only when a pass ran)" % (SEQ, args.runs, args.threads))


if __name__ == "__main__":
    main()
