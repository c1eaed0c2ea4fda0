"""Checks a tfx-compile --report (JSON) against outputs measured
independently.

usage: check_report.py REPORT.json SET DENSE.safetensors COMPRESSED.safetensors
           [--max-changed-ratio R]

SET names the report's fidelity entry (calibration or held-out); DENSE and
COMPRESSED hold output.NAME tensors of the float and the compressed model
on that set's inputs (from tfx-run, e.g. the compiled CPU code, while the
report ran the interpreter). For every output, prints the reported and the
measured max/mean abs error, cosine (mean over rows) and top-1 agreement, and checks that
they agree: the errors within 10% (relative), the cosine within 1e-4, the
top-1 within one row. With --max-changed-ratio, also checks the stored
bytes of the changed linears against their f32 bytes, and that each layer's
bytes add up to the size table. Prints "OK" or exits 1.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("report")
    p.add_argument("set")
    p.add_argument("dense")
    p.add_argument("compressed")
    p.add_argument("--max-changed-ratio", type=float)
    args = p.parse_args()
    report = json.load(open(args.report))
    entries = [e for e in report["fidelity"] if e["set"] == args.set]
    if not entries:
        sys.exit("no fidelity entry for set '%s'" % args.set)
    dense = run_artifact.read_safetensors(args.dense)
    compressed = run_artifact.read_safetensors(args.compressed)
    ok = True
    for out in entries[0]["outputs"]:
        key = "output." + out["name"]
        a = dense[key].astype(np.float64)
        b = compressed[key].astype(np.float64)
        diff = np.abs(a - b)
        # The report's cosine: the mean over rows of the last dimension.
        ra, rb = a.reshape(-1, a.shape[-1]), b.reshape(-1, a.shape[-1])
        cos = float(np.mean((ra * rb).sum(-1) /
                            np.maximum(np.linalg.norm(ra, axis=-1) *
                                       np.linalg.norm(rb, axis=-1), 1e-30)))
        measured = {"max_abs": diff.max(), "mean_abs": diff.mean(), "cosine": cos}
        for field in ("max_abs", "mean_abs"):
            close = abs(out[field] - measured[field]) <= 0.1 * max(measured[field], 1e-12)
            print("%s %s: reported %.4e, measured %.4e%s" %
                  (out["name"], field, out[field], measured[field], "" if close else " (FAR)"))
            ok &= close
        close = abs(out["cosine"] - cos) <= 1e-4
        print("%s cosine: reported %.6f, measured %.6f%s" %
              (out["name"], out["cosine"], cos, "" if close else " (FAR)"))
        ok &= close
        if "top1" in out:
            last = a.shape[-1]
            rows = a.reshape(-1, last).shape[0]
            agree = (a.reshape(-1, last).argmax(-1) == b.reshape(-1, last).argmax(-1)).sum()
            close = abs(out["top1"] * rows - agree) <= 1
            print("%s top1: reported %.2f%%, measured %.2f%% (%d rows)%s" %
                  (out["name"], 100 * out["top1"], 100 * agree / rows, rows,
                   "" if close else " (FAR)"))
            ok &= close
    if args.max_changed_ratio is not None:
        size = report["size"]["changed_linear_bytes"]
        ratio = size["after"] / size["before"]
        print("changed linears: %d -> %d bytes (%.3fx, at most %.3fx)" %
              (size["before"], size["after"], ratio, args.max_changed_ratio))
        ok &= ratio <= args.max_changed_ratio
        total = report["size"]["linear_bytes"]
        layers = report["layers"]
        sums = (sum(l["f32_bytes"] for l in layers), sum(l["bytes"] for l in layers))
        if sums != (total["before"], total["after"]):
            print("layer bytes %s do not add up to the linears' %s" % (sums, total))
            ok = False
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
