"""Checks a compression pass's reported fidelity against outputs measured
independently.

usage: check_fidelity.py REPORT DENSE.safetensors COMPRESSED.safetensors
           [--tol T]

REPORT is the pass's stderr; its line "...: fidelity vs the input model on
N calibration batches: NAME: rel_l2 X, cos C, max_abs M[, top1 P%] ..."
gives the figures it measured on the interpreter. DENSE and COMPRESSED hold
output.NAME tensors of the unmodified and the compressed model on the same
calibration inputs (from tfx-run, e.g. with --backend cpu). Prints the
measured figures beside the reported ones, and "OK" when the relative L2
error agrees within T (default 1e-3, relative) and the top-1 agreement
within 1 row; exits 1 otherwise.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("report")
    p.add_argument("dense")
    p.add_argument("compressed")
    p.add_argument("--tol", type=float, default=1e-3)
    args = p.parse_args()
    text = open(args.report).read()
    line = [l for l in text.splitlines() if "fidelity vs the input model" in l]
    if not line:
        sys.exit("no fidelity line in " + args.report)
    reported = {}
    for name, rel, top1 in re.findall(
            r"(\w+): rel_l2 ([0-9.e+-]+), cos [0-9.e+-]+, max_abs [0-9.e+-]+"
            r"(?:, top1 ([0-9.]+)%)?", line[-1]):
        reported[name] = (float(rel), float(top1) if top1 else None)
    dense = run_artifact.read_safetensors(args.dense)
    compressed = run_artifact.read_safetensors(args.compressed)
    ok = True
    for name, (rel, top1) in sorted(reported.items()):
        a = dense["output." + name].astype(np.float64)
        b = compressed["output." + name].astype(np.float64)
        measured = np.linalg.norm(b - a) / np.linalg.norm(a)
        good = abs(measured - rel) <= args.tol * max(rel, 1e-6)
        msg = "%s: measured rel_l2 %.4e, reported %.4e" % (name, measured, rel)
        if top1 is not None:
            rows = a.reshape(-1, a.shape[-1])
            agree = np.mean(rows.argmax(-1) == b.reshape(-1, a.shape[-1]).argmax(-1))
            msg += ", measured top1 %.2f%%, reported %.2f%%" % (100 * agree, top1)
            good &= abs(100 * agree - top1) <= 100.0 / len(rows) + 1e-9
        print(msg + (" OK" if good else " FAIL"))
        ok &= bool(good)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
